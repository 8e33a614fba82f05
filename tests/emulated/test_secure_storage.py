"""Refresh tokens at rest: encrypted with a key in an OS secret store, or an explicit, announced 0600 file.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from akslogin.tokencache import secure
from support.secure_storage import _kernel_available


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_get_token_chooses_storage_with_the_flag(tmp_path: Path, user_emu: object) -> None:
    from support.run import clean_env, run_akslogin, user_args
    from support.worlds import PASSWORD, USER_DOMAIN

    env = clean_env(tmp_path, AAD_USER_PRINCIPAL_NAME=f"viewer@{USER_DOMAIN}", AAD_USER_PRINCIPAL_PASSWORD=PASSWORD)
    plain = run_akslogin(user_args(user_emu, "ropc", tmp_path / "plain", "--cache-storage", "file"), env)  # type: ignore[arg-type]
    assert plain.returncode == 0, plain.stderr
    saved = next((tmp_path / "plain" / "msal").iterdir()).read_bytes()
    assert b'"RefreshToken"' in saved
    bad = run_akslogin(user_args(user_emu, "ropc", tmp_path / "bad", "--cache-storage", "vault"), env)  # type: ignore[arg-type]
    assert bad.returncode == 2 and "--cache-storage must be one of" in bad.stderr
    if _kernel_available():
        auto = run_akslogin(user_args(user_emu, "ropc", tmp_path / "auto"), env)  # type: ignore[arg-type]
        assert auto.returncode == 0, auto.stderr
        sealed = next((tmp_path / "auto" / "msal").iterdir()).read_bytes()
        assert sealed.startswith(secure.MAGIC) and b"RefreshToken" not in sealed
