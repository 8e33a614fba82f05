"""How the emulated API server turns a bearer token into a Kubernetes user, the way AKS (guard) does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt

from akslogin.emulator.clock import Clock
from akslogin.emulator.world import Cluster

#: Clock skew the API server tolerates on exp/nbf, in seconds.
LEEWAY = 60


@dataclass(frozen=True)
class UserInfo:
    """The authenticated identity: what SelfSubjectReview returns and RBAC evaluates."""

    username: str
    uid: str
    groups: tuple[str, ...]
    extra: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthFailure:
    """Why a token was rejected; logged by the emulator, never shown to the client (AKS says only 401)."""

    reason: str


class Authenticator(Protocol):
    def authenticate(self, token: str) -> UserInfo | AuthFailure: ...


#: (tenant id, object id) → group object ids from the directory (Graph getMemberObjects), None if unknown.
GroupResolver = Callable[[str, str], "list[str] | None"]


class SignedTokenVerifier:
    """Checks what every Entra resource checks first: a known RS256 key, the signature, exp and nbf."""

    def __init__(self, jwks: dict[str, Any], clock: Clock) -> None:
        self._keys = {k["kid"]: jwt.PyJWK(k).key for k in jwks["keys"]}
        self._clock = clock

    def verify(self, token: str) -> dict[str, Any] | AuthFailure:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return AuthFailure("malformed token")
        key = self._keys.get(str(header.get("kid")))
        if key is None or header.get("alg") != "RS256":
            return AuthFailure("unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            return AuthFailure(f"bad signature: {type(exc).__name__}")
        now = self._clock.now()
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] + LEEWAY < now:
            return AuthFailure("token expired")
        if isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] - LEEWAY > now:
            return AuthFailure("token not yet valid")
        return claims


class TokenAuthenticator:
    """Validates signature (against the published JWKS), issuer, audience and expiry."""

    def __init__(self, jwks: dict[str, Any], cluster: Cluster, clock: Clock,
                 group_resolver: GroupResolver | None = None) -> None:
        self._verifier = SignedTokenVerifier(jwks, clock)
        self._cluster = cluster
        self._resolve_groups = group_resolver

    def authenticate(self, token: str) -> UserInfo | AuthFailure:
        claims = self._verifier.verify(token)
        if isinstance(claims, AuthFailure):
            return claims
        expected_iss = f"https://sts.windows.net/{self._cluster.tenant_id}/"
        if claims.get("iss") != expected_iss:
            return AuthFailure(f"issuer {claims.get('iss')!r} is not {expected_iss!r}")
        if claims.get("aud") not in self._cluster.accepted_audiences():
            return AuthFailure(f"audience {claims.get('aud')!r} not accepted")
        oid = str(claims.get("oid") or "")
        if not oid:
            return AuthFailure("no oid claim")
        username = str(claims.get("upn") or oid)
        groups = claims.get("groups")
        claim_names = claims.get("_claim_names")
        if groups is None and isinstance(claim_names, dict) and "groups" in claim_names:
            # Group overage: guard asks Microsoft Graph for a user's memberships, but not for an application's
            # (an app-only token): such a service principal is refused.
            if _app_only(claims):
                return AuthFailure("group overage on an application token: guard does not look up an app's groups")
            if self._resolve_groups is None:
                return AuthFailure("group overage claim and no directory to resolve it")
            groups = self._resolve_groups(str(claims.get("tid") or ""), oid)
            if groups is None:
                return AuthFailure(f"group overage: the directory does not know {oid}")
        groups = groups or []
        if not isinstance(groups, list):
            return AuthFailure("groups claim is not a list")
        return UserInfo(
            username=username,
            uid=oid,
            groups=(*[str(g) for g in groups], "system:authenticated"),
            extra={"oid": [oid]},
        )


def _app_only(claims: dict[str, Any]) -> bool:
    """An application's own token (client credentials): ``idtyp`` says so, or (v1) no user claims at all."""
    if claims.get("idtyp") in ("app", "user"):
        return bool(claims["idtyp"] == "app")
    return not any(k in claims for k in ("scp", "upn", "unique_name"))


def certificate_user(client_cert: tuple[str, tuple[str, ...]]) -> UserInfo | AuthFailure:
    """kube-apiserver's x509 authenticator: CN is the user, each O a group (the TLS layer verified the chain)."""
    cn, orgs = client_cert
    if not cn:
        return AuthFailure("client certificate without a common name")
    return UserInfo(username=cn, uid="", groups=(*orgs, "system:authenticated"))
