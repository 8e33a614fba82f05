"""akslogin rbac bind: manifests that follow AKS's identity mapping, Graph resolution, and --apply end to end.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from support.explainworld import DEVS, GUEST_UPN
from support.rbac_bind import bind


def test_member_user_by_upn_cluster_wide(tmp_path: Path) -> None:
    code, _, doc = bind(tmp_path, user="alice@contoso.com", role="view")
    assert code == 0
    assert doc["kind"] == "ClusterRoleBinding" and "namespace" not in doc["metadata"]
    assert doc["metadata"]["name"] == "akslogin-view-alice-contoso.com"
    assert doc["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
    assert doc["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@contoso.com"}]


def test_group_guest_and_role_kinds(tmp_path: Path) -> None:
    code, _, doc = bind(tmp_path, group=DEVS.upper(), role="edit", namespace="team-a")
    assert code == 0 and doc["kind"] == "RoleBinding" and doc["metadata"]["namespace"] == "team-a"
    assert doc["subjects"][0] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": DEVS}
    guest = "5e5e5e5e-0000-4000-8000-000000000002"
    code, _, doc = bind(tmp_path, guest=guest, role="pod-reader", role_kind="Role", namespace="dev")
    assert code == 0 and doc["roleRef"]["kind"] == "Role" and doc["subjects"][0]["name"] == guest
    code, out, _ = bind(tmp_path, guest=guest, role="json-out", output="json")
    assert code == 0 and json.loads(out.stdout)["subjects"][0]["kind"] == "User"


@pytest.mark.parametrize(("kw", "message"), [
    ({"user": GUEST_UPN}, "guest (B2B) account"),
    ({"user": "5e5e5e5e-0000-4000-8000-000000000002"}, "--user takes a UPN"),
    ({"user": "alice"}, "user principal name"),
    ({"group": "aks-devs", "resolve": False}, "object id"),
    ({"service_principal": "ci-bot"}, "a GUID"),
    ({"guest": "erin@fabrikam.example"}, "object id"),
    ({"user": "a@b.c", "role_kind": "Role"}, "--namespace"),
])
def test_invalid_subjects_are_usage_errors(tmp_path: Path, kw: dict[str, Any], message: str) -> None:
    from akslogin.errors import UsageError

    with pytest.raises(UsageError, match=re.escape(message)):
        bind(tmp_path, role="view", **kw)
