"""akslogin rbac bind: manifests that follow AKS's identity mapping, Graph resolution, and --apply end to end.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support import rbac_bind as shared
from support.explainworld import APPS, DEVS, GUEST_UPN, env_for, flat, kubeconfig
from support.rbac_bind import bind
from support.run import run_akslogin


@pytest.fixture(scope='module')
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from shared.emu(tmp_path_factory)


def test_app_id_is_resolved_to_the_object_id_through_graph(emu: Emulator, tmp_path: Path) -> None:
    admin_kc = kubeconfig(tmp_path / "admin", emu, app=APPS["admin"])
    viewer = APPS["viewer"]
    code, out, doc = bind(tmp_path, admin_kc, service_principal=viewer.client_id, role="view",
                          graph_endpoint=emu.server_url("graph"))
    assert code == 0, out.stderr
    assert doc["subjects"][0]["name"] == viewer.object_id
    assert doc["metadata"]["annotations"]["akslogin.io/subject"] == (
        f"service principal {viewer.object_id} ({viewer.name}, app id {viewer.client_id})")
    assert f"{viewer.client_id} is the app id of service principal {viewer.name}" in flat(out.stderr)
    # An object id is recognised as one and kept.
    code, out, doc = bind(tmp_path, admin_kc, service_principal=viewer.object_id, role="view",
                          graph_endpoint=emu.server_url("graph"))
    assert code == 0 and doc["subjects"][0]["name"] == viewer.object_id and not out.stderr
    graph_calls = [e.path for e in emu.request_log.entries("graph")]
    assert "/v1.0/servicePrincipals" in graph_calls
    # Unknown to the directory: refused rather than guessed.
    from akslogin.errors import UsageError

    with pytest.raises(UsageError, match="knows no service principal"):
        bind(tmp_path, admin_kc, service_principal="00000000-0000-4000-8000-000000000000", role="view",
             graph_endpoint=emu.server_url("graph"))


def test_group_name_is_resolved_through_graph(emu: Emulator, tmp_path: Path) -> None:
    admin_kc = kubeconfig(tmp_path / "admin", emu, app=APPS["admin"])
    code, out, doc = bind(tmp_path, admin_kc, group="aks-devs", role="edit", namespace="dev",
                          graph_endpoint=emu.server_url("graph"))
    assert code == 0 and doc["subjects"][0] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                                "name": DEVS}
    assert "object id" in out.stderr


def test_without_graph_access_the_value_is_used_as_object_id_with_a_warning(emu: Emulator, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "plain", emu, app=APPS["graphless"])
    other = APPS["viewer"].client_id
    code, out, doc = bind(tmp_path, kc, service_principal=other, role="view", graph_endpoint=emu.server_url("graph"))
    assert code == 0 and doc["subjects"][0]["name"] == other
    warning = flat(out.stderr)
    assert "Insufficient privileges" in warning and "OBJECT id" in warning
    assert f"az ad sp show --id {other} --query id -o tsv" in warning
    # Its own app id is known from its token, even without directory permissions.
    own = APPS["graphless"]
    code, out, doc = bind(tmp_path, kc, service_principal=own.client_id, role="view",
                          graph_endpoint=emu.server_url("graph"))
    assert code == 0 and doc["subjects"][0]["name"] == own.object_id
    # No kubeconfig at all: same fallback, no network.
    code, out, doc = bind(tmp_path, None, service_principal=other, role="view")
    assert code == 0 and "OBJECT id" in flat(out.stderr)


def test_apply_refused_by_the_escalation_check_explains_why(emu: Emulator, tmp_path: Path) -> None:
    env = env_for(tmp_path)
    ns_admin_kc = kubeconfig(tmp_path / "nsadmin", emu, app=APPS["nsadmin"])
    result = run_akslogin(["rbac", "bind", "--user", "mallory@contoso.example", "--role", "cluster-admin", "-n", "dev",
                           "--apply", "--kubeconfig", str(ns_admin_kc)], env)
    assert result.returncode == 1
    assert "attempting to grant RBAC permissions not currently held" in result.stderr
    assert "refuses privilege escalation" in flat(result.stderr)
    ok = run_akslogin(["rbac", "bind", "--user", "mallory@contoso.example", "--role", "view", "-n", "dev",
                       "--apply", "--kubeconfig", str(ns_admin_kc)], env)
    assert ok.returncode == 0, ok.stderr


def test_cli_help_and_usage_errors(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    helptext = run_akslogin(["rbac", "bind", "--help"], env)
    assert helptext.returncode == 0 and "examples:" in helptext.stdout and "--service-principal" in helptext.stdout
    two = run_akslogin(["rbac", "bind", "--user", "a@b.c", "--group", DEVS, "--role", "view"], env)
    assert two.returncode == 2 and "not allowed with argument" in two.stderr
    guest = run_akslogin(["rbac", "bind", "--user", GUEST_UPN, "--role", "view"], env)
    assert guest.returncode == 2 and guest.stderr.startswith("akslogin: ") and "--guest" in guest.stderr


def test_a_guests_email_is_bound_by_the_guests_object_id(emu: Emulator, tmp_path: Path) -> None:
    """Issue 26: people know a guest by e-mail; AKS names guests by object id. With a context that may read
    Microsoft Graph, --user <e-mail> finds the guest; a member stays bound by UPN; an unknown address is an error."""
    from support.explainworld import USERS

    kc = kubeconfig(tmp_path / "admin", emu, app=APPS["admin"])
    graph = emu.server_url("graph")
    code, out, doc = bind(tmp_path, kc, user="erin@fabrikam.example", role="view", namespace="dev",
                          graph_endpoint=graph)
    assert code == 0, out.stderr
    assert doc["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USERS["erin"][1]}]
    assert "guest (B2B) user" in flat(out.stderr)
    code, out, doc = bind(tmp_path, kc, user="dana@contoso.example", role="view", graph_endpoint=graph)
    assert code == 0 and doc["subjects"][0]["name"] == "dana@contoso.example" and out.stderr == ""
    with pytest.raises(Exception, match="knows no user"):
        bind(tmp_path, kc, user="ghost@contoso.example", role="view", graph_endpoint=graph)
