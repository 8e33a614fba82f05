"""An end-to-end smoke of an installed akslogin, run by that installation's own interpreter (no test code or
checkout on its path): the emulator, get-credentials with a service principal, real kubectl through the exec
plugin, whoami. tests/e2e/test_lowest_deps.py runs it in a venv holding the lowest versions pyproject.toml allows, on
the oldest supported Python. Prints one line per step; exits non-zero at the first failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict

TENANT = "5a5a5a5a-0000-4000-8000-00000000c0de"
SUBSCRIPTION = "5b5b5b5b-0000-4000-8000-00000000c0de"
APP = {"name": "smoke-ci", "client_id": "5c5c5c5c-0000-4000-8000-00000000c0de",
       "object_id": "5d5d5d5d-0000-4000-8000-00000000c0de", "secrets": ["smoke-secret-Q1~x"]}
WORLD = {
    "tenants": [{"id": TENANT, "domains": ["smoke.example"], "apps": [APP]}],
    "subscriptions": [{"id": SUBSCRIPTION, "display_name": "Smoke", "tenant": TENANT}],
    "clusters": [{"name": "aks-smoke", "tenant": TENANT, "subscription": SUBSCRIPTION, "resource_group": "rg-smoke",
                  "pods": {"default": ["web-1"]},
                  "rbac": {"bindings": [{"name": "smoke-view", "role": "view", "subjects": [{"app": "smoke-ci"}]}]}}],
    "arm_role_assignments": [{"principal": {"app": "smoke-ci"}, "role": "cluster-user",
                              "scope": {"cluster": "aks-smoke"}}],
}


def step(name: str, argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.stderr.write(f"smoke: {name} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}\n")
        sys.exit(1)
    print(f"smoke: {name} ok", flush=True)
    return done.stdout


def main() -> int:
    bindir = Path(sys.executable).parent
    akslogin = str(bindir / ("akslogin.exe" if os.name == "nt" else "akslogin"))
    kubectl = os.environ.get("KUBECTL", "/usr/bin/kubectl")
    with tempfile.TemporaryDirectory(prefix="akslogin-smoke-") as scratch:
        home = Path(scratch)
        with Emulator(world_from_dict(WORLD), home / "emulator") as emu:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AAD_", "ARM_", "KUBE"))}
            env.update({"HOME": str(home), "AAD_SERVICE_PRINCIPAL_CLIENT_ID": APP["client_id"],
                        "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": APP["secrets"][0],
                        "KUBECONFIG": str(home / "kubeconfig"), "PATH": f"{bindir}{os.pathsep}{env.get('PATH', '')}"})
            step("get-credentials", [akslogin, "get-credentials", "--login", "spn", "-t", TENANT, "-g", "rg-smoke",
                                     "-n", "aks-smoke", "-s", SUBSCRIPTION, "--authority-host", emu.authority_host,
                                     "--certificate-authority", str(emu.ca_path), "--arm-endpoint",
                                     emu.server_url("arm")], env)
            pods = step("kubectl through the plugin", [kubectl, "get", "pods", "-o", "name"], env)
            if pods.split() != ["pod/web-1"]:
                sys.exit(f"smoke: kubectl listed {pods.split()}")
            who = json.loads(step("whoami", [akslogin, "whoami", "-o", "json"], env))
            if APP["object_id"] not in json.dumps(who):
                sys.exit(f"smoke: whoami did not name the service principal: {who}")
    print(f"smoke: passed on Python {sys.version.split()[0]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
