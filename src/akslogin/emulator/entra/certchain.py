"""Subject name + issuer ("SNI") certificate trust for client assertions that carry an ``x5c`` chain.

An app that trusts a subject name and an issuing CA (instead of one pinned certificate) accepts any leaf
with that subject whose chain ends at the CA, so certificates can be renewed without touching the app.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from akslogin.emulator.world import App

#: Longest chain we follow (leaf + intermediates); real PKI chains are 2-4 certificates.
MAX_DEPTH = 6


class ChainError(Exception):
    """The x5c chain cannot be trusted; the message becomes the AADSTS700027 reason."""


def certificate_from_x5c(app: App, header: dict[str, Any], now: float) -> x509.Certificate | None:
    """The leaf of ``header["x5c"]`` if the app trusts it by subject name and issuer, else None.

    Raises ChainError when the app uses subject/issuer trust and the chain is present but not acceptable.
    """
    x5c = header.get("x5c")
    if not app.trusted_certificate_subjects or not isinstance(x5c, list) or not x5c:
        return None
    try:
        chain = [x509.load_der_x509_certificate(base64.b64decode(str(item), validate=False)) for item in x5c]
    except (ValueError, binascii.Error):
        raise ChainError("The x5c header does not hold DER certificates.") from None
    leaf = chain[0]
    subject = leaf.subject.rfc4514_string()
    candidates = [t for t in app.trusted_certificate_subjects if t.subject.replace(", ", ",").lower()
                  == subject.replace(", ", ",").lower()]
    if not candidates:
        raise ChainError(f"The certificate subject '{subject}' is not trusted by the application.")
    moment = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    if not _valid_at(leaf, moment):
        raise ChainError("The certificate is expired or not yet valid.")
    for trust in candidates:
        if _chains_to(leaf, chain[1:], trust.issuers, moment):
            return leaf
    raise ChainError(f"The certificate chain for '{subject}' does not end at a trusted issuer.")


def _chains_to(leaf: x509.Certificate, intermediates: list[x509.Certificate],
               anchors: list[x509.Certificate], moment: dt.datetime) -> bool:
    current, pool = leaf, list(intermediates) + list(anchors)
    for _ in range(MAX_DEPTH):
        if any(_issued_by(current, a) for a in anchors):
            return True
        parent = next((c for c in pool if c is not current and _is_ca(c) and _valid_at(c, moment)
                       and _issued_by(current, c)), None)
        if parent is None:
            return False
        pool.remove(parent)
        current = parent
    return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject or not _is_ca(issuer):
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _valid_at(cert: x509.Certificate, moment: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc
