"""What a new user hits, each reproduced first: the default login mode timing out, diagnostics that must see the
token kubectl would get, relative paths in kubeconfigs, audit of the admin credential, odd consoles, usage
errors and exit codes, and kubectl's KUBECONFIG rule.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from pathlib import Path

from akslogin.emulator import Emulator
from support.run import clean_env


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
