"""Drop-in gaps for kubelogin users: remove-cache-dir, and kubelogin's global flags before the command.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.run import clean_env, run_akslogin, spn_args
from support.worlds import AppInfo


def _signed_in(tmp_path: Path, emulator: Emulator, app: AppInfo) -> tuple[Path, dict[str, str]]:
    cache = tmp_path / "cache"
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    assert run_akslogin(spn_args(emulator, app, cache_dir=cache), env).returncode == 0
    return cache, env


def test_remove_cache_dir_removes_everything_of_ours(tmp_path: Path, emulator: Emulator,
                                                    apps: dict[str, AppInfo]) -> None:
    cache, env = _signed_in(tmp_path, emulator, apps["viewer"])
    assert list((cache / "tokens").glob("*.json"))
    result = run_akslogin(["remove-cache-dir", "--cache-dir", str(cache)], env)
    assert result.returncode == 0, result.stderr
    assert not cache.exists() and "the directory is gone" in result.stdout
    again = run_akslogin(["remove-cache-dir", "--cache-dir", str(cache)], env)
    assert again.returncode == 0 and "Nothing to remove" in again.stdout


def test_remove_cache_dir_keeps_what_akslogin_did_not_write(tmp_path: Path, emulator: Emulator,
                                                           apps: dict[str, AppInfo]) -> None:
    cache, env = _signed_in(tmp_path, emulator, apps["viewer"])
    mine = cache / "notes.txt"
    mine.write_text("not akslogin's")
    result = run_akslogin(["remove-cache-dir", "--cache-dir", str(cache), "-o", "json"], env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kept"] == [str(mine)] and mine.read_text() == "not akslogin's"
    assert any("/tokens/" in p for p in data["removed"]) and not (cache / "tokens").exists()


@pytest.mark.parametrize("flags", [["-v", "5"], ["-v5"], ["--v=5"], ["--logtostderr", "-v", "5"],
                                   ["--logtostderr=true", "--v", "5"]])
def test_kubelogin_global_flags_before_the_command(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo],
                                                   flags: list[str]) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    result = run_akslogin([*flags, *spn_args(emulator, app, cache_dir=tmp_path / "c")], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["token"]
    assert "options:" in result.stderr  # -v 5 logs the (masked) options
    assert (app.secret or "") not in result.stderr


def test_logtostderr_alone_is_accepted(tmp_path: Path, emulator: Emulator, apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "")
    result = run_akslogin(["--logtostderr", *spn_args(emulator, app, cache_dir=tmp_path / "c")], env)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_invalid_azure_cli_timeout_is_ignored_with_a_warning(tmp_path: Path, emulator: Emulator,
                                                             apps: dict[str, AppInfo]) -> None:
    app = apps["viewer"]
    env = clean_env(tmp_path, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=app.secret or "", AZURE_CLI_TIMEOUT="soon")
    result = run_akslogin(spn_args(emulator, app, cache_dir=tmp_path / "c"), env)
    assert result.returncode == 0, result.stderr
    assert "AZURE_CLI_TIMEOUT='soon' is not a duration" in result.stderr and "ignoring it" in result.stderr


def test_kubelogin_shim_never_shadows_a_real_kubelogin_unless_forced(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "kubelogin"
    real.write_text("#!/bin/sh\necho real kubelogin\n")
    real.chmod(0o755)
    env = clean_env(tmp_path, PATH=f"{real_dir}:/usr/bin:/bin")
    refused = run_akslogin(["install-kubelogin-shim", "--dir", str(tmp_path / "bin")], env)
    assert refused.returncode == 1 and f"a real kubelogin is installed at {real}" in refused.stderr
    assert not (tmp_path / "bin" / "kubelogin").exists()
    forced = run_akslogin(["install-kubelogin-shim", "--dir", str(tmp_path / "bin"), "--force"], env)
    assert forced.returncode == 0, forced.stderr
    assert real.read_text() == "#!/bin/sh\necho real kubelogin\n"  # the real one elsewhere is untouched
