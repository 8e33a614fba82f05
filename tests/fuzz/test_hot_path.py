"""The cached get-token path stays import-light, and its hand-written parts equal what they replaced.

Nothing here is timed: the imports a cache hit pays for are checked with ``python -X importtime`` on the
installed console script, and the stdlib-free replacements (JSON, key hashing, durations, URL check) are
compared with the json/hashlib/re versions on generated input.

Here: the hypothesis suites.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akslogin import exec_credential, jsonlite, options
from akslogin.errors import UsageError
from akslogin.tokencache.key import identity_fields, identity_key

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 2]), st.sampled_from(["", " \n\t"]))
def test_loads_equals_json_loads(value: object, indent: int | None, pad: str) -> None:
    text = pad + json.dumps(value, indent=indent, ensure_ascii=False) + pad
    assert jsonlite.loads(text) == json.loads(text)
    assert jsonlite.loads(text.encode("utf-8")) == json.loads(text.encode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]":,0123456789.eE-+ tfnaulrsNIiy\\', max_size=20))
def test_loads_rejects_what_json_loads_rejects(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            jsonlite.loads(text)
    else:
        got = jsonlite.loads(text)
        assert got == expected or (got != got and expected != expected)  # NaN


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), st.text(), max_size=6))
def test_quote_and_flat_dumps_equal_json_dumps(fields: dict[str, str]) -> None:
    for value in fields.values():
        assert jsonlite.quote(value) == json.dumps(value)
    assert jsonlite.dumps_flat(fields) == json.dumps(fields, sort_keys=True, separators=(",", ":"))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(exec_credential.SUPPORTED), st.booleans(), st.text(min_size=1),
       st.integers(min_value=0, max_value=4_000_000_000))
def test_render_equals_json_dumps(api_version: str, interactive: bool, token: str, expires_on: int) -> None:
    info = exec_credential.ExecInfo(api_version, interactive)
    expected = json.dumps({
        "kind": "ExecCredential", "apiVersion": api_version, "spec": {"interactive": interactive},
        "status": {"expirationTimestamp": exec_credential.format_timestamp(expires_on), "token": token},
    }, separators=(",", ":"))
    assert exec_credential.render(info, token, expires_on) == expected


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(options.LOGIN_MODES), st.text(max_size=12), st.text(max_size=12), st.booleans())
def test_identity_key_is_unchanged(login: str, tenant: str, client: str, legacy: bool) -> None:
    """Cache file names written by earlier versions (sha256 of sorted compact JSON) stay valid."""
    opts = options.TokenOptions(login=login, server_id="srv", tenant_id=tenant, client_id=client, legacy=legacy,
                                username="u@x", identity_resource_id="/sub/x")
    fields = identity_fields(opts, "https://login.example/")
    old = hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:40]
    assert identity_key(opts, "https://login.example/") == old


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def _regex_duration(text: str) -> float:
    """The regex implementation parse_duration replaced."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * scale[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise UsageError("not a duration")
    return total


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.mhsx -٣", max_size=10))
def test_parse_duration_equals_the_regex_version(text: str) -> None:
    try:
        expected = _regex_duration(text)
    except UsageError:
        with pytest.raises(UsageError):
            options.parse_duration(text)
    else:
        assert options.parse_duration(text) == pytest.approx(expected)


_URL_RE = re.compile(r"^https://[^/\s?#]+(/[^\s?#]*)?\Z")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="hps:/.?#x1 \t", max_size=14).map(lambda s: "https://" + s if s.startswith("x") else s))
def test_https_url_check_equals_the_regex(text: str) -> None:
    assert options.is_https_url(text) == bool(_URL_RE.match(text))
