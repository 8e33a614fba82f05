"""What a kubeconfig context's user entry would present, classified before anything runs.

kubectl's precedence: an exec plugin (akslogin/kubelogin ``get-token`` parsed with akslogin's own options, or
any other command), then a legacy auth-provider, a client certificate, a static token or tokenFile, basic auth,
or nothing. The plan is typed (:class:`PlanKind`); nothing here prints or logs a token or a secret.
"""

from __future__ import annotations

import copy
import os
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from akslogin import options
from akslogin.certinfo import CertificateInfo, decode_data, describe_certificate
from akslogin.errors import AksloginError, ConfigError, UsageError
from akslogin.kubeconfig import execblock
from akslogin.kubeconfig.model import KubeconfigError
from akslogin.kubeconfig.resolved import ResolvedContext
from akslogin.kubeconfig.view import resolve_path
from akslogin.kubectx.environment import with_exec_env
from akslogin.redact import redact_args


class PlanKind(str, Enum):
    """What the user entry does (the value is what ``--output json`` shows)."""

    GET_TOKEN = "get-token"  # exec akslogin/kubelogin get-token, handled in-process
    EXEC = "exec"  # any other exec plugin
    TOKEN = "token"
    CERTIFICATE = "client-certificate"
    AUTH_PROVIDER = "auth-provider"
    BASIC = "basic-auth"
    NONE = "none"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


GET_TOKEN, EXEC, TOKEN, CERTIFICATE = PlanKind.GET_TOKEN, PlanKind.EXEC, PlanKind.TOKEN, PlanKind.CERTIFICATE
AUTH_PROVIDER, BASIC, NONE = PlanKind.AUTH_PROVIDER, PlanKind.BASIC, PlanKind.NONE



@dataclass
class ExecSpec:
    command: str
    path: str | None  # the executable kubectl would run; None when it cannot be found
    args: list[str]
    env: dict[str, str] = field(repr=False)
    api_version: str
    interactive_mode: str
    provide_cluster_info: bool
    install_hint: str

    def display(self) -> str:
        """The command line with secret values masked."""
        return shlex.join([self.command, *redact_args(self.args)])


@dataclass
class CredentialPlan:
    """What the context's user entry would do, before doing it."""

    kind: PlanKind
    exec: ExecSpec | None = None
    plugin: str = ""  # "akslogin" | "kubelogin" for GET_TOKEN
    opts: options.TokenOptions | None = None  # GET_TOKEN: flags + environment applied (not validated)
    options_error: AksloginError | None = None  # GET_TOKEN: args that do not parse
    token: str = field(default="", repr=False)
    token_origin: str = ""
    certificate: CertificateInfo | None = None
    cert_pem: bytes = field(default=b"", repr=False)
    key_pem: bytes = field(default=b"", repr=False)
    auth_provider: str = ""

    def describe(self) -> str:
        if self.kind == GET_TOKEN and self.opts is not None:
            return f"{self.plugin} get-token --login {self.opts.login} (in-process, akslogin's token cache)"
        if self.kind == GET_TOKEN:
            return f"{self.plugin} get-token"
        if self.kind == EXEC and self.exec is not None:
            return f"exec plugin: {self.exec.display()}"
        if self.kind == TOKEN:
            return f"static bearer token ({self.token_origin})"
        if self.kind == CERTIFICATE and self.certificate is not None:
            return f"client certificate {self.certificate.subject}"
        if self.kind == AUTH_PROVIDER:
            return f"legacy auth-provider {self.auth_provider!r}"
        if self.kind == BASIC:
            return "username/password (basic auth)"
        return "no credentials (anonymous)"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "description": self.describe()}
        if self.plugin:
            out["plugin"] = self.plugin
        if self.opts is not None:
            out["login"] = self.opts.login
        if self.exec is not None:
            out["command"] = self.exec.command
            out["path"] = self.exec.path
        if self.certificate is not None:
            out["certificate"] = self.certificate.to_json()
        return out


@dataclass
class PresentedToken:
    token: str = field(repr=False)
    expires_on: float | None
    origin: str


def _find_executable(command: str, source: str, environ: Mapping[str, str]) -> str | None:
    if os.sep in command or (os.altsep and os.altsep in command):
        path = resolve_path(command, source)
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return shutil.which(command, path=environ.get("PATH", os.defpath))


def _exec_spec(block: dict[str, Any], ctx: ResolvedContext, environ: Mapping[str, str]) -> ExecSpec:
    where = f"user {ctx.user_name!r} in {ctx.user_source}"
    command = str(block.get("command") or "")
    if not command:
        raise KubeconfigError(f"the exec section of {where} has no command.")
    args = block.get("args") or []
    if not isinstance(args, list):
        raise KubeconfigError(f"exec.args of {where} must be a list.")
    env: dict[str, str] = {}
    for item in block.get("env") or []:
        if not isinstance(item, dict) or not item.get("name"):
            raise KubeconfigError(f"exec.env of {where} must be a list of name/value entries.")
        env[str(item["name"])] = str(item.get("value") if item.get("value") is not None else "")
    return ExecSpec(
        command=command,
        path=_find_executable(command, ctx.user_source, with_exec_env(environ, env)),
        args=[str(a) for a in args],
        env=env,
        api_version=str(block.get("apiVersion") or ""),
        interactive_mode=str(block.get("interactiveMode") or "IfAvailable"),
        provide_cluster_info=bool(block.get("provideClusterInfo")),
        install_hint=str(block.get("installHint") or "").strip(),
    )


