"""Managed identity endpoints: Azure VM IMDS, App Service and Azure Arc, one plain-HTTP server per host.

Each ``hosts[]`` entry of the world gets the endpoint its platform serves (real ones are plain HTTP on a
link-local or loopback address), with the behaviours clients depend on:

- IMDS: ``GET /metadata/identity/oauth2/token`` with ``Metadata: true`` (400 without it), every field of the
  answer a JSON string, ``client_id`` / ``object_id`` / ``msi_res_id`` selectors, and IMDS's habit of
  answering with the only user-assigned identity when the system-assigned one is asked for but absent;
- App Service: ``GET <IDENTITY_ENDPOINT>?api-version=2019-08-01`` with ``X-IDENTITY-HEADER``, ``expires_on``
  as epoch seconds and no ``expires_in``, ``mi_res_id`` selector, ``{"statusCode", "message"}`` errors;
- Azure Arc: a 401 challenge naming a key file (``WWW-Authenticate: Basic realm=<path>``) that only local
  administrators can read; the retry carries the file's content as ``Authorization: Basic``.

Tokens are app-only (``idtyp`` app, ``oid`` = the identity's object id), so AKS RBAC binds them by object id.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from akslogin.emulator.net.httpbase import Request, Response, Router
from akslogin.emulator.world import AZURE_CLI_APP_ID, Host, ManagedIdentity, Tenant

if TYPE_CHECKING:
    from akslogin.emulator.host import EmulatorHost

TOKEN_PATH = "/metadata/identity/oauth2/token"
APP_SERVICE_PATH = "/msi/token"
#: Service name in the request log for each host kind.
SERVICE_PREFIX = {"vm": "imds", "appservice": "appservice", "arc": "arc", "cloudshell": "cloudshell"}
#: Cloud Shell's endpoint path (the real one is http://localhost:50342/oauth2/token).
CLOUD_SHELL_PATH = "/oauth2/token"
#: How long an Arc challenge key stays valid, in seconds.
ARC_KEY_LIFETIME = 300


@dataclass
class ManagedIdentitySettings:
    token_lifetime: int = 86399  # IMDS hands out 24-hour tokens
    cloud_shell_token_lifetime: int = 3599  # Cloud Shell's are the user's own, about an hour


class Failure(Exception):
    """A selector or resource problem; rendered in each endpoint's own error shape."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


