"""Clouds: --environment names map to authority hosts (unknown names are an error, never public cloud),
--authority-host overrides them, and instance discovery happens only on Microsoft's own hosts.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from pathlib import Path

from akslogin.emulator import Emulator
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import TENANT_ID, AppInfo


def _without_authority_host(args: list[str]) -> list[str]:
    at = args.index("--authority-host")
    return args[:at] + args[at + 2:]


def test_unknown_environment_through_the_cli(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    """Without --authority-host an unknown name is an error (never the public cloud)."""
    result = run_akslogin([*_without_authority_host(spn_args(emulator, apps["viewer"])), "-e", "AzureGermanCloud"],
                          clean_env(tmp_path, AZURE_CLIENT_SECRET=apps["viewer"].secret or ""))
    assert result.returncode == 2
    assert "unknown --environment 'AzureGermanCloud'" in result.stderr and "--authority-host" in result.stderr
    assert emulator.request_log.entries() == []


def test_azure_stack_environment_with_an_authority_host_signs_in_there_and_says_so_once(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    """kubeconfigs for Azure Stack Hub say -e AzureStackCloud with the stamp's --authority-host (kubelogin
    silently used the public cloud; akslogin uses the host given and notes it once per cache)."""
    env = clean_env(tmp_path, AZURE_CLIENT_SECRET=apps["viewer"].secret or "")
    args = [*spn_args(emulator, apps["viewer"], cache_dir=tmp_path / "cache"), "-e", "AzureStackCloud"]
    first = run_akslogin(args, env)
    assert first.returncode == 0, first.stderr
    assert "'AzureStackCloud' is not a cloud akslogin knows" in first.stderr
    assert emulator.authority_host.rstrip("/") in first.stderr
    assert [e.path for e in emulator.request_log.token_requests()] == [f"/{TENANT_ID}/oauth2/v2.0/token"]
    second = run_akslogin(args, env)
    assert second.returncode == 0 and second.stderr == ""
    verbose = run_akslogin([*args, "-v", "1"], env)
    assert "AzureStackCloud" in verbose.stderr  # still there at -v 1


def test_authority_host_overrides_environment_and_skips_discovery(tmp_path: Path, emulator: Emulator,
                                                                  apps: dict[str, AppInfo]) -> None:
    # spn_args passes --authority-host (the emulator); the China cloud named here must not win.
    result = run_akslogin([*spn_args(emulator, apps["viewer"]), "-e", "AzureChinaCloud"],
                          clean_env(tmp_path, AZURE_CLIENT_SECRET=apps["viewer"].secret or ""))
    assert result.returncode == 0, result.stderr
    paths = [e.path for e in emulator.request_log.entries("entra")]
    assert not any("discovery/instance" in p for p in paths)
    assert any(p.endswith("/oauth2/v2.0/token") for p in paths)
