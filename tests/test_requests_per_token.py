"""One HTTP request per token once the machine has seen the tenant (counted in the emulator's request log).

Each case signs in once to warm the machine (discovery answers are then kept in <cache dir>/discovery.json),
and returns the get-token call to count: a new process, empty token cache for that identity. Every request
any emulated service sees during that call is counted; the answer must be exactly one token request.

Adding a login mode is one ``TokenCase`` line in ``CASES`` plus, if it needs one, a ``prepare`` function:
  refresh token:      prepare = sign in once inside ``short_lived_tokens(emulator)`` (the token is then
                      already stale for akslogin and MSAL) and return the same invocation; grant="refresh_token"
  workload identity:  like ``spn_other_identity`` with two federated apps; grant="client_credentials"
  managed identity:   prepare = return the invocation (no discovery at all); grant=None (IMDS is a GET)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from conftest import TENANT_ID, AppInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from harness import (
    Invocation,
    base_env,
    exec_credential_token,
    requests_for,
    run_measured,
    spn_argv,
)

Prepare = Callable[[Emulator, dict[str, AppInfo], Path], Invocation]


def _spn(emu: Emulator, app: AppInfo, home: Path) -> Invocation:
    return Invocation(spn_argv(emu, TENANT_ID, app.client_id, home / "cache"),
                      base_env(home, AZURE_CLIENT_SECRET=app.secret or ""))


def spn_other_identity(emu: Emulator, apps: dict[str, AppInfo], home: Path) -> Invocation:
    """Service principal A signs in; then count service principal B of the same tenant."""
    first = _spn(emu, apps["viewer"], home)
    warm = run_measured(first.argv, first.env)
    assert warm.returncode == 0, warm.stderr
    return _spn(emu, apps["editor"], home)


@dataclass(frozen=True)
class TokenCase:
    name: str
    prepare: Prepare
    grant: str | None  # grant_type of the single request (None when it is not an Entra token request)


CASES = [
    TokenCase("spn", spn_other_identity, "client_credentials"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_request_per_token_once_the_tenant_is_known(case: TokenCase, tmp_path: Path, emulator: Emulator,
                                                        apps: dict[str, AppInfo]) -> None:
    invocation = case.prepare(emulator, apps, tmp_path)
    runs = []
    seen = requests_for(emulator, lambda: runs.append(run_measured(invocation.argv, invocation.env)))
    assert runs[0].returncode == 0, runs[0].stderr
    assert exec_credential_token(runs[0].stdout)
    assert len(seen) == 1, [(e.service, e.method, e.path) for e in seen]
    if case.grant is not None:
        assert (seen[0].method, seen[0].grant_type, seen[0].status) == ("POST", case.grant, 200)


def test_first_contact_with_a_tenant_costs_discovery_once(tmp_path: Path, emulator: Emulator,
                                                          apps: dict[str, AppInfo]) -> None:
    """The cold case, for contrast: the first process fetches the OpenID configuration, the next does not."""
    first = _spn(emulator, apps["viewer"], tmp_path)
    cold = requests_for(emulator, lambda: run_measured(first.argv, first.env))
    assert [(e.method, e.path.split("/", 2)[-1]) for e in cold] == [
        ("GET", "v2.0/.well-known/openid-configuration"), ("POST", "oauth2/v2.0/token")]
    # The same identity again after its token file is gone: still no discovery.
    for path in (tmp_path / "cache" / "tokens").iterdir():
        path.unlink()
    again = requests_for(emulator, lambda: run_measured(first.argv, first.env))
    assert [(e.method, e.grant_type) for e in again] == [("POST", "client_credentials")]
