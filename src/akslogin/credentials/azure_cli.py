"""``--login azurecli``: reuse the Azure CLI's sign-in (``az account get-access-token``).

Contract with az (what any ``az`` on PATH must do; documented in docs/login-modes-machine.md):
``az account get-access-token --output json --resource <server id> [--tenant T] [--subscription S]``
prints a JSON object with ``accessToken`` and ``expires_on`` (epoch seconds; az ≥ 2.54) or only
``expiresOn`` (local time, ``YYYY-MM-DD HH:MM:SS[.ffffff]``) and exits 0; when nobody is signed in it exits
non-zero with "Please run 'az login'" on stderr. AZURE_CONFIG_DIR selects az's profile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from akslogin.credentials.base import AccessToken, CredentialContext, Problem
from akslogin.credentials.cli_tool import (
    Tool,
    check_resource,
    check_subscription,
    check_tenant,
    missing_tool,
    parse_token_output,
    run_tool,
    tool_failure,
)
from akslogin.errors import AuthenticationError

if TYPE_CHECKING:
    from akslogin.options import TokenOptions

AZ = Tool("az", "the Azure CLI", "Install it (https://aka.ms/InstallAzureCLI), or use another --login mode "
          "such as spn, msi or workloadidentity.")


class AzureCliCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        self._tenant = check_tenant(ctx.opts.tenant_id)
        self._subscription = check_subscription(ctx.opts.subscription)
        self._ctx = ctx

    def get_token(self, resource: str) -> AccessToken:
        resource = resource.rstrip("/")
        if resource.endswith("/.default"):
            resource = resource[: -len("/.default")]
        args = ["account", "get-access-token", "--output", "json", "--resource", check_resource(resource)]
        if self._tenant:
            args += ["--tenant", self._tenant]
        if self._subscription:
            args += ["--subscription", self._subscription]
        env = self._ctx.environ
        config = env.get("AZURE_CONFIG_DIR")
        self._ctx.log(2, "running az account get-access-token" + (f" (AZURE_CONFIG_DIR={config})" if config else ""))
        result = run_tool(AZ, args, env, self._ctx.opts.timeout_seconds, {"AZURE_CORE_NO_COLOR": "true"})
        if result.returncode != 0:
            raise _failure(result.stderr, config, self._tenant)
        return parse_az_output(result.stdout, self._ctx.clock())


def requirements(_opts: TokenOptions, _environ: Mapping[str, str]) -> list[Problem]:
    """Nothing to pass: the token is whatever the Azure CLI's own sign-in gives (see :func:`preflight`)."""
    return []


def preflight(_opts: TokenOptions, environ: Mapping[str, str]) -> list[Problem]:
    """az is on PATH and signed in (an account in its profile); otherwise az says so when it runs."""
    problems = missing_tool(AZ, environ)
    if not problems and not _profile_accounts(environ):
        problems.append(Problem(f"the Azure CLI is not signed in (no account in {profile_path(environ)}).",
                                "Run 'az login' (or 'az login --identity' on an Azure VM) as the user kubectl "
                                "runs as."))
    return problems


def profile_path(environ: Mapping[str, str]) -> str:
    """az's profile (AZURE_CONFIG_DIR selects another directory than ~/.azure)."""
    import os

    home = environ.get("HOME") or os.path.expanduser("~")
    directory = environ.get("AZURE_CONFIG_DIR") or os.path.join(home, ".azure")
    return os.path.join(os.path.expanduser(directory), "azureProfile.json")


def _profile_accounts(environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """The accounts (subscriptions) in az's profile; none when it is missing or unreadable."""
    from akslogin import jsonlite

    try:
        with open(profile_path(environ), encoding="utf-8-sig") as fh:
            profile = jsonlite.loads(fh.read(1 << 20))
    except (OSError, ValueError, RecursionError):
        return []
    subs = profile.get("subscriptions") if isinstance(profile, dict) else None
    return [sub for sub in subs if isinstance(sub, dict)] if isinstance(subs, list) else []


def current_subscription(environ: Mapping[str, str]) -> str | None:
    """The subscription ``az account show`` would name: the default one in az's profile (what az commands such
    as ``az aks get-credentials`` use without ``--subscription``), or None when az is not signed in."""
    for sub in _profile_accounts(environ):
        if sub.get("isDefault") and isinstance(sub.get("id"), str):
            return str(sub["id"])
    return None


def _failure(stderr: str, config: str | None, tenant: str) -> AuthenticationError:
    login = "az login" + (f" --tenant {tenant}" if tenant else "")
    where = f" with AZURE_CONFIG_DIR={config}" if config else ""
    return tool_failure(AZ, "az account get-access-token", stderr, login, ("az login", "az account set"), where)


def parse_az_output(stdout: str, now: float) -> AccessToken:
    return parse_token_output(AZ, stdout, now, command="az account get-access-token", token_field="accessToken",
                              expiry=_expiry, expiry_fields="expires_on or expiresOn", expiry_name="expiry",
                              relogin="az login", expired_hint="Check this machine's clock and time zone")


def _expiry(data: dict[str, Any]) -> float | None:
    epoch = data.get("expires_on")
    if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
        return float(epoch)
    if isinstance(epoch, str) and epoch.strip().isdigit():
        return float(epoch)
    local = data.get("expiresOn")
    if isinstance(local, str):
        for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
            try:
                return dt.datetime.strptime(local.strip(), fmt).timestamp()  # naive → this machine's local time
            except ValueError:
                continue
    return None
