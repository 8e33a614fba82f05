"""--login ropc end to end through real kubectl: managed accounts (password grant) and federated ones
(user realm → MEX → WS-Trust at the emulated ADFS → SAML 1.1/2.0 bearer grant), on an authority with a
port. MFA and Conditional Access refusals explain that this mode cannot satisfy them.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest

from akslogin.credentials.ropc import UsernamePasswordCredential
from akslogin.emulator import Emulator
from akslogin.emulator.net.faults import Fault
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.usecases.get_token import run
from support.run import clean_env, credential_context, user_args
from support.worlds import FED_DOMAIN, PASSWORD, USER_DOMAIN


@pytest.mark.parametrize(("upn", "code"), [
    (f"mfa@{USER_DOMAIN}", 50076), (f"mfareg@{USER_DOMAIN}", 50079), (f"blocked@{USER_DOMAIN}", 53003),
    (f"unmanaged@{USER_DOMAIN}", 53000), (f"fedmfa@{FED_DOMAIN}", 50076),
])
def test_mfa_and_conditional_access_explain_what_to_use_instead(tmp_path: Path, user_emu: Emulator, upn: str,
                                                                code: int) -> None:
    env = clean_env(tmp_path, AAD_USER_PRINCIPAL_NAME=upn, AAD_USER_PRINCIPAL_PASSWORD=PASSWORD)
    out, err = io.StringIO(), io.StringIO()
    assert run(user_args(user_emu, "ropc", tmp_path / "c")[1:], env, out, err) == 1
    text = err.getvalue()
    assert f"AADSTS{code}" in text
    assert "cannot complete multi-factor authentication or satisfy Conditional Access" in text
    assert "--login interactive or --login devicecode" in text




def test_missing_password_is_a_usage_error(tmp_path: Path, user_emu: Emulator) -> None:
    out, err = io.StringIO(), io.StringIO()
    env = clean_env(tmp_path, AAD_USER_PRINCIPAL_NAME=f"viewer@{USER_DOMAIN}")
    assert run(user_args(user_emu, "ropc", tmp_path / "c")[1:], env, out, err) == 2
    assert "needs a username and a password" in err.getvalue()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_5xx_during_proactive_refresh_falls_back_to_the_cached_token(tmp_path: Path, user_emu: Emulator) -> None:
    """MSAL 1.39 raises MsalServiceError on a 5xx while refreshing early; the still-valid token is used."""
    user_emu.entra.settings.refresh_in = 1  # MSAL will want to refresh right away
    env = {"AAD_USER_PRINCIPAL_NAME": f"dev@{USER_DOMAIN}", "AAD_USER_PRINCIPAL_PASSWORD": PASSWORD}
    ctx, _ = credential_context(user_emu, "ropc", tmp_path)
    ctx.opts.username, ctx.opts.password = env["AAD_USER_PRINCIPAL_NAME"], env["AAD_USER_PRINCIPAL_PASSWORD"]
    first = UsernamePasswordCredential(ctx).get_token(AKS_SERVER_APP_ID)
    user_emu.faults.add(Fault(service="entra", path=r"/oauth2/v2\.0/token$", kind="status", status=503, times=5))
    time.sleep(1.1)  # past refresh_on (MSAL uses the real clock)
    second = UsernamePasswordCredential(ctx).get_token(AKS_SERVER_APP_ID)
    assert second.token == first.token
    assert [r.status for r in user_emu.request_log.token_requests()][-1] == 503
    # Without a usable cached token the failure is reported, not swallowed.
    user_emu.faults.add(Fault(service="entra", path=r"/oauth2/v2\.0/token$", kind="status", status=503, times=5))
    ctx2, _ = credential_context(user_emu, "ropc", tmp_path / "other")
    ctx2.opts.username, ctx2.opts.password = ctx.opts.username, ctx.opts.password
    with pytest.raises(Exception, match=r"503|temporar"):
        UsernamePasswordCredential(ctx2).get_token(AKS_SERVER_APP_ID)


def test_saved_sign_in_file_is_private_and_refused_when_not(tmp_path: Path, user_emu: Emulator) -> None:
    env = clean_env(tmp_path, AAD_USER_PRINCIPAL_NAME=f"viewer@{USER_DOMAIN}", AAD_USER_PRINCIPAL_PASSWORD=PASSWORD)
    args = user_args(user_emu, "ropc", tmp_path / "c")[1:]
    assert run(args, env, io.StringIO(), io.StringIO()) == 0
    saved = next((tmp_path / "c" / "msal").iterdir())
    assert saved.stat().st_mode & 0o777 == 0o600
    text = saved.read_text()
    assert PASSWORD not in text
    if text.startswith("AKSLOGIN-ENC1"):  # a secret store was usable: the refresh token is encrypted at rest
        assert '"RefreshToken"' not in text
    else:
        assert '"RefreshToken"' in text
    os.chmod(saved, 0o644)
    for entry in (tmp_path / "c" / "tokens").iterdir():
        entry.unlink()  # force the slow path
    err = io.StringIO()
    assert run(args, env, io.StringIO(), err) == 1
    assert "readable or writable by other users" in err.getvalue()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_verbose_log_never_shows_password_or_tokens(tmp_path: Path, user_emu: Emulator) -> None:
    user_emu.entra.settings.access_token_lifetime = 200
    # Plaintext storage, so the test can read the refresh token and look for it in the log.
    env = clean_env(tmp_path, AAD_USER_PRINCIPAL_NAME=f"viewer@{USER_DOMAIN}", AAD_USER_PRINCIPAL_PASSWORD=PASSWORD,
                    AKSLOGIN_CACHE_STORAGE="file")
    args = user_args(user_emu, "ropc", tmp_path / "c", "-v", "10")[1:]
    for _ in range(2):  # sign-in, then refresh
        out, err = io.StringIO(), io.StringIO()
        assert run(args, env, out, err) == 0
        token = json.loads(out.getvalue())["status"]["token"]
        saved = next((tmp_path / "c" / "msal").iterdir()).read_text()
        refresh = json.loads(saved)["RefreshToken"]
        log = err.getvalue()
        assert "akslogin [" in log  # verbose output was produced
        assert PASSWORD not in log and token not in log
        assert all(rt["secret"] not in log for rt in refresh.values())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_corrupt_saved_sign_in_is_replaced_not_fatal(tmp_path: Path, user_emu: Emulator) -> None:
    env = clean_env(tmp_path, AAD_USER_PRINCIPAL_NAME=f"viewer@{USER_DOMAIN}", AAD_USER_PRINCIPAL_PASSWORD=PASSWORD,
                    AKSLOGIN_CACHE_STORAGE="file")
    args = user_args(user_emu, "ropc", tmp_path / "c")[1:]
    assert run(args, env, io.StringIO(), io.StringIO()) == 0
    saved = next((tmp_path / "c" / "msal").iterdir())
    saved.write_text('{"AccessToken": {"trunc')  # a half-written file from some other tool
    for entry in (tmp_path / "c" / "tokens").iterdir():
        entry.unlink()
    err = io.StringIO()
    assert run(args, env, io.StringIO(), err) == 0, err.getvalue()
    assert json.loads(saved.read_text())["RefreshToken"]  # rewritten whole
    assert saved.stat().st_mode & 0o777 == 0o600
