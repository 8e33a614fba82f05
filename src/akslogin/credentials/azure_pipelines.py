"""``--login azurepipelines``: an Azure Pipelines service connection with workload identity federation.

The job's OIDC token for the service connection (``POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&
serviceConnectionId=<id>`` with ``SYSTEM_ACCESSTOKEN``) is exchanged for an Entra token of the connection's
app. The AzureCLI@2 task exports AZURESUBSCRIPTION_CLIENT_ID / _TENANT_ID / _SERVICE_CONNECTION_ID, which
fill --client-id / --tenant-id / --azure-pipelines-service-connection-id when those are not given.
"""

from __future__ import annotations

from akslogin.credentials.base import AccessToken, CredentialContext
from akslogin.credentials.federated import AzurePipelinesAssertion, FederatedCredential
from akslogin.errors import UsageError


class AzurePipelinesCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        opts, env = ctx.opts, ctx.environ
        for value, flag, variable in (
            (opts.client_id, "--client-id", "AZURESUBSCRIPTION_CLIENT_ID"),
            (opts.tenant_id, "--tenant-id", "AZURESUBSCRIPTION_TENANT_ID"),
            (opts.azure_pipelines_service_connection_id, "--azure-pipelines-service-connection-id",
             "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"),
        ):
            if not value:
                raise UsageError(f"{flag} is required for --login azurepipelines.",
                                 f"Pass it, or run in an AzureCLI@2 task that sets {variable}.")
        access_token = env.get("SYSTEM_ACCESSTOKEN", "")
        if not access_token:
            raise UsageError(
                "SYSTEM_ACCESSTOKEN is not set; --login azurepipelines needs the job's access token.",
                "Map it into the step: 'env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)'.",
            )
        request_uri = env.get("SYSTEM_OIDCREQUESTURI", "")
        if not request_uri:
            raise UsageError(
                "SYSTEM_OIDCREQUESTURI is not set; --login azurepipelines works only inside an Azure Pipelines job.",
                "The agent sets it for every job; outside Azure Pipelines use --login workloadidentity or spn.",
            )
        source = AzurePipelinesAssertion(request_uri, access_token, opts.azure_pipelines_service_connection_id,
                                         ctx.http)
        self._credential = FederatedCredential(ctx.authority, opts.client_id, source, ctx.http, ctx.clock)

    def get_token(self, resource: str) -> AccessToken:
        return self._credential.get_token(resource)
