"""What the tiers of test_real_az.py share: tests/{e2e,emulated}/test_real_az.py."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from support.armworld import TENANT, Principal, single_spec, sub_id
from support.paths import REPO
from support.run import akslogin_bin

ROOT = REPO


AZ = os.environ.get("AKSLOGIN_TEST_AZ") or str(ROOT / ".venv-az" / "bin" / "az")


S1, S2 = sub_id(1), sub_id(2)


VM_OBJECT_ID = "d1000000-0000-4000-8000-0000000000f1"


CERT_APP = Principal("cert-deployer", "c1000000-0000-4000-8000-0000000000c1", "d1000000-0000-4000-8000-0000000000c1",
                     "")


def cert_pem_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from akslogin.emulator.net.tlsmaterial import cert_pem, key_pem, new_rsa_key, self_signed

    key = new_rsa_key()
    path = tmp_path_factory.mktemp("real-az-cert") / "cert-deployer.pem"
    path.write_bytes(key_pem(key) + cert_pem(self_signed("cert-deployer.contoso.example", key)))
    path.chmod(0o600)
    return path


def emu(tmp_path_factory: pytest.TempPathFactory, cert_pem_path: Path) -> Iterator[Emulator]:
    spec = single_spec()
    tenant = next(t for t in spec["tenants"] if t["id"] == TENANT)
    tenant["apps"].append({"name": CERT_APP.name, "client_id": CERT_APP.client_id, "object_id": CERT_APP.object_id,
                           "certificates": [str(cert_pem_path)]})
    spec["arm_role_assignments"].append({"principal": {"app": CERT_APP.name}, "role": "reader",
                                         "scope": f"/subscriptions/{S1}"})
    # A build VM whose system-assigned identity may read S1 (what 'az login --identity' lists).
    tenant["hosts"] = [{"name": "build-vm", "kind": "vm", "system_identity": {"object_id": VM_OBJECT_ID}}]
    spec["arm_role_assignments"].append({"principal": {"managed_identity": "build-vm"}, "role": "reader",
                                         "scope": f"/subscriptions/{S1}"})
    with Emulator(world_from_dict(spec), tmp_path_factory.mktemp("real-az-emu")) as e:
        yield e


class Az:
    """The real az with a private profile that trusts the emulator's CA and knows it as a cloud."""

    def __init__(self, emu: Emulator, home: Path) -> None:
        self.emu = emu
        self.home = home
        self.config = home / "azure"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AAD_", "ARM_", "KUBE"))}
        self.env.update({
            "HOME": str(home), "AZURE_CONFIG_DIR": str(self.config), "REQUESTS_CA_BUNDLE": str(emu.ca_path),
            "AZURE_CORE_INSTANCE_DISCOVERY": "false", "AZURE_CORE_COLLECT_TELEMETRY": "no",
            "AZURE_CORE_NO_COLOR": "true", "AZURE_CORE_SURVEY_MESSAGE": "false",
            "PATH": f"{Path(AZ).parent}{os.pathsep}{Path(akslogin_bin()).parent}{os.pathsep}{os.environ['PATH']}",
        })
        self("cloud", "register", "-n", "AksloginEmulator", "--endpoint-resource-manager",
             emu.server_url("arm") + "/", "--output", "none")
        self("cloud", "set", "-n", "AksloginEmulator")

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([AZ, *args], env=self.env, capture_output=True, text=True, timeout=180,
                                stdin=subprocess.DEVNULL)
        if check:
            assert result.returncode == 0, f"az {' '.join(args[:3])}: {result.stderr[-2000:]}"
        return result

    def login(self, principal: Principal) -> None:
        self("login", "--service-principal", "--tenant", TENANT, "-u", principal.client_id, "-p", principal.secret,
             "--output", "none")

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=180,
                              stdin=subprocess.DEVNULL)


def az(emu: Emulator, tmp_path: Path) -> Az:
    return Az(emu, tmp_path)
