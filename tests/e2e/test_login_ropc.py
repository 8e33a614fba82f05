"""--login ropc end to end through real kubectl: managed accounts (password grant) and federated ones
(user realm → MEX → WS-Trust at the emulated ADFS → SAML 1.1/2.0 bearer grant), on an authority with a
port. MFA and Conditional Access refusals explain that this mode cannot satisfy them.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.entra import adfs
from support.login_ropc import _kubeconfig
from support.run import KubectlRun, clean_env, user_args, write_kubeconfig
from support.worlds import FED2_DOMAIN, FED_DOMAIN, PASSWORD, USER_DOMAIN


@pytest.mark.parametrize(("upn", "grant"), [
    (f"viewer@{USER_DOMAIN}", "password"),
    (f"fed@{FED_DOMAIN}", "urn:ietf:params:oauth:grant-type:saml1_1-bearer"),
    (f"fed2@{FED2_DOMAIN}", "urn:ietf:params:oauth:grant-type:saml2-bearer"),
])
def test_kubectl_with_managed_and_federated_accounts(tmp_path: Path, user_emu: Emulator, upn: str,
                                                     grant: str) -> None:
    kc, env = _kubeconfig(tmp_path, user_emu, upn)
    result = KubectlRun(kc, "auth", "whoami", "-o", "json", env=env).finish()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["userInfo"]["username"] == upn
    realm = [e for e in user_emu.request_log.entries("entra") if "/common/userrealm/" in e.path]
    assert realm and realm[0].status == 200  # reached despite MSAL dropping the authority's port
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == [grant]
    assert PASSWORD not in result.stderr


def test_federated_wrong_password_names_the_idp(tmp_path: Path, user_emu: Emulator) -> None:
    kc, env = _kubeconfig(tmp_path, user_emu, f"fed@{FED_DOMAIN}", "not-it")
    result = KubectlRun(kc, "get", "pods", env=env).finish()
    assert result.returncode == 1
    assert "federated identity provider for corp.example rejected the username or password" in result.stderr
    assert "not-it" not in result.stderr and "Traceback" not in result.stderr
    assert adfs.of(user_emu).idp_log[-1][1] == "fault"


def test_second_run_refreshes_instead_of_sending_the_password(tmp_path: Path, user_emu: Emulator) -> None:
    user_emu.entra.settings.access_token_lifetime = 200
    kc, env = _kubeconfig(tmp_path, user_emu, f"viewer@{USER_DOMAIN}")
    assert KubectlRun(kc, "get", "pods", env=env).finish().returncode == 0
    user_emu.request_log.reset()
    assert KubectlRun(kc, "get", "pods", env=env).finish().returncode == 0
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["refresh_token"]


def test_aad_login_method_overrides_the_kubeconfig_flag(tmp_path: Path, user_emu: Emulator) -> None:
    """kubelogin's precedence: AAD_LOGIN_METHOD beats --login devicecode written by az aks get-credentials."""
    kc = write_kubeconfig(tmp_path / "config", user_emu, "users", user_args(user_emu, "devicecode", tmp_path / "c"),
                          exec_env={"AAD_LOGIN_METHOD": "ropc", "AZURE_USERNAME": f"viewer@{USER_DOMAIN}",
                                    "AZURE_PASSWORD": PASSWORD})
    result = KubectlRun(kc, "get", "pods", env=clean_env(tmp_path)).finish()
    assert result.returncode == 0, result.stderr
    assert "enter the code" not in result.stderr
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["password"]


def test_parallel_kubectl_runs_sign_in_once(tmp_path: Path, user_emu: Emulator) -> None:
    kc, env = _kubeconfig(tmp_path, user_emu, f"viewer@{USER_DOMAIN}")
    procs = [subprocess.Popen(["/usr/bin/kubectl", "--kubeconfig", str(kc), "get", "pods"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
    assert [r.grant_type for r in user_emu.request_log.token_requests()] == ["password"]
