"""ExecCredential input and output, as client-go defines them."""

from __future__ import annotations

import json

import pytest

from akslogin import exec_credential
from akslogin.errors import UsageError


def test_defaults_to_v1beta1_without_exec_info() -> None:
    info = exec_credential.read_exec_info({})
    assert info == exec_credential.ExecInfo("client.authentication.k8s.io/v1beta1", False)
    assert exec_credential.read_exec_info({"KUBERNETES_EXEC_INFO": '{"kind":"ExecCredential"}'}).api_version \
        == "client.authentication.k8s.io/v1beta1"


def test_echoes_v1_and_interactive() -> None:
    raw = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "spec": {"interactive": True}})
    info = exec_credential.read_exec_info({"KUBERNETES_EXEC_INFO": raw})
    assert info == exec_credential.ExecInfo("client.authentication.k8s.io/v1", True)


@pytest.mark.parametrize("raw", ["{", "[]", '{"apiVersion": "client.authentication.k8s.io/v1alpha1"}'])
def test_rejects_bad_exec_info(raw: str) -> None:
    with pytest.raises(UsageError):
        exec_credential.read_exec_info({"KUBERNETES_EXEC_INFO": raw})


def test_render_is_one_line_with_rfc3339_utc() -> None:
    info = exec_credential.ExecInfo("client.authentication.k8s.io/v1", False)
    line = exec_credential.render(info, "tok", 1_800_000_000.7)
    assert "\n" not in line
    data = json.loads(line)
    assert data == {"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1",
                    "spec": {"interactive": False},
                    "status": {"expirationTimestamp": "2027-01-15T08:00:00Z", "token": "tok"}}
