"""Running an exec plugin other than akslogin/kubelogin the way kubectl runs it.

Args and env from the kubeconfig, KUBERNETES_EXEC_INFO set (with the cluster when ``provideClusterInfo``), never
through a shell, stdin closed unless interactive, a time limit, and the ExecCredential read from stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from akslogin import jsonlite
from akslogin.errors import AuthenticationError, ConfigError, NetworkError
from akslogin.exec_credential import SUPPORTED as EXEC_API_VERSIONS
from akslogin.kubeconfig.resolved import ClusterEndpoint, ResolvedContext
from akslogin.kubectx.environment import with_exec_env
from akslogin.kubectx.plan import ExecSpec, PresentedToken

EXEC_TIMEOUT = 60.0


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
    env = with_exec_env(environ, spec.env)
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
        data = jsonlite.loads(stdout)
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
