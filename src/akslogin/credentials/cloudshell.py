"""Managed identity in Azure Cloud Shell: ``MSI_ENDPOINT`` without ``MSI_SECRET``.

Cloud Shell's endpoint hands out tokens of the user signed in to the shell: ``POST <MSI_ENDPOINT>`` with
``Metadata: true`` and the form ``resource=<resource>``, answered with IMDS-shaped JSON. There is no
user-assigned identity to pick, so ``--client-id`` / ``--identity-resource-id`` are refused rather than
ignored. MSAL's own Cloud Shell path posts to a fixed ``localhost:50342`` and is reached through a public
client; azidentity (and so kubelogin) read ``MSI_ENDPOINT``, as this client does.
"""

from __future__ import annotations

from typing import Any

from akslogin.credentials.base import AccessToken
from akslogin.errors import AuthenticationError, UsageError


class CloudShellClient:
    def __init__(self, endpoint: str, http: Any, selector: tuple[str, str] | None, clock: Any) -> None:
        if selector is not None:
            raise UsageError(
                f"Azure Cloud Shell has no user-assigned managed identities, so --login msi cannot select "
                f"{selector[0]}={selector[1]} there.",
                "Drop --client-id / --identity-resource-id: in Cloud Shell the token is the signed-in user's.")
        self._endpoint = endpoint
        self._http = http
        self._clock = clock

    def get_token(self, resource: str) -> AccessToken:
        response = self._http.post(self._endpoint, data={"resource": resource}, headers={"Metadata": "true"})
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AuthenticationError(f"the Cloud Shell identity endpoint answered HTTP {response.status_code} "
                                      "without a JSON body.", "Open a new Cloud Shell session and retry.")
        token, expires_in = body.get("access_token"), body.get("expires_in")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            error = body.get("error")
            detail = (error.get("message") if isinstance(error, dict) else None) or body.get("error_description") \
                or error or f"HTTP {response.status_code}"
            raise AuthenticationError(f"the Cloud Shell identity endpoint refused the token request: {detail}.",
                                      "Check --server-id; the token is for the user signed in to Cloud Shell.")
        try:
            lifetime = float(expires_in)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            lifetime = 0.0
        if lifetime <= 0:
            raise AuthenticationError("the Cloud Shell identity endpoint returned a token without expires_in.")
        return AccessToken(token, self._clock() + lifetime)
