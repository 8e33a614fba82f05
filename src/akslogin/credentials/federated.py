"""Federated client assertions: a token from another identity provider exchanged for an Entra token.

The exchange is MSAL's confidential client with a ``client_assertion`` callable, which MSAL calls for each
network request, so every exchange presents a fresh assertion: a projected token file is re-read (kubelet
rotates it), and CI providers are asked for a new OIDC token.
"""

from __future__ import annotations

import os
import re
import stat
import urllib.parse
from collections.abc import Callable
from typing import Any

from akslogin.credentials.base import AccessToken, scope_for
from akslogin.credentials.msal_app import Authority, call, confidential_app, token_from_result
from akslogin.errors import AuthenticationError, ConfigError
from akslogin.http import HttpClient

#: The audience Entra requires in federated assertions.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
#: Projected service-account tokens are ~1 KB; anything far larger is not a token.
MAX_TOKEN_FILE = 64 * 1024
_JWT_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")

AssertionSource = Callable[[], str]


class FederatedCredential:
    """client_credentials with a federated assertion; ``source`` is called once per token request."""

    def __init__(self, authority: Authority, client_id: str, source: AssertionSource, http: HttpClient,
                 clock: Callable[[], float]) -> None:
        self._app = confidential_app(authority, client_id, {"client_assertion": source}, http)
        self._clock = clock

    def get_token(self, resource: str) -> AccessToken:
        result = call(self._app.acquire_token_for_client, [scope_for(resource)])
        return token_from_result(result, now=self._clock())


class TokenFileAssertion:
    """Reads the federated token file on every call (Kubernetes rewrites it before the old token expires)."""

    def __init__(self, path: str) -> None:
        self.path = os.path.expanduser(path)

    def __call__(self) -> str:
        hint = ("In a pod the workload identity webhook projects this file when the pod has the label "
                "azure.workload.identity/use: \"true\" and its service account the annotation "
                "azure.workload.identity/client-id; elsewhere pass --federated-token-file.")
        try:
            fd = os.open(self.path, os.O_RDONLY)  # projected volumes are symlinks: follow them
        except OSError as exc:
            raise ConfigError(f"cannot read the federated token file {self.path}: {exc.strerror}.", hint) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ConfigError(f"the federated token file {self.path} is not a regular file.", hint)
            if st.st_size > MAX_TOKEN_FILE:
                raise ConfigError(f"the federated token file {self.path} is {st.st_size} bytes; a token is a few KB.",
                                  "Point --federated-token-file / AZURE_FEDERATED_TOKEN_FILE at the projected token.")
            with os.fdopen(fd, "rb", closefd=False) as fh:
                raw = fh.read(MAX_TOKEN_FILE + 1)
        finally:
            os.close(fd)
        return _checked_jwt(raw.decode("utf-8", "replace").strip(), f"the federated token file {self.path}")


class GitHubActionsAssertion:
    """Asks the GitHub Actions runtime for an OIDC token for this job (``permissions: id-token: write``)."""

    def __init__(self, request_url: str, request_token: str, http: HttpClient) -> None:
        self._url = request_url
        self._token = request_token
        self._http = http

    def __call__(self) -> str:
        separator = "&" if "?" in self._url else "?"
        url = f"{self._url}{separator}audience={urllib.parse.quote(TOKEN_EXCHANGE_AUDIENCE, safe='')}"
        response = self._http.get(url, headers={
            "Authorization": f"bearer {self._token}",
            "Accept": "application/json; api-version=2.0",
            "Content-Type": "application/json",
        })
        if response.status_code != 200:
            raise AuthenticationError(
                f"GitHub Actions refused the OIDC token request to {_origin(self._url)} (HTTP {response.status_code}"
                f"{_message_of(response)}).",
                "Give the workflow or job 'permissions: id-token: write'; ACTIONS_ID_TOKEN_REQUEST_TOKEN is valid "
                "only for the running job.",
            )
        value = _json_field(response, "value")
        return _checked_jwt(value, "the GitHub Actions OIDC token")


class AzurePipelinesAssertion:
    """Asks Azure Pipelines for an OIDC token of a service connection (workload identity federation)."""

    def __init__(self, request_uri: str, access_token: str, connection_id: str, http: HttpClient) -> None:
        self._uri = request_uri.rstrip("/")
        self._access_token = access_token
        self._connection_id = connection_id
        self._http = http

    def __call__(self) -> str:
        response = self._http.post(
            self._uri, params={"api-version": "7.1", "serviceConnectionId": self._connection_id},
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._access_token}",
                     "X-TFS-FedAuthRedirect": "Suppress"},
        )
        if response.status_code != 200:
            if response.status_code in (401, 403):
                hint = ("SYSTEM_ACCESSTOKEN is missing, expired or not this job's: map it into the step with "
                        "'env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)'.")
            else:
                hint = ("Check --azure-pipelines-service-connection-id (AZURESUBSCRIPTION_SERVICE_CONNECTION_ID) and "
                        "that this pipeline is authorized to use the service connection.")
            raise AuthenticationError(
                f"Azure Pipelines refused the OIDC token request for service connection {self._connection_id} "
                f"(HTTP {response.status_code}{_message_of(response)}).", hint)
        return _checked_jwt(_json_field(response, "oidcToken"), "the Azure Pipelines OIDC token")


def _checked_jwt(value: str, what: str) -> str:
    if not value:
        raise ConfigError(f"{what} is empty.")
    if not _JWT_RE.match(value):
        raise ConfigError(f"{what} is not a JWT (three base64url parts separated by dots).")
    return value


def _json_field(response: Any, name: str) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise AuthenticationError(f"the OIDC token response from {_origin(response.url)} has no '{name}' field.")
    return value


def _message_of(response: Any) -> str:
    """The service's own error message, short, for the paragraph (never a token)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message:
        return ""
    message = re.sub(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", "***", message)
    return ": " + (message if len(message) <= 200 else message[:199] + "…")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url[:80]
