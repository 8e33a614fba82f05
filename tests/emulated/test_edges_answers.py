"""Issue 23.6, 23.10 and 23.11: token and ARM answers of the wrong shape or over the bounds are refused with a
paragraph that names the real cause; they are never cached or handed to kubectl."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo

TOKEN_PATH = r"/oauth2/v2\.0/token$"


def _one_paragraph(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("akslogin: "), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return lines[0]


def _token_answer(tmp_path: Path, emulator: Emulator, app: AppInfo, body: str
                  ) -> subprocess.CompletedProcess[str]:
    emulator.faults.add(Fault("entra", TOKEN_PATH, "raw", status=200, times=5, body=body))
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    return run_akslogin(spn_args(emulator, app), env)


def _cached(tmp_path: Path) -> list[Path]:
    return list((tmp_path / ".kube" / "cache" / "akslogin" / "tokens").glob("*.json"))


GOOD = '"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599'


@pytest.mark.parametrize(("body", "needle"), [
    ('[{"access_token": "abc"}]', "not a JSON object"),
    ('{"access_token": {"a": 1}, ' + GOOD + "}", "access_token that is not a string"),
    ('{"access_token": ["x"], ' + GOOD + "}", "access_token that is not a string"),
    ('{"access_token": "abc", "token_type": "Bearer", "expires_in": null}', "without a usable expiry"),
    ('{"access_token": "abc", "token_type": "Bearer", "expires_in": 1e400}', "without a usable expiry"),
    ('{"access_token": "abc", "token_type": "Bearer", "expires_in": ' + "9" * 100_000 + "}", "too long"),
    ("{}", "no access token"),
    ('{"access_token": "abc", ' + GOOD + ', "x": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
])
def test_a_token_answer_of_the_wrong_shape_is_refused_and_not_cached(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo], body: str, needle: str) -> None:
    result = _token_answer(tmp_path, emulator, apps["viewer"], body)
    assert result.returncode == 1 and result.stdout == "", (result.stdout, result.stderr)
    line = _one_paragraph(result.stderr)
    assert needle in line, line
    assert not _cached(tmp_path)


def test_a_good_answer_after_a_bad_one_is_used(tmp_path: Path, emulator: Emulator,
                                               apps: dict[str, AppInfo]) -> None:
    bad = _token_answer(tmp_path, emulator, apps["viewer"], '{"access_token": {"a": 1}, ' + GOOD + "}")
    assert bad.returncode == 1
    emulator.faults.clear()
    app = apps["viewer"]
    good = run_akslogin(spn_args(emulator, app), clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret
                                                                      or ""))
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["status"]["token"].count(".") == 2


@pytest.mark.parametrize("content", ['{"version": 1, "entries": ' + "[" * 50_000 + "]" * 50_000 + "}",
                                     '{"version": 1, "entries": {}, "n": ' + "7" * 100_000 + "}",
                                     '{"version": 1, "entr'])
def test_a_broken_discovery_cache_is_quarantined_and_the_token_still_comes(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo], content: str) -> None:
    app = apps["viewer"]
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / "discovery.json").write_text(content)
    (cache / "discovery.json").chmod(0o600)
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    result = run_akslogin(spn_args(emulator, app, cache_dir=cache), env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    kept = list(cache.glob("discovery.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == content
    assert json.loads((cache / "discovery.json").read_text())["version"] == 1



def test_a_trickling_api_server_is_cut_off_at_the_timeout(tmp_path: Path, emulator: Emulator,
                                                           apps: dict[str, AppInfo]) -> None:
    from support.run import write_kubeconfig

    app = apps["viewer"]
    kubeconfig = write_kubeconfig(tmp_path / "config", emulator, "aks1",
                                  [*spn_args(emulator, app, cache_dir=tmp_path / "cache"), "--timeout", "5s"])
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    emulator.faults.add(Fault("aks:aks1", "selfsubjectreviews", "trickle", delay=1.0, times=5))
    start = time.monotonic()
    result = run_akslogin(["whoami", "--kubeconfig", str(kubeconfig)], env, timeout=120)
    assert time.monotonic() - start < 15
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "time limit of 5s ran out" in result.stdout + result.stderr, (result.stdout, result.stderr)


@pytest.mark.parametrize(("fault", "needle", "wrong"), [
    (Fault("entra", TOKEN_PATH, "trickle_headers", delay=1.0, times=5), "time limit of 5s ran out", "not JSON"),
    (Fault("entra", TOKEN_PATH, "huge_header", times=5), "too large", "reset"),
    (Fault("entra", TOKEN_PATH, "truncate", times=5), "cut off", "cannot connect"),
], ids=["trickled-headers", "1-MiB-header-line", "reset-mid-body"])
def test_a_broken_answer_is_named_for_what_broke(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo],
                                                 fault: Fault, needle: str, wrong: str) -> None:
    app = apps["viewer"]
    emulator.faults.add(fault)
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    start = time.monotonic()
    result = run_akslogin([*spn_args(emulator, app), "--timeout", "5s"], env, timeout=60)
    assert time.monotonic() - start < 15
    assert result.returncode == 1
    line = _one_paragraph(result.stderr)
    assert needle in line and wrong not in line, line


def test_a_cache_dir_that_is_a_file_is_said_so(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    cache = tmp_path / "not-a-dir"
    cache.write_text("x")
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    result = run_akslogin(spn_args(emulator, app, cache_dir=cache), env)
    assert result.returncode == 1
    line = _one_paragraph(result.stderr)
    assert f"the cache directory {cache} is a file, not a directory" in line, line
    assert "--cache-dir" in line


def test_the_tls_hostname_mismatch_reason_is_whole(emulator: Emulator) -> None:
    import socket
    import ssl

    from akslogin.netreason import tls_reason

    ctx = ssl.create_default_context(cafile=str(emulator.ca_path))
    port = int(emulator.authority_host.rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, \
            pytest.raises(ssl.SSLCertVerificationError) as info:
        ctx.wrap_socket(sock, server_hostname="wrong.example")
    reason = tls_reason(str(info.value))
    assert reason.startswith("hostname mismatch") and "'wrong.example'" in reason, reason
