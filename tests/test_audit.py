"""akslogin audit: every finding on crafted kubeconfigs, CI exit codes, JSON, and the safe --fix rewrites."""

from __future__ import annotations

import io
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml

from akslogin.emulator.tlsmaterial import new_rsa_key
from akslogin.usecases.audit import AuditRequest, run
from support.explainworld import Streams, b64, client_cert, env_for, flat
from support.run import akslogin_bin, run_akslogin

SECRETS = ("s3cr3t-in-args", "s3cr3t-in-env", "REFRESH-0.AAAA-legacy", "ACCESS-legacy", "0123456789abcdef" * 2)


def _jwt(exp: float) -> str:
    return jwt.encode({"aud": "x", "exp": int(exp), "oid": "o"}, new_rsa_key(), algorithm="RS256")


def risky_config(tmp_path: Path) -> dict[str, Any]:
    admin_cert, admin_key = client_cert("masterclient", ("system:masters",), days=730)
    old_cert, old_key = client_cert("bob", ("devs",), days=-10)
    soon_cert, soon_key = client_cert("carol", (), days=5)
    exec_user = {"apiVersion": "client.authentication.k8s.io/v1", "command": akslogin_bin(),
                 "interactiveMode": "Never"}
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "aks1", "preferences": {"colors": True},
        "clusters": [
            {"name": "aks1", "cluster": {"server": "https://aks1.example:443", "certificate-authority-data": "QQ=="}},
            {"name": "lab", "cluster": {"server": "https://lab.example:6443", "insecure-skip-tls-verify": True}},
        ],
        "contexts": [
            {"name": "aks1-admin", "context": {"cluster": "aks1", "user": "clusterAdmin_rg_aks1"}},
            {"name": "aks1", "context": {"cluster": "aks1", "user": "ci"}},
            {"name": "lab", "context": {"cluster": "lab", "user": "legacy"}},
            {"name": "ghost", "context": {"cluster": "aks1", "user": "nobody-here"}},
        ],
        "users": [
            {"name": "clusterAdmin_rg_aks1", "user": {"client-certificate-data": b64(admin_cert),
                                                      "client-key-data": b64(admin_key), "token": SECRETS[4]}},
            {"name": "old-cert", "user": {"client-certificate-data": b64(old_cert), "client-key-data": b64(old_key)}},
            {"name": "soon-cert", "user": {"client-certificate-data": b64(soon_cert),
                                           "client-key-data": b64(soon_key)}},
            {"name": "jwt-expired", "user": {"token": _jwt(time.time() - 3600)}},
            {"name": "jwt-valid", "user": {"token": _jwt(time.time() + 86400)}},
            {"name": "legacy", "user": {"auth-provider": {"name": "azure", "config": {
                "apiserver-id": "6dae42f8-4368-4678-94ff-3960e28e3630", "client-id": "c", "tenant-id": "t",
                "config-mode": "1", "access-token": SECRETS[3], "refresh-token": SECRETS[2],
                "expires-in": "3599", "expires-on": "1700000000", "environment": "AzurePublicCloud"}}}},
            {"name": "ci", "user": {"exec": {**exec_user, "args": [
                "get-token", "--login", "spn", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
                "--client-id", "app", "--tenant-id", "t", "--client-secret", SECRETS[0]]}}},
            {"name": "ci-env", "user": {"exec": {**exec_user, "args": ["get-token", "-l", "ropc"], "env": [
                {"name": "AZURE_CLIENT_SECRET", "value": SECRETS[1]},
                {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/token"}]}}},
            {"name": "missing-plugin", "user": {"exec": {**exec_user, "command": "kubelogin-not-installed-here",
                                                         "args": ["get-token"], "installHint": "brew install x"}}},
            {"name": "basic", "user": {"username": "admin", "password": "pw"}},
        ],
    }


def write(path: Path, data: dict[str, Any], mode: int = 0o600) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(mode)
    return path


def audit(tmp_path: Path, *files: Path, stdin: str = "", **kw: Any) -> tuple[int, Streams]:
    streams = Streams()
    req = AuditRequest(files=[str(f) for f in files], **kw)
    code = run(req, env_for(tmp_path), streams.out, streams.err, io.StringIO(stdin))
    return code, streams


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


def test_fail_on_thresholds_drive_the_exit_code(tmp_path: Path) -> None:
    clean = write(tmp_path / "clean", {"apiVersion": "v1", "kind": "Config", "clusters": [
        {"name": "c", "cluster": {"server": "https://c.example"}}], "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": akslogin_bin(), "args": ["get-token"]}}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]})
    assert audit(tmp_path, clean)[0] == 0
    assert "passed: no finding" in audit(tmp_path, clean)[1].stdout
    missing = write(tmp_path / "missing", {"users": [{"name": "u", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": "no-such-plugin-xyz"}}}]})
    assert audit(tmp_path, missing)[0] == 0  # medium < high (the default)
    assert audit(tmp_path, missing, fail_on="medium")[0] == 1
    assert audit(tmp_path, missing, fail_on="critical")[0] == 0
    risky = write(tmp_path / "risky", risky_config(tmp_path))
    assert audit(tmp_path, risky, fail_on="critical")[0] == 1
    code, out = audit(tmp_path, risky, fail_on="none")
    assert code == 0 and "reporting only" in out.stdout


def test_default_files_and_usage_errors(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    none = run_akslogin(["audit"], env)
    assert none.returncode == 2 and "no kubeconfig to audit" in none.stderr
    absent = run_akslogin(["audit", str(tmp_path / "absent")], env)
    assert absent.returncode == 2 and "no such kubeconfig" in absent.stderr
    bad = run_akslogin(["audit", "--fail-on", "severe", str(tmp_path)], env)
    assert bad.returncode == 2 and "--fail-on" in bad.stderr
    kube = tmp_path / ".kube"
    kube.mkdir()
    write(kube / "config", risky_config(tmp_path))
    default = run_akslogin(["audit", "-o", "json"], env)
    assert default.returncode == 1
    assert json.loads(default.stdout)["files"] == [str(kube / "config")]
    listed = run_akslogin(["audit", "--fail-on", "none"], {**env, "KUBECONFIG": f"{kube / 'config'}:/nonexistent"})
    assert listed.returncode == 0 and "admin-credential" in listed.stdout


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


def test_fix_needs_confirmation_and_respects_no(tmp_path: Path) -> None:
    kc = write(tmp_path / "config", risky_config(tmp_path), mode=0o644)
    before = kc.read_text()
    from akslogin.errors import UsageError

    with pytest.raises(UsageError, match="confirmation"):
        audit(tmp_path, kc, fix=True)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    streams = Streams()
    code = run(AuditRequest(files=[str(kc)], fix=True), env_for(tmp_path), streams.out, streams.err, Tty("n\n"))
    assert code == 1 and kc.read_text() == before and stat.S_IMODE(kc.stat().st_mode) == 0o644
    assert "Apply? [y/N]" in streams.stderr and "nothing was changed" in streams.stderr
    cli = run_akslogin(["audit", "--fix", str(kc)], env_for(tmp_path))
    assert cli.returncode == 2 and "--yes" in cli.stderr  # no terminal in CI: refuse instead of guessing
    assert kc.read_text() == before
    streams = Streams()
    run(AuditRequest(files=[str(kc)], fix=True), env_for(tmp_path), streams.out, streams.err, Tty("y\n"))
    assert stat.S_IMODE(kc.stat().st_mode) == 0o600 and kc.read_text() != before


def test_mode_only_fix_does_not_rewrite_the_file(tmp_path: Path) -> None:
    clean = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": []}
    kc = write(tmp_path / "config", clean, mode=0o664)
    text = "# my comment\n" + kc.read_text()
    kc.write_text(text)
    code, _ = audit(tmp_path, kc, fix=True, yes=True)
    assert code == 0 and kc.read_text() == text and stat.S_IMODE(kc.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("config.akslogin-backup-*"))
    assert os.access(kc, os.R_OK)
