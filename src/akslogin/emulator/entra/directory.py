"""The emulated directory: what Microsoft Graph knows about the world's users, service principals and groups.

One place answers "which groups is this object in" (Graph ``getMemberObjects``, and the API server when a
token carries a group overage marker instead of ``groups``) and "what is the object id of this app id"
(``servicePrincipals?$filter=appId eq '...'``). Guests are users whose UPN carries ``#EXT#``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from akslogin.emulator.world import App, Tenant, User, World

#: Entra puts at most this many group ids in a JWT; above it the token carries an overage marker.
GROUP_CLAIM_LIMIT = 200
GUEST_MARKER = "#EXT#"


def is_guest_upn(upn: str) -> bool:
    return GUEST_MARKER in upn.upper()


def guest_email(upn: str) -> str:
    """``alice_fabrikam.com#EXT#@contoso.onmicrosoft.com`` → ``alice@fabrikam.com`` (the guest's home address)."""
    local = upn[: upn.upper().index(GUEST_MARKER)]
    name, sep, domain = local.rpartition("_")
    return f"{name}@{domain}" if sep else local


@dataclass(frozen=True)
class DirectoryObject:
    """A Graph directory object, reduced to what the emulator serves."""

    kind: str  # "user" | "servicePrincipal" | "group"
    id: str
    tenant_id: str
    display_name: str
    app_id: str = ""
    upn: str = ""
    guest: bool = False
    member_of: tuple[str, ...] = field(default_factory=tuple)

    def to_graph(self) -> dict[str, object]:
        """The JSON Graph v1.0 returns for the object (the fields callers use)."""
        if self.kind == "user":
            mail = guest_email(self.upn) if self.guest else self.upn
            return {"@odata.type": "#microsoft.graph.user", "id": self.id, "userPrincipalName": self.upn,
                    "displayName": self.display_name, "mail": mail,
                    "userType": "Guest" if self.guest else "Member"}
        if self.kind == "servicePrincipal":
            return {"@odata.type": "#microsoft.graph.servicePrincipal", "id": self.id, "appId": self.app_id,
                    "displayName": self.display_name, "servicePrincipalType": "Application",
                    "accountEnabled": True}
        return {"@odata.type": "#microsoft.graph.group", "id": self.id, "displayName": self.display_name,
                "securityEnabled": True, "mailEnabled": False}


def _user(tenant: Tenant, user: User) -> DirectoryObject:
    return DirectoryObject("user", user.object_id, tenant.id, user.display_name, upn=user.upn,
                           guest=user.guest or is_guest_upn(user.upn), member_of=tuple(user.groups))


def _sp(tenant: Tenant, app: App) -> DirectoryObject:
    return DirectoryObject("servicePrincipal", app.object_id, tenant.id, app.name, app_id=app.client_id,
                           member_of=tuple(app.groups))


class Directory:
    """Read-only lookups over a World, per tenant, case-insensitive on ids and UPNs."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _tenant(self, tenant_ref: str) -> Tenant | None:
        return self.world.tenant(tenant_ref)

    def find(self, tenant_ref: str, ref: str) -> DirectoryObject | None:
        """A user (object id or UPN), service principal (object id) or group (object id)."""
        tenant = self._tenant(tenant_ref)
        if tenant is None:
            return None
        wanted = ref.lower()
        for user in tenant.users:
            if wanted in (user.object_id.lower(), user.upn.lower()):
                return _user(tenant, user)
        for app in tenant.apps:
            if wanted == app.object_id.lower():
                return _sp(tenant, app)
        for group in tenant.groups:
            if wanted == group.object_id.lower():
                return DirectoryObject("group", group.object_id, tenant.id, group.name)
        return None

    def service_principal_by_app_id(self, tenant_ref: str, app_id: str) -> DirectoryObject | None:
        tenant = self._tenant(tenant_ref)
        app = tenant.app_by_client_id(app_id) if tenant is not None else None
        return _sp(tenant, app) if tenant is not None and app is not None else None

    def users_by_mail(self, tenant_ref: str, mail: str) -> list[DirectoryObject]:
        """Users whose mail is ``mail``: a guest's is its home address, a member's its UPN (as the emulator sets it)."""
        tenant = self._tenant(tenant_ref)
        if tenant is None:
            return []
        found = [_user(tenant, u) for u in tenant.users]
        return [u for u in found if str(u.to_graph().get("mail", "")).lower() == mail.lower()]

    def groups_named(self, tenant_ref: str, name: str) -> list[DirectoryObject]:
        tenant = self._tenant(tenant_ref)
        if tenant is None:
            return []
        return [DirectoryObject("group", g.object_id, tenant.id, g.name) for g in tenant.groups if g.name == name]

    def member_groups(self, tenant_ref: str, object_id: str) -> list[str] | None:
        """Group object ids of a user or service principal (Graph getMemberObjects); None if unknown."""
        found = self.find(tenant_ref, object_id)
        if found is None or found.kind == "group":
            return None
        return list(found.member_of)
