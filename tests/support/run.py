"""Running akslogin and kubectl as a user would: clean environments, exec blocks, kubeconfigs, processes."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.worlds import AKS_CLIENT_ID, TENANT_ID, USER_TENANT_ID, AppInfo

KUBECTL = "/usr/bin/kubectl"


def akslogin_bin() -> str:
    found = shutil.which("akslogin", path=os.path.dirname(sys.executable)) or shutil.which("akslogin")
    assert found, "the akslogin console script must be installed (pip install -e .)"
    return found


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A process environment without any AZURE_/AAD_/ARM_ variables from the developer's shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "AAD_", "ARM_", "KUBE", "AZURESUBSCRIPTION_"))}
    env["HOME"] = str(home)
    env.pop("HTTPS_PROXY", None)
    env.pop("https_proxy", None)
    env.update(extra)
    return env


def spn_args(emu: Emulator, app: AppInfo, *, tenant: str = TENANT_ID, cache_dir: Path | None = None) -> list[str]:
    args = ["get-token", "--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", tenant,
            "--client-id", app.client_id, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path)]
    if cache_dir is not None:
        args += ["--cache-dir", str(cache_dir)]
    return args


def run_akslogin(args: list[str], env: Mapping[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([akslogin_bin(), *args], env=dict(env), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def write_kubeconfig(path: Path, emu: Emulator, cluster: str, exec_args: list[str],
                     exec_env: Mapping[str, str] | None = None, api_version: str = "v1",
                     interactive_mode: str = "Never") -> Path:
    """A kubeconfig whose one context runs akslogin with ``exec_args``; user sign-ins that prompt need
    ``interactive_mode="IfAvailable"`` and kubectl run with a terminal (KubectlRun(..., terminal=True))."""
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [emu.kubeconfig_cluster(cluster)],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": f"clusterUser_rg_{cluster}"}}],
        "current-context": cluster,
        "users": [{
            "name": f"clusterUser_rg_{cluster}",
            "user": {"exec": {
                "apiVersion": f"client.authentication.k8s.io/{api_version}",
                "command": akslogin_bin(),
                "args": exec_args,
                "env": [{"name": k, "value": v} for k, v in (exec_env or {}).items()] or None,
                "interactiveMode": interactive_mode,
                "provideClusterInfo": False,
            }},
        }],
    }
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o600)
    return path


def kubectl(kubeconfig: Path, *args: str, env: Mapping[str, str], timeout: float = 90
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), "--request-timeout", "30s", *args],
                          env=dict(env), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def decode_jwt_payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def user_args(emu: Emulator, login: str, cache_dir: Path, *extra: str, server_id: str = AKS_SERVER_APP_ID,
              client_id: str = AKS_CLIENT_ID, tenant: str = USER_TENANT_ID) -> list[str]:
    """get-token arguments for a user login mode against ``emu`` (as AKS writes them, plus the emulator)."""
    return ["get-token", "--login", login, "--server-id", server_id, "--client-id", client_id,
            "--tenant-id", tenant, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path), "--cache-dir", str(cache_dir), *extra]


class KubectlRun:
    """kubectl running in the background; its stderr (where the exec plugin prompts) is read line by line.
    ``terminal``: kubectl's stdin is a pseudo-terminal, as for a person at a shell, so a context with
    ``interactiveMode: IfAvailable`` tells the plugin that someone can answer a prompt."""

    def __init__(self, kubeconfig: Path, *args: str, env: Mapping[str, str], terminal: bool = False) -> None:
        import queue
        import threading

        stdin: Any = subprocess.DEVNULL
        self._pty: tuple[int, int] | None = None
        if terminal:
            import pty

            self._pty = pty.openpty()
            stdin = self._pty[1]
        self.proc = subprocess.Popen(
            [KUBECTL, "--kubeconfig", str(kubeconfig), "--request-timeout", "60s", *args], env=dict(env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr_lines: list[str] = []
        self.ended = False

        def pump() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for_line(self, needle: str, timeout: float = 30) -> str:
        """The first stderr line containing ``needle`` (fails if kubectl ends or time runs out first)."""
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no {needle!r} on stderr within {timeout}s: {self.stderr_lines}") from None
            if line is None:
                self.ended = True
                raise AssertionError(f"kubectl ended before printing {needle!r}: {self.stderr_lines}")
            self.stderr_lines.append(line)
            if needle in line:
                return line

    def finish(self, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert self.proc.stdout is not None
        stdout = self.proc.stdout.read()  # stderr belongs to the pump thread; don't let communicate() race it
        self.proc.wait(timeout=timeout)
        if self._pty is not None:
            for fd in self._pty:
                with __import__("contextlib").suppress(OSError):
                    os.close(fd)
            self._pty = None
        while not self.ended:
            line = self.lines.get(timeout=5)
            if line is None:
                self.ended = True
                break
            self.stderr_lines.append(line)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, stdout, "".join(self.stderr_lines))


def user_code_from(line: str) -> str:
    import re

    match = re.search(r"enter the code (\w+)", line)
    assert match, line
    return match.group(1)


def credential_context(emu: Emulator, login: str, tmp_path: Path, *extra: str, clock: Any = None,
                       environ: Mapping[str, str] | None = None) -> tuple[Any, Any]:
    """(CredentialContext, its stderr StringIO) for driving a user credential in-process."""
    import io
    import time

    from akslogin.credentials.base import CredentialContext
    from akslogin.credentials.msal_app import resolve_authority
    from akslogin.http import HttpClient
    from akslogin.log import Log
    from akslogin.options import apply_env, parse_args, validate

    cache = tmp_path / "cache"
    opts = parse_args(user_args(emu, login, cache, *extra)[1:])
    apply_env(opts, {})
    validate(opts)
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    stderr = io.StringIO()
    ctx = CredentialContext(
        opts=opts, authority=resolve_authority(opts), http=HttpClient(30, opts.certificate_authority),
        environ=dict(environ or {}), cache_dir=str(cache), identity_key="k" * 40, log=Log(0, stderr),
        stderr=stderr, clock=clock or time.time)
    return ctx, stderr
