"""What a new user hits, each reproduced first: the default login mode timing out, diagnostics that must see the
token kubectl would get, relative paths in kubeconfigs, audit of the admin credential, odd consoles, usage
errors and exit codes, and kubectl's KUBECONFIG rule."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from akslogin.credentials import devicepoll
from akslogin.emulator import Emulator
from akslogin.errors import AuthenticationError
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


def test_poll_whose_request_meets_the_deadline_explains_70016() -> None:
    """The run's HTTP deadline can pass between two polls (it started before the poll loop): same answer."""
    from akslogin.errors import DeadlineError

    answers = iter([{"error": "authorization_pending"}])

    def step() -> dict[str, object]:
        try:
            return next(answers)
        except StopIteration:
            raise DeadlineError("the time limit of 10s ran out before https://login.example answered.") from None

    with pytest.raises(AuthenticationError) as info:
        devicepoll.poll(step, lambda: 5.0, deadline=100.0, now=lambda: 0.0, sleep=lambda _s: None)
    assert info.value.code == 70016


def test_retry_safe_request_after_the_deadline_is_a_time_limit_error() -> None:
    """Every retry-safe request whose deadline has passed takes this path (it crashed with UnboundLocalError)."""
    from akslogin.errors import NetworkError
    from akslogin.http import HttpClient

    ticks = iter([0.0, 100.0])
    http = HttpClient(5, clock=lambda: next(ticks, 100.0))
    with pytest.raises(NetworkError) as info:
        http.get("https://127.0.0.1:9/never")
    assert "time limit of 5s ran out before https://127.0.0.1:9 answered" in info.value.message


def test_whoami_sees_the_token_kubectl_would_get_after_az_changes(tmp_path: Path, machine_emulator: Emulator
                                                                  ) -> None:
    """whoami and get-token share one cache key for azurecli: the az sign-in state is part of it."""
    import os

    from support.machine_world import OBJECT_IDS, az_logout, calls, install_fake_az, token_args
    from support.run import kubectl, run_akslogin, write_kubeconfig

    config = tmp_path / "azure-config"
    install_fake_az(tmp_path / "bin", config, machine_emulator)
    env = clean_env(tmp_path, AZURE_CONFIG_DIR=str(config))
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    kc = write_kubeconfig(tmp_path / "config", machine_emulator, "aks1", token_args("azurecli"))
    assert kubectl(kc, "get", "pods", env=env).returncode == 0
    assert len(calls(config)) == 1
    who = run_akslogin(["whoami", "--kubeconfig", str(kc), "-o", "json"], env)
    assert who.returncode == 0, who.stderr
    assert OBJECT_IDS["az"] in who.stdout
    assert len(calls(config)) == 1, "whoami must use kubectl's cached token, not run az again"
    az_logout(config)
    after = run_akslogin(["whoami", "--kubeconfig", str(kc), "-o", "json"], env)
    assert after.returncode != 0, "whoami reported the identity signed out of az"
    assert "the Azure CLI is not signed in" in after.stderr


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

    from support.run import akslogin_bin
    from test_audit import risky_config, write

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


@pytest.mark.parametrize(("value", "traceback"), [("0", False), ("false", False), ("", False), ("no", False),
                                                  ("1", True), ("true", True), ("yes", True)])
def test_akslogin_debug_only_for_yes_values(value: str, traceback: bool) -> None:
    from akslogin.errors import guarded

    def bug() -> int:
        raise ZeroDivisionError

    err = io.StringIO()
    if traceback:
        with pytest.raises(ZeroDivisionError):
            guarded(bug, err, {"AKSLOGIN_DEBUG": value})
    else:
        assert guarded(bug, err, {"AKSLOGIN_DEBUG": value}) == 1
        assert "internal error (ZeroDivisionError)" in err.getvalue()


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


def test_whoami_says_what_kubectl_would_do_when_kubelogin_is_missing(tmp_path: Path, emulator: Emulator,
                                                                     apps: dict[str, object]) -> None:
    import yaml

    from support.run import kubectl, run_akslogin, spn_args, write_kubeconfig

    app = apps["viewer"]
    kc = write_kubeconfig(tmp_path / "config", emulator, "aks1", spn_args(emulator, app))  # type: ignore[arg-type]
    data = yaml.safe_load(kc.read_text())
    data["users"][0]["user"]["exec"]["command"] = "kubelogin"
    kc.write_text(yaml.safe_dump(data))
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "",  # type: ignore[attr-defined]
                    PATH="/usr/bin:/bin")
    assert kubectl(kc, "get", "pods", env=env).returncode != 0  # kubectl cannot run this context
    emulator.request_log.reset()
    who = run_akslogin(["whoami", "--kubeconfig", str(kc)], env)
    assert who.returncode == 1
    assert "'kubelogin' is not on PATH" in who.stderr and "akslogin convert-kubeconfig --context aks1" in who.stderr
    assert emulator.request_log.token_requests() == [], "whoami must not sign in where kubectl cannot"
    doctor = run_akslogin(["doctor", "--kubeconfig", str(kc)], env)
    assert doctor.returncode == 1 and "akslogin convert-kubeconfig --context aks1" in doctor.stdout


def test_throttled_idp_message_is_plain(tmp_path: Path, emulator: Emulator, apps: dict[str, object]) -> None:
    from akslogin.emulator.faults import Fault
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


def test_emoji_are_written_as_kubectl_writes_them(tmp_path: Path) -> None:
    from akslogin.kubeconfig import files

    path = tmp_path / "config"
    files.update(str(path), lambda c: c.put("contexts", "prod 🚀", {"cluster": "c", "user": "u"}))
    text = path.read_text(encoding="utf-8")
    assert "prod 🚀" in text and "\\U0001F680" not in text


def test_merge_kubeconfig_refuses_an_unknown_current_context(tmp_path: Path) -> None:
    import akslogin
    from akslogin.kubeconfig.model import KubeConfig, MissingKubeconfigError

    target = KubeConfig({"contexts": [{"name": "b", "context": {"cluster": "c", "user": "u"}}]}, "mine")
    incoming = KubeConfig({"contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}]}, "x")
    with pytest.raises(MissingKubeconfigError):
        akslogin.merge_kubeconfig(target, incoming, set_current="nope")
    assert akslogin.merge_kubeconfig(target, incoming, set_current="a").current_context == "a"


def test_az_aadsts_line_wins_over_its_generic_error_line() -> None:
    from akslogin.credentials.cli_tool import first_error_line

    text = ("ERROR: The command failed with an unexpected error. Here is the traceback:\n"
            "ERROR: AADSTS700082: The refresh token has expired due to inactivity.\n")
    assert first_error_line(text).startswith("ERROR: AADSTS700082")
