"""A generated estate: thousands of subscriptions and clusters from a few numbers (the world file's ``estate:``).

Tests and the bench share it, so "10,000 subscriptions" means the same world in both. It is deterministic (the
same numbers give the same ids, names, tags and places) and cheap: the clusters are known to ARM and Resource
Graph only (``served: false``), no API server runs for them.

``estate:`` keys: ``subscriptions`` and ``clusters`` (how many), ``tenants`` (the world's tenants to spread them
over, by id or domain; default all), ``management_groups`` (groups per tenant under its root, default 4),
``principals`` (apps, by name or client id, that get Reader and the Cluster User role at every tenant's root
group), ``azure_rbac_every`` (every n-th cluster uses Azure RBAC, default 4; 0 for none).

Clusters land in subscriptions unevenly, as in real estates (most subscriptions hold none): cluster ``i`` goes to
subscription ``(i * 7919) % subscriptions``. Tags: ``env`` (prod/dev/test), ``team`` (team-0..6); locations rotate
over four regions; resource groups ``rg-0``..``rg-4``.
"""

from __future__ import annotations

from typing import Any

from akslogin.emulator.world.model import (
    MG_PROVIDER,
    Cluster,
    ManagementGroup,
    RoleAssignment,
    Subscription,
    Tenant,
    World,
    WorldError,
)

LOCATIONS = ("eastus", "westeurope", "southeastasia", "australiaeast")
ENVIRONMENTS = ("prod", "dev", "test")
MAX_SUBSCRIPTIONS = 50_000
MAX_CLUSTERS = 20_000


def subscription_id(tenant_index: int, n: int) -> str:
    """The generated id of subscription ``n`` (stable: tests name subscriptions by it)."""
    return f"e{tenant_index:01x}{n:06x}-0000-4000-8000-{n:012x}"


def cluster_name(i: int) -> str:
    return f"aks-{i:05d}"


def _count(spec: dict[str, Any], key: str, default: int, limit: int) -> int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise WorldError(f"estate.{key} must be a number from 0 to {limit:,}, not {value!r}")
    return value


def generate(world: World, spec: Any) -> None:
    """Add the estate ``spec`` describes to ``world`` (subscriptions, management groups, clusters, assignments)."""
    if not isinstance(spec, dict):
        raise WorldError("estate is a mapping: {subscriptions: N, clusters: N, principals: [app names], ...}")
    nsubs = _count(spec, "subscriptions", 100, MAX_SUBSCRIPTIONS)
    nclusters = _count(spec, "clusters", 50, MAX_CLUSTERS)
    ngroups = _count(spec, "management_groups", 4, 1000)
    rbac_every = _count(spec, "azure_rbac_every", 4, MAX_CLUSTERS)
    if nclusters and not nsubs:
        raise WorldError("estate: clusters need at least one subscription")
    tenants = _tenants(world, spec.get("tenants"))
    principals = [str(ref) for ref in spec.get("principals") or []]
    for ref in principals:
        if not any(_app_in(t, ref) for t in world.tenants):
            raise WorldError(f"estate.principals: unknown app {ref!r}")

    subs: list[Subscription] = []
    for n in range(nsubs):
        t_index = n % len(tenants)
        tenant = tenants[t_index]
        group = f"estate-{t_index}-{(n // len(tenants)) % ngroups}" if ngroups else ""
        subs.append(Subscription(subscription_id(t_index, n), f"Estate {n:05d}", tenant.id, group))
    for t_index, tenant in enumerate(tenants):
        world.management_groups.extend(
            ManagementGroup(f"estate-{t_index}-{g}", f"Estate group {g}", tenant.id) for g in range(ngroups))
        for ref in principals:  # a multi-tenant app has a service principal (an object id) in each tenant
            object_id = _app_in(tenant, ref)
            for role in ("reader", "cluster-user") if object_id else ():
                world.role_assignments.append(RoleAssignment(object_id, role, f"{MG_PROVIDER}/{tenant.id}"))
    world.subscriptions.extend(subs)
    for i in range(nclusters):
        sub = subs[(i * 7919) % nsubs]
        world.clusters.append(Cluster(
            name=f"estate-{i}", arm_name=cluster_name(i), tenant_id=sub.tenant_id, subscription=sub.id,
            resource_group=f"rg-{i % 5}", location=LOCATIONS[i % len(LOCATIONS)],
            tags={"env": ENVIRONMENTS[i % len(ENVIRONMENTS)], "team": f"team-{i % 7}"},
            azure_rbac=bool(rbac_every) and i % rbac_every == 0, served=False,
        ))


def _tenants(world: World, refs: Any) -> list[Tenant]:
    if refs is None:
        return list(world.tenants)
    if not isinstance(refs, list) or not refs:
        raise WorldError("estate.tenants is a list of tenant ids or domains")
    found = []
    for ref in refs:
        tenant = world.tenant(str(ref))
        if tenant is None:
            raise WorldError(f"estate.tenants: unknown tenant {ref!r}")
        found.append(tenant)
    return found


def _app_in(tenant: Tenant, ref: str) -> str:
    """The object id of app ``ref`` (name or client id) in ``tenant``, or ""."""
    app = next((a for a in tenant.apps if ref in (a.name, a.client_id)), None)
    return app.object_id if app is not None else ""
