"""Where subscriptions live: ``GET /tenants`` and the management group hierarchy, in ARM's shapes.

- ``GET /tenants`` (api-version 2022-12-01): the tenants the caller has a presence in. A user is in every tenant
  that knows its sign-in name (its home, and any tenant it is a guest of); an app in every tenant that has a
  service principal for its client id (a multi-tenant app). The caller's own tenant is ``Home``.
- ``GET /providers/Microsoft.Management/managementGroups/{id}/descendants`` (api-version 2020-05-01): every
  management group and subscription beneath, paged with ``nextLink``; needs read access at the group (Reader
  there or above). A tenant's root group has the tenant id for its id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from akslogin.emulator.azure.armwire import ArmError, Principal
from akslogin.emulator.net.httpbase import Request, Response, Router
from akslogin.emulator.world import MG_PROVIDER, Tenant

if TYPE_CHECKING:
    from akslogin.emulator.azure.arm import ArmService

MG_TYPE = "Microsoft.Management/managementGroups"


class Tenancy:
    def __init__(self, arm: ArmService) -> None:
        self.arm = arm
        self.world = arm.world

    def add_routes(self, router: Router) -> None:
        router.add("GET", r"(?i)/tenants/?", self.arm.guard(self.list_tenants))
        router.add("GET", r"(?i)/providers/Microsoft\.Management/managementGroups/(?P<group>[^/]+)/descendants/?",
                   self.arm.guard(self.descendants))

    def _present(self, tenant: Tenant, principal: Principal) -> bool:
        if tenant.id == principal.tenant_id:
            return True
        if principal.upn:
            upn = principal.upn.lower()
            return any(u.upn.lower() == upn or (getattr(u, "mail", "") or "").lower() == upn for u in tenant.users)
        return bool(principal.client_id) and tenant.app_by_client_id(principal.client_id) is not None

    def list_tenants(self, req: Request, principal: Principal) -> Response:
        tenants = [t for t in self.world.tenants if self._present(t, principal)]
        return self.arm.page(req, [_tenant_json(t, t.id == principal.tenant_id) for t in tenants])

    def descendants(self, req: Request, principal: Principal) -> Response:

        group_id = req.params["group"]
        is_root = group_id.lower() == principal.tenant_id.lower()
        group = self.world.management_group(group_id)
        if not is_root and (group is None or group.tenant_id != principal.tenant_id):
            raise ArmError(404, "NotFound", f"'{group_id}' not found")
        scope = f"{MG_PROVIDER}/{group_id}"
        action = "Microsoft.Management/managementGroups/descendants/read"
        if not self.arm.allowed(principal, action, scope):
            raise self.arm.denied(principal, action, scope)
        below: list[dict[str, Any]] = []
        wanted = scope.lower()
        groups = [m for m in self.world.management_groups if m.tenant_id == principal.tenant_id]
        for m in groups:
            chain = [c.lower() for c in self.world.groups_from(m.id, m.tenant_id)]
            if wanted in chain[1:]:
                below.append({"id": m.arm_id, "type": MG_TYPE, "name": m.id, "properties": {
                    "displayName": m.display_name, "parent": {"id": f"{MG_PROVIDER}/{m.parent or m.tenant_id}"}}})
        for sub in self.world.subscriptions:
            if sub.tenant_id != principal.tenant_id:
                continue
            if wanted in (c.lower() for c in self.world.group_chain(sub)):
                parent = f"{MG_PROVIDER}/{sub.management_group or sub.tenant_id}"
                below.append({"id": f"{parent}/subscriptions/{sub.id}", "type": f"{MG_TYPE}/subscriptions",
                              "name": sub.id,
                              "properties": {"displayName": sub.display_name, "parent": {"id": parent}}})
        return self.arm.page(req, below)


def _tenant_json(tenant: Tenant, home: bool) -> dict[str, Any]:
    default = tenant.domains[0] if tenant.domains else f"{tenant.id[:8]}.onmicrosoft.com"
    return {"id": f"/tenants/{tenant.id}", "tenantId": tenant.id, "countryCode": "US",
            "displayName": tenant.display_name, "domains": list(tenant.domains), "defaultDomain": default,
            "tenantCategory": "Home", "tenantType": "AAD"}
