"""A simulated working day: does any kubectl call wait for the identity provider after the first sign-in?

One process runs get-token in-process (``akslogin.usecases.get_token.run``) every 10 simulated seconds for 8
simulated hours, per login mode, against the emulator, with ``time.time`` replaced by a simulated clock for the
whole process (akslogin, MSAL and the emulator agree on it; TLS and timeouts keep the real clocks). The k-th
token the emulator issues in a day lives 60-90 minutes (seeded random, the same sequence for both variants of
a mode). A background renewal that get-token starts is run right after the call that started it, as the
detached process would run beside kubectl.

A call *blocks* when a token request reaches the emulator while it runs. Each mode runs twice: with refresh
ahead (today's akslogin) and with it switched off (the synchronous renewal only, akslogin before it; the
same schedule kubelogin follows: one blocking renewal per token lifetime). Refresh ahead renews each token
two minutes sooner than the synchronous path would, so over a day its schedule runs up to a quarter of an hour
ahead and can fit one more renewal before the day ends: the target allows that one, not more.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import (  # bench/ is on sys.path: this script's own directory, or put there by bench.py
    devicecode_sign_in,
    msi_invocation,
    run_ok,
    spn_invocation,
    user_invocation,
    workload_invocation,
    world,
)

from akslogin.emulator import Emulator
from akslogin.emulator.azure.managed_identity import managed_identities
from akslogin.emulator.entra.federation import federation
from akslogin.tokencache import entry
from akslogin.tokens import refresh_ahead
from akslogin.usecases import get_token

HOURS = 8
INTERVAL = 10.0
LIFETIMES = (3600, 5400)


@dataclass
class DayResult:
    mode: str
    ahead: bool
    calls: int
    blocked: int
    idp_requests: int
    failures: int


class SimClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@contextmanager
def simulated(clock: SimClock, env: dict[str, str]) -> Iterator[None]:
    """``time.time`` on the simulated clock and ``os.environ`` as the invocation's (MSAL's managed identity
    client reads the process environment, as it does when get-token runs as its own process)."""
    real, saved_env = time.time, dict(os.environ)
    time.time = clock  # type: ignore[assignment]
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        time.time = real  # type: ignore[assignment]
        os.environ.clear()
        os.environ.update(saved_env)


def _idp_requests(emu: Emulator) -> int:
    return sum(1 for e in emu.request_log.entries()
               if (e.service == "entra" and e.path.endswith("/token")) or e.service.startswith("imds:"))


def run_day(emu: Emulator, mode: str, argv: list[str], env: dict[str, str], ahead: bool, seed: int,
            clock: SimClock, hours: float = HOURS, each_step: Callable[[], None] | None = None) -> DayResult:
    """``argv``: get-token's flags (without the command); the identity has signed in once already. ``clock``
    carries on from the previous day of the same identity, so its cached tokens stay consistent with it.
    ``each_step``: what the platform does meanwhile (kubelet rotating a projected service-account token)."""
    rng = random.Random(seed)
    lifetimes = [rng.randint(*LIFETIMES) for _ in range(int(hours * 3600 / INTERVAL) + 2)]
    queued: list[bytes] = []  # get-token's arguments as the background renewal gets them on stdin
    saved_lead, saved_spawn = entry.REFRESH_LEAD, refresh_ahead.spawn_detached
    entry.REFRESH_LEAD = saved_lead if ahead else -1e9
    refresh_ahead.spawn_detached = lambda _argv, _env, stdin_data=b"": queued.append(stdin_data)  # type: ignore[assignment]
    settings, mi = emu.entra.settings, managed_identities(emu).settings
    saved = settings.access_token_lifetime, mi.token_lifetime
    calls = blocked = failures = 0
    first = _idp_requests(emu)
    try:
        with simulated(clock, env):
            steps = int(hours * 3600 / INTERVAL)
            for _ in range(steps):
                clock.now += INTERVAL
                if each_step is not None:
                    each_step()
                before = _idp_requests(emu)
                # The k-th token of the day lives lifetimes[k] in both variants, whenever it is asked for.
                settings.access_token_lifetime = mi.token_lifetime = lifetimes[before - first]
                out, err = io.StringIO(), io.StringIO()
                rc = get_token.run(argv, env, out, err, clock=clock)
                calls += 1
                failures += rc != 0
                blocked += _idp_requests(emu) > before
                while queued:  # the background renewal, in process, on the simulated clock
                    refresh_ahead.run(json.loads(queued.pop()), env, clock)
    finally:
        entry.REFRESH_LEAD, refresh_ahead.spawn_detached = saved_lead, saved_spawn  # type: ignore[assignment]
        settings.access_token_lifetime, mi.token_lifetime = saved
    return DayResult(mode, ahead, calls, blocked, _idp_requests(emu) - first, failures)


def table(results: list[DayResult], kubelogin_per_day: Callable[[], float]) -> list[str]:
    lines = [
        "| login mode | kubectl calls | blocked on the IdP, refresh ahead | blocked, synchronous only | "
        "IdP requests, refresh ahead | IdP requests, synchronous only | failed calls |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_mode: dict[str, dict[bool, DayResult]] = {}
    for r in results:
        by_mode.setdefault(r.mode, {})[r.ahead] = r
    for mode, pair in by_mode.items():
        on, off = pair[True], pair[False]
        lines.append(f"| {mode} | {on.calls} | **{on.blocked}** | {off.blocked} | **{on.idp_requests}** | "
                     f"{off.idp_requests} | {on.failures + off.failures} |")
    lines.append(f"| Azure/kubelogin (computed: one blocking renewal per token lifetime) | {results[0].calls} | "
                 f"≈{kubelogin_per_day():.0f} | | ≈{kubelogin_per_day():.0f} | | |")
    return lines


def prepared(emu: Emulator, home: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    """Each mode's get-token call, signed in once (that first sign-in is not part of the day)."""
    calls = []
    spn = spn_invocation(emu, home / "spn", "a")
    run_ok(spn)
    calls.append(("spn", spn))
    wi = workload_invocation(emu, home / "wi", "a")
    run_ok(wi)
    calls.append(("workloadidentity", wi))
    msi = msi_invocation(emu, home / "msi")
    run_ok(msi)
    calls.append(("msi (IMDS)", msi))
    ropc = user_invocation(emu, home / "ropc", "ropc")
    run_ok(ropc)
    calls.append(("ropc (refresh token)", ropc))
    device = user_invocation(emu, home / "devicecode", "devicecode")
    devicecode_sign_in(emu, device)
    calls.append(("devicecode (refresh token)", device))
    return [(name, inv.argv[inv.argv.index("get-token") + 1:], inv.env) for name, inv in calls]


