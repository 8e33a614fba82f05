"""Short, balanced reasons for transport failures, read out of the text urllib3/ssl put in their exceptions.

Shared by the HTTP client (identity providers, ARM) and the API-server client, so both say the same thing
for the same failure. The text never comes from a server's body, only from the local TLS/socket layer.
"""

from __future__ import annotations

#: Markers in ssl's text: a name mismatch first (its name is the point), then the verification failure with ssl's
#: own reason after it (self-signed, expired, ...).
_TLS = (
    ("hostname mismatch", "hostname mismatch"),
    ("Hostname mismatch", "hostname mismatch"),
    ("IP address mismatch", "IP address mismatch"),
    ("certificate verify failed", "certificate verify failed"),
    ("self-signed", "self-signed certificate"),
    ("certificate has expired", "certificate has expired"),
)


def tls_reason(text: str) -> str:
    """e.g. ``hostname mismatch: certificate is not valid for 'aks.example'`` (no brackets, no ``_ssl.c`` line
    numbers; the quoted name is kept whole)."""
    for marker, label in _TLS:
        start = text.find(marker)
        if start < 0:
            continue
        rest = text[start + len(marker):].split("(_ssl.c")[0]
        detail = rest.strip(" :,.)]\"")
        return f"{label}: {detail}"[:160] if detail and marker.lower() != detail.lower() else label
    return "TLS handshake failed"


HEADER_TOO_LARGE = "the answer's header is too large (a line over 64 KiB)"


def conn_reason(text: str) -> str:
    """Why a connection failed, in a few plain words."""
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "the host name does not resolve"
    if "Connection refused" in text:
        return "connection refused"
    if "LineTooLong" in text or "got more than" in text or "HeaderParsingError" in text:
        return HEADER_TOO_LARGE
    if "IncompleteRead" in text or "Connection broken" in text:
        return "the response was cut off"
    if "Connection reset" in text or "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was reset"
    if "timed out" in text:
        return "timed out"
    return "network error"
