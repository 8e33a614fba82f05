"""--login interactive: authorization code + PKCE on a 127.0.0.1 loopback redirect. End to end through
real kubectl with a real headless Chromium filling in the emulator's sign-in page; the receiver's rules
(loopback only, form_post only, state checked) and the no-browser message are tested directly.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest

from akslogin.credentials.interactive import parse_redirect_url
from akslogin.errors import UsageError


@pytest.mark.parametrize("url", ["https://localhost:8400", "http://example.com:8400", "http://localhost:99999"])
def test_redirect_url_must_be_http_loopback(url: str) -> None:
    with pytest.raises(UsageError, match="--redirect-url"):
        parse_redirect_url(url)
    assert parse_redirect_url("http://localhost:8400/x") == ("localhost", 8400, "/x")