def working_day(emu: Emulator, home: Path, hours: float = HOURS) -> tuple[list[str], bool]:
    """Section 6 of RESULTS.md: every mode, synchronous only and with refresh ahead. Each variant signs in
    on its own cache at the same instant and gets the same token lifetimes (same seed), so the two days of
    a mode differ only in refresh ahead."""
    results: list[DayResult] = []
    # The first sign-in's tokens live an hour too (IMDS would give 24 hours, which no day would renew).
    saved = emu.entra.settings.access_token_lifetime, managed_identities(emu).settings.token_lifetime
    emu.entra.settings.access_token_lifetime = managed_identities(emu).settings.token_lifetime = LIFETIMES[0]
    try:
        start = time.time()
        variants = {ahead: prepared(emu, home / ("ahead" if ahead else "sync")) for ahead in (False, True)}
    finally:
        emu.entra.settings.access_token_lifetime, managed_identities(emu).settings.token_lifetime = saved
    for i in range(len(variants[False])):
        for ahead in (False, True):
            name, argv, env = variants[ahead][i]
            clock = SimClock(start)
            hook = None
            if name == "workloadidentity":
                token_file = Path(env["AZURE_FEDERATED_TOKEN_FILE"])
                written = [clock.now]

                def rotate(token_file: Path = token_file, written: list[float] = written,
                           clock: SimClock = clock) -> None:
                    if clock.now - written[0] >= 1800:  # the kubelet renews the projected token well before its hour
                        token_file.write_text(federation(emu).service_account_token("bench", "a"))
                        written[0] = clock.now
                hook = rotate
            results.append(run_day(emu, name, argv, env, ahead, seed=1000 + i, clock=clock, hours=hours,
                                   each_step=hook))
    per_day = hours * 3600 / (sum(LIFETIMES) / 2)
    on = [r for r in results if r.ahead]
    off = {r.mode: r for r in results if not r.ahead}
    met = all(r.blocked == 0 and r.failures == 0 and r.idp_requests <= off[r.mode].idp_requests + 1 for r in on)
    return table(results, lambda: per_day), met


if __name__ == "__main__":  # a quick look: python bench/day.py [hours]
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as scratch, Emulator(world(), Path(scratch) / "emu") as emulator:
        lines, ok = working_day(emulator, Path(scratch), float(sys.argv[1]) if len(sys.argv) > 1 else HOURS)
        print("\n".join(lines))
        print("met" if ok else "NOT met")
