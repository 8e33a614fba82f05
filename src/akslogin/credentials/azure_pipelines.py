"""``--login azurepipelines``: an Azure Pipelines service connection with workload identity federation.

The job's OIDC token for the service connection (``POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&
serviceConnectionId=<id>`` with ``SYSTEM_ACCESSTOKEN``) is exchanged for an Entra token of the connection's
app. The AzureCLI@2 task exports AZURESUBSCRIPTION_CLIENT_ID / _TENANT_ID / _SERVICE_CONNECTION_ID, which
fill --client-id / --tenant-id / --azure-pipelines-service-connection-id when those are not given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from akslogin.credentials.base import AccessToken, CredentialContext, Problem, needed, require
from akslogin.credentials.federated import AzurePipelinesAssertion, FederatedCredential

if TYPE_CHECKING:
    from akslogin.options import TokenOptions


def requirements(opts: TokenOptions, environ: Mapping[str, str]) -> list[Problem]:
    """The service connection's app, tenant and id (the AzureCLI@2 task exports them), and the job's
    access token and OIDC endpoint (only an Azure Pipelines job has those)."""
    problems: list[Problem] = []
    for value, flag, variable in (
        (opts.client_id, "--client-id", "AZURESUBSCRIPTION_CLIENT_ID"),
        (opts.tenant_id, "--tenant-id", "AZURESUBSCRIPTION_TENANT_ID"),
        (opts.azure_pipelines_service_connection_id, "--azure-pipelines-service-connection-id",
         "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"),
    ):
        problems += needed(value, flag, "azurepipelines",
                           f"Pass it, or run in an AzureCLI@2 task that sets {variable}.")
    if not environ.get("SYSTEM_ACCESSTOKEN"):
        problems.append(Problem(
            "SYSTEM_ACCESSTOKEN is not set; --login azurepipelines needs the job's access token.",
            "Map it into the step: 'env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)'."))
    if not environ.get("SYSTEM_OIDCREQUESTURI"):
        problems.append(Problem(
            "SYSTEM_OIDCREQUESTURI is not set; --login azurepipelines works only inside an Azure Pipelines job.",
            "The agent sets it for every job; outside Azure Pipelines use --login workloadidentity or spn."))
    return problems


class AzurePipelinesCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        opts, env = ctx.opts, ctx.environ
        require(requirements(opts, env))
        request_uri, access_token = env["SYSTEM_OIDCREQUESTURI"], env["SYSTEM_ACCESSTOKEN"]
        source = AzurePipelinesAssertion(request_uri, access_token, opts.azure_pipelines_service_connection_id,
                                         ctx.http)
        self._credential = FederatedCredential(ctx.authority, opts.client_id, source, ctx.http, ctx.clock)

    def get_token(self, resource: str) -> AccessToken:
        return self._credential.get_token(resource)
