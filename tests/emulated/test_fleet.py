"""get-credentials --all over a fleet of 55 clusters in 5 subscriptions, end to end, plus concurrency and speed.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from akslogin import options
from akslogin.emulator import Emulator
from akslogin.log import Log
from akslogin.resourcegraph import Filters, Scope
from akslogin.usecases.arm_import import ImportSettings, open_session
from akslogin.usecases.fleet import Progress, collect
from support import fleet as shared
from support.armworld import FLEETBOT, Runner, named, sub_id
from support.fleet import PER_SUB, SUBS
from support.run import akslogin_bin


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from shared.runner(emu, tmp_path)


def test_subscriptions_can_be_chosen_and_conflicts_are_skipped(runner: Runner) -> None:
    first = runner.get_credentials("--all", "-s", sub_id(101), principal=FLEETBOT, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "11 imported" in first.stdout and "(11 clusters in 1 subscription(s))" in first.stdout
    # Another identity's import of the same names differs (other client id): skipped, not clobbered.
    data = runner.config()
    user_name = named(data, "contexts", "app-1-3")["context"]["user"]
    named(data, "users", user_name)["user"]["exec"]["args"].append("--v")
    named(data, "users", user_name)["user"]["exec"]["args"].append("1")
    runner.kubeconfig.write_text(yaml.safe_dump(data))
    second = runner.get_credentials("--all", "-s", sub_id(101), principal=FLEETBOT)
    assert second.returncode == 0, second.stderr
    assert "0 imported, 10 unchanged, 1 skipped" in second.stdout
    assert "already has a different user" in second.stdout and "--overwrite-existing" in second.stdout


def test_two_processes_importing_different_clusters_lose_nothing(runner: Runner) -> None:
    env = runner.env(FLEETBOT)
    procs = []
    for subs in ((sub_id(101), sub_id(102)), (sub_id(104), sub_id(105))):
        argv = [akslogin_bin(), "get-credentials", *runner.signin(FLEETBOT), "--arm-endpoint",
                runner.emu.server_url("arm"), "--exec-command", akslogin_bin(), "--all", "--max-concurrency", "4"]
        for s in subs:
            argv += ["-s", s]
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    # and a third writer doing single clusters at the same time
    singles = [runner.get_credentials("-g", "rg-a", "-n", "svc-3", "-s", sub_id(103), principal=FLEETBOT)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert all(s.returncode == 0 for s in singles)
    contexts = {c["name"] for c in runner.config()["contexts"]}
    assert len(contexts) == 4 * PER_SUB + 1
    assert "svc-3" in contexts and "app-5-10" in contexts and "app-1-3" in contexts


def test_serial_and_parallel_fetch_give_the_same_result(runner: Runner, emu: Emulator) -> None:
    """The bounded pool changes only the speed (measured in bench/, not here): same clusters, same failures."""
    opts = options.parse_args(runner.signin(FLEETBOT))
    options.apply_env(opts, runner.env(FLEETBOT))
    session = open_session(opts, runner.env(FLEETBOT), io.StringIO(), Log(0), arm_endpoint=emu.server_url("arm"),
                           pool_size=16)
    settings = ImportSettings()
    subs = [sub_id(100 + s) for s in range(1, SUBS + 1)]
    emu.faults.set_latency("arm", 0.02)
    results = {}
    for workers in (1, 16):
        got = collect(session, Scope(subscriptions=subs), Filters(), settings, workers, Progress(None))
        assert len(got.fetched) == SUBS * PER_SUB - 1 and len(got.failures) == 1
        assert got.discovery.via == "resource graph" and got.discovery.requests == 1
        results[workers] = sorted(str(item.cluster) for item in got.fetched)
    assert results[1] == results[16]


def test_get_credentials_builds_its_http_client_with_what_the_caller_hands_in(runner: Runner, emu: Emulator,
                                                                              tmp_path: Path) -> None:
    """The use case names no HTTP class: every ARM request of a whole --all import goes through the client the
    caller's ``make_http`` built (one client, shared by the pool), and nothing reaches ARM another way."""
    from akslogin.http import HttpClient
    from akslogin.usecases.get_credentials import GetCredentialsRequest, run

    built: list[HttpClient] = []
    sent: list[str] = []

    class Recording(HttpClient):
        def request(self, method: str | bytes, url: str | bytes, *args: object, **kwargs: object) -> object:
            sent.append(str(url))
            return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]

    def make_http(*args: object, **kwargs: object) -> HttpClient:
        built.append(Recording(*args, **kwargs))  # type: ignore[arg-type]
        return built[-1]

    env = runner.env(FLEETBOT)
    opts = options.parse_args(runner.signin(FLEETBOT))
    options.apply_env(opts, env)
    target = tmp_path / "fleet.kubeconfig"
    req = GetCredentialsRequest(signin=opts, all=True, file=str(target), arm_endpoint=emu.server_url("arm"),
                                exec_command=akslogin_bin())
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run(req, env, stdout, stderr, make_http=make_http) == 1  # the one denied cluster
    arm_requests = len(emu.request_log.entries("arm"))
    assert len(built) == 1 and arm_requests > SUBS
    assert built[0].timeout == 1800  # --all without --timeout (or AZURE_CLI_TIMEOUT): 30 minutes, not 60 s
    assert len([u for u in sent if u.startswith(emu.server_url("arm"))]) == arm_requests
    assert len(yaml.safe_load(target.read_text())["contexts"]) == SUBS * PER_SUB - 1
