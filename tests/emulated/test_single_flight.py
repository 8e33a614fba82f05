"""Single flight: many get-token processes at once make one token request; a dead lock holder blocks nobody.

Real processes (the installed console script, all started with Popen before any is waited for, as a
kubectl fan-out does) against this module's own emulator; requests are counted in its request log. The
scenarios are ``bench/harness.py`` ``SWARM_SCENARIOS`` (shared with ``bench/run``): a service principal
with an empty cache, and a signed-in user whose access token has expired while the refresh token is valid.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.tokencache.entry import parse_entry
from support.paths import BENCH

sys.path.insert(0, str(BENCH))
from harness import (
    SWARM_SCENARIOS,
    Invocation,
    Run,
    Scenario,
    cache_entries_valid,
    exec_credential_token,
    killed_lock_holder,
    run_measured,
    scenario_cache_valid,
    spn_invocation,
    swarm,
    world,
)

PROCESSES = 32


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world(), tmp_path_factory.mktemp("swarm-emulator")) as emulator:
        yield emulator


@pytest.mark.parametrize("scenario", SWARM_SCENARIOS, ids=[s.name for s in SWARM_SCENARIOS])
def test_many_processes_make_one_token_request(scenario: Scenario, emu: Emulator, tmp_path: Path) -> None:
    invocation = scenario.prepare(emu, tmp_path)
    emu.request_log.reset()
    # Refresh tokens are single-use from here on (Entra rotates them): a second concurrent refresh with the
    # same refresh token would be refused, and a lost rotated one would break the next refresh below.
    emu.entra.settings.refresh_token_single_use = True
    try:
        runs, _ = swarm(invocation.argv, invocation.env, PROCESSES, timeout=60)
        assert [r.stderr for r in runs if r.returncode != 0] == []
        tokens = {exec_credential_token(r.stdout) for r in runs}
        assert None not in tokens and len(tokens) == 1, "every process prints the same valid ExecCredential"
        assert [(e.grant_type, e.status) for e in emu.request_log.token_requests()] == [(scenario.grant, 200)]
        assert len(emu.request_log.entries()) <= 2  # the token request, and discovery if the tenant was new
        assert scenario_cache_valid(scenario, tmp_path / "cache")
        if scenario.user_cache:
            _check_saved_sign_in(invocation, emu, tmp_path / "cache", runs)
    finally:
        emu.entra.settings.refresh_token_single_use = False


def _check_saved_sign_in(invocation: Invocation, emu: Emulator, cache: Path, runs: list[Run]) -> None:
    """The one refresh wrote the token all processes printed to the hot cache and to the saved sign-in, next
    to the (rotated) refresh token; and that refresh token works: once the access token has run out, the
    next get-token redeems it, one request, accepted."""
    printed = {exec_credential_token(r.stdout) for r in runs}
    assert len(printed) == 1
    (hot,) = (cache / "tokens").iterdir()
    (saved,) = (cache / "msal").iterdir()
    entry = parse_entry(hot.read_bytes())
    assert entry is not None and {entry.token} == printed
    # The saved sign-in may be encrypted at rest (--cache-storage auto); read it the way akslogin does.
    from akslogin.tokencache.secure import SecretFiles

    files = SecretFiles(str(cache), "auto")
    plain = files.read(str(saved))
    assert plain is not None
    msal_cache = json.loads(plain)
    assert printed <= {at["secret"] for at in msal_cache["AccessToken"].values()}
    assert len(msal_cache["RefreshToken"]) == 1
    # Time passes: both copies of the access token expire (the saved sign-in is rewritten as MSAL would see it
    # an hour later; the hot entry is simply gone).
    for at in msal_cache["AccessToken"].values():
        at["expires_on"] = at["extended_expires_on"] = "1"
    files.write(str(saved), json.dumps(msal_cache).encode())
    hot.unlink()
    emu.request_log.reset()
    after = run_measured(invocation.argv, invocation.env)
    assert after.returncode == 0, after.stderr
    assert exec_credential_token(after.stdout) not in printed | {None}
    assert [(e.grant_type, e.status) for e in emu.request_log.token_requests()] == [("refresh_token", 200)]


def test_a_killed_lock_holder_does_not_block_the_next_process(emu: Emulator, tmp_path: Path) -> None:
    """The holder's token request hangs (emulator fault); it is SIGKILLed while holding the identity lock;
    the process waiting behind it carries on at once instead of waiting for the hung request or its timeout.
    Last in this module: the hung request is logged by the emulator only when its delay ends."""
    invocation = spn_invocation(emu, tmp_path, "a")
    emu.request_log.reset()
    result = killed_lock_holder(emu, invocation, invocation, tmp_path / "cache", delay=20.0)
    assert result.holder_held_lock
    assert result.waiter.returncode == 0, result.waiter.stderr
    assert exec_credential_token(result.waiter.stdout)
    assert result.waiter_after_kill < result.delay / 2
    assert cache_entries_valid(tmp_path / "cache")
    # The waiter's own request is the only one that completed (the holder's is still sleeping).
    assert [e.grant_type for e in emu.request_log.token_requests()] == ["client_credentials"]


@pytest.mark.parametrize("outage", ["503", "refused"])
def test_an_outage_is_reported_as_an_outage_by_every_waiter(emu: Emulator, tmp_path: Path, outage: str) -> None:
    """Issue 23.11: with no valid token left and the IdP down, the lock holder's failure is reused by the
    processes that queued behind it (a short back-off) instead of each asking again or timing out on the lock."""
    from akslogin.emulator.net.faults import Fault

    invocation = spn_invocation(emu, tmp_path, "a")
    argv = list(invocation.argv)
    if outage == "503":
        emu.faults.add(Fault("entra", r"/token$", "status", status=503, times=10_000))
    else:
        import socket

        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()  # nothing listens there: every connection is refused
        argv[argv.index("--authority-host") + 1] = f"https://127.0.0.1:{port}/"
    emu.request_log.reset()
    try:
        runs, _ = swarm(argv, invocation.env, 64, timeout=120)
    finally:
        emu.faults.clear()
    assert all(r.returncode == 1 for r in runs)
    said = "HTTP 503" if outage == "503" else "connection refused"
    assert [r.stderr for r in runs if said not in r.stderr] == []
    assert not [r.stderr for r in runs if "held the token lock" in r.stderr or "Traceback" in r.stderr]
    if outage == "503":
        # The lock holder's own tries (3, with back-off), and at most a few from processes that started after
        # its failure had aged out of the back-off: never one or more per process.
        assert len(emu.request_log.token_requests()) <= 9, len(emu.request_log.token_requests())
