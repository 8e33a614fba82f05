"""Client certificates for service principals: PEM (certificate + key) or PKCS#12 (.pfx).

The private key is loaded exactly once per sign-in, here, and the key object is what signs the assertion: handing
MSAL the PEM text would have PyJWT load it a second time. A PEM key is loaded without cryptography's primality
test (45 ms for 2048 bits, 0.6 s for 4096) and each signature is checked against the public key instead
(:mod:`akslogin.rsakeys`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from akslogin.errors import ConfigError
from akslogin.rsakeys import load_pem

#: A key and a chain of certificates are a few kilobytes; a PFX with a long chain some tens.
MAX_CERTIFICATE_BYTES = 1 << 20
_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class ClientCertificate:
    """The signing key and the certificate chain (leaf first) that MSAL sends as x5c."""

    __slots__ = ("certificate_pem", "private_key")

    def __init__(self, private_key: rsa.RSAPrivateKey, certificate_pem: str) -> None:
        self.private_key = private_key
        self.certificate_pem = certificate_pem  # leaf first, then any chain

    def msal_credential(self) -> dict[str, Any]:
        """With public_certificate MSAL signs PS256 with an x5t#S256 header and sends x5c. The key goes as the
        loaded object: MSAL hands an unencrypted private_key to PyJWT as it is, and PyJWT signs with a
        cryptography key object directly (its documented key type) instead of parsing PEM again."""
        return {"private_key": self.private_key, "public_certificate": self.certificate_pem}

    def __repr__(self) -> str:
        return "ClientCertificate(private_key=***, certificate_pem=...)"


def load_client_certificate(path: str, password: str = "") -> ClientCertificate:
    return _certificate(path, password, read_certificate_file(path))


def read_certificate_file(path: str) -> bytes:
    from akslogin.fileops import read_bounded

    try:
        # Bounded and never blocked for good (a FIFO or a device at the path is read until its end or 10 s).
        data = read_bounded(str(Path(path).expanduser()), MAX_CERTIFICATE_BYTES)
    except OSError as exc:
        raise ConfigError(f"cannot read the client certificate {path}: {exc.strerror}.",
                          "Check --client-certificate / AZURE_CLIENT_CERTIFICATE_PATH.") from None
    if not data.strip():
        raise ConfigError(f"the client certificate file {path} is empty.",
                          "Point --client-certificate (or AZURE_CLIENT_CERTIFICATE_PATH) at the PEM or .pfx file.")
    return data


def _certificate(path: str, password: str, data: bytes) -> ClientCertificate:
    secret = password.encode() if password else None
    if path.lower().endswith((".pfx", ".p12")) or not data.lstrip().startswith(b"-----"):
        from cryptography.hazmat.primitives.serialization import pkcs12  # only for a .pfx

        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
        except ValueError:
            raise ConfigError(
                f"cannot open the PFX file {path}: the password is wrong or the file is not PKCS#12.",
                "Pass the right --client-certificate-password (or AZURE_CLIENT_CERTIFICATE_PASSWORD).",
            ) from None
        if key is None or cert is None:
            raise ConfigError(f"the PFX file {path} must hold a private key and its certificate.")
        chain = [cert, *extra]
    else:
        certs = [x509.load_pem_x509_certificate(m.group(0)) for m in _CERT_RE.finditer(data)]
        try:
            key = load_pem(data, secret)
        except TypeError:
            raise ConfigError(f"the private key in {path} is encrypted.",
                              "Pass its password with --client-certificate-password.") from None
        except ValueError:
            raise ConfigError(
                f"{path} must be a PEM file holding both a CERTIFICATE and its PRIVATE KEY (or a .pfx file); "
                "the private key is missing, unreadable, or the password is wrong.") from None
        if not certs:
            raise ConfigError(f"{path} holds a private key but no CERTIFICATE block.",
                              "Append the certificate to the key file, or use a .pfx.")
        chain = certs
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"the key in {path} is not an RSA key; Entra client certificates must use RSA.")
    public = key.public_key().public_numbers()
    leaf = next((c for c in chain if isinstance(c.public_key(), rsa.RSAPublicKey)
                 and c.public_key().public_numbers() == public), None)  # type: ignore[union-attr]
    if leaf is None:
        raise ConfigError(f"no certificate in {path} matches its private key.")
    ordered = [leaf, *[c for c in chain if c is not leaf]]
    cert_pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in ordered)
    return ClientCertificate(key, cert_pem)
