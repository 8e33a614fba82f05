"""The credential a kubeconfig context presents, obtained the way kubectl would obtain it.

Shared by whoami, explain-forbidden, rbac bind and doctor, so they all see what kubectl sees:

- ``exec`` running akslogin or kubelogin ``get-token``: the args are parsed with akslogin's own option
  parser (same flags, same environment precedence, the exec ``env`` entries on top of the environment)
  and the token comes from akslogin's cache or a sign-in, in-process, for every login mode;
- any other exec plugin runs as kubectl runs it: args and env from the kubeconfig, KUBERNETES_EXEC_INFO
  set, never through a shell, with a time limit, its ExecCredential read from stdout;
- a static ``token`` / ``tokenFile`` is used as is;
- a client certificate is described (Kubernetes reads CN as the user and O as the groups).

Nothing here prints or logs a token or a secret.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from akslogin import options
from akslogin.certinfo import CertificateInfo, decode_data, describe_certificate
from akslogin.errors import AksloginError, AuthenticationError, ConfigError, NetworkError, UsageError
from akslogin.exec_credential import SUPPORTED as EXEC_API_VERSIONS
from akslogin.kubeconfig.merged import resolve_path
from akslogin.kubeconfig.model import KubeconfigError, MissingKubeconfigError
from akslogin.kubeconfig.resolved import ClusterEndpoint, ResolvedContext
from akslogin.log import Log
from akslogin.redact import redact_args
from akslogin.tokeninfo import decode_token

if TYPE_CHECKING:
    from akslogin.kubeapi import KubeClient

Clock = Callable[[], float]

GET_TOKEN = "get-token"  # exec akslogin/kubelogin get-token, handled in-process
EXEC = "exec"  # any other exec plugin
TOKEN = "token"
CERTIFICATE = "client-certificate"
AUTH_PROVIDER = "auth-provider"
BASIC = "basic-auth"
NONE = "none"

#: Exec commands whose get-token flags akslogin understands (kubelogin's are the same).
PLUGINS = ("akslogin", "kubelogin")
EXEC_TIMEOUT = 60.0


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

    kind: str
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
        out: dict[str, Any] = {"kind": self.kind, "description": self.describe()}
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


def exec_environment(spec: ExecSpec, environ: Mapping[str, str]) -> dict[str, str]:
    """kubectl runs an exec plugin with its own environment plus the entries of ``exec.env``."""
    env = dict(environ)
    env.update(spec.env)
    return env


def _find_executable(command: str, source: str, environ: Mapping[str, str]) -> str | None:
    if os.sep in command or (os.altsep and os.altsep in command):
        path = resolve_path(command, source)
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return shutil.which(command, path=environ.get("PATH", os.defpath))


def _plugin_name(command: str, args: list[str]) -> str:
    base = os.path.basename(command).lower().removesuffix(".exe")
    return base if base in PLUGINS and args[:1] == ["get-token"] else ""


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
    merged = dict(environ)
    merged.update(env)
    return ExecSpec(
        command=command,
        path=_find_executable(command, ctx.user_source, merged),
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
        plugin = _plugin_name(spec.command, spec.args)
        if not plugin:
            return CredentialPlan(EXEC, exec=spec)
        plan = CredentialPlan(GET_TOKEN, exec=spec, plugin=plugin)
        try:
            opts = options.parse_args(spec.args[1:])
            options.apply_env(opts, exec_environment(spec, environ))
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


# -- obtaining the token -----------------------------------------------------------------------------

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


def token_in_process(opts: options.TokenOptions, environ: Mapping[str, str], clock: Clock,
                     stderr: TextIO) -> PresentedToken:
    """get-token's own steps (cache first, then a single-flight sign-in; a PoP proof for Azure Arc), without
    printing an ExecCredential: :func:`akslogin.usecases.access.presented`, the one token source."""
    from akslogin.usecases import access

    value, until, cached = access.presented(opts, environ, stderr, Log(opts.verbosity_level, stderr), clock)
    return PresentedToken(value, until, "akslogin's token cache" if cached else "a new sign-in (now cached)")


def obtain_token(plan: CredentialPlan, ctx: ResolvedContext, environ: Mapping[str, str], *, clock: Clock,
                 stderr: TextIO) -> PresentedToken:
    """The bearer token the context would present to the API server (refused, as kubectl would fail, when
    the exec plugin is not installed: akslogin could run kubelogin's flags itself, but kubectl cannot)."""
    if plan.exec is not None and plan.exec.path is None:
        raise missing_plugin(plan.exec, plan, ctx)
    if plan.kind == GET_TOKEN and plan.exec is not None:
        return token_in_process(validated_options(plan), exec_environment(plan.exec, environ), clock, stderr)
    if plan.kind == EXEC and plan.exec is not None:
        return run_exec_plugin(plan.exec, ctx, environ, stderr)
    if plan.kind == TOKEN or (plan.kind == CERTIFICATE and plan.token):
        info = decode_token(plan.token)
        return PresentedToken(plan.token, info.expires_at if info else None, plan.token_origin or "the kubeconfig")
    raise unusable(plan, ctx)


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


def _exec_info(spec: ExecSpec, cluster: ClusterEndpoint, interactive: bool) -> str:
    spec_body: dict[str, Any] = {"interactive": interactive}
    if spec.provide_cluster_info:
        import base64

        info: dict[str, Any] = {"server": cluster.server}
        if cluster.ca_pem:
            info["certificate-authority-data"] = base64.b64encode(cluster.ca_pem).decode("ascii")
        if cluster.tls_server_name:
            info["tls-server-name"] = cluster.tls_server_name
        if cluster.insecure_skip_tls_verify:
            info["insecure-skip-tls-verify"] = True
        if cluster.proxy_url:
            info["proxy-url"] = cluster.proxy_url
        if cluster.exec_extension is not None:
            info["config"] = cluster.exec_extension
        spec_body["cluster"] = info
    return json.dumps({"apiVersion": spec.api_version, "kind": "ExecCredential", "spec": spec_body})


def run_exec_plugin(spec: ExecSpec, ctx: ResolvedContext, environ: Mapping[str, str], stderr: TextIO,
                    timeout: float = EXEC_TIMEOUT) -> PresentedToken:
    """Run a (non-akslogin) exec plugin as client-go does and read its ExecCredential."""
    if spec.path is None:
        hint = spec.install_hint or "Install it, or fix the command/PATH in the kubeconfig."
        raise ConfigError(f"exec: executable {spec.command} not found (user {ctx.user_name!r}).", hint)
    if spec.api_version not in EXEC_API_VERSIONS:
        raise ConfigError(f"exec.apiVersion {spec.api_version!r} of user {ctx.user_name!r} is not supported.",
                          "Use client.authentication.k8s.io/v1 (or v1beta1).")
    inherit = stderr is sys.stderr
    interactive = spec.interactive_mode != "Never" and inherit and sys.stdin.isatty()
    env = exec_environment(spec, environ)
    env["KUBERNETES_EXEC_INFO"] = _exec_info(spec, ctx.cluster, interactive)
    try:
        # argv from the kubeconfig, exactly as kubectl runs it; never through a shell
        proc = subprocess.run(
            [spec.path, *spec.args], env=env, stdin=None if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=None if inherit else subprocess.PIPE, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise NetworkError(f"exec plugin {spec.command} did not finish within {timeout:.0f}s.") from None
    except OSError as exc:
        raise ConfigError(f"cannot run exec plugin {spec.path}: {exc.strerror}.") from None
    if not inherit and proc.stderr:
        stderr.write(proc.stderr.decode("utf-8", "replace"))
    if proc.returncode != 0:
        raise AuthenticationError(f"exec: executable {spec.command} failed with exit code {proc.returncode}.",
                                  "Its own message is printed above.")
    return _read_exec_credential(proc.stdout, spec)


def _read_exec_credential(stdout: bytes, spec: ExecSpec) -> PresentedToken:
    try:
        data = json.loads(stdout)
    except ValueError:
        raise AuthenticationError(f"exec plugin {spec.command} did not print an ExecCredential.") from None
    if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
        raise AuthenticationError(f"exec plugin {spec.command} did not print an ExecCredential.")
    if data.get("apiVersion") != spec.api_version:
        raise AuthenticationError(f"exec plugin is configured to use API version {spec.api_version}, "
                                  f"plugin returned version {data.get('apiVersion')}.")
    raw_status = data.get("status")
    status: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
    token = str(status.get("token") or "")
    if not token:
        raise AuthenticationError(f"exec plugin {spec.command} returned no token (a client certificate credential "
                                  "is not supported by akslogin's diagnostics).")
    expires = _parse_time(str(status.get("expirationTimestamp") or ""))
    return PresentedToken(token, expires, f"exec plugin {spec.command}")


def _parse_time(text: str) -> float | None:
    if not text:
        return None
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# -- opening a context and talking to its cluster -------------------------------------------------------

@dataclass
class Target:
    """A resolved context and what its user entry would do."""

    ctx: ResolvedContext
    plan: CredentialPlan


def open_context(kubeconfig: str | None, context: str | None, environ: Mapping[str, str]) -> Target:
    from akslogin.kubeconfig.merged import load_merged
    from akslogin.kubeconfig.resolved import resolve

    merged = load_merged(kubeconfig, environ)
    if not merged.configs:
        raise MissingKubeconfigError(f"no kubeconfig found (looked at {merged.describe_sources()}).",
                              "Create one with 'akslogin get-credentials', or pass --kubeconfig / set KUBECONFIG.")
    ctx = resolve(merged, context)
    return Target(ctx, plan_credential(ctx, environ))


def api_client(target: Target, token: PresentedToken | None, environ: Mapping[str, str],
               timeout: float = 30.0) -> KubeClient:
    """A KubeClient presenting what the context presents (bearer token and/or client certificate)."""
    from akslogin.kubeapi import KubeClient

    plan = target.plan
    cert = (plan.cert_pem, plan.key_pem) if plan.kind == CERTIFICATE and plan.key_pem else None
    return KubeClient(target.ctx.cluster, token=token.token if token else None, client_cert=cert,
                      timeout=timeout, environ=environ)


def request_timeout(plan: CredentialPlan) -> float:
    if plan.opts is not None:
        try:
            return plan.opts.timeout_seconds
        except AksloginError:
            return options.DEFAULT_TIMEOUT
    return options.DEFAULT_TIMEOUT
