"""Drop-in gaps for kubelogin users: remove-cache-dir, and kubelogin's global flags before the command.

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

from pathlib import Path

from akslogin.emulator import Emulator
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo


def test_kubelogin_shim_lets_aks_kubeconfigs_work_unedited(tmp_path: Path, emulator: Emulator,
                                                           apps: dict[str, AppInfo]) -> None:
    import yaml

    from support.run import kubectl, write_kubeconfig

    app = apps["viewer"]
    kc = write_kubeconfig(tmp_path / "config", emulator, "aks1", spn_args(emulator, app, cache_dir=tmp_path / "c"))
    data = yaml.safe_load(kc.read_text())
    data["users"][0]["user"]["exec"]["command"] = "kubelogin"  # as az aks get-credentials writes it
    kc.write_text(yaml.safe_dump(data))
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "", PATH="/usr/bin:/bin")
    assert kubectl(kc, "get", "pods", env=env).returncode != 0
    bin_dir = tmp_path / "bin"
    installed = run_akslogin(["install-kubelogin-shim", "--dir", str(bin_dir)], env)
    assert installed.returncode == 0, installed.stderr
    assert "is not on PATH" in installed.stdout
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    pods = kubectl(kc, "get", "pods", "-o", "name", env=env)
    assert pods.returncode == 0, pods.stderr
    assert "pod/web-1" in pods.stdout
    again = run_akslogin(["install-kubelogin-shim", "--dir", str(bin_dir)], env)  # replacing our own shim is fine
    assert again.returncode == 0, again.stderr
