"""--login devicecode end to end through real kubectl: the prompt reaches kubectl's stderr, the user
approves on the emulator, kubectl lists pods; later runs refresh silently; revoked or expired refresh
tokens lead to a clear notice and a new prompt; --legacy gets the spn: audience from the v1 endpoint.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from akslogin.credentials import devicecode as product_devicecode
from akslogin.credentials.base import CredentialContext
from akslogin.emulator import Emulator
from akslogin.emulator.entra import devicecode
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.usecases.get_token import run
from support.login_devicecode import DEV
from support.run import (
    clean_env,
    credential_context,
    decode_jwt_payload,
    user_args,
    user_code_from,
)


def _attended(tmp_path: Path) -> dict[str, str]:
    """For get-token run in process: the test, not a terminal, answers the prompt (credentials/attendance.py)."""
    return clean_env(tmp_path, AKSLOGIN_PROMPT="always")


def test_legacy_token_is_rejected_by_a_modern_cluster_audience(tmp_path: Path, user_emu: Emulator) -> None:
    out, err = io.StringIO(), io.StringIO()
    code_holder: list[str] = []

    def approve() -> None:
        pending = devicecode.of(user_emu).wait_for_code()
        code_holder.append(pending.user_code)
        devicecode.of(user_emu).approve(pending.user_code, DEV)

    threading.Thread(target=approve, daemon=True).start()
    rc = run(user_args(user_emu, "devicecode", tmp_path / "c", "--legacy")[1:], _attended(tmp_path), out, err)
    assert rc == 0, err.getvalue()
    token = json.loads(out.getvalue())["status"]["token"]
    assert decode_jwt_payload(token)["aud"] == f"spn:{AKS_SERVER_APP_ID}"
    assert code_holder[0] in err.getvalue()


def _in_process(tmp_path: Path, emu: Emulator, *extra: str) -> tuple[CredentialContext, io.StringIO]:
    ctx, stderr = credential_context(emu, "devicecode", tmp_path, *extra, clock=emu.clock.now)
    return ctx, stderr


@pytest.mark.filterwarnings("ignore:Attempted too soon")  # the fake sleep does not move MSAL's clock
def test_polling_honours_interval_and_slow_down(tmp_path: Path, user_emu: Emulator) -> None:
    """Polls are spaced by the server's interval, and by 5 s more after slow_down (on the emulator clock)."""
    user_emu.entra.settings.device_code_interval = 3
    ctx, stderr = _in_process(tmp_path, user_emu)
    waits: list[float] = []
    codes = devicecode.of(user_emu)

    def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        user_emu.clock.advance(seconds)
        pending = codes.pending()[-1]
        if len(waits) == 1:
            codes.slow_down(pending.user_code)
        elif len(waits) == 3:
            codes.approve(pending.user_code, DEV)

    credential = product_devicecode.DeviceCodeCredential(ctx, sleep=fake_sleep)
    token = credential.get_token(AKS_SERVER_APP_ID)
    assert decode_jwt_payload(token.token)["upn"] == DEV
    assert waits == [3, 8, 8]  # interval, then interval + 5 after slow_down
    code = codes.get(user_code_from(stderr.getvalue()))
    gaps = [b - a for a, b in zip(code.polls, code.polls[1:], strict=False)]
    assert len(code.polls) == 4 and all(g >= 3 for g in gaps)


def test_timeout_while_pending_says_what_to_do(tmp_path: Path, user_emu: Emulator) -> None:
    out, err = io.StringIO(), io.StringIO()
    rc = run(user_args(user_emu, "devicecode", tmp_path / "c", "--timeout", "2s")[1:], _attended(tmp_path), out, err)
    assert rc == 1 and out.getvalue() == ""
    assert "AADSTS70016" in err.getvalue() and "--timeout" in err.getvalue()


def test_client_and_tenant_are_required(tmp_path: Path, user_emu: Emulator) -> None:
    out, err = io.StringIO(), io.StringIO()
    args = [a for a in user_args(user_emu, "devicecode", tmp_path / "c")[1:]]
    i = args.index("--client-id")
    del args[i:i + 2]
    assert run(args, _attended(tmp_path), out, err) == 2
    assert "--client-id is required for --login devicecode" in err.getvalue()
    assert "80faf920-1908-4b52-b5ef-a8e7bedfc67a" in err.getvalue()


def test_legacy_expired_code_is_code_expired_on_v1(tmp_path: Path, user_emu: Emulator) -> None:
    def expire() -> None:
        pending = devicecode.of(user_emu).wait_for_code()
        devicecode.of(user_emu).expire(pending.user_code)

    threading.Thread(target=expire, daemon=True).start()
    out, err = io.StringIO(), io.StringIO()
    assert run(user_args(user_emu, "devicecode", tmp_path / "c", "--legacy")[1:], _attended(tmp_path), out, err) == 1
    assert "AADSTS70019" in err.getvalue() and "(code_expired)" in err.getvalue()
