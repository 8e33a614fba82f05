"""Running a developer CLI (az, azd) for a token: never through a shell, stdin closed, bounded in time.

The child gets our environment (AZURE_CONFIG_DIR, proxies, PATH) and runs from the root directory, so a
malicious ``az`` in the current directory is never picked up. On timeout the whole process group is killed
(az is a Python program that may start helpers). Output is parsed as JSON; what is shown to the user from
the tool's stderr is one short line with anything that looks like a token removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from akslogin import jsonlite
from akslogin.credentials.base import AccessToken, Problem, problems_raised_by
from akslogin.errors import AuthenticationError, ConfigError, NetworkError, UsageError

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SECRETISH_RE = re.compile(r'("(?:accessToken|token|access_token)"\s*:\s*")[^"]*')
#: Values passed as argv elements to az/azd; no leading '-' so they can never be read as a flag.
_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$")
_SUBSCRIPTION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,127}$")


class Tool(NamedTuple):
    executable: str  # "az"
    display: str  # "the Azure CLI"
    install_hint: str


class ToolResult(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def locate(tool: Tool, environ: Mapping[str, str]) -> str:
    """The tool's executable on the PATH the sign-in runs with."""
    path = shutil.which(tool.executable, path=environ.get("PATH", os.defpath))
    if path is None:
        raise ConfigError(f"{tool.display} ('{tool.executable}') is not installed or not on PATH.", tool.install_hint)
    return path


def missing_tool(tool: Tool, environ: Mapping[str, str]) -> list[Problem]:
    """A preflight: the tool is found as :func:`run_tool` will look for it."""
    return problems_raised_by(lambda: locate(tool, environ))


def run_tool(tool: Tool, args: Sequence[str], environ: Mapping[str, str], timeout: float,
             extra_env: Mapping[str, str] | None = None) -> ToolResult:
    path = locate(tool, environ)
    env = {**environ, **(extra_env or {})}
    try:
        proc = subprocess.Popen(
            [path, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            cwd=os.path.abspath(os.sep), start_new_session=True,
        )
    except OSError as exc:
        raise ConfigError(f"cannot run {path}: {exc.strerror}.", tool.install_hint) from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            if sys.platform == "win32":
                proc.kill()  # az.cmd's python child goes with it: Windows kills the console group
            else:
                os.killpg(proc.pid, signal.SIGKILL)  # the tool and whatever it started (az is a shell script)
        proc.communicate()
        raise NetworkError(
            f"'{tool.executable} {' '.join(args[:2])}' did not finish within {timeout:.0f}s and was stopped.",
            "It may be waiting for a network or a prompt; check that it works on its own, or raise --timeout "
            "(AZURE_CLI_TIMEOUT).",
        ) from None
    if proc.returncode == 127:
        raise ConfigError(f"{tool.display} ('{tool.executable}') could not be started (exit 127).", tool.install_hint)
    return ToolResult(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def first_error_line(text: str, limit: int = 300) -> str:
    """The most telling line of a CLI's error output, with colours and anything token-like removed."""
    lines = [_ANSI_RE.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    # The AADSTS line says what Entra refused; az often prints a generic "ERROR: ..." line before it.
    chosen = next((line for line in lines if "AADSTS" in line),
                  next((line for line in lines if line.upper().startswith("ERROR")), lines[0] if lines else ""))
    chosen = _SECRETISH_RE.sub(r"\1***", _JWT_RE.sub("***", chosen))
    return chosen if len(chosen) <= limit else chosen[: limit - 1] + "…"


def aadsts_code(text: str) -> int | None:
    match = re.search(r"AADSTS(\d+)", text)
    return int(match.group(1)) if match else None


def check_resource(value: str) -> str:
    if not value or value.startswith("-") or any(c.isspace() for c in value):
        raise UsageError(f"--server-id {value[:60]!r} is not an application id or URI.")
    return value


def check_tenant(value: str) -> str:
    if value and not _TENANT_RE.match(value):
        raise UsageError(f"--tenant-id {value[:60]!r} is not a tenant id or domain name.")
    return value


def check_subscription(value: str) -> str:
    if value and not _SUBSCRIPTION_RE.match(value):
        raise UsageError(f"--subscription {value[:60]!r} is not a subscription id or name.")
    return value


def tool_failure(tool: Tool, command: str, text: str, login: str, signed_out_markers: Sequence[str],
                 where: str = "") -> AuthenticationError:
    """One paragraph for a failed token command: signed out, a known AADSTS code, or the tool's own words."""
    from akslogin.aadsts import AADSTS

    name = tool.executable
    line = first_error_line(text) or "no error message"
    code = aadsts_code(text)
    if code is None and any(marker in text for marker in signed_out_markers):
        return AuthenticationError(f"{tool.display} is not signed in{where} ({name} said: {line}).",
                                   f"Run '{login}'{where}, then retry.")
    explanation = AADSTS.get(code) if code is not None else None
    if explanation is not None:
        return AuthenticationError(
            f"{name} could not get a token, AADSTS{code}: {explanation.cause} ({name} said: {line}).",
            f"{explanation.action} If that does not help, run '{login}' again.", code=code)
    return AuthenticationError(f"'{command}' failed: {line}.",
                               f"Run it yourself to see the whole error; '{login}' fixes expired sign-ins.", code=code)


def parse_token_output(tool: Tool, stdout: str, now: float, *, command: str, token_field: str,
                       expiry: Callable[[dict[str, Any]], float | None], expiry_fields: str, expiry_name: str,
                       relogin: str, expired_hint: str) -> AccessToken:
    """The access token and expiry in a token command's JSON output, or one paragraph saying what is off."""
    name = tool.executable
    shape = f"expected the JSON of '{command}' ({token_field} and {expiry_fields})"
    try:
        data: Any = jsonlite.loads(stdout)
    except ValueError:
        raise AuthenticationError(f"{name} printed output that is not JSON; {shape}.",
                                  f"Check that '{name}' on PATH is {tool.display}.") from None
    token = data.get(token_field) if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        article = "an" if token_field[0] in "aeiou" else "a"
        raise AuthenticationError(f"{name} printed JSON without {article} {token_field}; {shape}.")
    expires_on = expiry(data)
    if expires_on is None:
        raise AuthenticationError(f"{name} printed a token without a readable {expiry_name}; {shape}.")
    if expires_on <= now:
        raise AuthenticationError(f"{name} returned a token that has already expired.",
                                  f"{expired_hint}, or run '{relogin}' again.")
    return AccessToken(token, expires_on)
