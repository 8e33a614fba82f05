"""akslogin audit: every finding on crafted kubeconfigs, CI exit codes, JSON, and the safe --fix rewrites.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from support.audit import SECRETS, audit, risky_config, write
from support.explainworld import flat


def by_id(findings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        out.setdefault(f["id"], []).append(f)
    return out


def test_every_check_fires_with_why_and_fix_and_no_secret_is_printed(tmp_path: Path) -> None:
    kc = write(tmp_path / "config", risky_config(tmp_path), mode=0o644)
    code, out = audit(tmp_path, kc, output="json")
    assert code == 1
    data = json.loads(out.stdout)
    found = by_id(data["findings"])
    expected = {
        "admin-credential": "critical", "plaintext-refresh-token": "critical", "file-permissions": "high",
        "client-certificate": "high", "static-token": "critical", "legacy-azure-auth-provider": "high",
        "secret-in-exec-args": "high", "secret-in-exec-env": "high", "insecure-skip-tls-verify": "high",
        "basic-auth": "high", "exec-plugin-missing": "medium", "certificate-expired": "low",
        "certificate-expiring": "low", "token-expired": "low", "token-expiring": "low", "password-login": "low",
        "dangling-context": "low",
    }
    assert {k: v[0]["severity"] for k, v in found.items()} == expected
    admin = found["admin-credential"][0]
    assert admin["subject"] == "user clusterAdmin_rg_aks1 (context: aks1-admin)"
    assert "cannot be revoked" in admin["why"] and "O=system:masters" in admin["title"]
    assert "valid until" in admin["title"] and "delete" in admin["fix"]
    # AKS's admin user carries a certificate and a token: both are reported.
    admin_ids = {f["id"]: f for f in data["findings"] if f["subject"].startswith("user clusterAdmin")}
    assert {"admin-credential", "static-token"} <= set(admin_ids)
    assert admin_ids["static-token"]["severity"] == "critical"
    assert {f["severity"] for f in found["static-token"] if f not in admin_ids.values()} == {"high"}
    assert "beside the cluster-admin certificate" in admin_ids["static-token"]["title"]
    assert found["secret-in-exec-args"][0]["details"] == {"flags": ["--client-secret"]}
    assert found["secret-in-exec-env"][0]["details"] == {"variables": ["AZURE_CLIENT_SECRET"]}
    assert "brew install x" in found["exec-plugin-missing"][0]["fix"]
    assert [f["subject"] for f in found["client-certificate"]] == ["user soon-cert (no context)"]
    assert [f["subject"] for f in found["certificate-expired"]] == ["user old-cert (no context)"]
    for f in data["findings"]:
        assert f["why"] and f["fix"]
    assert data["failed"] is True and data["summary"]["critical"] == 3
    code, table = audit(tmp_path, kc)
    everything = out.stdout + table.stdout + out.stderr + table.stderr
    for secret in SECRETS:
        assert secret not in everything


def test_unparseable_file_is_a_finding(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n  - name: x\n  bad")
    broken.chmod(0o600)
    code, out = audit(tmp_path, broken, output="json")
    assert code == 1
    finding = json.loads(out.stdout)["findings"][0]
    assert finding["id"] == "unreadable-kubeconfig" and "not valid YAML at line" in finding["why"]


def test_fix_applies_only_safe_rewrites_and_keeps_a_backup(tmp_path: Path) -> None:
    kc = write(tmp_path / "config", risky_config(tmp_path), mode=0o644)
    before = kc.read_text()
    code, out = audit(tmp_path, kc, fix=True, yes=True, output="json")
    assert stat.S_IMODE(kc.stat().st_mode) == 0o600
    after = yaml.safe_load(kc.read_text())
    users = {u["name"]: u["user"] for u in after["users"]}
    assert "--client-secret" not in users["ci"]["exec"]["args"]
    assert users["ci"]["exec"]["args"][:3] == ["get-token", "--login", "spn"]
    legacy = users["legacy"]["auth-provider"]["config"]
    assert not set(legacy) & {"access-token", "refresh-token", "expires-in", "expires-on"}
    assert legacy["apiserver-id"] == "6dae42f8-4368-4678-94ff-3960e28e3630"
    # The admin credential goes whole (certificate, key and token; the backup keeps them); unknown fields and
    # the env secret need a person.
    assert after["preferences"] == {"colors": True}
    assert not set(users["clusterAdmin_rg_aks1"]) & {"token", "client-certificate-data", "client-key-data"}
    assert users["ci-env"]["exec"]["env"][0]["value"] == SECRETS[1]
    backups = list(tmp_path.glob("config.akslogin-backup-*"))
    assert len(backups) == 1 and backups[0].read_text() == before
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    data = json.loads(out.stdout)
    remaining = {f["id"] for f in data["findings"]}
    assert not remaining & {"file-permissions", "secret-in-exec-args", "plaintext-refresh-token", "admin-credential"}
    assert "secret-in-exec-env" in remaining and code == 1
    assert any("mode set to 0600" in line for line in data["fixed"])
    notes = flat(out.stderr)
    assert "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET" in notes
    for secret in SECRETS:
        assert secret not in out.stdout + out.stderr


def test_mode_only_fix_does_not_rewrite_the_file(tmp_path: Path) -> None:
    clean = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": []}
    kc = write(tmp_path / "config", clean, mode=0o664)
    text = "# my comment\n" + kc.read_text()
    kc.write_text(text)
    code, _ = audit(tmp_path, kc, fix=True, yes=True)
    assert code == 0 and kc.read_text() == text and stat.S_IMODE(kc.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("config.akslogin-backup-*"))
    assert os.access(kc, os.R_OK)
