"""TLS and signing material the emulator makes at start: a CA, a 127.0.0.1 server certificate, a token key.

Clients trust the emulator through the CA file written to the state directory, exactly as they would
trust a corporate CA: nothing in the product turns verification off.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def thumbprints(cert: x509.Certificate) -> tuple[str, str]:
    """(x5t, x5t#S256) of a certificate, base64url as Entra puts them in JWT headers."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return _b64url(hashlib.sha1(der).digest()), _b64url(hashlib.sha256(der).digest())  # noqa: S324


def self_signed(common_name: str, key: rsa.RSAPrivateKey, days: int = 365) -> x509.Certificate:
    """A self-signed leaf, as an app registration's uploaded certificate or the token-signing cert."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return _self_signed_builder(name, key, days).sign(key, hashes.SHA256())


def _self_signed_builder(name: x509.Name, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                         days: int) -> x509.CertificateBuilder:
    """Subject = issuer, valid from five minutes ago so a client with a slightly slow clock accepts it."""
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
    )


def ca_certificate(name: x509.Name, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                   days: int) -> x509.Certificate:
    """A self-signed CA (basicConstraints CA:TRUE, keyCertSign): what TLS clients require of a trust anchor."""
    return (
        _self_signed_builder(name, key, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


@dataclass
class TLSMaterial:
    """CA + server certificate for 127.0.0.1/localhost, written under ``state_dir``."""

    ca_cert: x509.Certificate
    ca_key: rsa.RSAPrivateKey
    server_cert: x509.Certificate
    server_key: rsa.RSAPrivateKey
    ca_path: Path
    server_cert_path: Path
    server_key_path: Path

    @classmethod
    def create(cls, state_dir: Path) -> TLSMaterial:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        now = dt.datetime.now(dt.timezone.utc)
        ca_key = new_rsa_key()
        ca_name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "akslogin emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, "akslogin emulator CA"),
        ])
        ca_cert = ca_certificate(ca_name, ca_key, days=30)
        server_key = new_rsa_key()
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName([
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        ca_path = state_dir / "ca.pem"
        server_cert_path = state_dir / "server.pem"
        server_key_path = state_dir / "server-key.pem"
        _write(ca_path, cert_pem(ca_cert), 0o644)
        _write(server_cert_path, cert_pem(server_cert) + cert_pem(ca_cert), 0o644)
        _write(server_key_path, key_pem(server_key), 0o600)
        return cls(ca_cert, ca_key, server_cert, server_key, ca_path, server_cert_path, server_key_path)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
