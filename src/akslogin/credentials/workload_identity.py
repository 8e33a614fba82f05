"""``--login workloadidentity``: a Kubernetes projected service-account token (or, inside GitHub Actions, the
job's OIDC token) exchanged for an Entra token through the app's federated identity credential.

Inputs as kubelogin takes them: AZURE_CLIENT_ID / --client-id, AZURE_TENANT_ID / --tenant-id,
AZURE_FEDERATED_TOKEN_FILE / --federated-token-file and AZURE_AUTHORITY_HOST / --authority-host (the
workload identity webhook sets all four in the pod). When both ACTIONS_ID_TOKEN_REQUEST_URL and
ACTIONS_ID_TOKEN_REQUEST_TOKEN are set, the GitHub Actions token is used instead of a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from akslogin.credentials.base import AccessToken, CredentialContext, Problem, needed, problems_raised_by, require
from akslogin.credentials.federated import (
    AssertionSource,
    FederatedCredential,
    GitHubActionsAssertion,
    TokenFileAssertion,
)

if TYPE_CHECKING:
    from akslogin.options import TokenOptions


def _in_github_actions(environ: Mapping[str, str]) -> bool:
    """The job's OIDC token can be requested from the runner (then no token file is needed)."""
    return bool(environ.get("ACTIONS_ID_TOKEN_REQUEST_URL") and environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))


def requirements(opts: TokenOptions, environ: Mapping[str, str]) -> list[Problem]:
    """The app's id and tenant, and a federated token: a projected file, or a GitHub Actions job's OIDC token."""
    problems = needed(opts.client_id, "--client-id", "workloadidentity",
                      "Set AZURE_CLIENT_ID (the workload identity webhook does) or pass --client-id.")
    problems += needed(opts.tenant_id, "--tenant-id", "workloadidentity",
                       "Set AZURE_TENANT_ID (the workload identity webhook does) or pass --tenant-id.")
    if not _in_github_actions(environ) and not opts.federated_token_file:
        problems.append(Problem(
            "--login workloadidentity needs a federated token: AZURE_FEDERATED_TOKEN_FILE / "
            "--federated-token-file, or a GitHub Actions job with an OIDC token.",
            "In AKS, label the pod azure.workload.identity/use: \"true\" so the webhook projects the token; in "
            "GitHub Actions, grant 'permissions: id-token: write'."))
    return problems


def preflight(opts: TokenOptions, environ: Mapping[str, str]) -> list[Problem]:
    """The token file, read as each sign-in reads it."""
    if _in_github_actions(environ) or not opts.federated_token_file:
        return []
    return problems_raised_by(TokenFileAssertion(opts.federated_token_file))


class WorkloadIdentityCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        opts, env = ctx.opts, ctx.environ
        require(requirements(opts, env))
        source: AssertionSource
        if _in_github_actions(env):
            ctx.log(2, "using the GitHub Actions OIDC token of this job")
            source = GitHubActionsAssertion(env["ACTIONS_ID_TOKEN_REQUEST_URL"], env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
                                            ctx.http)
        else:
            ctx.log(2, f"using the federated token file {opts.federated_token_file}")
            source = TokenFileAssertion(opts.federated_token_file)
        self._credential = FederatedCredential(ctx.authority, opts.client_id, source, ctx.http, ctx.clock)

    def get_token(self, resource: str) -> AccessToken:
        return self._credential.get_token(resource)
