"""``whoami --verify``: check a token's signature, issuer and lifetime against the tenant's published keys.

The keys come from the tenant's OpenID discovery document (v1 or v2, matching the token) and its
``jwks_uri``, fetched through :class:`akslogin.http.HttpClient` with the same TLS trust as get-token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt

from akslogin import jsonlite
from akslogin.aadsts import describe_idp_error
from akslogin.errors import AksloginError
from akslogin.http import HttpClient
from akslogin.tokeninfo import TokenInfo

#: Tolerance on exp/nbf, as API servers apply it.
LEEWAY = 60


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Verification:
    checks: list[Check] = field(default_factory=list)
    jwks_uri: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "jwks_uri": self.jwks_uri or None,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]}


def _get_json(http: HttpClient, url: str) -> dict[str, Any]:
    response = http.get(url)
    try:
        data = jsonlite.loads(response.text)
    except ValueError:
        data = None
    if response.status_code >= 400:
        if isinstance(data, dict) and "error" in data:
            raise describe_idp_error(data)
        raise AksloginError(f"{url} answered HTTP {response.status_code}.")
    if not isinstance(data, dict):
        raise AksloginError(f"{url} did not return a JSON object.")
    return data


def verify_token(token: str, info: TokenInfo, http: HttpClient, authority_host: str, now: float) -> Verification:
    """Run every check; network and IdP failures become a failed check rather than an exception."""
    result = Verification()
    tenant = info.tenant_id
    if not result.add("tenant", bool(tenant), f"tenant {tenant}" if tenant else "the token has no tid claim"):
        return result
    base = authority_host.rstrip("/") + "/" + tenant
    discovery_url = base + ("/v2.0/.well-known/openid-configuration" if info.version == "2.0"
                            else "/.well-known/openid-configuration")
    try:
        discovery = _get_json(http, discovery_url)
        expected_issuer = str(discovery.get("issuer", "")).replace("{tenantid}", tenant)
        result.jwks_uri = str(discovery.get("jwks_uri", ""))
        keys = _get_json(http, result.jwks_uri)
    except AksloginError as exc:
        result.add("keys", False, exc.render().removeprefix("akslogin: "))
        return result
    result.add("issuer", info.issuer == expected_issuer,
               f"issuer {info.issuer}" + ("" if info.issuer == expected_issuer
                                         else f" is not the tenant's issuer {expected_issuer}"))
    kid = str(info.header.get("kid") or info.header.get("x5t") or "")
    try:
        jwk_set = jwt.PyJWKSet.from_dict(keys)
        key = next((k for k in jwk_set.keys if k.key_id == kid), None)
    except jwt.PyJWTError:
        key = None
    if key is None:
        result.add("signature", False, f"signing key {kid or '(none)'} is not among the tenant's published keys")
    else:
        try:
            jwt.decode(token, key.key, algorithms=["RS256"], options={
                "verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
            result.add("signature", True, f"RS256 signature verified with key {kid}")
        except jwt.PyJWTError as exc:
            result.add("signature", False, f"signature check failed ({type(exc).__name__})")
    exp, nbf = info.expires_at, info.not_before
    if exp is None:
        result.add("lifetime", False, "the token has no exp claim")
    elif exp + LEEWAY < now:
        result.add("lifetime", False, f"expired {int(now - exp)}s ago by this machine's clock")
    elif nbf is not None and nbf - LEEWAY > now:
        result.add("lifetime", False, f"not valid for another {int(nbf - now)}s by this machine's clock")
    else:
        result.add("lifetime", True, f"valid for another {int(exp - now)}s")
    return result
