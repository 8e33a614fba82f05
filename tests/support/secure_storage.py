"""What the tiers of test_secure_storage.py share: tests/{emulated,unit}/test_secure_storage.py."""

from __future__ import annotations

from akslogin.tokencache import keystores


def _kernel_available() -> bool:
    return keystores.open_keystore("kernel") is not None
