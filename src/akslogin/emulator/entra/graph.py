"""An emulated Microsoft Graph (a small part of v1.0) on its own HTTPS port.

It serves what AKS tooling asks Graph: the object id of a service principal from its app id, users and
groups by id, and ``getMemberObjects`` — also under the ``/{tenant}/users/{oid}/getMemberObjects`` form
that group overage claims point at. Callers present an emulator-issued token for Graph; users may read the
directory, apps only when the world grants them ``graph_read`` (Graph's Application.Read.All).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt

from akslogin.emulator.entra.directory import Directory, DirectoryObject
from akslogin.emulator.net.httpbase import Request, Response, Router

if TYPE_CHECKING:
    from akslogin.emulator.host import EmulatorHost

GRAPH_AUDIENCES = frozenset({
    "https://graph.microsoft.com", "https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000",
    "https://graph.windows.net", "https://graph.windows.net/", "00000002-0000-0000-c000-000000000000",
})
#: Tolerance Graph applies to exp/nbf, in seconds.
SKEW = 300
_ID = r"(?P<id>[^/()]+)"
_FILTER = re.compile(r"^\s*(?P<field>appId|displayName|mail)\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*$")


def _error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"error": {"code": code, "message": message,
                                            "innerError": {"request-id": "00000000-0000-0000-0000-000000000000"}}})


def _not_found(ref: str) -> Response:
    return _error(404, "Request_ResourceNotFound",
                  f"Resource '{ref}' does not exist or one of its queried reference-property objects are not present.")


class GraphService:
    """Routes and token checks; lookups go through the shared Directory."""

    def __init__(self, emulator: EmulatorHost) -> None:
        self.emulator = emulator
        self.directory: Directory = emulator.directory

    def router(self) -> Router:
        r = Router()
        r.add("GET", r"/v1\.0/servicePrincipals", self.list_service_principals)
        r.add("GET", r"/v1\.0/servicePrincipals\(appId='(?P<app>[^']+)'\)", self.service_principal_by_app)
        r.add("GET", r"/v1\.0/servicePrincipals/" + _ID, self.get_object)
        r.add("GET", r"/v1\.0/users", self.list_users)
        r.add("GET", r"/v1\.0/users/" + _ID, self.get_object)
        r.add("GET", r"/v1\.0/groups", self.list_groups)
        r.add("GET", r"/v1\.0/groups/" + _ID, self.get_object)
        r.add("GET", r"/v1\.0/directoryObjects/" + _ID, self.get_object)
        r.add("POST", r"/v1\.0/(?:users|servicePrincipals|directoryObjects)/" + _ID + r"/getMemberObjects",
              self.member_objects)
        r.add("POST", r"/v1\.0/me/getMemberObjects", self.member_objects)
        # The legacy Azure AD Graph form named in overage claims: /{tenant}/users/{oid}/getMemberObjects
        r.add("POST", r"/(?P<tenant>[^/]+)/(?:users|servicePrincipals)/" + _ID + r"/getMemberObjects",
              self.member_objects)
        return r

    # -- authentication ----------------------------------------------------------------------------
    def _caller(self, req: Request) -> dict[str, Any] | Response:
        scheme, _, token = req.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _error(401, "InvalidAuthenticationToken", "Access token is empty.")
        keys = {k["kid"]: jwt.PyJWK(k).key for k in self.emulator.issuer.jwks()["keys"]}
        try:
            key = keys.get(str(jwt.get_unverified_header(token).get("kid")))
            if key is None:
                raise jwt.InvalidSignatureError("unknown key")
            claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], options={
                "verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
        except jwt.PyJWTError:
            return _error(401, "InvalidAuthenticationToken", "Access token validation failure.")
        now = self.emulator.clock.now()
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] + SKEW < now:
            return _error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        if claims.get("aud") not in GRAPH_AUDIENCES:
            return _error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        return claims

    def _authorized(self, req: Request, target: str = "") -> tuple[dict[str, Any] | None, Response | None]:
        """(claims, None) when the caller may read the directory, else (None, error response)."""
        caller = self._caller(req)
        if isinstance(caller, Response):
            return None, caller
        if caller.get("idtyp") == "app" and target.lower() != str(caller.get("oid", "")).lower():
            tenant = self.emulator.world.tenant(str(caller.get("tid", "")))
            app = tenant.app_by_client_id(str(caller.get("appid", ""))) if tenant else None
            if app is None or not app.graph_read:
                return None, _error(403, "Authorization_RequestDenied",
                                    "Insufficient privileges to complete the operation.")
        return caller, None

    # -- handlers ----------------------------------------------------------------------------------
    def _collection(self, items: list[DirectoryObject], kind: str) -> Response:
        return Response.json(200, {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{kind}",
            "value": [o.to_graph() for o in items],
        })

    def _filter(self, req: Request, allowed: str) -> tuple[str, Response | None]:
        match = _FILTER.match(req.query.get("$filter", ""))
        if match is None or match.group("field") != allowed:
            return "", _error(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause.")
        return match.group("value").replace("''", "'"), None

    def _listed(self, req: Request, field: str, kind: str,
                lookup: Callable[[str, str], list[DirectoryObject]]) -> Response:
        """A collection filtered on one field (``$filter=<field> eq '...'``), for a caller that may read Graph."""
        caller, denied = self._authorized(req)
        if denied is not None or caller is None:
            return denied or _error(401, "InvalidAuthenticationToken", "Access token is empty.")
        value, bad = self._filter(req, field)
        if bad is not None:
            return bad
        return self._collection(lookup(str(caller["tid"]), value), kind)

    def list_service_principals(self, req: Request) -> Response:
        def by_app_id(tenant: str, app_id: str) -> list[DirectoryObject]:
            found = self.directory.service_principal_by_app_id(tenant, app_id)
            return [found] if found else []

        return self._listed(req, "appId", "servicePrincipals", by_app_id)

    def list_users(self, req: Request) -> Response:
        """``GET /users?$filter=mail eq '...'``: how a guest is found by the e-mail address people know."""
        return self._listed(req, "mail", "users", self.directory.users_by_mail)

    def service_principal_by_app(self, req: Request) -> Response:
        caller, denied = self._authorized(req)
        if denied is not None or caller is None:
            return denied or _error(401, "InvalidAuthenticationToken", "Access token is empty.")
        found = self.directory.service_principal_by_app_id(str(caller["tid"]), req.params["app"])
        return Response.json(200, found.to_graph()) if found else _not_found(req.params["app"])

    def list_groups(self, req: Request) -> Response:
        return self._listed(req, "displayName", "groups", self.directory.groups_named)

    def get_object(self, req: Request) -> Response:
        caller, denied = self._authorized(req, req.params["id"])
        if denied is not None or caller is None:
            return denied or _error(401, "InvalidAuthenticationToken", "Access token is empty.")
        found = self.directory.find(str(caller["tid"]), req.params["id"])
        segment = req.path.split("/")[2]
        expected = {"servicePrincipals": "servicePrincipal", "users": "user", "groups": "group"}.get(segment)
        if found is None or (expected is not None and found.kind != expected):
            return _not_found(req.params["id"])
        return Response.json(200, found.to_graph())

    def member_objects(self, req: Request) -> Response:
        caller_claims = self._caller(req)
        target = req.params.get("id") or (str(caller_claims.get("oid", "")) if isinstance(caller_claims, dict) else "")
        caller, denied = self._authorized(req, target)
        if denied is not None or caller is None:
            return denied or _error(401, "InvalidAuthenticationToken", "Access token is empty.")
        groups = self.directory.member_groups(str(caller["tid"]), target)
        if groups is None:
            return _not_found(target)
        return Response.json(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
                                   "value": groups})


def install(emulator: EmulatorHost) -> None:
    """Emulator feature: serve Graph as service "graph" and point overage claims at it."""
    service = GraphService(emulator)
    emulator.add_server("graph", service.router())
    emulator.issuer.graph_url = lambda: emulator.server_url("graph")
