"""What a new user hits, each reproduced first: the default login mode timing out, diagnostics that must see the
token kubectl would get, relative paths in kubeconfigs, audit of the admin credential, odd consoles, usage
errors and exit codes, and kubectl's KUBECONFIG rule.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.usecases.get_token import run
from support.run import clean_env, user_args


@pytest.mark.parametrize("timeout", ["7s", "10s"])
def test_device_code_not_finished_within_timeout_explains_70016(tmp_path: Path, user_emu: Emulator,
                                                                timeout: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    rc = run(user_args(user_emu, "devicecode", tmp_path / "c", "--timeout", timeout)[1:],
             clean_env(tmp_path, AKSLOGIN_PROMPT="always"), out, err)  # in process: no terminal, a prompt all the same
    assert rc == 1 and out.getvalue() == "", err.getvalue()
    assert "AADSTS70016" in err.getvalue() and "--timeout" in err.getvalue()
    assert "internal error" not in err.getvalue()


def test_untrusted_tls_message_is_balanced(tmp_path: Path, emulator: Emulator, apps: dict[str, object]) -> None:
    from support.run import run_akslogin, spn_args

    app = apps["viewer"]
    args = [a for a in spn_args(emulator, app) if a != str(emulator.ca_path) and a != "--certificate-authority"]
    result = run_akslogin(args, clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or ""))  # type: ignore[attr-defined]
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "(certificate verify failed: self-signed certificate in certificate chain)" in line, line
    assert line.count("(") == line.count(")") and line.count("[") == line.count("]") and "_ssl.c" not in line


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
def test_doctor_and_audit_degrade_to_ascii_on_consoles_that_cannot_encode(tmp_path: Path, encoding: str) -> None:
    import subprocess

    from support.audit import risky_config, write
    from support.run import akslogin_bin

    def run_akslogin(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([akslogin_bin(), *args], env=env, capture_output=True, encoding=encoding,
                              timeout=60, stdin=subprocess.DEVNULL)

    kc = write(tmp_path / "config", risky_config(tmp_path))
    env = clean_env(tmp_path, PYTHONIOENCODING=encoding, NO_COLOR="1")
    audit = run_akslogin(["audit", str(kc)], env)
    assert audit.returncode == 1, audit.stderr
    assert "Traceback" not in audit.stderr and "internal error" not in audit.stderr
    assert "admin-credential" in audit.stdout
    doctor = run_akslogin(["doctor", "--kubeconfig", str(kc), "--context", "aks1-admin"], env)
    assert "internal error" not in doctor.stderr + doctor.stdout and "Traceback" not in doctor.stderr
    assert doctor.stdout.strip(), doctor.stderr


_KUBECONFIG_COMMANDS = [
    ["whoami"], ["login"], ["explain-forbidden", "get", "pods"], ["refresh-kubeconfig"], ["convert-kubeconfig"],
    ["doctor"], ["logout"], ["rbac", "bind", "--user", "a@b.example", "--role", "view", "--apply"],
]


@pytest.mark.parametrize("command", _KUBECONFIG_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_missing_kubeconfig_or_context_is_exit_2_for_every_command(tmp_path: Path, command: list[str]) -> None:
    """One rule (docs/cli.md): a kubeconfig file or a context that does not exist is bad input, exit 2."""
    from support.run import run_akslogin

    env = clean_env(tmp_path, NO_COLOR="1")
    missing = run_akslogin([*command, "--kubeconfig", str(tmp_path / "absent")], env)
    assert missing.returncode == 2, (missing.returncode, missing.stdout, missing.stderr)
    assert "Traceback" not in missing.stderr
    existing = tmp_path / "config"
    existing.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://c.example'}\n"
                        "users:\n- name: u\n  user: {token: t}\n"
                        "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n")
    existing.chmod(0o600)
    no_context = run_akslogin([*command, "--kubeconfig", str(existing), "--context", "nope"], env)
    assert no_context.returncode == 2, (no_context.returncode, no_context.stdout, no_context.stderr)
    assert "nope" in no_context.stderr + no_context.stdout


def test_whoami_and_doctor_take_v(tmp_path: Path, emulator: Emulator, apps: dict[str, object]) -> None:
    from support.run import run_akslogin, spn_args, write_kubeconfig

    app = apps["viewer"]
    kc = write_kubeconfig(tmp_path / "config", emulator, "aks1", spn_args(emulator, app))  # type: ignore[arg-type]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")  # type: ignore[attr-defined]
    who = run_akslogin(["whoami", "--kubeconfig", str(kc), "-v", "1"], env)
    assert who.returncode == 0, who.stderr
    assert "requesting a token for" in who.stderr
    assert (app.secret or "") not in who.stderr  # type: ignore[attr-defined]
    doc = run_akslogin(["doctor", "--kubeconfig", str(kc), "--v=2"], env)
    assert doc.returncode == 0, doc.stdout + doc.stderr
    assert "served from the cache" in doc.stderr
    bad = run_akslogin(["doctor", "-v", "loud"], env)
    assert bad.returncode == 2 and "takes a whole number" in bad.stderr


@pytest.mark.parametrize("port", ["99999", "-5", "http"])
def test_emulator_port_out_of_range_is_a_usage_error(tmp_path: Path, port: str) -> None:
    from support.run import run_akslogin

    result = run_akslogin(["emulator", "--port", port, "--state-dir", str(tmp_path / "s")], clean_env(tmp_path))
    assert result.returncode == 2 and "is not a port number" in result.stderr
    assert "internal error" not in result.stderr


def test_typo_in_a_subcommand_flag_shows_that_subcommand_and_the_nearest_flag(tmp_path: Path) -> None:
    from support.run import run_akslogin

    result = run_akslogin(["whoami", "--contxt", "x"], clean_env(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("usage: akslogin whoami")
    assert "unrecognized arguments: --contxt x (did you mean --context?)" in result.stderr


def test_throttled_idp_message_is_plain(tmp_path: Path, emulator: Emulator, apps: dict[str, object]) -> None:
    from akslogin.emulator.net.faults import Fault
    from support.run import run_akslogin, spn_args

    emulator.faults.add(Fault("entra", r"/oauth2/v2\.0/token$", "status", status=429, retry_after=1, times=10))
    app = apps["viewer"]
    result = run_akslogin(spn_args(emulator, app),  # type: ignore[arg-type]
                          clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or ""))  # type: ignore[attr-defined]
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "throttling or temporarily unavailable" in line
    assert "(temporarily_unavailable (temporarily_unavailable)" not in line and "code= " not in line
    assert "error?code=" not in line


def test_duplicate_names_are_not_called_bad_yaml(tmp_path: Path) -> None:
    from support.run import run_akslogin

    kc = tmp_path / "config"
    entry = "- name: a\n  context: {cluster: c, user: u}\n"
    kc.write_text("contexts:\n" + entry + entry)
    kc.chmod(0o600)
    result = run_akslogin(["audit", str(kc), "-o", "json"], clean_env(tmp_path))
    import json as _json

    finding = _json.loads(result.stdout)["findings"][0]
    assert finding["title"] == "the file is not a valid kubeconfig"
    assert "two entries named 'a'" in finding["why"] and "Fix the YAML" not in finding["fix"]
    assert "kubectl config delete-context a" in finding["fix"]


def test_long_lists_of_names_are_cut_short(tmp_path: Path) -> None:
    from support.run import run_akslogin

    kc = tmp_path / "config"
    entries = "".join(f"- name: ctx-{i}\n  context: {{cluster: c, user: u}}\n" for i in range(1000))
    kc.write_text("contexts:\n" + entries)
    kc.chmod(0o600)
    result = run_akslogin(["whoami", "--kubeconfig", str(kc), "--context", "nope"], clean_env(tmp_path))
    assert result.returncode == 2
    assert "and 990 more ('kubectl config get-contexts' lists them all)" in result.stderr
    assert len(result.stderr) < 800
