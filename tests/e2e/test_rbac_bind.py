"""akslogin rbac bind: manifests that follow AKS's identity mapping, Graph resolution, and --apply end to end.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support import rbac_bind as shared
from support.explainworld import APPS, env_for, kubeconfig
from support.run import kubectl, run_akslogin


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def test_apply_end_to_end_turns_a_forbidden_kubectl_call_into_a_success(emu: Emulator, tmp_path: Path) -> None:
    env = env_for(tmp_path)
    nobody_kc = kubeconfig(tmp_path / "nobody", emu, app=APPS["nobody"])
    denied = kubectl(nobody_kc, "get", "pods", "-n", "dev", env=env)
    assert denied.returncode == 1 and "Forbidden" in denied.stderr
    admin_kc = kubeconfig(tmp_path / "admin", emu, app=APPS["admin"])
    applied = run_akslogin(["rbac", "bind", "--service-principal", APPS["nobody"].client_id, "--role", "view",
                            "-n", "dev", "--apply", "--kubeconfig", str(admin_kc), "--context", "ctx",
                            "--graph-endpoint", emu.server_url("graph")], env)
    assert applied.returncode == 0, applied.stderr
    name = f"akslogin-view-{APPS['nobody'].object_id}"
    assert f"rolebinding.rbac.authorization.k8s.io/{name} created" in applied.stdout
    allowed = kubectl(nobody_kc, "get", "pods", "-n", "dev", "-o", "name", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert "pod/api-1" in allowed.stdout
    assert APPS["admin"].secret not in applied.stdout + applied.stderr
