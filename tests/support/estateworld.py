"""Generated estates for the Resource Graph / management group / tenant / Fleet Manager tests and the bench.

The estate itself comes from the emulator's generator (``estate:`` in a world, emulator/world/estate.py); this adds
the identities: FLEETBOT is a multi-tenant app (the same client id and secret, a service principal in each
tenant), so one sign-in flag set reaches every tenant.
"""

from __future__ import annotations

from typing import Any

from akslogin.emulator.world import World
from support.armworld import FLEETBOT, OUTSIDER, PRINCIPALS, TENANT, _app

SECOND_TENANT = "7d7d7d7d-1111-4222-8333-444444444444"
#: FLEETBOT's service principal in the second tenant (a multi-tenant app has one object id per tenant).
FLEETBOT_SECOND_OID = "d2000000-0000-4000-8000-000000000004"
FLEET = "fleet-prod"
FLEET_RG = "rg-fleet"
FLEET_SUB = "f1ee7000-0000-4000-8000-000000000001"


def estate_spec(subscriptions: int, clusters: int, *, tenants: int = 1, groups: int = 4) -> dict[str, Any]:
    """A world of ``subscriptions`` and ``clusters`` spread over ``tenants`` (1 or 2), FLEETBOT Reader and
    Cluster User at every tenant root; OUTSIDER holds nothing."""
    spec_tenants = [{"id": TENANT, "domains": ["fabrikam.example"], "apps": [_app(p) for p in PRINCIPALS]}]
    if tenants > 1:
        second = {**_app(FLEETBOT), "object_id": FLEETBOT_SECOND_OID}
        spec_tenants.append({"id": SECOND_TENANT, "domains": ["contoso.example"], "display_name": "Contoso",
                             "apps": [second]})
    return {"tenants": spec_tenants,
            "estate": {"subscriptions": subscriptions, "clusters": clusters, "management_groups": groups,
                       "principals": [FLEETBOT.name]}}


def fleet_hub_spec() -> dict[str, Any]:
    """One Fleet Manager hub (an Azure RBAC cluster the emulator serves) and two principals: FLEETBOT may fetch its
    kubeconfig and read on the hub (Fleet Manager RBAC Reader); OUTSIDER may fetch the kubeconfig only."""
    return {
        "tenants": [{"id": TENANT, "domains": ["fabrikam.example"], "apps": [_app(p) for p in PRINCIPALS]}],
        "subscriptions": [{"id": FLEET_SUB, "display_name": "Fleet", "tenant": TENANT}],
        "clusters": [{"name": "hub", "fleet": FLEET, "subscription": FLEET_SUB, "resource_group": FLEET_RG,
                      "tenant": TENANT, "pods": {"default": ["placement-0"]}}],
        "arm_role_assignments": [
            {"principal": {"app": FLEETBOT.name}, "role": "fleet-hub-user", "scope": {"cluster": "hub"}},
            {"principal": {"app": FLEETBOT.name}, "role": "fleet-rbac-reader", "scope": {"cluster": "hub"}},
            {"principal": {"app": OUTSIDER.name}, "role": "fleet-hub-user", "scope": {"cluster": "hub"}},
        ],
    }


def expected(world: World, keep: Any = None, *, tenant: str | None = None) -> set[str]:
    """The ARM names of the estate's clusters ``keep`` (a predicate on the world's Cluster) accepts."""
    return {c.arm_name for c in world.clusters
            if not c.fleet and (tenant is None or c.tenant_id == tenant) and (keep is None or keep(c))}
