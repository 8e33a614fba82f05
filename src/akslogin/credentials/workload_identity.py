"""``--login workloadidentity``: a Kubernetes projected service-account token (or, inside GitHub Actions, the
job's OIDC token) exchanged for an Entra token through the app's federated identity credential.

Inputs as kubelogin takes them: AZURE_CLIENT_ID / --client-id, AZURE_TENANT_ID / --tenant-id,
AZURE_FEDERATED_TOKEN_FILE / --federated-token-file and AZURE_AUTHORITY_HOST / --authority-host (the
workload identity webhook sets all four in the pod). When both ACTIONS_ID_TOKEN_REQUEST_URL and
ACTIONS_ID_TOKEN_REQUEST_TOKEN are set, the GitHub Actions token is used instead of a file.
"""

from __future__ import annotations

from akslogin.credentials.base import AccessToken, CredentialContext
from akslogin.credentials.federated import (
    AssertionSource,
    FederatedCredential,
    GitHubActionsAssertion,
    TokenFileAssertion,
)
from akslogin.errors import UsageError


class WorkloadIdentityCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        opts, env = ctx.opts, ctx.environ
        if not opts.client_id:
            raise UsageError("--client-id is required for --login workloadidentity.",
                             "Set AZURE_CLIENT_ID (the workload identity webhook does) or pass --client-id.")
        if not opts.tenant_id:
            raise UsageError("--tenant-id is required for --login workloadidentity.",
                             "Set AZURE_TENANT_ID (the workload identity webhook does) or pass --tenant-id.")
        request_url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
        request_token = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
        source: AssertionSource
        if request_url and request_token:
            ctx.log(2, "using the GitHub Actions OIDC token of this job")
            source = GitHubActionsAssertion(request_url, request_token, ctx.http)
        elif opts.federated_token_file:
            ctx.log(2, f"using the federated token file {opts.federated_token_file}")
            source = TokenFileAssertion(opts.federated_token_file)
        else:
            raise UsageError(
                "--login workloadidentity needs a federated token: AZURE_FEDERATED_TOKEN_FILE / "
                "--federated-token-file, or a GitHub Actions job with an OIDC token.",
                "In AKS, label the pod azure.workload.identity/use: \"true\" so the webhook projects the token; in "
                "GitHub Actions, grant 'permissions: id-token: write'.",
            )
        self._credential = FederatedCredential(ctx.authority, opts.client_id, source, ctx.http, ctx.clock)

    def get_token(self, resource: str) -> AccessToken:
        return self._credential.get_token(resource)
