"""An identity provider that fails while the cached token is inside the refresh margin but still valid: every
kubectl run gets the valid token, and the IdP is asked once per back-off window, not once per process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from support.run import akslogin_bin, clean_env, run_akslogin, spn_args
from support.worlds import AppInfo

TOKEN_PATH = r"/oauth2/v2\.0/token$"


def test_64_runs_against_a_failing_idp_get_the_still_valid_token(tmp_path: Path, emulator: Emulator,
                                                                  apps: dict[str, AppInfo]) -> None:
    emulator.entra.settings.access_token_lifetime = 200  # inside the 5-minute margin: every run wants a refresh
    app = apps["viewer"]
    args = [*spn_args(emulator, app, cache_dir=tmp_path / "cache"), "-v", "1"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    first = run_akslogin(args, env)
    assert first.returncode == 0, first.stderr
    token = json.loads(first.stdout)["status"]["token"]
    emulator.faults.add(Fault("entra", TOKEN_PATH, "status", status=503, times=100_000))
    emulator.request_log.reset()
    procs = [subprocess.Popen([akslogin_bin(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, stdin=subprocess.DEVNULL) for _ in range(64)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    failed = [err for rc, _out, err in results if rc != 0]
    assert not failed, f"{len(failed)} of 64 failed: {failed[:2]}"
    assert {json.loads(out)["status"]["token"] for _rc, out, _err in results} == {token}
    attempts = len(emulator.request_log.token_requests())
    assert 1 <= attempts <= 3, f"{attempts} token requests: the IdP must be tried once per back-off window"
    said = "".join(err for _rc, _out, err in results)
    assert "serving the cached token" in said and (app.secret or "") not in said


def test_without_a_valid_token_the_failure_is_reported(tmp_path: Path, emulator: Emulator,
                                                       apps: dict[str, AppInfo]) -> None:
    emulator.faults.add(Fault("entra", TOKEN_PATH, "status", status=503, times=100))
    app = apps["viewer"]
    result = run_akslogin(spn_args(emulator, app, cache_dir=tmp_path / "cache"),
                          clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or ""))
    assert result.returncode == 1 and "answered HTTP 503" in result.stderr


def test_clock_an_hour_behind_does_not_stretch_a_managed_identity_token(tmp_path: Path,
                                                                        machine_emulator: Emulator) -> None:
    """IMDS says when the token expires in its own clock (expires_on); with this machine an hour behind, that
    looked like two hours left. The token's own lifetime bounds the cache, and the offset is kept."""
    import time

    from akslogin.emulator.azure.managed_identity import managed_identities
    from support.machine_world import token_args
    from support.run import decode_jwt_payload

    machine_emulator.clock.advance(3600)  # the services run an hour ahead of this machine
    env = clean_env(tmp_path, **managed_identities(machine_emulator).environment("build-vm"))
    result = run_akslogin([*token_args("msi"), "--cache-dir", str(tmp_path / "cache")], env)
    assert result.returncode == 0, result.stderr
    claims = decode_jwt_payload(json.loads(result.stdout)["status"]["token"])
    lifetime = claims["exp"] - claims["iat"]
    entry = json.loads(next((tmp_path / "cache" / "tokens").glob("*.json")).read_text())
    assert entry["expires_on"] <= time.time() + lifetime + 5, "cached past the token's own lifetime"
    assert abs(entry.get("skew", 0) - 3600) <= 5
