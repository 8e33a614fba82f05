"""Refresh ahead: the first call in the second half of a token's usable life is served the cached token at
once and schedules one detached process that renews it two minutes before get-token's 5-minute margin, so no
kubectl call waits for the identity provider.

Real processes against the session emulator: the first token lives 400 s and its cache entry is made to say it
was issued an hour before it expires (support.refresh_window), so it is in the renewal window; the renewed one
(an hour, just received) is not.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from akslogin.tokencache.entry import parse_entry
from akslogin.tokens import refresh_ahead
from support.refresh_window import IN_WINDOW, SCHEDULED, SCHEDULED_IN, into_renewal_window
from support.run import akslogin_bin, clean_env, run_akslogin, spn_args, user_args
from support.worlds import PASSWORD, USER_DOMAIN, AppInfo

TOKEN_PATH = r"/oauth2/v2\.0/token$"


def _token(stdout: str) -> str:
    value: str = json.loads(stdout)["status"]["token"]
    return value


def _cached(cache: Path) -> str | None:
    entries = list((cache / "tokens").glob("*.json"))
    if len(entries) != 1:
        return None
    parsed = parse_entry(entries[0].read_bytes())
    return parsed.token if parsed else None


def _wait_for(condition: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def _first_token_in_window(tmp_path: Path, emulator: Emulator, app: AppInfo, lifetime: int = IN_WINDOW
                           ) -> tuple[list[str], dict[str, str], str]:
    cache = tmp_path / "cache"
    args = spn_args(emulator, app, cache_dir=cache)
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    emulator.entra.settings.access_token_lifetime = lifetime
    first = run_akslogin(args, env)
    assert first.returncode == 0, first.stderr
    into_renewal_window(cache)
    emulator.entra.settings.access_token_lifetime = 3599
    emulator.request_log.reset()
    return args, env, _token(first.stdout)


def test_a_token_near_its_end_is_served_at_once_and_renewed_in_the_background(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    args, env, old = _first_token_in_window(tmp_path, emulator, apps["viewer"])
    # The IdP takes 3 s to answer; the call must have ended before that answer (the emulator runs in this
    # process, so its request log and this test share one monotonic clock).
    emulator.faults.add(Fault("entra", TOKEN_PATH, "slow", delay=3.0, times=1))
    served = run_akslogin(args, env)
    ended = time.monotonic()
    assert served.returncode == 0, served.stderr
    assert _token(served.stdout) == old and served.stderr == ""
    cache = tmp_path / "cache"
    assert _wait_for(lambda: _cached(cache) not in (None, old)), "the background renewal never wrote a token"
    renewed = _cached(cache)
    requests = emulator.request_log.token_requests()
    assert [(r.grant_type, r.status) for r in requests] == [("client_credentials", 200)]
    assert requests[0].answered > ended, "get-token waited for the identity provider"
    after = run_akslogin(args, env)
    assert _token(after.stdout) == renewed  # later calls get the renewed token from the cache
    assert len(emulator.request_log.token_requests()) == 1


def test_a_renewal_scheduled_early_in_the_window_waits_for_its_moment(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    """Issue 29.1: the first call in the window schedules the renewal for two minutes before the margin; calls
    meanwhile are served the cached token and start nothing; at the moment, exactly one request is made."""
    args, env, old = _first_token_in_window(tmp_path, emulator, apps["viewer"], lifetime=SCHEDULED)
    scheduled = time.monotonic()
    served = run_akslogin(args, env)
    assert served.returncode == 0 and _token(served.stdout) == old and served.stderr == ""
    for _ in range(3):  # calls while the renewal waits: the marker holds, nothing else starts
        assert _token(run_akslogin(args, env).stdout) == old
    assert emulator.request_log.token_requests() == [], "the renewal did not wait for its moment"
    cache = tmp_path / "cache"
    assert _wait_for(lambda: _cached(cache) not in (None, old), timeout=SCHEDULED_IN + 30), \
        "the scheduled renewal never wrote a token"
    requests = emulator.request_log.token_requests()
    assert [(r.grant_type, r.status) for r in requests] == [("client_credentials", 200)]
    assert requests[0].answered - scheduled >= SCHEDULED_IN - 2  # not before its moment (1 s of token rounding)
    assert _token(run_akslogin(args, env).stdout) == _cached(cache)


def test_a_burst_in_the_window_starts_one_renewal(tmp_path: Path, emulator: Emulator,
                                                  apps: dict[str, AppInfo]) -> None:
    args, env, old = _first_token_in_window(tmp_path, emulator, apps["viewer"])
    procs = [subprocess.Popen([akslogin_bin(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, stdin=subprocess.DEVNULL) for _ in range(16)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _out, err in outputs]
    cache = tmp_path / "cache"
    assert _wait_for(lambda: _cached(cache) not in (None, old))
    renewed = _cached(cache)
    # The call that started the renewal was served the old token; one that began after the renewal had
    # written its token is served that one (how many do depends on how fast 16 processes start); none a third.
    served = {_token(out) for out, _err in outputs}
    assert old in served and served <= {old, renewed}, "a call was served a token of a second renewal"
    time.sleep(1.0)  # any second renewal would have been started by now
    assert len(emulator.request_log.token_requests()) == 1


def test_a_failing_renewal_keeps_the_token_and_is_shown_at_v1(tmp_path: Path, emulator: Emulator,
                                                             apps: dict[str, AppInfo]) -> None:
    args, env, old = _first_token_in_window(tmp_path, emulator, apps["viewer"])
    emulator.faults.add(Fault("entra", TOKEN_PATH, "status", status=503, times=1000))
    served = run_akslogin(args, env)
    assert _token(served.stdout) == old
    cache = tmp_path / "cache"
    opts_key = next((cache / "tokens").glob("*.json")).stem
    error_file = Path(refresh_ahead.error_path(str(cache), opts_key))
    assert _wait_for(error_file.exists), "the failed renewal left no reason"
    assert _cached(cache) == old  # the valid token stays
    verbose = run_akslogin([*args, "-v", "1"], env)
    assert verbose.returncode == 0 and _token(verbose.stdout) == old
    assert "background token renewal" in verbose.stderr and "503" in verbose.stderr
    assert (apps["viewer"].secret or "") not in verbose.stderr
    # Within RETRY_SPACING no new renewal starts, however many calls come.
    before = len(emulator.request_log.token_requests())
    for _ in range(3):
        assert _token(run_akslogin(args, env).stdout) == old
    time.sleep(1.0)
    assert len(emulator.request_log.token_requests()) == before
    emulator.faults.clear()


def test_a_saved_sign_in_is_renewed_with_its_refresh_token(tmp_path: Path, user_emu: Emulator) -> None:
    """MSAL would hand back its cached access token (it still has more than MSAL's own 5 minutes); the
    background renewal must redeem the refresh token instead, or it renews nothing."""
    cache = tmp_path / "cache"
    args = user_args(user_emu, "ropc", cache)
    env = clean_env(tmp_path, AAD_USER_PRINCIPAL_NAME=f"viewer@{USER_DOMAIN}", AAD_USER_PRINCIPAL_PASSWORD=PASSWORD)
    user_emu.entra.settings.access_token_lifetime = IN_WINDOW
    first = run_akslogin(args, env)
    assert first.returncode == 0, first.stderr
    into_renewal_window(cache)
    user_emu.entra.settings.access_token_lifetime = 3599
    user_emu.request_log.reset()
    old = _token(first.stdout)
    served = run_akslogin(args, env)
    assert served.returncode == 0 and _token(served.stdout) == old
    assert _wait_for(lambda: _cached(cache) not in (None, old)), "the background renewal did not renew the token"
    assert [(r.grant_type, r.status) for r in user_emu.request_log.token_requests()] == [("refresh_token", 200)]
    assert _token(run_akslogin(args, env).stdout) == _cached(cache)


def test_outside_the_window_nothing_is_started(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    cache = tmp_path / "cache"
    args = spn_args(emulator, app, cache_dir=cache)
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    assert run_akslogin(args, env).returncode == 0
    for _ in range(3):
        assert run_akslogin(args, env).returncode == 0
    time.sleep(0.5)
    assert len(emulator.request_log.token_requests()) == 1
    assert not list((cache / "locks").glob("*.refresh"))


def _command_lines() -> list[str]:
    lines = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace"))
            except OSError:
                continue
    return lines


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads other processes' command lines from /proc")
def test_the_background_renewal_keeps_a_secret_flag_out_of_its_command_line(
        tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    """Issue 23.12: a secret given as a flag (kubelogin allows --client-secret) must not show in ps for the whole
    renewal; the detached process gets its arguments on a pipe."""
    app = apps["viewer"]
    secret = app.secret or ""
    cache = tmp_path / "cache"
    args = [*spn_args(emulator, app, cache_dir=cache), "--client-secret", secret]
    env = clean_env(tmp_path)
    emulator.entra.settings.access_token_lifetime = IN_WINDOW
    first = run_akslogin(args, env)
    emulator.entra.settings.access_token_lifetime = 3599
    assert first.returncode == 0, first.stderr
    into_renewal_window(cache)
    old = _token(first.stdout)
    emulator.request_log.reset()
    emulator.faults.add(Fault("entra", TOKEN_PATH, "slow", delay=3.0, times=1))
    served = run_akslogin(args, env)
    assert served.returncode == 0 and _token(served.stdout) == old
    seen_secret: list[str] = []
    deadline = time.monotonic() + 2.5  # the renewal is waiting for the slow IdP meanwhile
    while time.monotonic() < deadline:
        seen_secret += [line for line in _command_lines() if secret in line and "bin/pytest" not in line]
        time.sleep(0.05)
    assert seen_secret == []
    assert _wait_for(lambda: _cached(cache) not in (None, old)), "the background renewal never wrote a token"
    assert [(r.grant_type, r.status) for r in emulator.request_log.token_requests()] == [("client_credentials", 200)]
