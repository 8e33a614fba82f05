"""The credential protocol every login mode implements, the token it returns, and what it is given."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from akslogin.credentials.msal_app import Authority
    from akslogin.http import HttpClient
    from akslogin.log import Log
    from akslogin.options import TokenOptions


@dataclass(frozen=True)
class AccessToken:
    """An access token and when it expires. Its repr never shows the token (it may end up in logs)."""

    token: str = field(repr=False)
    #: Absolute expiry (epoch seconds) taken from the token response, not from decoding the JWT.
    expires_on: float


class Credential(Protocol):
    def get_token(self, resource: str) -> AccessToken:
        """A token whose audience is ``resource`` (a server app id or an ARM endpoint)."""
        ...


@dataclass
class CredentialContext:
    """Everything a login mode may use; injected so tests can swap clock, HTTP and streams."""

    opts: TokenOptions
    authority: Authority
    http: HttpClient
    environ: Mapping[str, str]
    cache_dir: str
    identity_key: str
    log: Log
    stderr: TextIO
    clock: Callable[[], float]


#: login mode → "module:factory"; the factory takes a CredentialContext and returns a Credential.
LOGIN_MODES: dict[str, str] = {
    "spn": "akslogin.credentials.spn:ServicePrincipalCredential",
    "msi": "akslogin.credentials.managed_identity:ManagedIdentityCredential",
    "workloadidentity": "akslogin.credentials.workload_identity:WorkloadIdentityCredential",
    "azurepipelines": "akslogin.credentials.azure_pipelines:AzurePipelinesCredential",
    "azurecli": "akslogin.credentials.azure_cli:AzureCliCredential",
    "azd": "akslogin.credentials.azd:AzdCredential",
    "devicecode": "akslogin.credentials.devicecode:create",
    "interactive": "akslogin.credentials.interactive:InteractiveBrowserCredential",
    "ropc": "akslogin.credentials.ropc:UsernamePasswordCredential",
}


def create_credential(ctx: CredentialContext) -> Credential:
    from akslogin.errors import UsageError

    target = LOGIN_MODES.get(ctx.opts.login)
    if target is None:
        raise UsageError(
            f"--login {ctx.opts.login} is not available in this version of akslogin.",
            "Available: " + ", ".join(sorted(LOGIN_MODES)) + ".",
        )
    module_name, _, attr = target.partition(":")
    factory: Callable[[CredentialContext], Credential] = getattr(importlib.import_module(module_name), attr)
    return factory(ctx)


def scope_for(resource: str) -> str:
    """kubelogin's rule: trim a trailing '/' and add '/.default' unless already present."""
    resource = resource.rstrip("/")
    return resource if resource.endswith("/.default") else resource + "/.default"
