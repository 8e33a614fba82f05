"""Issue 24, akslogin's side: what a new user trips on (container HOMEs, repeated and named subscriptions, a
second login mode for one cluster, convert flags, odd bytes in names, the Python API's types, kubelogin's
root flags).

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.run import clean_env, run_akslogin


def _devicecode_kubeconfig(path: Path) -> Path:
    import yaml

    exec_block = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
                  "args": ["get-token", "--environment", "AzurePublicCloud", "--server-id",
                           "6dae42f8-4368-4678-94ff-3960e28e3630",
                           "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
                           "--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47", "--login", "devicecode"]}
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                                    "clusters": [{"name": "c", "cluster": {"server": "https://c.example"}}],
                                    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                                    "users": [{"name": "u", "user": {"exec": exec_block}}]}))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(("login", "flag"), [("devicecode", "--client-secret"), ("azurecli", "--password"),
                                             ("msi", "--client-certificate-password"), ("interactive", "--password")])
def test_convert_takes_a_secret_flag_that_the_mode_never_writes(tmp_path: Path, login: str, flag: str) -> None:
    kubeconfig = _devicecode_kubeconfig(tmp_path / "config")
    result = run_akslogin(["convert-kubeconfig", "--kubeconfig", str(kubeconfig), "--login", login, flag,
                           "not-written-Zz9"], clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "not-written-Zz9" not in kubeconfig.read_text()
    assert f"{flag} is not used by --login {login}" in result.stderr


@pytest.mark.parametrize(("login", "flag", "variable"), [
    ("spn", "--client-secret", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"),
    ("ropc", "--password", "AAD_USER_PRINCIPAL_PASSWORD"),
    ("spn", "--client-certificate-password", "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD"),
])
def test_convert_refuses_a_secret_it_would_write_and_names_its_variable(tmp_path: Path, login: str, flag: str,
                                                                        variable: str) -> None:
    kubeconfig = _devicecode_kubeconfig(tmp_path / "config")
    before = kubeconfig.read_text()
    result = run_akslogin(["convert-kubeconfig", "--kubeconfig", str(kubeconfig), "--login", login, flag, "x"],
                          clean_env(tmp_path))
    assert result.returncode == 2, result.stderr
    assert f"{flag} would be written in clear text" in result.stderr and variable in result.stderr, result.stderr
    assert kubeconfig.read_text() == before


def _crafted_kubeconfig(path: Path) -> Path:
    import yaml

    crafted = "dev\x1b[2J\x1b[1;1H\rLOW all good\x07\x9b1m"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": crafted,
        "clusters": [{"name": crafted, "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": crafted, "context": {"cluster": crafted, "user": crafted}}],
        "users": [{"name": crafted, "user": {"token": "static-token-value", "client-key-data": "a2V5"}}]}))
    path.chmod(0o644)
    return path


@pytest.mark.parametrize("command", [["audit"], ["whoami"], ["doctor"], ["explain-forbidden", "get", "pods"]])
def test_control_characters_in_names_are_shown_escaped(tmp_path: Path, command: list[str]) -> None:
    kubeconfig = _crafted_kubeconfig(tmp_path / "config")
    result = run_akslogin([*command, "--kubeconfig", str(kubeconfig)], clean_env(tmp_path))
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output, output
    raw = [c for c in output if (ord(c) < 0x20 and c not in "\n") or 0x7f <= ord(c) <= 0x9f]
    assert raw == [], repr(output)
    if command == ["audit"]:
        assert "dev\\x1b[2J" in output and "HIGH     static-token" in output


def test_an_argument_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    import subprocess

    from support.run import akslogin_bin

    env = {k.encode(): v.encode() for k, v in clean_env(tmp_path).items()}
    for argv in ([b"whoami", b"--context", b"dev\xff\xfe"], [b"audit", b"--kubeconfig", b"\xff"],
                 [b"get-token", b"--login", b"spn", b"--tenant-id", b"t\xff"]):
        done = subprocess.run([akslogin_bin().encode(), *argv], env=env, capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        stderr = done.stderr.decode("utf-8", "replace")
        assert done.returncode == 2, (argv, stderr)
        assert "not valid UTF-8" in stderr and "internal error" not in stderr, stderr


@pytest.mark.parametrize("argv", [
    ["get-token", "--logtostderr", "--login", "azurecli", "--server-id", "x", "--help"],
    ["get-token", "--login", "azurecli", "--logtostderr=true", "--alsologtostderr", "--server-id", "x", "--help"],
    ["convert-kubeconfig", "--logtostderr", "--help"],
    ["whoami", "--help", "--logtostderr=false"],
])
def test_kubelogins_root_log_flags_are_taken_after_the_command_too(tmp_path: Path, argv: list[str]) -> None:
    result = run_akslogin(argv, clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()


@pytest.mark.parametrize("level", ["11", "99", "-v=20"])
def test_v_takes_any_klog_level(tmp_path: Path, level: str) -> None:
    flag = [level] if level.startswith("-v") else ["-v", level]
    result = run_akslogin(["get-token", "--login", "azurecli", "--server-id", "x", *flag, "--timeout", "1s"],
                          clean_env(tmp_path, PATH="/nonexistent"))
    assert "-v takes" not in result.stderr, result.stderr
    assert "akslogin [" in result.stderr  # verbose lines were written: the level counts as the most verbose


def test_help_command_prints_a_commands_help(tmp_path: Path) -> None:
    top = run_akslogin(["help"], clean_env(tmp_path))
    assert top.returncode == 0 and "get-credentials" in top.stdout
    sub = run_akslogin(["help", "get-credentials"], clean_env(tmp_path))
    assert sub.returncode == 0 and "--resource-group" in sub.stdout
    token = run_akslogin(["help", "get-token"], clean_env(tmp_path))
    assert token.returncode == 0 and "--server-id" in token.stdout
    unknown = run_akslogin(["help", "nope"], clean_env(tmp_path))
    assert unknown.returncode == 2 and "nope" in unknown.stderr


def test_completion_for_powershell(tmp_path: Path) -> None:
    result = run_akslogin(["completion", "powershell"], clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    script = result.stdout
    assert "Register-ArgumentCompleter -Native -CommandName akslogin" in script
    for word in ("get-credentials", "--resource-group", "workloadidentity", "kubectl-akslogin"):
        assert word in script