class ManagedIdentityService:
    def __init__(self, emulator: EmulatorHost) -> None:
        self._emu = emulator
        self.settings = ManagedIdentitySettings()
        self._arc_keys: dict[str, float] = {}  # secret → monotonic expiry
        self._lock = threading.Lock()
        self.hosts: dict[str, tuple[Tenant, Host]] = {}
        for tenant in emulator.world.tenants:
            for host in tenant.hosts:
                self.hosts[host.name] = (tenant, host)
                emulator.add_server(self.service_name(host.name), self._router(tenant, host), host.port, tls=False)

    def service_name(self, host_name: str) -> str:
        _, host = self.hosts[host_name]
        return f"{SERVICE_PREFIX[host.kind]}:{host.name}"

    def url(self, host_name: str) -> str:
        return self._emu.server_url(self.service_name(host_name))

    def arc_key_dir(self, host_name: str) -> Path:
        return self._emu.state_dir / "arc" / host_name

    def environment(self, host_name: str) -> dict[str, str]:
        """The variables the platform (or a test pointing clients at the emulator) sets on ``host_name``."""
        _, host = self.hosts[host_name]
        url = self.url(host_name)
        if host.kind == "vm":
            return {"AZURE_POD_IDENTITY_AUTHORITY_HOST": url}
        if host.kind == "appservice":
            return {"IDENTITY_ENDPOINT": url + APP_SERVICE_PATH, "IDENTITY_HEADER": host.identity_header}
        if host.kind == "cloudshell":
            return {"MSI_ENDPOINT": url + CLOUD_SHELL_PATH, "AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0"}
        return {"IDENTITY_ENDPOINT": url + TOKEN_PATH, "IMDS_ENDPOINT": url,
                "AKSLOGIN_ARC_KEY_DIR": str(self.arc_key_dir(host_name))}

    # -- shared -------------------------------------------------------------------------------
    def _router(self, tenant: Tenant, host: Host) -> Router:
        r = Router()
        if host.kind == "vm":
            r.add("GET", TOKEN_PATH, lambda req: self._imds(tenant, host, req))
        elif host.kind == "appservice":
            r.add("GET", APP_SERVICE_PATH, lambda req: self._app_service(tenant, host, req))
        elif host.kind == "cloudshell":
            r.add("POST", CLOUD_SHELL_PATH, lambda req: self._cloud_shell(tenant, host, req))
        else:
            r.add("GET", TOKEN_PATH, lambda req: self._arc(tenant, host, req))
        return r

    def _select(self, host: Host, query: dict[str, str], selectors: dict[str, str]) -> ManagedIdentity:
        """selectors: query parameter → ManagedIdentity attribute."""
        given = [(param, query[param]) for param in selectors if query.get(param)]
        if len(given) > 1:
            raise Failure(400, "invalid_request", "Only one of " + ", ".join(selectors) + " may be specified")
        if given:
            param, value = given[0]
            attr = selectors[param]
            found = next((m for m in host.identities() if getattr(m, attr).lower() == value.lower()), None)
            if found is None:
                raise Failure(400, "invalid_request", "Identity not found")
            return found
        if host.system_identity is not None:
            return host.system_identity
        if len(host.user_identities) == 1:
            return host.user_identities[0]  # IMDS's documented quirk
        if host.user_identities:
            raise Failure(400, "invalid_request", "Multiple user assigned identities exist, please specify the "
                                                  "clientId / resourceId of the identity in the token request")
        raise Failure(400, "invalid_request", "Identity not found")

    def _mint(self, tenant: Tenant, identity: ManagedIdentity, resource: str) -> tuple[str, int, int]:
        if not resource:
            raise Failure(400, "invalid_request", "Required audience parameter not specified")
        found = tenant.resource(resource)  # the same names (and aliases) the token endpoint takes
        if found is None:
            raise Failure(400, "invalid_resource",
                          f"AADSTS500011: The resource principal named {resource} was not found in the tenant "
                          f"named {tenant.id}. This can happen if the application has not been installed by the "
                          "administrator of the tenant or consented to by any user in the tenant.")
        lifetime = self.settings.token_lifetime
        token = self._emu.issuer.access_token(
            tenant_id=tenant.id, audience=found[1], lifetime=lifetime, subject_oid=identity.object_id,
            app_id=identity.client_id, app_only=True, appidacr="2", extra={"xms_mirid": identity.resource_id},
        )
        return token, lifetime, int(self._emu.clock.now())

    @staticmethod
    def _imds_error(failure: Failure) -> Response:
        return Response.json(failure.status, {"error": failure.error, "error_description": failure.description})

    def _imds_body(self, tenant: Tenant, identity: ManagedIdentity, resource: str) -> dict[str, str]:
        token, lifetime, now = self._mint(tenant, identity, resource)
        return {  # IMDS answers with strings only
            "access_token": token, "client_id": identity.client_id, "expires_in": str(lifetime),
            "expires_on": str(now + lifetime), "ext_expires_in": str(lifetime), "not_before": str(now),
            "resource": resource, "token_type": "Bearer",
        }

    # -- Azure VM ----------------------------------------------------------------------------
    def _imds(self, tenant: Tenant, host: Host, req: Request) -> Response:
        try:
            _require_metadata(req)
            identity = self._select(host, req.query, {"client_id": "client_id", "object_id": "object_id",
                                                      "msi_res_id": "resource_id"})
            return Response.json(200, self._imds_body(tenant, identity, req.query.get("resource", "")))
        except Failure as failure:
            return self._imds_error(failure)

    # -- App Service -------------------------------------------------------------------------
    def _app_service(self, tenant: Tenant, host: Host, req: Request) -> Response:
        presented = req.header("x-identity-header")
        if not presented:
            return _app_service_error(400, "Required header X-IDENTITY-HEADER not found.")
        if not hmac.compare_digest(presented.encode(), host.identity_header.encode()):
            return _app_service_error(401, "The X-IDENTITY-HEADER value is not valid.")
        if req.query.get("api-version") != "2019-08-01":
            return _app_service_error(400, "api-version 2019-08-01 is required.")
        try:
            identity = self._select(host, req.query, {"client_id": "client_id", "mi_res_id": "resource_id",
                                                      "object_id": "object_id", "principal_id": "object_id"})
            resource = req.query.get("resource", "")
            token, lifetime, now = self._mint(tenant, identity, resource)
        except Failure as failure:
            return _app_service_error(failure.status, failure.description)
        return Response.json(200, {"access_token": token, "expires_on": str(now + lifetime), "resource": resource,
                                   "token_type": "Bearer", "client_id": identity.client_id})

    # -- Azure Cloud Shell -------------------------------------------------------------------
    def _cloud_shell(self, tenant: Tenant, host: Host, req: Request) -> Response:
        """``POST MSI_ENDPOINT`` with ``Metadata: true`` and a form ``resource=``: a token of the user signed in
        to Cloud Shell (there are no user-assigned identities to select)."""
        if req.header("metadata").lower() != "true":
            return self._imds_error(Failure(400, "invalid_request", "Required metadata header not specified"))
        form = req.form()
        if any(form.get(k) for k in ("client_id", "object_id", "msi_res_id", "mi_res_id")):
            return self._imds_error(Failure(400, "invalid_request",
                                            "Cloud Shell does not support user-assigned managed identities"))
        resource = form.get("resource", "")
        user = tenant.user_by_upn(host.user)
        if user is None:
            return self._imds_error(Failure(400, "invalid_request", f"The user {host.user} is not signed in"))
        found = tenant.resource(resource)
        if found is None:
            return self._imds_error(Failure(400, "invalid_resource", f"AADSTS500011: The resource principal named "
                                            f"{resource} was not found in the tenant named {tenant.id}."))
        lifetime = self.settings.cloud_shell_token_lifetime
        token = self._emu.issuer.access_token(
            tenant_id=tenant.id, audience=found[1], lifetime=lifetime, subject_oid=user.object_id,
            app_id=AZURE_CLI_APP_ID, app_only=False, upn=user.upn, name=user.display_name, groups=user.groups,
            scp="user_impersonation",
        )
        now = int(self._emu.clock.now())
        return Response.json(200, {"access_token": token, "expires_in": str(lifetime),
                                   "expires_on": str(now + lifetime), "not_before": str(now),
                                   "resource": resource, "token_type": "Bearer"})

    # -- Azure Arc ---------------------------------------------------------------------------
    def _arc(self, tenant: Tenant, host: Host, req: Request) -> Response:
        try:
            _require_metadata(req)
        except Failure as failure:
            return self._imds_error(failure)
        scheme, _, secret = req.header("authorization").partition(" ")
        if scheme.lower() != "basic" or not secret:
            return self._arc_challenge(host)
        with self._lock:
            expiry = next((exp for key, exp in self._arc_keys.items()
                           if hmac.compare_digest(key.encode(), secret.strip().encode())), None)
        if expiry is None or expiry < time.monotonic():
            return Response.json(401, {"error": "unauthorized_client",
                                       "error_description": "The key in the Authorization header is not valid."})
        try:
            query = {k: v for k, v in req.query.items() if k in ("client_id", "object_id", "msi_res_id")}
            identity = self._select(host, query, {"client_id": "client_id", "object_id": "object_id",
                                                  "msi_res_id": "resource_id"})
            body = self._imds_body(tenant, identity, req.query.get("resource", ""))
        except Failure as failure:
            return self._imds_error(failure)
        if not identity.system_assigned:  # agents that support user-assigned identities echo the selector
            body.update({"object_id": identity.object_id, "msi_res_id": identity.resource_id})
        return Response.json(200, body)

    def _arc_challenge(self, host: Host) -> Response:
        directory = self.arc_key_dir(host.name)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = secrets.token_urlsafe(48)
        path = directory / f"{uuid.uuid4()}.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secret)
        with self._lock:
            now = time.monotonic()
            self._arc_keys = {k: v for k, v in self._arc_keys.items() if v > now}
            self._arc_keys[secret] = now + ARC_KEY_LIFETIME
        response = Response.json(401, {"error": "unauthorized_client",
                                       "error_description": "Use the key in the realm file to authenticate."})
        response.headers["WWW-Authenticate"] = f"Basic realm={path}"
        return response


def _require_metadata(req: Request) -> None:
    if req.header("metadata").lower() != "true":
        raise Failure(400, "invalid_request", "Required metadata header not specified")
    if not req.query.get("api-version"):
        raise Failure(400, "invalid_request", "Required query variable 'api-version' is missing")


def _app_service_error(status: int, message: str) -> Response:
    return Response.json(status, {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())})


def managed_identities(emulator: EmulatorHost) -> ManagedIdentityService:
    """The managed identity feature of a running emulator (typed accessor for tests)."""
    return emulator.service("managed_identity", ManagedIdentityService)


def install(emulator: EmulatorHost) -> None:
    emulator.services["managed_identity"] = ManagedIdentityService(emulator)
