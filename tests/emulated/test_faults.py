"""Identity-provider faults through the real command: bounded retries where safe, then one clear paragraph,
and the previous cache untouched."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from akslogin.emulator.world import AKS_SERVER_APP_ID
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import TENANT_ID, AppInfo

TOKEN_PATH = r"/oauth2/v2\.0/token$"
DISCOVERY_PATH = r"openid-configuration$"


def _run(tmp_path: Path, emulator: Emulator, app: AppInfo, *extra: str):  # type: ignore[no-untyped-def]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    return run_akslogin([*spn_args(emulator, app), *extra], env)


@pytest.mark.parametrize(("fault", "tries"), [
    (Fault("entra", TOKEN_PATH, "status", status=429, retry_after=1), 2),
    (Fault("entra", TOKEN_PATH, "status", status=503, times=2), 3),
    (Fault("entra", TOKEN_PATH, "status", status=500), 2),
    (Fault("entra", TOKEN_PATH, "reset"), 2),
    (Fault("entra", DISCOVERY_PATH, "reset"), 1),
    (Fault("entra", DISCOVERY_PATH, "status", status=503), 1),
    (Fault("entra", TOKEN_PATH, "truncate"), 2),
])
def test_transient_faults_are_retried(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo],
                                      fault: Fault, tries: int) -> None:
    emulator.faults.add(fault)
    result = _run(tmp_path, emulator, apps["viewer"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["token"]
    token_posts = emulator.request_log.token_requests()
    # A reset request never reaches the log; a truncated one is logged as answered (200) but was cut off.
    assert any(r.status == 200 for r in token_posts)
    assert len(token_posts) <= tries


def test_retry_after_is_honoured(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    emulator.faults.add(Fault("entra", TOKEN_PATH, "status", status=429, retry_after=2))
    start = time.monotonic()
    result = _run(tmp_path, emulator, apps["viewer"])
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start >= 2


@pytest.mark.parametrize(("fault", "needle"), [
    (Fault("entra", TOKEN_PATH, "status", status=503, times=10), "answered HTTP 503"),
    (Fault("entra", TOKEN_PATH, "reset", times=10), "connection was reset"),
    (Fault("entra", TOKEN_PATH, "html", status=502, times=10), "HTML page"),
    (Fault("entra", DISCOVERY_PATH, "html", status=502, times=10), "HTML page"),
    (Fault("entra", TOKEN_PATH, "not_json", times=10), "not JSON"),
    (Fault("entra", DISCOVERY_PATH, "not_json", times=10), "not JSON"),
    (Fault("entra", TOKEN_PATH, "truncate", times=10), "was cut off before it was complete"),
])
def test_persistent_faults_give_one_paragraph(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo],
                                              fault: Fault, needle: str) -> None:
    emulator.faults.add(fault)
    result = _run(tmp_path, emulator, apps["viewer"], "--timeout", "20s")
    assert result.returncode == 1 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("akslogin: "), result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_slow_answer_past_timeout(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    emulator.faults.add(Fault("entra", TOKEN_PATH, "slow", delay=30, times=5))
    start = time.monotonic()
    result = _run(tmp_path, emulator, apps["viewer"], "--timeout", "3s")
    elapsed = time.monotonic() - start
    assert result.returncode == 1
    assert "did not answer" in result.stderr or "time limit" in result.stderr
    # The IdP would answer after 30 s; the run gives up at its 3 s budget (generous margin for a busy machine).
    assert elapsed < 20, "the whole run must respect --timeout"


def test_dns_failure(tmp_path: Path, apps: dict[str, AppInfo]) -> None:
    args = ["get-token", "-l", "spn", "--server-id", AKS_SERVER_APP_ID, "-t", TENANT_ID, "--client-id",
            apps["viewer"].client_id, "--authority-host", "https://login.no-such-host.invalid/", "--timeout", "10s"]
    result = run_akslogin(args, clean_env(tmp_path, AZURE_CLIENT_SECRET="x"))
    assert result.returncode == 1
    assert "does not resolve" in result.stderr and "Traceback" not in result.stderr


def test_failure_keeps_the_previous_valid_cache(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    first = _run(tmp_path, emulator, app)
    assert first.returncode == 0
    cache_files = list((tmp_path / ".kube" / "cache" / "akslogin" / "tokens").iterdir())
    before = cache_files[0].read_bytes()
    emulator.clock.advance(0)  # the cached token stays valid: no network needed, faults irrelevant
    emulator.faults.add(Fault("entra", ".*", "status", status=503, times=50))
    again = _run(tmp_path, emulator, app)
    assert again.returncode == 0 and json.loads(again.stdout) == json.loads(first.stdout)
    # A different identity fails; the first identity's cache file is untouched.
    other = run_akslogin(spn_args(emulator, apps["editor"]), clean_env(
        tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=apps["editor"].secret or ""))
    assert other.returncode == 1
    assert cache_files[0].read_bytes() == before
