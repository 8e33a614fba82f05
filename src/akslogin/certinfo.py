"""What a kubeconfig client certificate says about who it is, as Kubernetes reads it (CN = user, O = groups)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from akslogin.errors import ConfigError

#: The group the API server maps to cluster-admin; AKS admin credentials carry it. Such a certificate
#: cannot be revoked: only rotating the cluster CA (``az aks rotate-certs``) invalidates it.
MASTERS_GROUP = "system:masters"


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    common_name: str
    organizations: tuple[str, ...]
    issuer: str
    serial: str
    not_before: float
    not_after: float
    sha256: str

    @property
    def cluster_admin(self) -> bool:
        return MASTERS_GROUP in self.organizations

    def expired(self, now: float) -> bool:
        return now >= self.not_after

    def to_json(self) -> dict[str, object]:
        return {
            "subject": self.subject, "username": self.common_name, "groups": list(self.organizations),
            "issuer": self.issuer, "serial": self.serial, "not_before": int(self.not_before),
            "not_after": int(self.not_after), "sha256": self.sha256, "cluster_admin": self.cluster_admin,
        }


def describe_certificate(data: bytes, what: str = "the client certificate") -> CertificateInfo:
    """The first certificate of a PEM bundle (or DER)."""
    try:
        cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError:
        raise ConfigError(f"{what} is not a readable X.509 certificate.") from None
    subject = cert.subject
    cn = [str(a.value) for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = tuple(str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    return CertificateInfo(
        subject=subject.rfc4514_string(),
        common_name=cn[0] if cn else "",
        organizations=orgs,
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc.timestamp(),
        not_after=cert.not_valid_after_utc.timestamp(),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )


def decode_data(value: str, what: str) -> bytes:
    """A kubeconfig ``*-data`` field (base64 of PEM)."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{what} is not valid base64.") from None
