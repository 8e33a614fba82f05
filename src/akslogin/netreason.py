"""Short, balanced reasons for transport failures, read out of the text urllib3/ssl put in their exceptions.

Shared by the HTTP client (identity providers, ARM) and the API-server client, so both say the same thing
for the same failure. The text never comes from a server's body, only from the local TLS/socket layer.
"""

from __future__ import annotations

_TLS = (
    ("certificate verify failed", "certificate verify failed"),
    ("hostname mismatch", "hostname mismatch"),
    ("Hostname mismatch", "hostname mismatch"),
    ("self-signed", "self-signed certificate"),
    ("certificate has expired", "certificate has expired"),
)


def tls_reason(text: str) -> str:
    """e.g. ``certificate verify failed: self-signed certificate in certificate chain`` (no brackets, no
    ``_ssl.c`` line numbers)."""
    for marker, label in _TLS:
        start = text.find(marker)
        if start < 0:
            continue
        rest = text[start + len(marker):]
        detail = rest.split("(_ssl.c")[0].split("'")[0].split('"')[0].strip(" :,.)]")
        return f"{label}: {detail}"[:160] if detail and marker.lower() != detail.lower() else label
    return "TLS handshake failed"


def conn_reason(text: str) -> str:
    """Why a connection failed, in a few plain words."""
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "the host name does not resolve"
    if "Connection refused" in text:
        return "connection refused"
    if "IncompleteRead" in text or "Connection broken" in text:
        return "the response was cut off"
    if "Connection reset" in text or "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was reset"
    if "timed out" in text:
        return "timed out"
    return "network error"
