"""The persisted discovery cache: private, JSON, expiring, self-healing, and never trusted when it is not ours.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from akslogin.credentials.discovery_cache import (
    TTL,
    DiscoveryCache,
    DiscoveryCachingClient,
    cache_path,
)
from akslogin.emulator import Emulator
from akslogin.http import HttpClient
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import TENANT_ID, AppInfo


def _oidc_url(emu: Emulator, tenant: str = TENANT_ID) -> str:
    return f"{emu.authority_host}{tenant}/v2.0/.well-known/openid-configuration"


def _get_token(emu: Emulator, app: AppInfo, home: Path) -> tuple[Any, list[tuple[str, str]]]:
    emu.request_log.reset()
    result = run_akslogin(spn_args(emu, app, cache_dir=home / "cache"), clean_env(home, AZURE_CLIENT_SECRET=app.secret
                                                                                   or ""))
    return result, [(e.method, e.path.split("/", 2)[-1]) for e in emu.request_log.entries()]


COLD = [("GET", "v2.0/.well-known/openid-configuration"), ("POST", "oauth2/v2.0/token")]


def test_file_is_private_json_without_secrets(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    result, seen = _get_token(emulator, app, tmp_path)
    assert result.returncode == 0, result.stderr and seen == COLD
    path = Path(cache_path(str(tmp_path / "cache")))
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    assert data["version"] == 1 and list(data["entries"]) == [_oidc_url(emulator)]
    text = path.read_text()
    token = json.loads(result.stdout)["status"]["token"]
    assert (app.secret or "") not in text and token not in text and "set-cookie" not in text.lower()


def test_corrupt_or_exposed_file_is_ignored_and_replaced(tmp_path: Path, emulator: Emulator,
                                                         apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    assert _get_token(emulator, app, tmp_path)[1] == COLD
    path = Path(cache_path(str(tmp_path / "cache")))
    tokens = tmp_path / "cache" / "tokens"
    for damage in ("corrupt", "exposed"):
        for entry in tokens.iterdir():
            entry.unlink()
        if damage == "corrupt":
            path.write_bytes(b'{"version": 1, "entries": {"x": ')
        else:
            path.chmod(0o644)  # another user could have planted a token endpoint: not trusted
        result, seen = _get_token(emulator, app, tmp_path)
        assert result.returncode == 0, result.stderr
        assert seen == COLD, damage
        assert path.stat().st_mode & 0o777 == 0o600 and _oidc_url(emulator) in json.loads(path.read_text())["entries"]


@pytest.mark.parametrize("age", [TTL + 1, -3600], ids=["expired", "from-the-future"])
def test_entries_expire(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo], age: float) -> None:
    app = apps["viewer"]
    assert _get_token(emulator, app, tmp_path)[1] == COLD
    path = Path(cache_path(str(tmp_path / "cache")))
    data = json.loads(path.read_text())
    for entry in data["entries"].values():
        entry["stored_at"] = int(time.time() - age)
    path.write_text(json.dumps(data))
    for entry in (tmp_path / "cache" / "tokens").iterdir():
        entry.unlink()
    assert _get_token(emulator, app, tmp_path)[1] == COLD


def test_a_stale_endpoint_heals_after_one_failure(tmp_path: Path, emulator: Emulator,
                                                  apps: dict[str, AppInfo]) -> None:
    """If the kept OpenID configuration points at an endpoint that no longer answers, the failing run
    drops it, and the next run discovers afresh."""
    app = apps["viewer"]
    assert _get_token(emulator, app, tmp_path)[1] == COLD
    path = Path(cache_path(str(tmp_path / "cache")))
    data = json.loads(path.read_text())
    origin = emulator.authority_host.rstrip("/")
    for entry in data["entries"].values():
        entry["body"] = entry["body"].replace(origin, "https://127.0.0.1:9")
    path.write_text(json.dumps(data))
    for entry in (tmp_path / "cache" / "tokens").iterdir():
        entry.unlink()
    failed, seen = _get_token(emulator, app, tmp_path)
    assert failed.returncode == 1 and "cannot connect to https://127.0.0.1:9" in failed.stderr and seen == []
    assert json.loads(path.read_text())["entries"] == {}
    healed, seen = _get_token(emulator, app, tmp_path)
    assert healed.returncode == 0, healed.stderr
    assert seen == COLD


def test_only_successful_discovery_gets_are_kept(tmp_path: Path, emulator: Emulator) -> None:
    path = str(tmp_path / "discovery.json")
    http = HttpClient(10, [str(emulator.ca_path)], {})
    client = DiscoveryCachingClient(http, DiscoveryCache(path))
    unknown = client.get(_oidc_url(emulator, "no-such-tenant.example"))
    assert unknown.status_code == 400 and not os.path.exists(path)
    assert client.last_error is unknown  # attributes of the wrapped client stay reachable (MSAL errors use it)
    keys = client.get(f"{emulator.authority_host}{TENANT_ID}/discovery/v2.0/keys")
    assert keys.status_code == 200 and not os.path.exists(path)  # not a discovery URL
    emulator.request_log.reset()
    first = client.get(_oidc_url(emulator))
    second = DiscoveryCachingClient(http, DiscoveryCache(path)).get(_oidc_url(emulator))
    assert len(emulator.request_log.entries()) == 1
    assert second.status_code == 200 and second.json() == first.json()
