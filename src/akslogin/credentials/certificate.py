"""Client certificates for service principals: PEM (certificate + key) or PKCS#12 (.pfx)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from akslogin.errors import ConfigError

_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class ClientCertificate:
    """The signing key and the certificate chain (leaf first) that MSAL sends as x5c."""

    private_key_pem: str
    certificate_pem: str  # leaf first, then any chain

    def msal_credential(self) -> dict[str, str]:
        # With public_certificate MSAL signs PS256 with an x5t#S256 header and sends x5c.
        return {"private_key": self.private_key_pem, "public_certificate": self.certificate_pem}


def load_client_certificate(path: str, password: str = "") -> ClientCertificate:
    try:
        data = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the client certificate {path}: {exc.strerror}.",
                          "Check --client-certificate / AZURE_CLIENT_CERTIFICATE_PATH.") from None
    secret = password.encode() if password else None
    if path.lower().endswith((".pfx", ".p12")) or not data.lstrip().startswith(b"-----"):
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
            key = serialization.load_pem_private_key(data, secret)
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
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in ordered)
    return ClientCertificate(key_pem, cert_pem)
