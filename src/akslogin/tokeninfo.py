"""Reading an Entra ID access token for display: who it is for, and how AKS will see it.

Decoding here does NOT verify the signature (see :mod:`akslogin.tokenverify` for that); it is for showing
claims. The token itself is never part of what this module returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

LEGACY_PREFIX = "spn:"


@dataclass(frozen=True)
class TokenInfo:
    claims: dict[str, Any]
    header: dict[str, Any]

    def _str(self, name: str) -> str:
        value = self.claims.get(name)
        return str(value) if value is not None else ""

    def _time(self, name: str) -> float | None:
        value = self.claims.get(name)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    # -- identity ---------------------------------------------------------------------------------
    @property
    def upn(self) -> str:
        return self._str("upn")

    @property
    def object_id(self) -> str:
        return self._str("oid")

    @property
    def app_id(self) -> str:
        return self._str("appid") or self._str("azp")

    @property
    def tenant_id(self) -> str:
        return self._str("tid")

    @property
    def display_name(self) -> str:
        return self._str("name")

    @property
    def email(self) -> str:
        return self._str("email") or (self._str("unique_name") if not self.upn else "")

    @property
    def app_only(self) -> bool:
        if self.claims.get("idtyp") == "app":
            return True
        # v1 tokens without idtyp: an app token has no user claims (no scp, no upn/unique_name).
        return "idtyp" not in self.claims and not any(k in self.claims for k in ("scp", "upn", "unique_name"))

    @property
    def managed_identity(self) -> bool:
        """Managed identity tokens carry the identity's ARM resource id (``xms_mirid``)."""
        return self.app_only and bool(self.claims.get("xms_mirid") or self.claims.get("xms_az_rid"))

    @property
    def guest(self) -> bool:
        """A B2B guest: a user token without ``upn`` (guests have ``unique_name``/``email`` instead)."""
        return not self.app_only and not self.upn and bool(self.claims.get("unique_name") or self.claims.get("email"))

    @property
    def identity_type(self) -> str:
        if self.managed_identity:
            return "managed identity"
        if self.app_only:
            return "service principal"
        return "guest user" if self.guest else "user"

    @property
    def aks_username(self) -> str:
        """The Kubernetes user name AKS derives: the ``upn`` claim, else the object id."""
        return self.upn or self.object_id

    # -- groups -----------------------------------------------------------------------------------
    @property
    def groups(self) -> list[str] | None:
        value = self.claims.get("groups")
        return [str(g) for g in value] if isinstance(value, list) else None

    @property
    def group_overage(self) -> bool:
        names = self.claims.get("_claim_names")
        return isinstance(names, dict) and "groups" in names

    @property
    def overage_endpoint(self) -> str:
        names, sources = self.claims.get("_claim_names"), self.claims.get("_claim_sources")
        if not isinstance(names, dict) or not isinstance(sources, dict):
            return ""
        source = sources.get(str(names.get("groups")))
        return str(source.get("endpoint", "")) if isinstance(source, dict) else ""

    # -- audience and lifetime -------------------------------------------------------------------
    @property
    def audience(self) -> str:
        aud = self.claims.get("aud")
        return " ".join(str(a) for a in aud) if isinstance(aud, list) else str(aud or "")

    @property
    def legacy_audience(self) -> bool:
        return self.audience.startswith(LEGACY_PREFIX)

    @property
    def issuer(self) -> str:
        return self._str("iss")

    @property
    def version(self) -> str:
        return self._str("ver")

    @property
    def issued_at(self) -> float | None:
        return self._time("iat")

    @property
    def not_before(self) -> float | None:
        return self._time("nbf")

    @property
    def expires_at(self) -> float | None:
        return self._time("exp")

    def audience_matches(self, server_id: str, legacy: bool = False) -> bool:
        """Is this token for ``server_id`` (with the ``spn:`` prefix when the context asks for --legacy)?"""
        wanted = server_id.rstrip("/").lower()
        aud = self.audience.rstrip("/").lower()
        if aud.startswith(LEGACY_PREFIX):
            return legacy and aud[len(LEGACY_PREFIX):] == wanted
        return aud == wanted

    def to_json(self) -> dict[str, Any]:
        """Claims worth showing; never the token, never its signature."""
        return {
            "identity_type": self.identity_type,
            "aks_username": self.aks_username,
            "upn": self.upn or None,
            "email": self.email or None,
            "name": self.display_name or None,
            "object_id": self.object_id or None,
            "app_id": self.app_id or None,
            "tenant_id": self.tenant_id or None,
            "groups": self.groups,
            "group_overage": self.group_overage,
            "group_overage_endpoint": self.overage_endpoint or None,
            "audience": self.audience,
            "legacy_audience": self.legacy_audience,
            "issuer": self.issuer,
            "version": self.version or None,
            "issued_at": _int(self.issued_at),
            "not_before": _int(self.not_before),
            "expires_at": _int(self.expires_at),
            "scopes": self._str("scp") or None,
            "roles": self.claims.get("roles"),
        }


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def decode_token(token: str) -> TokenInfo | None:
    """The claims of a JWT, or None for an opaque (non-JWT) bearer token. The signature is not checked. A
    proof-of-possession presentation (Azure Arc) is read through to the access token it carries (``at``):
    that is what Entra ID issued."""
    if token.count(".") != 2:
        return None
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    if not isinstance(claims, dict):
        return None
    inner = claims.get("at")
    if header.get("typ") == "pop" and isinstance(inner, str) and inner.count(".") == 2:
        return decode_token(inner)
    return TokenInfo(claims, dict(header))
