"""Service principal sign-in (client secret, PEM certificate, PFX) through MSAL's confidential client."""

from __future__ import annotations

from typing import Any

from akslogin.credentials.base import AccessToken, CredentialContext, scope_for
from akslogin.credentials.certificate import load_client_certificate
from akslogin.credentials.msal_app import call, confidential_app, token_from_result
from akslogin.errors import UsageError


class ServicePrincipalCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        opts = ctx.opts
        if not opts.client_id:
            raise UsageError("--client-id is required for --login spn.",
                             "Pass it, or set AAD_SERVICE_PRINCIPAL_CLIENT_ID / AZURE_CLIENT_ID.")
        if not opts.tenant_id:
            raise UsageError("--tenant-id is required for --login spn.", "Pass it, or set AZURE_TENANT_ID.")
        if opts.legacy:
            raise UsageError("--legacy is not supported with --login spn in this version.",
                             "Drop --legacy unless the cluster only accepts the spn: audience.")
        credential: Any
        if opts.client_secret:
            credential = opts.client_secret
        elif opts.client_certificate:
            credential = load_client_certificate(
                opts.client_certificate, opts.client_certificate_password
            ).msal_credential()
        else:
            raise UsageError(
                "--login spn needs a client secret or a client certificate.",
                "Set AAD_SERVICE_PRINCIPAL_CLIENT_SECRET (or AZURE_CLIENT_SECRET), or pass --client-certificate.",
            )
        self._http = ctx.http
        self._app = confidential_app(ctx.authority, opts.client_id, credential, ctx.http)

    def get_token(self, resource: str) -> AccessToken:
        result = call(self._app.acquire_token_for_client, [scope_for(resource)], http=self._http)
        return token_from_result(result)
