"""--login azurecli / azd end to end: kubectl → akslogin → a stand-in az/azd on PATH that speaks the real
CLIs' JSON contract and signs in to the emulator → the API server. The stand-ins log their arguments, so
the tests see exactly what akslogin asked for.

tests/{emulated,e2e}/test_real_az.py runs the real Azure CLI for everything it can do offline; the stand-ins stay for
what it cannot: an az that hangs (--timeout), one that prints garbage, the pre-2.54 output without expires_on, a profile
switched between two calls in microseconds, and azd (not on PyPI).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import json
import time

import pytest

from akslogin.credentials.azd import parse_azd_output, parse_rfc3339
from akslogin.credentials.azure_cli import parse_az_output
from akslogin.errors import AuthenticationError


def test_az_output_contract() -> None:
    now = time.time()
    assert parse_az_output('{"accessToken": "t", "expires_on": 1900000000}', now).expires_on == 1900000000
    assert parse_az_output('{"accessToken": "t", "expires_on": "1900000000"}', now).expires_on == 1900000000
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now + 600))
    assert abs(parse_az_output(json.dumps({"accessToken": "t", "expiresOn": local + ".000000"}), now).expires_on
               - (now + 600)) < 2
    for bad in ('{"expires_on": 1900000000}', '{"accessToken": "t"}', "[]", '{"accessToken": "t", "expires_on": 1}'):
        with pytest.raises(AuthenticationError):
            parse_az_output(bad, now)


def test_azd_output_contract() -> None:
    now = time.time()
    assert parse_rfc3339("2030-01-02T03:04:05Z") == 1893553445
    assert parse_rfc3339("2030-01-02T04:04:05.123456789+01:00") == pytest.approx(1893553445.123456)
    assert parse_rfc3339("2030-01-02T03:04:05") is None  # no offset: ambiguous
    token = parse_azd_output('{"token": "t", "expiresOn": "2030-01-02T03:04:05Z"}', now)
    assert (token.token, token.expires_on) == ("t", 1893553445)
    for bad in ('{"token": "t"}', '{"expiresOn": "2030-01-02T03:04:05Z"}', "nope"):
        with pytest.raises(AuthenticationError):
            parse_azd_output(bad, now)
