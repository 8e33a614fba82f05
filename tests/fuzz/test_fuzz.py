"""Hostile input: property-based tests over every parser that reads untrusted bytes.

Each parser gets at least 10,000 generated cases; the only acceptable outcomes are a value or an
akslogin error (one paragraph for the user), never another exception.
"""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from akslogin import exec_credential
from akslogin.aadsts import describe_idp_error
from akslogin.credentials.msal_app import token_from_result
from akslogin.errors import AksloginError
from akslogin.kubeconfig import files
from akslogin.tokencache.entry import parse_entry

# Generation dominates the cost (about 6 ms a case); `make test` runs this module in its own process.

CASES = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck), database=None)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=10,
)
keys = st.sampled_from(["apiVersion", "kind", "spec", "interactive", "status", "token", "access_token",
                        "expires_on", "expires_in", "version", "error", "error_codes", "error_description",
                        "clusters", "contexts", "users", "name", "cluster", "context", "user", "current-context",
                        "exec", "auth-provider", "server"])
shaped = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=12,
)


def _ok_or_akslogin_error(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except AksloginError as exc:
        assert exc.render().startswith("akslogin: ")
        assert "\n" not in exc.render() and "\x1b" not in exc.render()


@CASES
@given(st.one_of(st.text(max_size=200), shaped.map(json.dumps),
                 st.sampled_from(["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
                 .flatmap(lambda v: shaped.map(lambda s: json.dumps({"apiVersion": v, "spec": s})))))
def test_exec_info_parser(raw: str) -> None:
    _ok_or_akslogin_error(exec_credential.read_exec_info, {"KUBERNETES_EXEC_INFO": raw})


entries = st.fixed_dictionaries({"version": st.sampled_from([1, 2, "1", None]), "access_token": json_values,
                                 "expires_on": json_values}).map(lambda v: json.dumps(v).encode())
real_entries = st.builds(lambda token, exp: json.dumps({"version": 1, "access_token": token, "expires_on": exp,
                                                        "login": "spn", "written_at": 1}).encode(),
                         st.text(min_size=1, max_size=60), st.integers(0, 10**12) | st.floats())


@CASES
@given(st.one_of(st.binary(max_size=200), shaped.map(lambda v: json.dumps(v).encode()), entries,
                 # cut short (disk full, power loss) anywhere, and oversized or deeply nested documents
                 st.builds(lambda doc, cut: doc[:cut], real_entries, st.integers(0, 200)),
                 st.builds(lambda doc, n: doc[:-1] + b',"pad":"' + b"x" * n + b'"}', real_entries,
                           st.integers(0, 70_000)),
                 st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n)))
def test_cache_entry_parser(raw: bytes) -> None:
    entry = parse_entry(raw)
    if entry is not None:
        assert isinstance(entry.token, str) and entry.token
        assert isinstance(entry.expires_on, float)


yaml_text = st.text(alphabet=string.printable, max_size=300)


@CASES
@given(st.one_of(yaml_text, shaped.map(json.dumps)))
def test_kubeconfig_parser(text: str) -> None:
    _ok_or_akslogin_error(files.parse, text, "fuzz")


@CASES
@example({"error": "bad\nline", "error_description": "AADSTS1: x\r\n\x1b[31mred\x1b[0m"})
@given(st.one_of(shaped, st.fixed_dictionaries({
    "error": json_values, "error_description": json_values, "error_codes": json_values,
})))
def test_idp_error_bodies(body: Any) -> None:
    if isinstance(body, dict):
        text = describe_idp_error(body).render()
        assert text.startswith("akslogin: ") and "\n" not in text and "\x1b" not in text


@CASES
@given(st.one_of(shaped, st.fixed_dictionaries({"access_token": json_values, "expires_in": json_values,
                                                "token_type": json_values})))
def test_token_responses(body: Any) -> None:
    _ok_or_akslogin_error(lambda answer: token_from_result(answer, now=1_000_000.0), body)


# -- ARM answers, tokens shown by whoami, certificates in kubeconfigs --------------------------------

class _FakeResponse:
    """Just what describe_error reads from a requests.Response."""

    def __init__(self, status: int, text: str) -> None:
        self.status_code, self.text, self.headers, self.url = status, text, {}, "https://arm.example/x"


@CASES
@given(shaped)
def test_arm_cluster_items(item: Any) -> None:
    from akslogin.arm import cluster_from_json

    if isinstance(item, dict):
        cluster = cluster_from_json(item)
        assert isinstance(cluster.name, str) and isinstance(cluster.aad, bool)


@CASES
@given(st.one_of(shaped, st.fixed_dictionaries({"kubeconfigs": st.lists(st.fixed_dictionaries(
    {"name": json_values, "value": st.one_of(st.text(max_size=40), st.binary(max_size=40).map(
        lambda b: __import__("base64").b64encode(b).decode()))}), max_size=3)})))
def test_arm_credential_answers(body: Any) -> None:
    from akslogin.arm import kubeconfigs_from_json

    if isinstance(body, dict):
        _ok_or_akslogin_error(kubeconfigs_from_json, body, "fuzz")


@CASES
@given(st.integers(min_value=400, max_value=599), st.one_of(st.text(max_size=200), shaped.map(json.dumps),
       st.fixed_dictionaries({"error": st.fixed_dictionaries({"code": json_values, "message": json_values})})
       .map(json.dumps)))
def test_arm_error_bodies(status: int, text: str) -> None:
    from akslogin.arm import describe_error

    err = describe_error(_FakeResponse(status, text), "list clusters", "https://arm.example")  # type: ignore[arg-type]
    rendered = err.render()
    assert rendered.startswith("akslogin: ") and "\n" not in rendered and "\x1b" not in rendered


def _jwt_like(parts: list[str]) -> str:
    return ".".join(parts)


@CASES
@given(st.one_of(st.text(max_size=200),
                 st.lists(st.one_of(st.text(alphabet=string.ascii_letters + string.digits + "-_", max_size=60),
                                    shaped.map(lambda v: __import__("base64").urlsafe_b64encode(
                                        json.dumps(v).encode()).decode().rstrip("="))),
                          min_size=3, max_size=3).map(_jwt_like)))
def test_jwt_decoding_for_display(token: str) -> None:
    from akslogin.tokeninfo import decode_token

    info = decode_token(token)
    if info is not None:
        # Everything whoami shows must be derivable from any claims without an exception.
        shown = info.to_json()
        assert isinstance(shown, dict)
        info.audience_matches("6dae42f8-4368-4678-94ff-3960e28e3630")
        assert isinstance(info.identity_type, str) and isinstance(info.aks_username, str)


@CASES
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(
    lambda t: b"-----BEGIN CERTIFICATE-----\n" + t.encode() + b"\n-----END CERTIFICATE-----\n")))
def test_certificates_in_kubeconfigs(data: bytes) -> None:
    from akslogin.certinfo import describe_certificate

    _ok_or_akslogin_error(describe_certificate, data)
