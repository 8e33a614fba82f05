"""Single flight: many get-token processes at once make one token request; a dead lock holder blocks nobody.

Real processes (the installed console script, started all at once with Popen as kubectl fan-out does)
against this module's own emulator; requests are counted in its request log.

Adding a scenario is one ``SwarmCase`` line. The refresh-token case, once a mode keeps refresh tokens:
    SwarmCase("refresh-token", prepare=<sign in once inside harness.short_lived_tokens(emu) and return the
              same invocation>, grant="refresh_token")
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import World

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from harness import (
    Invocation,
    base_env,
    cache_entries_valid,
    exec_credential_token,
    killed_lock_holder,
    spn_argv,
    swarm,
)

TENANT = "5f5f5f5f-0000-4000-8000-00000000f11e"
APPS = {
    "a": ("abababab-0000-4000-8000-000000000001", "swarm-secret-A~1"),
    "b": ("abababab-0000-4000-8000-000000000002", "swarm-secret-B~2"),
}
PROCESSES = 32


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    world = World.from_dict({"tenants": [{"id": TENANT, "domains": ["swarm.example"], "apps": [
        {"name": f"swarm-{name}", "client_id": cid, "object_id": f"0c0c0c0c-0000-4000-8000-00000000000{i}",
         "secrets": [secret]}
        for i, (name, (cid, secret)) in enumerate(APPS.items(), start=1)
    ]}], "clusters": []})
    with Emulator(world, tmp_path_factory.mktemp("swarm-emulator")) as emulator:
        yield emulator


def spn_empty_cache(emu: Emulator, home: Path) -> Invocation:
    cid, secret = APPS["a"]
    return Invocation(spn_argv(emu, TENANT, cid, home / "cache"), base_env(home, AZURE_CLIENT_SECRET=secret))


@dataclass(frozen=True)
class SwarmCase:
    name: str
    prepare: Callable[[Emulator, Path], Invocation]  # may sign in first; returns the call all processes make
    grant: str  # grant_type of the one token request the swarm may cause


SWARM_CASES = [
    SwarmCase("spn-empty-cache", spn_empty_cache, "client_credentials"),
]


@pytest.mark.parametrize("case", SWARM_CASES, ids=[c.name for c in SWARM_CASES])
def test_many_processes_make_one_token_request(case: SwarmCase, emu: Emulator, tmp_path: Path) -> None:
    invocation = case.prepare(emu, tmp_path)
    emu.request_log.reset()
    runs, _ = swarm(invocation.argv, invocation.env, PROCESSES, timeout=60)
    failures = [r.stderr for r in runs if r.returncode != 0]
    assert failures == []
    tokens = {exec_credential_token(r.stdout) for r in runs}
    assert None not in tokens and len(tokens) == 1, "every process prints the same valid ExecCredential"
    token_requests = emu.request_log.token_requests()
    assert [(e.grant_type, e.status) for e in token_requests] == [(case.grant, 200)]
    assert len(emu.request_log.entries()) <= 2  # the token request, and discovery if the tenant was new
    assert cache_entries_valid(tmp_path / "cache")


def test_a_killed_lock_holder_does_not_block_the_next_process(emu: Emulator, tmp_path: Path) -> None:
    """The holder's token request hangs (emulator fault); it is SIGKILLed while holding the identity lock;
    the process waiting behind it carries on at once instead of waiting for the hung request or its timeout.
    Last in this module: the hung request is logged by the emulator only when its delay ends."""
    invocation = spn_empty_cache(emu, tmp_path)
    emu.request_log.reset()
    result = killed_lock_holder(emu, invocation, invocation, tmp_path / "cache", delay=20.0)
    assert result.holder_held_lock
    assert result.waiter.returncode == 0, result.waiter.stderr
    assert exec_credential_token(result.waiter.stdout)
    assert result.waiter_after_kill < result.delay / 2
    assert cache_entries_valid(tmp_path / "cache")
    # The waiter's own request is the only one that completed (the holder's is still sleeping).
    assert [e.grant_type for e in emu.request_log.token_requests()] == ["client_credentials"]
