"""The API server of an Azure Arc-enabled cluster: it takes proof-of-possession tokens only.

A PoP token is a JWS the client signs around its Entra access token (see akslogin/pop.py for the client
side). It is accepted when all of these hold, and each failure is named in the 401 (Arc's guard explains
more than AKS's bare "Unauthorized", and tests read the reason):

- the header says ``typ: pop`` (a plain bearer token is refused);
- the signature verifies with the public key in the payload's ``cnf.jwk``, whose RFC 7638 thumbprint is the
  header's ``kid`` and the access token's ``cnf.kid`` (the key the token was issued to);
- the access token itself passes the cluster's usual checks (signature, issuer, audience, expiry);
- ``u`` is this cluster's ARM resource id, ``ts`` is within 5 minutes of now;
- the ``nonce`` was not seen before with another token. The same token may be presented again (kubectl
  reuses a credential for every request of one run until it expires), a new proof with an old nonce may not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

import jwt

from akslogin.emulator.aks.authn import Authenticator, AuthFailure, UserInfo
from akslogin.emulator.clock import Clock
from akslogin.emulator.world import Cluster

#: How far ``ts`` may be from the server's clock, in seconds.
TS_WINDOW = 300
#: Nonces remembered (oldest forgotten first); far more than a test or demo presents.
MAX_NONCES = 100_000


def _segment(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    canonical = json.dumps({"e": jwk.get("e"), "kty": "RSA", "n": jwk.get("n")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class PopAuthenticator:
    def __init__(self, inner: Authenticator, cluster: Cluster, clock: Clock) -> None:
        self._inner = inner
        self._cluster = cluster
        self._clock = clock
        self._nonces: dict[str, str] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str) -> UserInfo | AuthFailure:
        parts = token.split(".")
        try:
            header, payload = _segment(parts[0]), _segment(parts[1]) if len(parts) == 3 else None
        except (ValueError, TypeError, IndexError, RecursionError):
            header, payload = None, None
        if not isinstance(header, dict) or header.get("typ") != "pop" or not isinstance(payload, dict):
            return AuthFailure("this Azure Arc-enabled cluster accepts only proof-of-possession (PoP) tokens, and a "
                               "bearer token was presented")
        cnf = payload.get("cnf")
        jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
            return AuthFailure("the PoP token carries no RSA key in cnf.jwk")
        thumbprint = jwk_thumbprint(jwk)
        if header.get("kid") != thumbprint:
            return AuthFailure("the PoP token's kid is not the thumbprint of the key in its cnf.jwk")
        try:
            key = jwt.PyJWK({"kty": "RSA", "n": jwk.get("n"), "e": jwk.get("e")}).key
            jwt.PyJWS().decode_complete(token, key, algorithms=["RS256"])
        except (jwt.PyJWTError, ValueError, TypeError):
            return AuthFailure("the PoP token's signature does not verify with the key in its cnf.jwk")
        access = payload.get("at")
        if not isinstance(access, str):
            return AuthFailure("the PoP token carries no access token (at)")
        user = self._inner.authenticate(access)
        if isinstance(user, AuthFailure):
            return AuthFailure(f"the access token inside the PoP token was refused: {user.reason}")
        bound = jwt.decode(access, options={"verify_signature": False}).get("cnf")
        bound_kid = bound.get("kid") if isinstance(bound, dict) else None
        if not bound_kid:
            return AuthFailure("the access token inside the PoP token is not bound to a key (no cnf claim): it was "
                               "issued as a bearer token")
        if bound_kid != thumbprint:
            return AuthFailure("the PoP token was signed by another key than the one its access token is bound to")
        expected = self._cluster.arm_id
        if str(payload.get("u", "")).lower() != expected.lower():
            return AuthFailure(f"the PoP token's u claim is {str(payload.get('u'))[:200]!r}, not this cluster's "
                               f"resource id {expected!r}")
        ts = payload.get("ts")
        now = self._clock.now()
        if not isinstance(ts, (int, float)) or isinstance(ts, bool) or abs(now - ts) > TS_WINDOW:
            if not isinstance(ts, (int, float)) or isinstance(ts, bool):
                return AuthFailure("the PoP token has no ts (the time it was signed)")
            age = f"{now - ts:.0f}s old" if ts < now else f"{ts - now:.0f}s in the future"
            return AuthFailure(f"the PoP token's ts is {age}; it must be within {TS_WINDOW}s of the server's clock")
        nonce = payload.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            return AuthFailure("the PoP token has no nonce")
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            seen = self._nonces.setdefault(nonce, digest)
            if len(self._nonces) > MAX_NONCES:
                self._nonces.pop(next(iter(self._nonces)))
        if seen != digest:
            return AuthFailure("the PoP token's nonce was already used by another token (a replay)")
        return user
