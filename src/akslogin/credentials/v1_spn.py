"""``--legacy`` for service principals: client credentials on the v1 token endpoint with ``api-version=1.0``.

Old AKS "AADv1" clusters (and the removed kubectl azure auth-provider) expect tokens whose audience is
``spn:<server id>``; Entra issues that audience only on the v1 endpoint with ``?api-version=1.0`` and a
``resource`` parameter. MSAL speaks only v2, so this one request is written by hand (as ADAL did it).
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from akslogin.aadsts import describe_idp_error
from akslogin.credentials.base import AccessToken
from akslogin.credentials.certificate import ClientCertificate
from akslogin.credentials.msal_app import Authority
from akslogin.errors import AuthenticationError
from akslogin.http import HttpClient

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 600


class V1ClientCredentials:
    """One client-credentials request to ``<authority>/<tenant>/oauth2/token?api-version=1.0``."""

    def __init__(self, authority: Authority, client_id: str, secret: str | ClientCertificate, http: HttpClient,
                 clock: Any = time.time) -> None:
        self._endpoint = f"{authority.url}/oauth2/token"
        self._client_id = client_id
        self._secret = secret
        self._http = http
        self._clock = clock

    def get_token(self, resource: str) -> AccessToken:
        form = {"grant_type": "client_credentials", "client_id": self._client_id, "resource": resource}
        if isinstance(self._secret, ClientCertificate):
            form["client_assertion_type"] = JWT_BEARER
            form["client_assertion"] = self._assertion(self._secret)
        else:
            form["client_secret"] = self._secret
        response = self._http.post(self._endpoint, params={"api-version": "1.0"}, data=form,
                                   headers={"Accept": "application/json"})
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AuthenticationError(
                f"the v1 token endpoint {self._endpoint} answered HTTP {response.status_code} without a JSON body.",
                "Check --authority-host / --environment; if this is a proxy error page, retry later.",
            )
        if response.status_code >= 400 or "access_token" not in body:
            raise describe_idp_error(body)
        try:
            lifetime = float(body.get("expires_in", 0))  # v1 answers with strings
        except (TypeError, ValueError):
            lifetime = 0.0
        if lifetime <= 0:
            raise AuthenticationError("the v1 token endpoint returned a token without a usable expiry (expires_in).")
        return AccessToken(str(body["access_token"]), self._clock() + lifetime)

    def _assertion(self, cert: ClientCertificate) -> str:
        """RS256 with the SHA-1 thumbprint in ``x5t``, the form the v1 endpoint has always taken (ADAL)."""
        leaf = x509.load_pem_x509_certificate(cert.certificate_pem.encode())
        der = leaf.public_bytes(serialization.Encoding.DER)
        x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()  # noqa: S324
        now = int(self._clock())
        claims = {"aud": self._endpoint, "iss": self._client_id, "sub": self._client_id, "jti": str(uuid.uuid4()),
                  "nbf": now, "iat": now, "exp": now + ASSERTION_LIFETIME}
        return jwt.encode(claims, cert.private_key, algorithm="RS256", headers={"x5t": x5t})
