"""Service principal sign-in (client secret, PEM certificate, PFX) through MSAL's confidential client.

Certificates are sent with their chain (``x5c``) so apps that trust a subject name and issuer accept renewed
certificates. ``--legacy`` asks the v1 endpoint for the ``spn:``-prefixed audience old clusters expect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from akslogin.credentials.base import AccessToken, CredentialContext, scope_for
from akslogin.credentials.msal_app import call, confidential_app, token_from_result
from akslogin.errors import UsageError

if TYPE_CHECKING:  # cryptography (tens of milliseconds) is imported only when a certificate is used
    from akslogin.credentials.certificate import ClientCertificate


class ServicePrincipalCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        opts = ctx.opts
        if not opts.client_id:
            raise UsageError("--client-id is required for --login spn.",
                             "Pass it, or set AAD_SERVICE_PRINCIPAL_CLIENT_ID / AZURE_CLIENT_ID.")
        if not opts.tenant_id:
            raise UsageError("--tenant-id is required for --login spn.", "Pass it, or set AZURE_TENANT_ID.")
        secret: str | ClientCertificate
        if opts.client_secret:
            secret = opts.client_secret
        elif opts.client_certificate:
            from akslogin.credentials.certificate import load_client_certificate

            secret = load_client_certificate(opts.client_certificate, opts.client_certificate_password)
        else:
            raise UsageError(
                "--login spn needs a client secret or a client certificate.",
                "Set AAD_SERVICE_PRINCIPAL_CLIENT_SECRET (or AZURE_CLIENT_SECRET), or pass --client-certificate.",
            )
        self._http = ctx.http
        self._clock = ctx.clock
        self._data = ctx.request_data()  # the PoP binding (Azure Arc), when asked for
        self._legacy: Any = None
        self._app: Any = None
        if opts.legacy:
            from akslogin.credentials.legacy import V1ClientCredentials

            self._legacy = V1ClientCredentials(ctx.authority, opts.client_id, secret, ctx.http, ctx.clock)
        else:
            credential = secret if isinstance(secret, str) else secret.msal_credential()
            self._app = confidential_app(ctx.authority, opts.client_id, credential, ctx.http)

    def get_token(self, resource: str) -> AccessToken:
        if self._legacy is not None:
            token: AccessToken = self._legacy.get_token(resource.rstrip("/"))
            return token
        result = call(self._app.acquire_token_for_client, [scope_for(resource)], http=self._http,
                      data=self._data)
        return token_from_result(result, now=self._clock())
