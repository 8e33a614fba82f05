"""What every user sign-in mode shares: the persisted MSAL cache, silent refresh first, sign-in second.

A refresh token from an earlier sign-in is redeemed silently (no prompt) for as long as Entra accepts it.
When it no longer is (revoked, 90 days unused, sign-in frequency), interactive modes say so on stderr and
prompt again; ropc simply signs in again with the password it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msal

from akslogin.aadsts import describe_idp_error
from akslogin.clouds import AKS_CLIENT_APP_ID
from akslogin.credentials import attendance, usercache
from akslogin.credentials.base import AccessToken, CredentialContext, Problem, needed, require, scope_for
from akslogin.credentials.msal_app import call, public_app, token_from_result
from akslogin.errors import AksloginError, NetworkError

if TYPE_CHECKING:
    from akslogin.options import TokenOptions

#: An access token served from MSAL's cache when a refresh fails must have at least this long left.
FALLBACK_MIN_SECONDS = 60
#: Errors after which the saved sign-in is useless and the user must sign in again.
SIGN_IN_AGAIN = ("invalid_grant", "interaction_required")


def requirements(opts: TokenOptions, _environ: Mapping[str, str]) -> list[Problem]:
    """A user signs in through a public client app of a tenant (devicecode and interactive need only that)."""
    return (needed(opts.client_id, "--client-id", opts.login,
                   f"AKS clusters use the public client {AKS_CLIENT_APP_ID} (az aks get-credentials writes it into "
                   "the kubeconfig).")
            + needed(opts.tenant_id, "--tenant-id", opts.login,
                     "Pass your tenant's id or verified domain, or set AZURE_TENANT_ID."))


class UserCredential:
    """Base of devicecode, interactive and ropc; subclasses implement :meth:`sign_in`."""

    mode = "user"
    #: Interactive modes tell the user why they are asked to sign in again.
    announce_reauth = True
    #: What the person answers when this mode signs in ("a device code"); "" when no person is needed (ropc).
    prompt_for = ""

    def __init__(self, ctx: CredentialContext) -> None:
        self.ctx = ctx
        opts = ctx.opts
        require(requirements(opts, ctx.environ))
        #: The whole run is bounded by --timeout, as in kubelogin (prompts included).
        self.deadline = ctx.clock() + opts.timeout_seconds

    # -- hooks -----------------------------------------------------------------------------------
    def account_hint(self) -> str:
        """A username that selects the cached account (ropc username, interactive login hint)."""
        return ""

    def sign_in(self, app: Any, scopes: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def app_options(self) -> dict[str, Any]:
        """MSAL PublicClientApplication options of this mode (the broker's, for interactive)."""
        return {}

    # -- the flow --------------------------------------------------------------------------------
    def get_token(self, resource: str) -> AccessToken:
        ctx = self.ctx
        scopes = [scope_for(resource)]
        cache = usercache.load(ctx)
        if self.prompt_for and not ctx.attended and not cache.find(msal.TokenCache.CredentialType.ACCOUNT):
            # Nothing to redeem and nobody to prompt: say so now, before any request (kubectl waits for it).
            attendance.require_person(self.prompt_for, attended=False, why=" (there is no saved sign-in)")
        try:
            app = public_app(ctx.authority, ctx.opts.client_id, ctx.http, cache, **self.app_options())
            result = self._silent(app, scopes)
            if result is None or "access_token" not in result:
                if not self.prompt_for:
                    result = self.sign_in(app, scopes)
                else:
                    with attendance.prompting(ctx, self.prompt_for):
                        result = self.sign_in(app, scopes)
            return token_from_result(result, now=ctx.clock())
        finally:
            usercache.save(ctx, cache)

    def _silent(self, app: Any, scopes: list[str]) -> dict[str, Any] | None:
        accounts = call(app.get_accounts, username=self.account_hint() or None)
        if not accounts:
            self.ctx.log(2, "no saved sign-in for this identity")
            return None
        account = accounts[0]
        try:
            result = app.acquire_token_silent_with_error(scopes, account, data=self.ctx.request_data())
            left = _remaining(result)
            if left is not None and left < self.ctx.min_remaining and result.get("token_source") == "cache":
                # MSAL's cached access token is valid for MSAL (5 minutes) but not for what was asked (a
                # background renewal asks for more). A token just issued is what the IdP gives: kept.
                result = app.acquire_token_silent_with_error(scopes, account, force_refresh=True,
                                                             data=self.ctx.request_data())
        except (msal.exceptions.MsalServiceError, NetworkError) as exc:
            # MSAL 1.39 raises on a 5xx during a proactive refresh instead of keeping the cached token;
            # a network failure surfaces here too. A token that is still valid is better than failing.
            fallback = self._cached_access_token(app, scopes, account)
            if fallback is None:
                if isinstance(exc, AksloginError):
                    raise
                raise NetworkError(f"the identity provider failed while refreshing the sign-in: {exc}.",
                                   "This is usually temporary; retry in a moment.") from None
            self.ctx.log(1, "refresh failed; using the cached access token, which is still valid")
            return fallback
        if result is None:
            return None
        if "access_token" in result:
            self.ctx.log(2, f"signed in silently as {account.get('username')} ({result.get('token_source')})")
            return dict(result)
        if result.get("error") not in SIGN_IN_AGAIN:
            raise describe_idp_error(result)
        reason = describe_idp_error(result)
        if self.announce_reauth:
            self.ctx.stderr.write(sign_in_again_notice(str(account.get("username") or "your account"), reason))
            self.ctx.stderr.flush()
        else:
            self.ctx.log(1, f"the saved sign-in can no longer be used ({reason.message}); signing in again")
        return None

    def _cached_access_token(self, app: Any, scopes: list[str], account: dict[str, Any]) -> dict[str, Any] | None:
        now = self.ctx.clock()
        entries = app.token_cache.search(
            msal.TokenCache.CredentialType.ACCESS_TOKEN, target=scopes,
            query={"client_id": self.ctx.opts.client_id, "home_account_id": account.get("home_account_id")},
        )
        best: tuple[float, str] | None = None
        for entry in entries:
            try:
                expires_on = float(entry.get("expires_on", 0))
            except (TypeError, ValueError):
                continue
            if expires_on - now >= FALLBACK_MIN_SECONDS and (best is None or expires_on > best[0]):
                best = (expires_on, str(entry.get("secret", "")))
        if best is None or not best[1]:
            return None
        return {"access_token": best[1], "expires_in": int(best[0] - now), "token_source": "cache"}


def _remaining(result: Any) -> float | None:
    """Seconds left on the access token in an MSAL result, None when there is none."""
    if not isinstance(result, dict) or "access_token" not in result:
        return None
    try:
        return float(result["expires_in"])
    except (KeyError, TypeError, ValueError):
        return None


def sign_in_again_notice(username: str, reason: AksloginError) -> str:
    """The paragraph shown before a new prompt, saying why the saved sign-in stopped working."""
    return (f"akslogin: the saved sign-in for {username} can no longer be used: {reason.message} "
            "Sign in again below.\n")
