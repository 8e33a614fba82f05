"""akslogin audit: every finding on crafted kubeconfigs, CI exit codes, JSON, and the safe --fix rewrites.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from akslogin.usecases.audit import AuditRequest, run
from support.audit import audit, risky_config, write
from support.explainworld import Streams, env_for
from support.run import akslogin_bin, run_akslogin


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
