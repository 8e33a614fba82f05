"""One HTTP request per token once the machine has seen the tenant (counted in the emulator's request log).

Each scenario (``bench/harness.py`` ``REQUEST_SCENARIOS``, shared with ``bench/run``) may sign in once to warm
the machine (discovery answers are then kept in <cache dir>/discovery.json) and returns the get-token call
to count: a new process with no token for that identity. Every request any emulated service sees during
that call is counted: exactly one, and it is the expected token request. A new login mode is one
``Scenario`` line there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.paths import BENCH

sys.path.insert(0, str(BENCH))
from harness import (
    REQUEST_SCENARIOS,
    Scenario,
    exec_credential_token,
    requests_for,
    run_measured,
    spn_invocation,
    world,
)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world(), tmp_path_factory.mktemp("requests-emulator")) as emulator:
        yield emulator


@pytest.mark.parametrize("scenario", REQUEST_SCENARIOS, ids=[s.name for s in REQUEST_SCENARIOS])
def test_one_request_per_token_once_the_tenant_is_known(scenario: Scenario, tmp_path: Path, emu: Emulator) -> None:
    invocation = scenario.prepare(emu, tmp_path)
    runs = []
    seen = requests_for(emu, lambda: runs.append(run_measured(invocation.argv, invocation.env)))
    assert runs[0].returncode == 0, runs[0].stderr
    assert exec_credential_token(runs[0].stdout)
    assert len(seen) == 1, [(e.service, e.method, e.path) for e in seen]
    assert seen[0].service.split(":")[0] == scenario.service and seen[0].status == 200
    if scenario.grant is not None:
        assert (seen[0].method, seen[0].grant_type) == ("POST", scenario.grant)


def test_first_contact_with_a_tenant_costs_discovery_once(tmp_path: Path, emu: Emulator) -> None:
    """The cold case, for contrast: the first process fetches the OpenID configuration, the next does not."""
    first = spn_invocation(emu, tmp_path, "a")
    cold = requests_for(emu, lambda: run_measured(first.argv, first.env))
    assert [(e.method, e.path.split("/", 2)[-1]) for e in cold] == [
        ("GET", "v2.0/.well-known/openid-configuration"), ("POST", "oauth2/v2.0/token")]
    # The same identity again after its token file is gone: still no discovery.
    for path in (tmp_path / "cache" / "tokens").iterdir():
        path.unlink()
    again = requests_for(emu, lambda: run_measured(first.argv, first.env))
    assert [(e.method, e.grant_type) for e in again] == [("POST", "client_credentials")]
