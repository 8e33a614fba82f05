"""Token minting for the emulated Entra ID: one RSA signing key published as JWKS (kid, x5t, x5c)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from akslogin.emulator.clock import Clock
from akslogin.emulator.entra.directory import GROUP_CLAIM_LIMIT, guest_email, is_guest_upn
from akslogin.emulator.net.tlsmaterial import new_rsa_key, self_signed, thumbprints


def b64url_json(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class TokenIssuer:
    """Signs access and id tokens the way ESTS does (RS256; v1 headers carry both ``kid`` and ``x5t``)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._key: rsa.RSAPrivateKey = new_rsa_key()
        self._cert = self_signed("accounts.emulator.akslogin", self._key)
        self.kid, _ = thumbprints(self._cert)
        #: Base URL of the directory endpoint named in group overage claims (the Graph feature points it at
        #: the emulated Graph server; ESTS names graph.windows.net in v1 tokens).
        self.graph_url: Callable[[], str] = lambda: "https://graph.windows.net"

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()

        def b64int(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

        der = self._cert.public_bytes(serialization.Encoding.DER)
        return {
            "keys": [{
                "kty": "RSA",
                "use": "sig",
                "kid": self.kid,
                "x5t": self.kid,
                "n": b64int(numbers.n),
                "e": b64int(numbers.e),
                "x5c": [base64.b64encode(der).decode("ascii")],
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            }]
        }

    def sign(self, claims: dict[str, Any], v1: bool = True) -> str:
        headers: dict[str, Any] = {"typ": "JWT", "kid": self.kid}
        if v1:
            headers["x5t"] = self.kid
        return jwt.encode(claims, self._key, algorithm="RS256", headers=headers)

    def access_token(
        self,
        *,
        tenant_id: str,
        audience: str,
        lifetime: int,
        subject_oid: str,
        app_id: str,
        app_only: bool,
        upn: str | None = None,
        name: str | None = None,
        groups: list[str] | None = None,
        scp: str | None = None,
        appidacr: str = "0",
        amr: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A v1-shaped access token, as Entra issues for the AKS server app and ARM."""
        now = int(self.clock.now())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": uuid.uuid4().hex,
            "appid": app_id,
            "appidacr": appidacr,
            "idp": f"https://sts.windows.net/{tenant_id}/",
            "oid": subject_oid,
            "rh": "0.emulator.",
            "sub": subject_oid,
            "tid": tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "1.0",
        }
        if app_only:
            claims["idtyp"] = "app"
        else:
            claims["idtyp"] = "user"
            claims["amr"] = amr or ["pwd"]
            claims["scp"] = scp or "user.read"
        if upn and is_guest_upn(upn):
            # B2B guests get no upn claim: unique_name/email carry their home address, so AKS (which takes
            # upn, else oid) sees them by object id.
            claims["unique_name"] = guest_email(upn)
            claims["email"] = guest_email(upn)
        elif upn:
            claims["upn"] = upn
            claims["unique_name"] = upn
        if name:
            claims["name"] = name
        if groups and len(groups) > GROUP_CLAIM_LIMIT:
            # Group overage: no groups claim, a pointer to where the memberships can be read instead.
            kind = "servicePrincipals" if app_only else "users"
            claims["_claim_names"] = {"groups": "src1"}
            endpoint = f"{self.graph_url().rstrip('/')}/{tenant_id}/{kind}/{subject_oid}/getMemberObjects"
            claims["_claim_sources"] = {"src1": {"endpoint": endpoint}}
        elif groups:
            claims["groups"] = list(groups)
        if extra:
            claims.update(extra)
        return self.sign(claims, v1=True)
