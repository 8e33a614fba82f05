"""Microsoft.Authorization in the emulated Resource Manager: role definitions and role assignments.

What ``az role assignment create/list/delete`` and ``az role definition list`` send, at any scope (a
subscription, a resource group, a cluster, or a cluster's namespace: ``<cluster id>/namespaces/<ns>``):

- ``GET {scope}/providers/Microsoft.Authorization/roleDefinitions[?$filter=roleName eq '<name>']`` and
  ``GET .../roleDefinitions/{guid}``: the built-in roles the world knows, with their data actions;
- ``PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`` with ``properties.roleDefinitionId``,
  ``principalId`` and ``principalType``: needs ``Microsoft.Authorization/roleAssignments/write`` at that scope
  (Owner, User Access Administrator; not Contributor), else AuthorizationFailed as ARM words it;
- ``GET {scope}/providers/Microsoft.Authorization/roleAssignments[?$filter=atScope()|principalId eq '<id>']``,
  ``GET`` and ``DELETE`` of one assignment.

An assignment made here is a world role assignment like the file's, so an Azure RBAC cluster's API server
honours it (after ``world.role_propagation_seconds``).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from akslogin.emulator.azure.armwire import ArmError, Principal
from akslogin.emulator.net.httpbase import Request, Response, Router
from akslogin.emulator.world import RoleAssignment, RoleDefinition

if TYPE_CHECKING:
    from akslogin.emulator.azure.arm import ArmService

PROVIDER = r"/providers/Microsoft\.Authorization"
SCOPE = r"(?i)(?P<scope>(?:/subscriptions/[^/]+(?:/.+?)?)?)"
GUID = r"(?P<guid>[0-9a-fA-F-]{36})"
WRITE = "Microsoft.Authorization/roleAssignments/write"
DELETE = "Microsoft.Authorization/roleAssignments/delete"
READ = "Microsoft.Authorization/roleAssignments/read"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
_ROLE_NAME_FILTER = re.compile(r"^\s*roleName\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)
_PRINCIPAL_FILTER = re.compile(r"^\s*(?:principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\))\s*$", re.IGNORECASE)
_AT_SCOPE = re.compile(r"^\s*atScope\(\)\s*$", re.IGNORECASE)


def _arm_error(status: int, code: str, message: str) -> Exception:

    return ArmError(status, code, message)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(epoch))


def _subscription_of(scope: str) -> str:
    parts = scope.strip("/").split("/")
    return parts[1] if len(parts) >= 2 and parts[0].lower() == "subscriptions" else ""


class AuthorizationProvider:
    def __init__(self, arm: ArmService) -> None:
        self.arm = arm
        self.world = arm.world

    def add_routes(self, r: Router) -> None:
        r.add("GET", SCOPE + PROVIDER + r"/roleDefinitions/?", self.arm.guard(self.list_definitions))
        r.add("GET", SCOPE + PROVIDER + r"/roleDefinitions/" + GUID, self.arm.guard(self.get_definition))
        r.add("GET", SCOPE + PROVIDER + r"/roleAssignments/?", self.arm.guard(self.list_assignments))
        for method, handler in (("GET", self.get_assignment), ("PUT", self.put_assignment),
                                ("DELETE", self.delete_assignment)):
            r.add(method, SCOPE + PROVIDER + r"/roleAssignments/" + GUID, self.arm.guard(handler))

    # -- role definitions -----------------------------------------------------------------------
    def _definition(self, role: RoleDefinition, scope: str) -> dict[str, Any]:
        sub = _subscription_of(scope)
        base = f"/subscriptions/{sub}" if sub else ""
        return {
            "id": f"{base}/providers/Microsoft.Authorization/roleDefinitions/{role.guid}",
            "type": "Microsoft.Authorization/roleDefinitions", "name": role.guid,
            "properties": {
                "roleName": role.name, "type": "CustomRole" if role.custom else "BuiltInRole",
                "description": f"{role.name} (emulated {'custom' if role.custom else 'built-in'} role).",
                "assignableScopes": ["/"],
                "permissions": [{"actions": sorted(role.actions), "notActions": sorted(role.not_actions),
                                 "dataActions": sorted(role.data_actions),
                                 "notDataActions": sorted(role.not_data_actions)}],
                "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2024-01-01T00:00:00.0000000Z",
                "createdBy": None, "updatedBy": None,
            },
        }

    def list_definitions(self, req: Request, _principal: Principal) -> Response:
        scope = req.params.get("scope", "")
        roles = self.world.roles()
        wanted = req.query.get("$filter", "")
        if wanted:
            match = _ROLE_NAME_FILTER.match(wanted)
            if match is None:
                raise _arm_error(400, "InvalidFilter", f"The filter '{wanted}' is not supported. Use "
                                 "roleName eq '{name}'.")
            roles = [r for r in roles if r.name.lower() == match.group(1).lower()]
        return Response.json(200, {"value": [self._definition(r, scope) for r in roles]})

    def get_definition(self, req: Request, _principal: Principal) -> Response:
        role = self._role_of(req.params["guid"])
        if role is None:
            raise _arm_error(404, "RoleDefinitionDoesNotExist", "The specified role definition with ID "
                             f"'{req.params['guid']}' does not exist.")
        return Response.json(200, self._definition(role, req.params.get("scope", "")))

    def _role_of(self, guid: str) -> RoleDefinition | None:
        return next((r for r in self.world.roles() if r.guid.lower() == guid.lower()), None)

    # -- role assignments -----------------------------------------------------------------------
    def _assignment_json(self, a: RoleAssignment) -> dict[str, Any]:
        sub = _subscription_of(a.scope)
        role = self.world.role(a.role)
        guid = role.guid if role else ""
        definition = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        when = _iso(a.created or 1_700_000_000)
        return {
            "id": f"{a.scope}/providers/Microsoft.Authorization/roleAssignments/{a.name}",
            "type": "Microsoft.Authorization/roleAssignments", "name": a.name,
            "properties": {
                "roleDefinitionId": definition, "principalId": a.principal_id,
                "principalType": a.principal_type or "ServicePrincipal", "scope": a.scope, "condition": None,
                "conditionVersion": None, "createdOn": when, "updatedOn": when, "createdBy": a.created_by or None,
                "updatedBy": a.created_by or None, "delegatedManagedIdentityResourceId": None, "description": None,
            },
        }

    def _require(self, principal: Principal, action: str, scope: str) -> None:
        if not self.arm.allowed(principal, action, scope):
            raise self.arm.denied(principal, action, scope)

    def list_assignments(self, req: Request, principal: Principal) -> Response:
        scope = req.params.get("scope", "").rstrip("/")
        self._require(principal, READ, scope or "/")
        wanted = req.query.get("$filter", "")
        at_scope, who = False, ""
        if wanted:
            match = _PRINCIPAL_FILTER.match(wanted)
            if _AT_SCOPE.match(wanted):
                at_scope = True
            elif match is not None:
                who = match.group(1) or match.group(2)
            else:
                raise _arm_error(400, "InvalidFilter", f"The filter '{wanted}' is not supported.")
        lowered = scope.lower()

        def related(a: RoleAssignment) -> bool:
            mine = a.scope.rstrip("/").lower()
            above = lowered == mine or lowered.startswith(mine + "/")
            below = mine.startswith(lowered + "/") or not lowered
            return above or (below and not at_scope)

        ids = {who, *self.world.principal_groups(who)} if who else set()
        known = {r.key for r in self.world.roles()}
        found = [a for a in self.world.role_assignments
                 if a.role in known and related(a) and (not who or a.principal_id in ids)]
        return Response.json(200, {"value": [self._assignment_json(a) for a in found]})

    def _find(self, scope: str, name: str) -> RoleAssignment | None:
        return next((a for a in self.world.role_assignments
                     if a.name.lower() == name.lower() and a.scope.rstrip("/").lower() == scope.rstrip("/").lower()),
                    None)

    def get_assignment(self, req: Request, principal: Principal) -> Response:
        scope = req.params.get("scope", "")
        self._require(principal, READ, scope)
        found = self._find(scope, req.params["guid"])
        if found is None:
            raise _arm_error(404, "RoleAssignmentNotFound", "The role assignment does not exist.")
        return Response.json(200, self._assignment_json(found))

    def put_assignment(self, req: Request, principal: Principal) -> Response:
        scope = req.params.get("scope", "").rstrip("/")
        try:
            body = req.json() if req.body else None
        except ValueError:
            body = None
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            raise _arm_error(400, "InvalidRequestContent", "The request content was invalid and could not be "
                             "deserialized: 'properties' is required.")
        role_id, principal_id = str(props.get("roleDefinitionId") or ""), str(props.get("principalId") or "")
        principal_type = str(props.get("principalType") or "")
        role = self._role_of(role_id.rsplit("/", 1)[-1])
        if role is None:
            raise _arm_error(400, "RoleDefinitionDoesNotExist",
                             f"The specified role definition with ID '{role_id.rsplit('/', 1)[-1]}' does not exist.")
        try:
            uuid.UUID(principal_id)
        except ValueError:
            raise _arm_error(400, "InvalidPrincipalId", "A valid principal ID must be provided for role "
                             "assignment.") from None
        if principal_type and principal_type not in PRINCIPAL_TYPES:
            raise _arm_error(400, "InvalidPrincipalType", f"The principal type '{principal_type}' is not valid.")
        self._require(principal, WRITE, scope)
        key = role.key
        existing = next((a for a in self.world.role_assignments if a.role == key and a.principal_id.lower()
                         == principal_id.lower() and a.scope.rstrip("/").lower() == scope.lower()), None)
        if existing is not None and existing.name.lower() == req.params["guid"].lower():
            return Response.json(201, self._assignment_json(existing))  # the same PUT again: idempotent, as ARM
        if existing is not None:
            raise _arm_error(409, "RoleAssignmentExists", "The role assignment already exists.")
        assignment = RoleAssignment(principal_id, key, scope, created=self.arm.emulator.clock.now(),
                                    name=req.params["guid"].lower(), principal_type=principal_type,
                                    created_by=principal.object_id)
        self.world.role_assignments.append(assignment)
        return Response.json(201, self._assignment_json(assignment))

    def delete_assignment(self, req: Request, principal: Principal) -> Response:
        scope = req.params.get("scope", "").rstrip("/")
        self._require(principal, DELETE, scope)
        found = self._find(scope, req.params["guid"])
        if found is None:
            return Response(204, b"", {})
        self.world.role_assignments.remove(found)
        return Response.json(200, self._assignment_json(found))
