"""What the tiers of test_login_federated.py share: tests/{e2e,emulated,unit}/test_login_federated.py."""

from __future__ import annotations

import os
from pathlib import Path

from akslogin.emulator import Emulator
from akslogin.emulator.entra.federation import federation
from support.machine_world import ADO_CONNECTION, GH_APP, TENANT, WI_APP, token_args
from support.run import clean_env


def _projected(tmp_path: Path, token: str) -> Path:
    """Lay the token out as the kubelet does: <dir>/azure-identity-token → ..data/azure-identity-token."""
    volume = tmp_path / "tokens"
    data = volume / "..data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "azure-identity-token").write_text(token)
    link = volume / "azure-identity-token"
    if not link.is_symlink():
        os.symlink("..data/azure-identity-token", link)
    return link


def _pod_env(tmp_path: Path, emu: Emulator, token_file: Path, **extra: str) -> dict[str, str]:
    """What the workload identity webhook injects into a pod."""
    return clean_env(tmp_path, AZURE_CLIENT_ID=WI_APP, AZURE_TENANT_ID=TENANT,
                     AZURE_FEDERATED_TOKEN_FILE=str(token_file), AZURE_AUTHORITY_HOST=emu.authority_host, **extra)


def _wi_args(emu: Emulator) -> list[str]:
    return token_args("workloadidentity", "--certificate-authority", str(emu.ca_path))


def _gh_env(tmp_path: Path, emu: Emulator, job: dict[str, str], **extra: str) -> dict[str, str]:
    return clean_env(tmp_path, AZURE_CLIENT_ID=GH_APP, AZURE_TENANT_ID=TENANT, **job, **extra)


def _gh_args(emu: Emulator) -> list[str]:
    return token_args("workloadidentity", "--authority-host", emu.authority_host,
                      "--certificate-authority", str(emu.ca_path))


def _ado_args(emu: Emulator, *extra: str) -> list[str]:
    return token_args("azurepipelines", "--authority-host", emu.authority_host,
                      "--certificate-authority", str(emu.ca_path), *extra)


def _ado_job(emu: Emulator) -> dict[str, str]:
    return federation(emu).pipelines_job("contoso", "aks", {ADO_CONNECTION: "aks-prod"})
