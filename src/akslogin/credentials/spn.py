"""Service principal sign-in (client secret, PEM certificate, PFX) through MSAL's confidential client.

Certificates are sent with their chain (``x5c``) so apps that trust a subject name and issuer accept renewed
certificates. ``--legacy`` asks the v1 endpoint for the ``spn:``-prefixed audience old clusters expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from akslogin.credentials.base import (
    AccessToken,
    CredentialContext,
    Problem,
    needed,
    problems_raised_by,
    require,
    scope_for,
)
from akslogin.credentials.msal_app import call, confidential_app, token_from_result

if TYPE_CHECKING:  # cryptography (tens of milliseconds) is imported only when a certificate is used
    from akslogin.credentials.certificate import ClientCertificate
    from akslogin.options import TokenOptions


def requirements(opts: TokenOptions, _environ: Mapping[str, str]) -> list[Problem]:
    """An app id, its tenant, and a client secret or a certificate (the secret wins when both are given)."""
    problems = needed(opts.client_id, "--client-id", "spn",
                      "Pass it, or set AAD_SERVICE_PRINCIPAL_CLIENT_ID / AZURE_CLIENT_ID.")
    problems += needed(opts.tenant_id, "--tenant-id", "spn", "Pass it, or set AZURE_TENANT_ID.")
    if not opts.client_secret and not opts.client_certificate:
        problems.append(Problem(
            "--login spn needs a client secret or a client certificate, and neither a client secret nor a client "
            "certificate is set.",
            "Set AAD_SERVICE_PRINCIPAL_CLIENT_SECRET (or AZURE_CLIENT_SECRET) in the exec env or the environment "
            "(not as --client-secret: argv is visible to other processes), or pass --client-certificate FILE."))
    return problems


def preflight(opts: TokenOptions, _environ: Mapping[str, str]) -> list[Problem]:
    """The certificate, loaded as the sign-in loads it (file, format, password)."""
    if opts.client_secret or not opts.client_certificate:
        return []
    from akslogin.credentials.certificate import load_client_certificate

    return problems_raised_by(lambda: load_client_certificate(opts.client_certificate,
                                                              opts.client_certificate_password))


class ServicePrincipalCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        opts = ctx.opts
        require(requirements(opts, ctx.environ))
        secret: str | ClientCertificate
        if opts.client_secret:
            secret = opts.client_secret
        else:
            from akslogin.leanimport import gc_paused

            with gc_paused():  # cryptography's key and X.509 modules, and PyJWT, which MSAL signs with later
                import jwt  # noqa: F401

                from akslogin.credentials.certificate import load_client_certificate
            secret = load_client_certificate(opts.client_certificate, opts.client_certificate_password)
        self._http = ctx.http
        self._clock = ctx.clock
        self._data = ctx.request_data()  # the PoP binding (Azure Arc), when asked for
        self._legacy: Any = None
        self._app: Any = None
        if opts.legacy:
            from akslogin.credentials.v1_spn import V1ClientCredentials

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
