"""Each emulated cluster's own client CA: it signs the static (admin, monitoring, non-Entra user) client
certificates ARM hands out, and the cluster's API server trusts exactly that CA for client certificates.

EC P-256 keys keep start-up fast for worlds with many clusters (RSA generation costs ~50 ms each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from akslogin.emulator.net.tlsmaterial import ca_certificate

#: AKS issues admin client certificates valid for two years.
CLIENT_CERT_DAYS = 730


@dataclass(frozen=True)
class ClientCredential:
    cert_pem: bytes
    key_pem: bytes
    not_after: dt.datetime


class ClusterCA:
    def __init__(self, cluster_name: str) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ca-{cluster_name}")])
        self.cert = ca_certificate(self._name, self._key, days=3650)

    @property
    def ca_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def issue(self, common_name: str, organizations: tuple[str, ...] = (),
              days: int = CLIENT_CERT_DAYS) -> ClientCredential:
        """A client certificate: CN is the Kubernetes user name, each O a group (kube-apiserver's x509 rules)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        not_after = now + dt.timedelta(days=days)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
        return ClientCredential(cert.public_bytes(serialization.Encoding.PEM), key_pem, not_after)
