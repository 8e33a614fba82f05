"""What the tiers of test_login_devicecode.py share: tests/{e2e,emulated}/test_login_devicecode.py."""

from __future__ import annotations

from support.worlds import USER_DOMAIN

DEV = f"dev@{USER_DOMAIN}"
