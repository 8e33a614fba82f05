"""Federated sign-in end to end: workload identity (projected token file), GitHub Actions OIDC and Azure
Pipelines service connections, each exchanged at the emulated Entra ID against the app's federated
credentials, then used by real kubectl.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from akslogin.credentials.federated import TokenFileAssertion
from akslogin.errors import ConfigError


def test_token_file_must_hold_a_jwt(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("not a token")
    with pytest.raises(ConfigError, match="is not a JWT"):
        TokenFileAssertion(str(tmp_path / "t"))()
    with pytest.raises(ConfigError, match="not a regular file"):
        TokenFileAssertion(str(tmp_path))()
