"""The emulated machine endpoints speak their platforms' wire protocols: IMDS, App Service, Arc, the
GitHub Actions and Azure Pipelines OIDC endpoints, and the world schema that declares them.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

from typing import Any

import pytest

from akslogin.emulator.world import WorldError, world_from_dict


@pytest.mark.parametrize(("change", "message"), [
    ({"federated_credentials": [{"issuer": "https://token.actions.githubusercontent.com", "subject": "s"}]},
     "not a URL"),
    ({"federated_credentials": [{"issuer": "github"}]}, "missing 'subject'"),
    ({"trusted_certificate_subjects": [{"subject": "CN=x", "issuer_ca": "/nonexistent/ca.pem"}]},
     "cannot read issuer_ca"),
])
def test_world_validates_app_credentials(change: dict[str, Any], message: str) -> None:
    spec = {"tenants": [{"id": "t1", "apps": [{"name": "a", **change}]}]}
    with pytest.raises(WorldError, match=message):
        world_from_dict(spec)


@pytest.mark.parametrize(("tenant", "message"), [
    ({"hosts": [{"name": "h", "kind": "mainframe"}]}, "kind must be one of"),
    ({"hosts": [{"name": "h", "user_identities": ["ghost"]}]}, "unknown user-assigned identity 'ghost'"),
])
def test_world_validates_hosts(tenant: dict[str, Any], message: str) -> None:
    with pytest.raises(WorldError, match=message):
        world_from_dict({"tenants": [{"id": "t1", **tenant}]})


def test_world_binds_managed_identities_by_object_id() -> None:
    world = world_from_dict({
        "tenants": [{"id": "t1", "managed_identities": [{"name": "uami", "object_id": "o-1"}],
                     "hosts": [{"name": "vm", "system_identity": {"object_id": "o-2"}, "user_identities": ["uami"]}]}],
        "clusters": [{"name": "c", "rbac": {"bindings": [
            {"role": "view", "subjects": [{"managed_identity": "uami"}, {"managed_identity": "vm"}]}]}}],
    })
    subjects = world.cluster("c").cluster_role_bindings[0]["subjects"]
    assert [s["name"] for s in subjects] == ["o-1", "o-2"]
    _, vm = world.host("vm")
    assert vm.resource_id.endswith("/providers/Microsoft.Compute/virtualMachines/vm")
    with pytest.raises(WorldError, match="unknown managed identity"):
        world_from_dict({"tenants": [{"id": "t1"}], "clusters": [{"name": "c", "rbac": {"bindings": [
            {"role": "view", "subjects": [{"managed_identity": "nobody"}]}]}}]})
