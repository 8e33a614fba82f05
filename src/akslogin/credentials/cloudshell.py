"""Managed identity in Azure Cloud Shell: ``MSI_ENDPOINT`` without ``MSI_SECRET``.

Cloud Shell's endpoint hands out tokens of the user signed in to the shell: ``POST <MSI_ENDPOINT>`` with
``Metadata: true`` and the form ``resource=<resource>``, answered with IMDS-shaped JSON. There is no
user-assigned identity to pick, so ``--client-id`` / ``--identity-resource-id`` are refused rather than
ignored. MSAL's own Cloud Shell path posts to a fixed ``localhost:50342`` and is reached through a public
client; azidentity (and so kubelogin) read ``MSI_ENDPOINT``, as this client does.
"""

from __future__ import annotations

from typing import Any

from akslogin.credentials.base import AccessToken, endpoint_token
from akslogin.errors import UsageError


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
        token, _body = endpoint_token(
            response, "Cloud Shell identity endpoint", self._clock,
            no_json_hint="Open a new Cloud Shell session and retry.",
            refused_hint="Check --server-id; the token is for the user signed in to Cloud Shell.",
            detail=lambda body: body["error"].get("message") if isinstance(body.get("error"), dict) else None)
        return token
