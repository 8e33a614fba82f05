"""Issue 24, akslogin's side: what a new user trips on (container HOMEs, repeated and named subscriptions, a
second login mode for one cluster, convert flags, odd bytes in names, the Python API's types, kubelogin's
root flags).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from pathlib import Path

from support.mounts import _mounted_read_only
from support.run import clean_env, run_akslogin


def test_home_on_a_read_only_file_system_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with _mounted_read_only(home):
        result = run_akslogin(["get-token", "--login", "spn", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
                               "--client-id", "c", "--tenant-id", "t", "--authority-host", "https://127.0.0.1:9/"],
                              clean_env(home, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="x"))
    assert result.returncode == 1, result.stderr
    assert f"cannot create {home}/.kube/cache/akslogin" in result.stderr and "KUBECACHEDIR" in result.stderr
    assert "chown" not in result.stderr and "delete" not in result.stderr and "Traceback" not in result.stderr
