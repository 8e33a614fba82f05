"""Proof-of-possession (PoP) tokens for Azure Arc-enabled Kubernetes: the key, the token request, the JWS.

Arc's API server accepts an Entra token only inside a JWS signed by the key the token is bound to (its
``cnf.kid``), so a token copied off a machine is useless without the key. The flow, as Azure/kubelogin's:

1. one 2048-bit RSA key per cache directory, kept at rest like refresh tokens (tokencache.popkey: encrypted
   with a key in the OS secret store, else a 0600 file), so a cached access token stays usable across runs;
2. the token request adds ``token_type=pop`` and ``req_cnf`` = base64url of
   ``{"kid": <RFC 7638 SHA-256 thumbprint of the public JWK>, "xms_ksl": "sw"}``;
3. every get-token call signs a new JWS (RS256) around the cached token:
   header ``{"typ":"pop","alg":"RS256","kid":<thumbprint>}``, payload
   ``{"at":<token>,"ts":<now>,"u":<ARM id of the cluster>,"cnf":{"jwk":<public JWK>},"nonce":<random>}``.

MSAL sends the extra token-request parameters; only the JWS is written here. ``parse_claims`` imports
nothing heavy (option validation uses it); the rest imports cryptography when a PoP token is made.
"""

from __future__ import annotations

from akslogin.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The u claim: Arc's API server compares it with its own resource id.
U_CLAIM = "u"
#: Arc's server checks ``ts`` against a 5-minute window; kubectl is told the PoP token expires sooner, so a
#: long-running client (k9s, kubectl -w) asks for a freshly signed one before the server would refuse it.
PRESENTATION_LIFETIME = 240
KEY_BITS = 2048
_CLAIMS_HINT = ("Pass --pop-claims as comma-separated key=value pairs with the cluster's ARM id in u, e.g. "
                "--pop-claims \"u=/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Kubernetes/"
                "connectedClusters/<name>\".")


def parse_claims(text: str) -> dict[str, str]:
    """``--pop-claims`` as kubelogin reads it: ``k=v[,k=v...]``, non-empty keys and values, ``u`` required."""
    if not text.strip():
        raise UsageError("--pop-claims is empty.", _CLAIMS_HINT)
    claims: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise UsageError(f"--pop-claims has {part.strip()!r}, which is not key=value.", _CLAIMS_HINT)
        claims[key] = value
    if not claims.get(U_CLAIM):
        raise UsageError("--pop-claims has no u claim (the ARM id of the Arc-enabled cluster).", _CLAIMS_HINT)
    return claims


def _b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _compact(value: Any) -> bytes:
    import json

    return json.dumps(value, separators=(",", ":")).encode("utf-8")


class PopKey:
    """An RSA key pair and the names Entra and Arc know it by. Its repr never shows the key."""

    def __init__(self, private_key: Any) -> None:
        self._key = private_key
        numbers = private_key.public_key().public_numbers()
        e = _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"))
        n = _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big"))
        import hashlib

        # RFC 7638: the required members only, in lexicographic order, no whitespace.
        self.kid = _b64url(hashlib.sha256(_compact({"e": e, "kty": "RSA", "n": n})).digest())
        self.jwk = {"e": e, "kty": "RSA", "n": n, "alg": "RS256", "kid": self.kid}

    def __repr__(self) -> str:
        return f"PopKey(kid={self.kid!r})"

    @classmethod
    def generate(cls) -> PopKey:
        from cryptography.hazmat.primitives.asymmetric import rsa

        return cls(rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS))

    @classmethod
    def from_pem(cls, data: bytes) -> PopKey | None:
        """The key in ``data`` (PKCS#1 or PKCS#8 PEM), or None when it is not a usable RSA key."""
        from cryptography.hazmat.primitives.asymmetric import rsa

        from akslogin.rsakeys import load_pem  # no primality test at load: every signature is verified instead

        try:
            key = load_pem(data, None)
        except (ValueError, TypeError):
            return None
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < KEY_BITS:
            return None
        return cls(key)

    def to_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        pem: bytes = self._key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.TraditionalOpenSSL,
                                             serialization.NoEncryption())
        return pem

    @property
    def req_cnf(self) -> str:
        return _b64url(_compact({"kid": self.kid, "xms_ksl": "sw"}))

    def request_data(self) -> dict[str, str]:
        """The extra token-request parameters (MSAL's ``data=``) that bind the token to this key."""
        return {"token_type": "pop", "req_cnf": self.req_cnf}

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature: bytes = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return signature


def present(access_token: str, key: PopKey, u: str, now: float, nonce: str | None = None) -> str:
    """The compact JWS kubectl sends as its bearer token: the access token signed into a fresh proof."""
    import secrets

    header = _b64url(_compact({"typ": "pop", "alg": "RS256", "kid": key.kid}))
    payload = _b64url(_compact({"at": access_token, "ts": int(now), U_CLAIM: u, "cnf": {"jwk": key.jwk},
                                "nonce": nonce if nonce is not None else secrets.token_hex(16)}))
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{_b64url(key.sign(signing_input))}"


def presentation(access_token: str, expires_on: float, key: PopKey, claims: str, now: float) -> tuple[str, float]:
    """What is handed to kubectl for a PoP-bound access token: a fresh proof, valid for a few minutes (the
    server refuses an older ``ts``, so the credential must be asked for again before then)."""
    return (present(access_token, key, parse_claims(claims)[U_CLAIM], now),
            min(expires_on, now + PRESENTATION_LIFETIME))
