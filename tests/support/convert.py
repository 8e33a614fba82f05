"""What the tiers of test_convert.py share: tests/{e2e,emulated,unit}/test_convert.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from akslogin.kubeconfig.model import KubeConfig
from support.armworld import AKS_SERVER, TENANT, Runner, single_spec
from support.run import akslogin_bin

AKS_CLIENT = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"


KUBELOGIN_HINT = ("\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\n"
                  "To learn more, please go to https://aka.ms/aks/kubelogin\n")


def aks_exec_user() -> dict[str, Any]:
    return {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
        "args": ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_SERVER, "--client-id",
                 AKS_CLIENT, "--tenant-id", TENANT, "--login", "devicecode"],
        "env": None, "installHint": KUBELOGIN_HINT, "provideClusterInfo": False,
    }}


def legacy_user(config_mode: str | None, **extra: str) -> dict[str, Any]:
    config = {"apiserver-id": AKS_SERVER, "client-id": AKS_CLIENT, "tenant-id": TENANT,
              "environment": "AzurePublicCloud", "access-token": "old-at", "refresh-token": "old-rt",
              "expires-in": "3599", "expires-on": "1700000000", **extra}
    if config_mode is not None:
        config["config-mode"] = config_mode
    return {"auth-provider": {"name": "azure", "config": config}}


def config_with(user: dict[str, Any], name: str = "u") -> KubeConfig:
    return KubeConfig({
        "clusters": [{"name": "c", "cluster": {"server": "https://c.example"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": name}}],
        "users": [{"name": name, "user": user}],
        "current-context": "ctx",
    })


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(single_spec()), tmp_path_factory.mktemp("convert-emu")) as e:
        yield e


def aks_kubeconfig(emu: Emulator, path: Path, user: dict[str, Any] | None = None, name: str = "aks1") -> Path:
    """The kubeconfig AKS would hand out for cluster aks1 (kubelogin devicecode exec user)."""
    cfg = emu.arm.kubeconfig(emu.world.cluster("aks1"), "clusterUser", "exec", public=False)
    cfg["contexts"][0]["name"] = cfg["current-context"] = name
    if user is not None:
        cfg["users"][0]["user"] = user
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg))
    path.chmod(0o644)
    return path


def convert_cli(runner: Runner, *args: str, env: dict[str, str] | None = None) -> Any:
    from support.run import run_akslogin

    return run_akslogin(["convert-kubeconfig", "--exec-command", akslogin_bin(), *args],
                        env if env is not None else runner.env())
