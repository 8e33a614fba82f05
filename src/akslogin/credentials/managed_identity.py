"""``--login msi``: the managed identity of the machine akslogin runs on.

Which identity: ``--client-id`` (or AZURE_CLIENT_ID) selects a user-assigned identity by client id, else
``--identity-resource-id`` by ARM resource id, else the system-assigned identity (kubelogin's order).

Where the endpoint is, detected from the environment in MSAL's order (each can be pointed elsewhere by the
same variables the platforms set, which is how the tests reach the emulator):

| source | detected by | endpoint |
| --- | --- | --- |
| Service Fabric | IDENTITY_ENDPOINT + IDENTITY_HEADER + IDENTITY_SERVER_THUMBPRINT | IDENTITY_ENDPOINT |
| App Service / Functions | IDENTITY_ENDPOINT + IDENTITY_HEADER | IDENTITY_ENDPOINT |
| Azure Machine Learning | MSI_ENDPOINT + MSI_SECRET | MSI_ENDPOINT |
| Azure Cloud Shell | MSI_ENDPOINT alone (the signed-in user's tokens) | MSI_ENDPOINT |
| Azure Arc | IDENTITY_ENDPOINT + IMDS_ENDPOINT, or the himds agent installed | IDENTITY_ENDPOINT |
| Azure VM, VMSS, AKS node (IMDS) | otherwise | AZURE_POD_IDENTITY_AUTHORITY_HOST or http://169.254.169.254 |

Arc and Cloud Shell go through our own clients (:mod:`akslogin.credentials.arc`, :mod:`.cloudshell`); the
rest through MSAL's ManagedIdentityClient, which reads the same variables from the process environment (the CLI passes
``os.environ`` as the environment, so both agree).
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import msal
import requests

from akslogin.aadsts import describe_idp_error
from akslogin.credentials.arc import DEFAULT_ENDPOINT, HIMDS_BINARY, KEY_DIR_VARIABLE, ArcClient, default_key_dir
from akslogin.credentials.base import AccessToken, CredentialContext, Problem
from akslogin.credentials.cloudshell import CloudShellClient
from akslogin.credentials.msal_app import token_from_result
from akslogin.errors import AksloginError, AuthenticationError, NetworkError, TLSError
from akslogin.http import HttpClient
from akslogin.retry import retry_after_seconds

if TYPE_CHECKING:
    from akslogin.options import TokenOptions

IMDS_HOST = "http://169.254.169.254"
#: Statuses IMDS documents as transient (404: identity not yet assigned, 410: IMDS upgrading).
RETRY_STATUSES = frozenset({404, 410, 429, 500, 502, 503, 504})
RETRY_DELAYS = (0.5, 1.0, 2.0)
#: A managed identity endpoint is link-local or loopback: if it does not accept a connection quickly, this
#: is not a machine with a managed identity (waiting the whole --timeout helps nobody).
CONNECT_TIMEOUT = 5.0
NOT_ON_AZURE = ("--login msi works only where a managed identity endpoint exists: an Azure VM or scale set, an "
                "AKS node, App Service / Functions, or an Arc-enabled server. Elsewhere use another --login mode.")


class Source(NamedTuple):
    name: str  # for messages: "IMDS", "App Service", ...
    endpoint: str
    via_msal: bool
    host: str  # what the identity must be assigned to


def detect_source(environ: Mapping[str, str]) -> Source:
    endpoint = environ.get("IDENTITY_ENDPOINT", "")
    if endpoint and environ.get("IDENTITY_HEADER"):
        if environ.get("IDENTITY_SERVER_THUMBPRINT"):
            return Source("Service Fabric", endpoint, True, "Service Fabric application")
        return Source("App Service", endpoint, True, "App Service / Functions app")
    if environ.get("MSI_ENDPOINT") and environ.get("MSI_SECRET"):
        return Source("Azure Machine Learning", environ["MSI_ENDPOINT"], True, "Azure Machine Learning compute")
    if environ.get("MSI_ENDPOINT"):  # without MSI_SECRET: Azure Cloud Shell, as azidentity detects it
        return Source("Cloud Shell", environ["MSI_ENDPOINT"], False, "Cloud Shell session")
    if endpoint and environ.get("IMDS_ENDPOINT"):
        return Source("Azure Arc", endpoint, False, "Arc-enabled server")
    if os.path.exists(HIMDS_BINARY):
        return Source("Azure Arc", DEFAULT_ENDPOINT, False, "Arc-enabled server")
    host = environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or IMDS_HOST
    return Source("IMDS", host.strip("/") + "/metadata/identity/oauth2/token", True, "VM, scale set or node pool")


class ManagedIdentityHttp(HttpClient):
    """HttpClient for managed identity endpoints: short connect timeout, retries on IMDS's transient
    statuses (honouring Retry-After) within the overall timeout, and messages that say what failed."""

    def transport_error(self, exc: Exception, url: str) -> NetworkError:
        if isinstance(exc, requests.exceptions.SSLError):
            return TLSError(f"the TLS certificate of the managed identity endpoint {_origin(url)} is not trusted.",
                            "Check IDENTITY_SERVER_THUMBPRINT / --certificate-authority.")
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return NetworkError(f"no managed identity endpoint answered at {_origin(url)} within "
                                f"{min(CONNECT_TIMEOUT, self.timeout):.0f}s.", NOT_ON_AZURE)
        if isinstance(exc, requests.exceptions.Timeout):
            return NetworkError(f"the managed identity endpoint {_origin(url)} did not answer within "
                                f"{self.timeout:.0f}s.", "Retry, or raise --timeout.")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return NetworkError(f"cannot connect to the managed identity endpoint {_origin(url)}.", NOT_ON_AZURE)
        return super().transport_error(exc, url)

    def __init__(self, timeout: float, extra_cas: Any = (), environ: Mapping[str, str] | None = None,
                 sleep: Any = time.sleep) -> None:
        super().__init__(timeout, extra_cas, environ)
        self._sleep = sleep

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        target = url.decode() if isinstance(url, bytes) else url
        connect = min(CONNECT_TIMEOUT, self.timeout)
        kwargs.setdefault("timeout", (connect, self.timeout))
        deadline = time.monotonic() + self.timeout
        attempt = 0
        verb = (method.decode() if isinstance(method, bytes) else method).upper()
        while True:
            # One try through HttpClient: the run's deadline, the body-size cap and no redirects of a token
            # request hold here too; only the retry policy (IMDS's statuses) and the messages are our own.
            response = self._follow(verb, target, *args, **kwargs)
            delay = RETRY_DELAYS[attempt] if attempt < len(RETRY_DELAYS) else None
            if response.status_code not in RETRY_STATUSES or delay is None:
                return response
            delay = max(delay, _retry_after(response))
            if time.monotonic() + delay >= deadline:
                return response
            attempt += 1
            self._sleep(delay)


def requirements(_opts: TokenOptions, _environ: Mapping[str, str]) -> list[Problem]:
    """Nothing to pass: the machine's system-assigned identity, or the user-assigned one --client-id or
    --identity-resource-id selects; the endpoint (IMDS, App Service, Arc, Cloud Shell) is found at run time."""
    return []


class ManagedIdentityCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        opts = ctx.opts
        self._clock = ctx.clock
        selector: tuple[str, str] | None = None
        self._origin = ""
        if opts.client_id:
            selector = ("client_id", opts.client_id)
            self._origin = opts.origin("client_id")
            identity: Any = msal.UserAssignedManagedIdentity(client_id=opts.client_id)
        elif opts.identity_resource_id:
            selector = ("msi_res_id", opts.identity_resource_id)
            identity = msal.UserAssignedManagedIdentity(resource_id=opts.identity_resource_id)
        else:
            identity = msal.SystemAssignedManagedIdentity()
        self._selector = selector
        self._source = detect_source(ctx.environ)
        ctx.log(2, f"managed identity via {self._source.name} at {_origin(self._source.endpoint)}"
                   + (f", {selector[0]}={selector[1]}" if selector else ", system-assigned"))
        http = ManagedIdentityHttp(opts.timeout_seconds, opts.certificate_authority, ctx.environ)
        self.http = http  # its last answer's Date tells the endpoint's clock (see tokens.acquire.server_skew)
        self._arc: ArcClient | CloudShellClient | None = None
        self._client: Any = None
        if self._source.name == "Cloud Shell":
            self._arc = CloudShellClient(self._source.endpoint, http, selector, ctx.clock)
        elif not self._source.via_msal:
            key_dir = ctx.environ.get(KEY_DIR_VARIABLE) or default_key_dir(ctx.environ)
            self._arc = ArcClient(self._source.endpoint, key_dir, http, selector, ctx.clock)
        else:
            self._client = msal.ManagedIdentityClient(identity, http_client=http, token_cache=msal.TokenCache())

    def get_token(self, resource: str) -> AccessToken:
        resource = resource.rstrip("/")
        if resource.endswith("/.default"):
            resource = resource[: -len("/.default")]
        if self._arc is not None:
            return self._arc.get_token(resource)
        try:
            result = self._client.acquire_token_for_client(resource=resource)
        except AksloginError:
            raise
        except ValueError as exc:  # ManagedIdentityError, or a body that is not JSON
            raise AuthenticationError(
                f"the {self._source.name} managed identity endpoint answered with something that is not a token "
                f"({str(exc)[:160]}).", "Check that the identity variables point at a managed identity endpoint."
            ) from None
        if isinstance(result, dict) and "access_token" in result:
            return token_from_result(result, now=self._clock())
        raise self._error(result if isinstance(result, dict) else {})

    def _error(self, body: dict[str, Any]) -> AksloginError:
        description = str(body.get("error_description") or body.get("error") or "no token in the answer")
        if "AADSTS" in description:
            return describe_idp_error(body)
        which = f"{self._selector[0]}={self._selector[1]}" if self._selector else "the system-assigned identity"
        if self._origin and self._origin != "--client-id":
            # kubelogin's rule: AAD_SERVICE_PRINCIPAL_CLIENT_ID / AZURE_CLIENT_ID override --client-id for msi too,
            # so an exported variable left over from a service principal job silently picks another identity.
            which += f", taken from {self._origin}, which overrides --client-id"
        lowered = description.lower()
        if "not found" in lowered:
            hint = (f"The identity ({which}) is not assigned to this {self._source.host}. Assign it (or enable the "
                    "system-assigned identity), or pass the --client-id / --identity-resource-id of a user-assigned "
                    "identity that is.")
        elif "multiple user assigned" in lowered:
            hint = "Pick one with --client-id or --identity-resource-id."
        else:
            hint = "Check --client-id / --identity-resource-id and --server-id."
        return AuthenticationError(
            f"the {self._source.name} managed identity endpoint refused the token request: {description[:240]}.", hint
        )


def _retry_after(response: requests.Response) -> float:
    return retry_after_seconds(response.headers.get("Retry-After"), cap=float("inf")) or 0.0


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url[:80]
