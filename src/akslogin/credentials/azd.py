"""``--login azd``: reuse the Azure Developer CLI's sign-in (``azd auth token``).

Contract with azd (documented in docs/login-modes-machine.md):
``azd auth token --output json --no-prompt --scope <server id>/.default [--tenant-id T]`` prints
``{"token": ..., "expiresOn": "<RFC 3339, e.g. 2026-05-15T18:22:37Z>"}`` and exits 0; when nobody is signed in
it exits non-zero and says "not logged in, run `azd auth login` to login" (plain or as JSON lines).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from akslogin import jsonlite
from akslogin.credentials.base import AccessToken, CredentialContext, Problem, scope_for
from akslogin.credentials.cli_tool import (
    Tool,
    check_resource,
    check_tenant,
    missing_tool,
    parse_token_output,
    run_tool,
    tool_failure,
)
from akslogin.errors import AuthenticationError

if TYPE_CHECKING:
    from akslogin.options import TokenOptions

AZD = Tool("azd", "the Azure Developer CLI", "Install it (https://aka.ms/azd-install), or use another --login "
           "mode such as azurecli, spn or workloadidentity.")
_FRACTION_RE = re.compile(r"\.(\d{1,9})")


def requirements(_opts: TokenOptions, _environ: Mapping[str, str]) -> list[Problem]:
    """Nothing to pass: the token is whatever azd's own sign-in gives."""
    return []


def preflight(_opts: TokenOptions, environ: Mapping[str, str]) -> list[Problem]:
    """azd is on PATH (whether it is signed in, only azd can say)."""
    return missing_tool(AZD, environ)


class AzdCredential:
    def __init__(self, ctx: CredentialContext) -> None:
        self._tenant = check_tenant(ctx.opts.tenant_id)
        self._ctx = ctx

    def get_token(self, resource: str) -> AccessToken:
        args = ["auth", "token", "--output", "json", "--no-prompt", "--scope", scope_for(check_resource(resource))]
        if self._tenant:
            args += ["--tenant-id", self._tenant]
        self._ctx.log(2, "running azd auth token")
        result = run_tool(AZD, args, self._ctx.environ, self._ctx.opts.timeout_seconds, {"NO_COLOR": "true"})
        if result.returncode != 0:
            raise _failure(result.stdout + "\n" + result.stderr, self._tenant)
        return parse_azd_output(result.stdout, self._ctx.clock())


def _messages(text: str) -> str:
    """azd reports errors as JSON lines ({"error": ...} or a consoleMessage); flatten them to text."""
    out = []
    for line in text.splitlines():
        try:
            obj = jsonlite.loads(line)
        except ValueError:
            out.append(line)
            continue
        if isinstance(obj, dict):
            data = obj.get("data")
            message = obj.get("error") or (data.get("message") if isinstance(data, dict) else None)
            if isinstance(message, str):
                out.extend(message.splitlines())
    return "\n".join(out)


def _failure(output: str, tenant: str) -> AuthenticationError:
    login = "azd auth login" + (f" --tenant-id {tenant}" if tenant else "")
    return tool_failure(AZD, "azd auth token", _messages(output), login, ("azd auth login", "not logged in"))


def parse_azd_output(stdout: str, now: float) -> AccessToken:
    return parse_token_output(AZD, stdout, now, command="azd auth token", token_field="token",
                              expiry=lambda data: parse_rfc3339(data.get("expiresOn")), expiry_fields="expiresOn",
                              expiry_name="expiresOn", relogin="azd auth login",
                              expired_hint="Check this machine's clock")


def parse_rfc3339(value: Any) -> float | None:
    """RFC 3339 with Z or an offset, any fraction length (Go prints up to nanoseconds)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION_RE.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # RFC 3339 always carries an offset; a naive time would be ambiguous
    return moment.timestamp()
