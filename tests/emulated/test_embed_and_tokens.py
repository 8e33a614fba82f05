"""Embedded tokens (get-credentials/convert-kubeconfig --embed-tokens, refresh-kubeconfig) and the token
commands (login warms the cache, logout forgets exactly one identity or everything).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support import embed_and_tokens as shared
from support.armworld import AKS_SERVER, BREAKGLASS, DEPLOYER, TENANT, Runner
from support.embed_and_tokens import S1, user_entry
from support.run import decode_jwt_payload


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from shared.runner(emu, tmp_path)


def test_legacy_auth_provider_format(runner: Runner) -> None:
    before = time.time()
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--embed-tokens")
    assert result.returncode == 0, result.stderr
    provider = user_entry(runner)["auth-provider"]
    assert provider["name"] == "azure"
    config = provider["config"]
    # the keys and string encodings the removed kubectl azure plugin persisted, and old Python clients read
    assert {k: config[k] for k in ("apiserver-id", "client-id", "tenant-id", "environment", "config-mode")} == {
        "apiserver-id": AKS_SERVER, "client-id": DEPLOYER.client_id, "tenant-id": TENANT,
        "environment": "AzurePublicCloud", "config-mode": "1"}
    claims = decode_jwt_payload(config["access-token"])
    assert claims["aud"] == AKS_SERVER and claims["oid"] == DEPLOYER.object_id
    assert isinstance(config["expires-on"], str) and isinstance(config["expires-in"], str)
    assert int(config["expires-on"]) == claims["exp"]
    assert 3000 < int(config["expires-in"]) <= 3599 and int(config["expires-on"]) > before
    assert "refresh-token" not in config  # a service principal has none


def token_files(runner: Runner) -> set[str]:
    return {p.name for p in (runner.cache / "tokens").iterdir()} if (runner.cache / "tokens").exists() else set()


def test_logout_forgets_exactly_one_identity_or_all(runner: Runner, emu: Emulator) -> None:
    # DEPLOYER: ARM + AKS tokens; BREAKGLASS: ARM + AKS tokens (login with flags).
    assert runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1).returncode == 0
    assert runner.run("login", "--context", "aks1").returncode == 0
    assert runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--admin", "--file", "-",
                                  principal=BREAKGLASS).returncode == 0
    breakglass_flags = runner.signin(BREAKGLASS)
    assert runner.run("login", *breakglass_flags, principal=BREAKGLASS).returncode == 0
    everything = token_files(runner)
    assert len(everything) == 4

    out = runner.run("logout", "--context", "aks1")
    assert out.returncode == 0, out.stderr
    assert f"Removed 2 cached token file(s) for client {DEPLOYER.client_id}" in out.stdout
    left = token_files(runner)
    assert len(left) == 2 and left < everything
    # BREAKGLASS is still signed in: its next ARM call needs no token request; DEPLOYER's does.
    emu.request_log.reset()
    runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--admin", "--file", "-", principal=BREAKGLASS)
    assert emu.request_log.token_requests() == []
    runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--file", "-")
    assert len(emu.request_log.token_requests()) == 1

    by_flags = runner.run("logout", *breakglass_flags, principal=None)
    assert by_flags.returncode == 0 and "Removed 2 cached token file(s)" in by_flags.stdout
    assert len(token_files(runner)) == 1  # DEPLOYER's fresh ARM token
    wiped = runner.run("remove-tokens", "--cache-dir", str(runner.cache))
    assert wiped.returncode == 0 and "Removed 1 cached token file(s)" in wiped.stdout
    assert token_files(runner) == set()
    assert any((runner.cache / "locks").iterdir())  # lock files are left alone
