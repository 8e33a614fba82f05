"""The akslogin demo: the whole story against the embedded emulator, with the real kubectl.

Run it with `make demo`. Nothing here talks to Azure: the emulator serves Entra ID and two AKS API
servers on 127.0.0.1 with a CA it generates.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from akslogin.cli.emulator import load_world
from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_SERVER_APP_ID

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
AKSLOGIN = shutil.which("akslogin", path=os.path.dirname(sys.executable)) or "akslogin"
CI_APP = "1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b"  # ci-deployer in the demo world
CI_SECRET = "demo-ci-secret-Q7v~not-a-real-secret"
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() and not os.environ.get("NO_COLOR") \
    else ("", "", "")


def say(text: str) -> None:
    print(f"\n{BOLD}== {text}{RESET}", flush=True)


def show(cmd: list[str], env: dict[str, str], expect_ok: bool = True) -> subprocess.CompletedProcess[str]:
    shown = " ".join(c if " " not in c else repr(c) for c in cmd)
    print(f"{DIM}$ {shown}{RESET}", flush=True)
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    seen: set[str] = set()
    for line in (result.stdout + result.stderr).rstrip().splitlines():
        if "memcache.go" in line or line in seen:
            continue  # kubectl retries discovery and repeats the plugin's message; show it once
        seen.add(line)
        print(f"  {line}")
    if expect_ok != (result.returncode == 0):
        raise SystemExit(f"demo step failed unexpectedly (exit {result.returncode})")
    return result


def main() -> int:
    started = time.monotonic()
    world = load_world(None)
    tenant = world.tenants[0]
    with tempfile.TemporaryDirectory(prefix="akslogin-demo-") as tmp, Emulator(world, Path(tmp) / "state") as emu:
        home = Path(tmp)
        say("An offline Entra ID and two AKS clusters are running on 127.0.0.1")
        print(f"  authority host : {emu.authority_host}")
        for cluster in world.clusters:
            print(f"  cluster        : {cluster.name} at {emu.cluster_url(cluster.name)}")

        kubeconfig = home / "config"
        exec_args = ["get-token", "--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", tenant.id,
                     "--client-id", CI_APP, "--authority-host", emu.authority_host,
                     "--certificate-authority", str(emu.ca_path)]
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "aks-dev",
            "clusters": [emu.kubeconfig_cluster("aks-dev")],
            "contexts": [{"name": "aks-dev", "context": {"cluster": "aks-dev", "user": "ci-deployer"}}],
            "users": [{"name": "ci-deployer", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1", "command": AKSLOGIN, "args": exec_args,
                "interactiveMode": "Never", "provideClusterInfo": False}}}],
        }
        kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False))
        kubeconfig.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AAD_", "ARM_"))}
        env.update(HOME=str(home), KUBECONFIG=str(kubeconfig), AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=CI_SECRET)

        say("A CI service principal runs kubectl: akslogin signs in as the exec plugin, no prompt")
        print("  The kubeconfig holds no secret: the plugin reads AAD_SERVICE_PRINCIPAL_CLIENT_SECRET from the job.")
        emu.request_log.reset()
        show([KUBECTL, "get", "pods"], env)
        print(f"  token requests to Entra: {len(emu.request_log.token_requests())}")

        say("The next kubectl run is served from akslogin's cache")
        emu.request_log.reset()
        show([KUBECTL, "get", "pods", "-o", "name"], env)
        print(f"  token requests to Entra: {len(emu.request_log.token_requests())}")

        say("Who the cluster thinks we are (a service principal appears as its object id)")
        show([KUBECTL, "auth", "whoami"], env)

        say("RBAC still decides: this principal may edit 'default' but not read kube-system")
        show([KUBECTL, "auth", "can-i", "delete", "pods", "-n", "default"], env)
        show([KUBECTL, "get", "pods", "-n", "kube-system"], env, expect_ok=False)

        say("Why? akslogin explains the denial and prints the binding that would fix it")
        show([AKSLOGIN, "explain-forbidden", "list", "pods", "-n", "kube-system"], env, expect_ok=False)

        say("A wrong secret: kubectl shows akslogin's explanation, not a bare 'Unauthorized'")
        bad = dict(env, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="an-old-secret", KUBECACHEDIR=str(home / "other"))
        show([KUBECTL, "get", "pods"], bad, expect_ok=False)

        say("Speed of the cached path (what every kubectl command pays)")
        timings = {"python -c pass": [], "akslogin get-token (cached)": []}
        plugin = [AKSLOGIN, *exec_args]
        for _ in range(15):
            for label, cmd in (("python -c pass", [sys.executable, "-c", "pass"]),
                               ("akslogin get-token (cached)", plugin)):
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, capture_output=True, check=True)
                timings[label].append((time.perf_counter() - t0) * 1000)
        for label, values in timings.items():
            print(f"  {label:<30} median {statistics.median(values):6.1f} ms")

        say("On a real cluster")
        print("  akslogin get-token is flag-compatible with Azure/kubelogin: in a kubeconfig from")
        print("  'az aks get-credentials', change the exec command to akslogin and pick a non-interactive login, e.g.")
        print("    --login spn   with AAD_SERVICE_PRINCIPAL_CLIENT_ID / AAD_SERVICE_PRINCIPAL_CLIENT_SECRET in CI.")
        print(f"\nDemo finished in {time.monotonic() - started:.1f}s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
