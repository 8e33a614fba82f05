"""``--login ropc``: username and password, for managed and federated (WS-Trust) accounts.

MSAL asks user realm discovery whether the account is managed (password grant at Entra) or federated
(username/password at the on-premises IdP, whose SAML assertion is exchanged at Entra). This mode cannot
answer an MFA prompt or satisfy Conditional Access, so those refusals say what to use instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from akslogin.aadsts import AADSTS, describe_idp_error
from akslogin.credentials import user
from akslogin.credentials.base import CredentialContext, Problem, require
from akslogin.credentials.msal_app import call
from akslogin.credentials.user import UserCredential
from akslogin.errors import AuthenticationError

if TYPE_CHECKING:
    from akslogin.options import TokenOptions

#: Refusals a username/password sign-in can never get past.
NEEDS_INTERACTION = (50076, 50079, 50158, 53000, 53003)


def requirements(opts: TokenOptions, environ: Mapping[str, str]) -> list[Problem]:
    """What every user sign-in needs, and the account's username and password."""
    return user.requirements(opts, environ) + _account(opts)


def _account(opts: TokenOptions) -> list[Problem]:
    if opts.username and opts.password:
        return []
    which = "neither is" if not (opts.username or opts.password) else \
        "the password is" if opts.username else "the username is"
    return [Problem(
        f"--login ropc needs a username and a password; {which} set.",
        "Set AAD_USER_PRINCIPAL_NAME and AAD_USER_PRINCIPAL_PASSWORD (or AZURE_USERNAME / AZURE_PASSWORD); "
        "--password on the command line is visible to other processes.")]


class UsernamePasswordCredential(UserCredential):
    mode = "ropc"
    announce_reauth = False  # it has the password: signing in again needs nobody

    def __init__(self, ctx: CredentialContext) -> None:
        super().__init__(ctx)
        require(_account(ctx.opts))

    def account_hint(self) -> str:
        return self.ctx.opts.username

    def sign_in(self, app: Any, scopes: list[str]) -> dict[str, Any]:
        opts = self.ctx.opts
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # MSAL deprecates ROPC for public clients
            try:
                result: dict[str, Any] = call(app.acquire_token_by_username_password, opts.username, opts.password,
                                              scopes, data=self.ctx.request_data())
            except AuthenticationError as exc:
                raise _federation_error(exc, opts.username) from None
        if "access_token" not in result:
            error = describe_idp_error(result)
            if error.code in NEEDS_INTERACTION:
                explanation = AADSTS[error.code]
                raise AuthenticationError(
                    f"sign-in failed with AADSTS{error.code}: {explanation.cause}. Username/password sign-in "
                    "(--login ropc) cannot complete multi-factor authentication or satisfy Conditional Access.",
                    "Use --login interactive or --login devicecode (the browser can do MFA, and later runs refresh "
                    "without prompts), or a service principal, managed identity or workload identity for "
                    "automation.",
                    code=error.code,
                )
            raise error
        return result


def _federation_error(exc: AuthenticationError, username: str) -> AuthenticationError:
    domain = username.rpartition("@")[2]
    text = exc.message
    if "FailedAuthentication" in text or "ID3242" in text:
        return AuthenticationError(
            f"the federated identity provider for {domain} rejected the username or password (ID3242).",
            "Check --username/--password (AAD_USER_PRINCIPAL_NAME / AAD_USER_PRINCIPAL_PASSWORD); the password is "
            "your on-premises (ADFS) one.",
        )
    if "wstrust" in text.lower() or "MEX" in text or "RSTR" in text:
        return AuthenticationError(
            f"the federated sign-in for {domain} failed at the on-premises identity provider: {text}",
            "Ask your administrator whether WS-Trust username/password endpoints are enabled, or use --login "
            "interactive / devicecode.",
        )
    return exc
