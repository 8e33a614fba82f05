"""Issue 23.6 and 23.9 against the emulated Resource Manager: answers over the bounds are refused, an alias bomb
in a credential is refused as kubectl refuses it, and --timeout bounds get-credentials as a whole (trickled
bodies, Retry-After of a billion seconds, no answer at all)."""

from __future__ import annotations

import base64
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from akslogin.emulator.world import world_from_dict
from support.armworld import Runner, single_spec, sub_id
from support.edges_yaml import BOMB

S1 = sub_id(1)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(single_spec()), tmp_path_factory.mktemp("edges-arm-emu")) as e:
        yield e


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    emu.request_log.reset()
    yield Runner(emu, tmp_path)
    emu.faults.clear()


def _clean_failure(stderr: str) -> None:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr


@pytest.mark.parametrize("body", ['{"value": ' + "[" * 50_000 + "]" * 50_000 + "}",
                                  '{"value": [], "n": ' + "1" * 100_000 + "}"])
def test_an_arm_answer_over_the_bounds_is_refused(runner: Runner, emu: Emulator, body: str) -> None:
    # Discovery's answer (Resource Graph's, and a listing's where it is refused) is bounded too.
    emu.faults.add(Fault("arm", r"/managedClusters$|\.ResourceGraph/resources$", "raw", status=200, times=10,
                         body=body))
    result = runner.get_credentials("--all", "-s", S1)
    assert result.returncode != 0
    _clean_failure(result.stderr)
    assert "will not read" in result.stdout + result.stderr, (result.stdout, result.stderr)
    assert not runner.kubeconfig.exists()


def test_an_alias_bomb_in_the_credential_is_refused_quickly(runner: Runner, emu: Emulator) -> None:
    value = base64.b64encode(BOMB.encode()).decode()
    emu.faults.add(Fault("arm", "listClusterUserCredential", "raw", status=200, times=5,
                         body='{"kubeconfigs": [{"name": "clusterUser", "value": "' + value + '"}]}'))
    start = time.monotonic()
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, timeout=60)
    assert time.monotonic() - start < 20
    assert result.returncode == 1
    _clean_failure(result.stderr)
    assert "aliases" in result.stderr and "nothing was changed" in result.stderr
    assert not runner.kubeconfig.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_get_credentials_into_a_device_node_is_refused(runner: Runner, tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is, without touching /dev/null
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "-f", str(device))
    assert result.returncode == 1, result.stderr
    assert f"{device} is not a regular file (it is a character device); nothing was changed." in result.stderr
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".null")]


def test_an_admin_certificate_written_into_a_0644_kubeconfig_makes_it_private(runner: Runner) -> None:
    runner.kubeconfig.parent.mkdir(parents=True)
    runner.kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    runner.kubeconfig.chmod(0o644)
    from support.armworld import BREAKGLASS

    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--admin", principal=BREAKGLASS)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(runner.kubeconfig.stat().st_mode) == 0o600
    notes = [line for line in result.stderr.splitlines() if "mode changed from 0644 to 0600" in line]
    assert len(notes) == 1 and str(runner.kubeconfig) in notes[0]
    audit = runner.run("audit", "--kubeconfig", str(runner.kubeconfig), "-o", "json")
    assert "file-permissions" not in audit.stdout


def _timed(runner: Runner, *args: str) -> tuple[float, object]:
    start = time.monotonic()
    result = runner.get_credentials("-g", "rg-apps", "-n", "aks1", "-s", S1, "--timeout", "6s", *args, timeout=120)
    return time.monotonic() - start, result


@pytest.mark.parametrize("fault", [
    Fault("arm", "listClusterUserCredential", "trickle", delay=1.0, times=10),
    Fault("arm", "listClusterUserCredential", "status", status=429, retry_after=1_000_000_000, times=10),
    Fault("arm", "listClusterUserCredential", "status", status=503, retry_after=30, times=10),
    Fault("arm", "listClusterUserCredential", "slow", delay=40.0, times=10),
], ids=["trickled-body", "retry-after-1e9", "retry-after-30", "no-answer"])
def test_timeout_bounds_get_credentials_as_a_whole(runner: Runner, emu: Emulator, fault: Fault) -> None:
    emu.faults.add(fault)
    elapsed, result = _timed(runner)
    assert elapsed < 12, f"took {elapsed:.0f}s with --timeout 6s"
    assert result.returncode == 1, result.stderr  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    _clean_failure(stderr)
    assert "6s" in stderr or "throttl" in stderr or "HTTP 503" in stderr, stderr
    assert not runner.kubeconfig.exists()


def test_timeout_bounds_all_clusters_too(runner: Runner, emu: Emulator) -> None:
    emu.faults.add(Fault("arm", r"/managedClusters$|\.ResourceGraph/resources$", "status", status=429,
                         retry_after=1_000_000_000, times=50))
    start = time.monotonic()
    result = runner.get_credentials("--all", "-s", S1, "--timeout", "6s", timeout=120)
    assert time.monotonic() - start < 12
    assert result.returncode != 0
    _clean_failure(result.stderr)
