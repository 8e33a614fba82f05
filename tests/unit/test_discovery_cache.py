"""The persisted discovery cache: private, JSON, expiring, self-healing, and never trusted when it is not ours.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

from akslogin.credentials.discovery_cache import (
    cache_key,
)


def test_cache_keys() -> None:
    assert cache_key("https://h/t/v2.0/.well-known/openid-configuration") == \
        "https://h/t/v2.0/.well-known/openid-configuration"
    a = cache_key("https://H/common/discovery/instance", {"b": "2", "a": "1"})
    assert a == cache_key("https://h/common/discovery/instance?a=1", {"b": "2"}) == \
        "https://h/common/discovery/instance?a=1&b=2"
    assert cache_key("https://h/common/userrealm/u@x?api-version=1.0") is None
    assert cache_key("http://h/t/v2.0/.well-known/openid-configuration") is None
