"""--login spn beyond a pinned secret or certificate: subject name + issuer trust (a certificate chain, so a
renewed leaf needs no app change) and --legacy (the v1 endpoint and the spn: audience of old clusters).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from akslogin.emulator import Emulator
from support.machine_world import OBJECT_IDS
from support.run import (
    clean_env,
    kubectl,
    spn_args,
    write_kubeconfig,
)
from support.spn_chain_legacy import _sni_args
from support.worlds import AppInfo


def test_subject_name_issuer_certificate_and_its_renewal(tmp_path: Path, machine_emulator: Emulator,
                                                         machine_world: Any) -> None:
    for generation in ("2026", "2027"):  # the renewed leaf has a new key; the app is not touched
        pem = machine_world.leaf(f"sni-{generation}")
        kc = write_kubeconfig(tmp_path / f"config-{generation}", machine_emulator, "aks1",
                              _sni_args(machine_emulator, pem, tmp_path / f"cache-{generation}"))
        who = kubectl(kc, "auth", "whoami", "-o", "json", env=clean_env(tmp_path))
        assert who.returncode == 0, who.stderr
        assert json.loads(who.stdout)["status"]["userInfo"]["username"] == OBJECT_IDS["sni"]


def test_legacy_spn_reaches_a_cluster_that_wants_the_spn_audience(tmp_path: Path, emulator: Emulator,
                                                                  apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path)
    secret = {"AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": app.secret or ""}
    modern = write_kubeconfig(tmp_path / "modern", emulator, "legacy",
                              spn_args(emulator, app, cache_dir=tmp_path / "c1"), exec_env=secret)
    refused = kubectl(modern, "get", "pods", env=env)
    assert refused.returncode == 1 and "You must be logged in to the server" in refused.stderr
    legacy = write_kubeconfig(tmp_path / "legacy", emulator, "legacy",
                              [*spn_args(emulator, app, cache_dir=tmp_path / "c2"), "--legacy"], exec_env=secret)
    allowed = kubectl(legacy, "auth", "whoami", "-o", "json", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["status"]["userInfo"]["username"] == app.object_id
    v1 = [r for r in emulator.request_log.token_requests() if r.path.endswith("/oauth2/token")]
    assert [(r.grant_type, r.status) for r in v1] == [("client_credentials", 200)]