def _read_bytes(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise KubeconfigError(f"cannot read {what} {path}: {exc.strerror}.") from None


def _client_certificate(user: dict[str, Any], source: str) -> tuple[bytes, bytes]:
    if user.get("client-certificate-data"):
        cert = decode_data(str(user["client-certificate-data"]), "client-certificate-data")
    else:
        cert = _read_bytes(resolve_path(str(user["client-certificate"]), source), "the client certificate")
    key = b""
    if user.get("client-key-data"):
        key = decode_data(str(user["client-key-data"]), "client-key-data")
    elif user.get("client-key"):
        key = _read_bytes(resolve_path(str(user["client-key"]), source), "the client key")
    return cert, key


def plan_credential(ctx: ResolvedContext, environ: Mapping[str, str]) -> CredentialPlan:
    """Classify the context's user entry (kubectl's precedence: exec, auth-provider, certificate, token)."""
    user = ctx.user
    block = user.get("exec")
    if isinstance(block, dict):
        spec = _exec_spec(block, ctx, environ)
        if not execblock.is_ours(block):
            return CredentialPlan(EXEC, exec=spec)
        plugin = execblock.plugin_of(block)
        plan = CredentialPlan(GET_TOKEN, exec=spec, plugin=plugin)
        try:
            opts = options.parse_args(spec.args[1:])
            options.apply_env(opts, with_exec_env(environ, spec.env))
            plan.opts = opts
        except options.HelpRequested:
            plan.options_error = UsageError(f"the exec args of user {ctx.user_name!r} ask for --help.")
        except AksloginError as exc:
            plan.options_error = UsageError(
                f"the get-token args of user {ctx.user_name!r} in {ctx.user_source} are not valid: {exc.message}",
                exc.hint)
        return plan
    provider = user.get("auth-provider")
    if isinstance(provider, dict):
        return CredentialPlan(AUTH_PROVIDER, auth_provider=str(provider.get("name") or ""))
    if user.get("client-certificate-data") or user.get("client-certificate"):
        cert, key = _client_certificate(user, ctx.user_source)
        info = describe_certificate(cert, f"the client certificate of user {ctx.user_name!r}")
        return CredentialPlan(CERTIFICATE, certificate=info, cert_pem=cert, key_pem=key,
                              token=str(user.get("token") or ""))
    if user.get("token"):
        return CredentialPlan(TOKEN, token=str(user["token"]), token_origin="token in the kubeconfig")
    if user.get("tokenFile"):
        path = resolve_path(str(user["tokenFile"]), ctx.user_source)
        text = _read_bytes(path, "the tokenFile").decode("utf-8", "replace").strip()
        return CredentialPlan(TOKEN, token=text, token_origin=f"tokenFile {path}")
    if user.get("username") or user.get("password"):
        return CredentialPlan(BASIC)
    return CredentialPlan(NONE)


def set_verbosity(plan: CredentialPlan, level: int | None) -> None:
    """Let a diagnostic command's ``-v`` override the exec block's own for the in-process sign-in."""
    if level is not None and plan.opts is not None:
        plan.opts.verbosity = str(level)


def validated_options(plan: CredentialPlan) -> options.TokenOptions:
    """A validated copy of the context's get-token options (the plan's own copy stays untouched)."""
    if plan.options_error is not None:
        raise plan.options_error
    if plan.opts is None:
        raise ConfigError("this context does not use akslogin/kubelogin get-token.")
    opts = copy.deepcopy(plan.opts)
    options.validate(opts)
    return opts


def missing_plugin(spec: ExecSpec, plan: CredentialPlan, ctx: ResolvedContext) -> ConfigError:
    """kubectl's failure for an exec command that is not on PATH, and the way out."""
    message = (f"the exec plugin {spec.command!r} is not on PATH (context {ctx.name!r}), so kubectl fails with: "
               f"exec: executable {spec.command} not found.")
    if plan.plugin == "kubelogin":
        return ConfigError(message, f"akslogin takes the same flags: 'akslogin convert-kubeconfig --context "
                                    f"{ctx.name}' switches this user to akslogin (or install kubelogin).")
    return ConfigError(message, (spec.install_hint or "").strip().replace("\n", " ")
                       or "Install it or put it on the PATH kubectl runs with, or set exec.command to its full path.")


def unusable(plan: CredentialPlan, ctx: ResolvedContext) -> AksloginError:
    """Why a user entry cannot give a bearer token (what to do instead)."""
    if plan.kind == CERTIFICATE:
        return ConfigError(f"user {ctx.user_name!r} authenticates with a client certificate, not a token.")
    if plan.kind == AUTH_PROVIDER and plan.auth_provider == "azure":
        return ConfigError(
            f"user {ctx.user_name!r} uses the legacy 'azure' auth-provider, which kubectl removed in 1.26.",
            "Convert it to an exec plugin with 'akslogin convert-kubeconfig' (or re-run 'akslogin get-credentials').")
    if plan.kind == AUTH_PROVIDER:
        return ConfigError(f"user {ctx.user_name!r} uses the auth-provider {plan.auth_provider!r}, "
                           "which akslogin cannot run.", "Use an exec credential plugin instead.")
    if plan.kind == BASIC:
        return ConfigError(f"user {ctx.user_name!r} uses username/password, which Kubernetes removed in 1.19.")
    return ConfigError(f"user {ctx.user_name or '(none)'!r} of context {ctx.name!r} has no credentials.",
                       "Re-run 'akslogin get-credentials' for this cluster.")
