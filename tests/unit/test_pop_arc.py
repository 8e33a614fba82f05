"""Proof-of-possession tokens for Azure Arc-enabled clusters, end to end.

Real kubectl → akslogin get-token --pop-enabled → emulated Entra ID (token bound to the key by req_cnf) →
emulated Arc API server, which accepts only a JWS signed by that key, with its own ARM id in ``u``, a fresh
``ts`` and an unused nonce. Each way of getting that wrong is refused with a 401 that says why.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from akslogin import pop
from support.pop_arc import _segments


def test_jws_matches_the_spec_byte_for_byte() -> None:
    """RFC 7638 thumbprint and the JWS layout, checked with PyJWT against the key's own public half."""
    import jwt

    key = pop.PopKey.generate()
    token = pop.present("at-value", key, "u-value", 1_700_000_000, nonce="n1")
    header, payload = _segments(token)
    assert header == {"typ": "pop", "alg": "RS256", "kid": key.kid}
    assert payload == {"at": "at-value", "ts": 1_700_000_000, "u": "u-value", "cnf": {"jwk": key.jwk},
                       "nonce": "n1"}
    public = jwt.PyJWK({"kty": "RSA", "n": key.jwk["n"], "e": key.jwk["e"]}).key
    jwt.PyJWS().decode_complete(token, public, algorithms=["RS256"])  # raises if the signature is wrong
    from akslogin.emulator.aks.arcguard import jwk_thumbprint

    assert jwk_thumbprint(key.jwk) == key.kid and len(key.kid) == 43
    # RFC 7638, section 3.1: the example key and its thumbprint.
    rfc_n = ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiF"
             "V4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d"
             "0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44"
             "-csFCur-kEgU8awapJzKnqDKgw")
    assert jwk_thumbprint({"kty": "RSA", "n": rfc_n, "e": "AQAB"}) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    from cryptography.hazmat.primitives.asymmetric import rsa

    rfc_public = rsa.RSAPublicNumbers(65537, int.from_bytes(base64.urlsafe_b64decode(rfc_n + "=="), "big"))

    class _Public:  # PopKey computes the thumbprint from the public half only
        def public_key(self) -> Any:
            return rfc_public.public_key()

    assert pop.PopKey(_Public()).kid == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert key.req_cnf == base64.urlsafe_b64encode(
        json.dumps({"kid": key.kid, "xms_ksl": "sw"}, separators=(",", ":")).encode()).rstrip(b"=").decode()
    assert "PRIVATE" not in repr(key) and os.path.sep not in repr(key)
