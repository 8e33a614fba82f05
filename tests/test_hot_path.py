"""The cached get-token path stays import-light, and its hand-written parts equal what they replaced.

Nothing here is timed: the imports a cache hit pays for are checked with ``python -X importtime`` on the
installed console script, and the stdlib-free replacements (JSON, key hashing, durations, URL check) are
compared with the json/hashlib/re versions on generated input.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akslogin import exec_credential, jsonlite, options
from akslogin.emulator.world import AKS_SERVER_APP_ID
from akslogin.errors import UsageError
from akslogin.tokencache import store
from akslogin.tokencache.key import authority_for_key, identity_fields, identity_key
from support.run import akslogin_bin, clean_env
from support.worlds import TENANT_ID

#: Modules a cache hit must never load: the network stack, YAML, crypto, and the costly stdlib helpers.
FORBIDDEN = (
    "msal", "requests", "urllib3", "yaml", "cryptography", "jwt", "akslogin.http", "akslogin.credentials",
    "akslogin.tokens.acquire", "typing", "dataclasses", "inspect", "re", "json", "hashlib", "_hashlib",
    "argparse", "tempfile", "ssl", "socket", "logging", "fcntl",
    # a module each, for a cache hit that needs neither: annotations are quoted instead of postponed, and the
    # error classes are imported where an error is raised
    "__future__", "akslogin.errors", "akslogin.tokencache.store",
)


def _imported(cmd: list[str], env: dict[str, str]) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    result = subprocess.run([sys.executable, "-X", "importtime", *cmd], env=env, capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2 and "self [us]" not in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names, result


def _seed(cache_dir: Path, argv: list[str]) -> None:
    """Write a valid cache entry for ``argv`` directly (no network needed for a cache hit)."""
    opts = options.parse_args(argv)
    options.apply_env(opts, {})
    options.validate(opts)
    key = identity_key(opts, authority_for_key(opts))
    store.prepare(str(cache_dir))
    store.write_entry(str(cache_dir), key, "header.payload.signature", time.time() + 3600, opts.login)


@pytest.mark.parametrize("authority", ["https://127.0.0.1:1/", None], ids=["authority-host", "public-cloud"])
def test_cache_hit_imports_nothing_heavy(tmp_path: Path, authority: str | None) -> None:
    argv = ["--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", TENANT_ID,
            "--client-id", "aaaaaaaa-0000-4000-8000-00000000abcd", "--cache-dir", str(tmp_path / "cache"),
            "--timeout", "1m30s"]
    if authority:
        argv += ["--authority-host", authority]
    _seed(tmp_path / "cache", argv)
    env = clean_env(tmp_path, KUBERNETES_EXEC_INFO=json.dumps(
        {"apiVersion": exec_credential.V1, "kind": "ExecCredential", "spec": {"interactive": False}}))
    baseline, _ = _imported(["-c", "pass"], env)
    names, result = _imported([akslogin_bin(), "get-token", *argv], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"]["token"] == "header.payload.signature"
    assert "akslogin.usecases.get_token" in names  # the check below is only meaningful if this works
    loaded = sorted(m for m in FORBIDDEN if m in names and m not in baseline)
    assert loaded == [], f"the cached get-token path imported {loaded}"


def test_the_installed_command_is_the_console_script_of_akslogin_entry(tmp_path: Path) -> None:
    """The `akslogin` on PATH is the installer's console script for akslogin.entry:main (as on Windows, where it is
    an .exe): one universal wheel. kubelogin's root flags before the command still work through it (they go to
    akslogin.cli)."""
    installed = Path(akslogin_bin()).read_text(errors="replace")
    assert "akslogin.entry" in installed and "import main" in installed
    argv = ["--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", TENANT_ID,
            "--client-id", "aaaaaaaa-0000-4000-8000-00000000abce", "--cache-dir", str(tmp_path / "cache")]
    _seed(tmp_path / "cache", argv)
    env = clean_env(tmp_path)
    for prefix in ([], ["-v", "0"], ["--logtostderr"]):
        result = subprocess.run([akslogin_bin(), *prefix, "get-token", *argv], env=env, capture_output=True,
                                text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["status"]["token"] == "header.payload.signature"


def test_a_cache_miss_does_load_the_network_stack(tmp_path: Path) -> None:
    """Counter-check for the test above: the same harness sees msal when the slow path runs."""
    argv = ["--login", "spn", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", TENANT_ID, "--client-id", "c",
            "--authority-host", "https://127.0.0.1:9/", "--timeout", "2s", "--cache-dir", str(tmp_path / "c")]
    names, result = _imported([akslogin_bin(), "get-token", *argv], clean_env(tmp_path, AZURE_CLIENT_SECRET="s"))
    assert result.returncode == 1 and "cannot connect" in result.stderr
    assert {"msal", "requests"} <= names


# -- the replacements equal what they replaced ---------------------------------------------------------

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


def test_token_options_replace_copies_and_masks() -> None:
    opts = options.TokenOptions(login="spn", client_secret="s3cr3t", certificate_authority=["a.pem"])
    copy = opts.replace(tenant_id="t")
    assert copy.tenant_id == "t" and copy.client_secret == "s3cr3t" and opts.tenant_id == ""
    copy.certificate_authority.append("b.pem")
    assert opts.certificate_authority == ["a.pem"]
    assert "s3cr3t" not in repr(opts) and copy != opts and opts.replace() == opts
    with pytest.raises(TypeError):
        opts.replace(no_such_field=1)


def test_token_options_fields_match_the_constructor() -> None:
    """TokenOptions is a plain class: FIELDS, __slots__ and __init__ must list the same fields in order (the
    slots add from_env, which records where environment values came from and is not an option)."""
    import inspect

    params = list(inspect.signature(options.TokenOptions.__init__).parameters)[1:]
    assert params == list(options.FIELDS) == list(options.TokenOptions.__slots__)[:-1]
    assert options.TokenOptions.__slots__[-1] == "from_env"
    defaults = options.TokenOptions()
    assert all(hasattr(defaults, name) for name in options.FIELDS)
