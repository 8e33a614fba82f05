"""A hostile or broken identity provider, through the real command: redirects are refused without sending the
secret anywhere, a trickling server is cut off at --timeout (and the identity lock released), endless bodies
are cut off at the size limit, and odd token answers are rejected or clamped with a message that names the
real cause."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from support.run import akslogin_bin, clean_env, decode_jwt_payload, run_akslogin, spn_args
from support.worlds import AppInfo

TOKEN_PATH = r"/oauth2/v2\.0/token$"


class Listener:
    """A TCP port that records every connection made to it (a redirect target that must get nothing)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.received.append(conn.recv(65536))
            except OSError:
                self.received.append(b"")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _env(tmp_path: Path, app: AppInfo) -> dict[str, str]:
    return clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")


def _one_paragraph(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("akslogin: "), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    return lines[0]


@pytest.mark.parametrize("status", [307, 308, 302])
def test_token_request_redirect_is_refused_and_the_secret_stays_home(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo], status: int) -> None:
    target = Listener()
    try:
        emulator.faults.add(Fault("entra", TOKEN_PATH, "redirect", status=status, times=5,
                                  location=f"http://127.0.0.1:{target.port}/steal"))
        app = apps["viewer"]
        result = run_akslogin(spn_args(emulator, app), _env(tmp_path, app))
        time.sleep(0.3)
    finally:
        target.close()
    assert result.returncode == 1 and result.stdout == ""
    line = _one_paragraph(result.stderr)
    assert f"HTTP {status}" in line and f"http://127.0.0.1:{target.port}/steal" in line
    assert emulator.authority_host.rstrip("/") in line and "nothing was sent there" in line
    assert target.received == [], "the token request must not reach the redirect target"
    assert (app.secret or "") not in result.stderr


def test_trickling_idp_is_cut_off_at_timeout_and_the_lock_released(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    emulator.faults.add(Fault("entra", TOKEN_PATH, "trickle", delay=1.0))
    app = apps["viewer"]
    env = _env(tmp_path, app)
    start = time.monotonic()
    first = subprocess.Popen([akslogin_bin(), *spn_args(emulator, app), "--timeout", "5s"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = first.communicate(timeout=60)
    finally:
        first.kill()
    elapsed = time.monotonic() - start
    assert first.returncode == 1
    assert "time limit of 5s ran out" in _one_paragraph(stderr)
    # One byte a second would keep a per-read timeout happy for minutes: the run's deadline ended it.
    assert elapsed < 40
    # The identity lock is free again: the next run (the fault is used up) gets a token at once.
    second = run_akslogin(spn_args(emulator, app), env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["status"]["token"]


def test_endless_body_is_cut_off_at_the_size_limit(tmp_path: Path, emulator: Emulator,
                                                   apps: dict[str, AppInfo]) -> None:
    emulator.faults.add(Fault("entra", TOKEN_PATH, "endless", times=5))
    app = apps["viewer"]
    result = run_akslogin(spn_args(emulator, app), _env(tmp_path, app))
    assert result.returncode == 1
    line = _one_paragraph(result.stderr)
    assert "larger than 4 MiB" in line and "stopped reading" in line


def _token_with(tmp_path: Path, emulator: Emulator, app: AppInfo, patch: dict[str, object]
                ) -> subprocess.CompletedProcess[str]:
    emulator.faults.add(Fault("entra", TOKEN_PATH, "patch", patch=patch, times=5))
    return run_akslogin(spn_args(emulator, app), _env(tmp_path, app))


@pytest.mark.parametrize(("patch", "needle"), [
    ({"access_token": ""}, "an empty access token"),
    ({"token_type": "pop"}, "proof-of-possession token"),
    ({"expires_in": 0}, "without a usable expiry"),
])
def test_unusable_token_answers_are_rejected(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo],
                                             patch: dict[str, object], needle: str) -> None:
    result = _token_with(tmp_path, emulator, apps["viewer"], patch)
    assert result.returncode == 1 and result.stdout == ""
    assert needle in _one_paragraph(result.stderr)
    assert not list((tmp_path / ".kube" / "cache" / "akslogin" / "tokens").glob("*.json"))


@pytest.mark.parametrize("patch", [{"expires_in": 10**12}, {"expires_in": 10**12, "expires_on": 1e20}])
def test_absurd_lifetimes_are_capped_and_later_runs_still_work(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo], patch: dict[str, object]) -> None:
    app = apps["viewer"]
    result = _token_with(tmp_path, emulator, app, patch)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)["status"]
    exp = decode_jwt_payload(status["token"])["exp"]
    # Cached no longer than the token itself says it lives (exp - iat), not until the year 33715.
    entry = json.loads(next((tmp_path / ".kube" / "cache" / "akslogin" / "tokens").glob("*.json")).read_text())
    assert entry["expires_on"] <= exp + 60 and entry["expires_on"] < time.time() + 2 * 3600
    assert status["expirationTimestamp"].startswith(time.strftime("%Y", time.gmtime(exp)))
    again = run_akslogin(spn_args(emulator, app), _env(tmp_path, app))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"]["token"] == status["token"]


@pytest.mark.parametrize("value", ["3599.5", "soon", 3599.5])
def test_odd_expires_in_names_the_field_not_json(tmp_path: Path, emulator: Emulator,
                                                 apps: dict[str, AppInfo], value: object) -> None:
    result = _token_with(tmp_path, emulator, apps["viewer"], {"expires_in": value})
    if result.returncode == 0:  # a number MSAL can read is fine too
        assert json.loads(result.stdout)["status"]["token"]
        return
    line = _one_paragraph(result.stderr)
    assert "not JSON" not in line
    assert f"expires_in ('{value}') is not a whole number of seconds" in line


def test_deeply_nested_json_is_called_unusable_not_a_federated_failure(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    emulator.faults.add(Fault("entra", TOKEN_PATH, "raw", status=200, times=5,
                              body='{"access_token": ' + "[" * 100000 + "]" * 100000 + "}"))
    app = apps["viewer"]
    result = run_akslogin(spn_args(emulator, app), _env(tmp_path, app))
    assert result.returncode == 1
    line = _one_paragraph(result.stderr)
    assert "federated" not in line
    assert "could not be used" in line or "nested" in line
