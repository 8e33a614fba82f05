"""What the emulated Resource Manager's services share: the caller, ARM's error answer and its JSON answer.

Kept apart from :mod:`.arm` so the services it installs (authorization, Resource Graph, tenancy) import it and
not the service that installs them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from akslogin.emulator.net.httpbase import Response

PROVIDER = "Microsoft.ContainerService/managedClusters"
READ = f"{PROVIDER}/read"


@dataclass(frozen=True)
class Principal:
    object_id: str
    tenant_id: str
    display: str  # what ARM names in AuthorizationFailed: the UPN for users, else the object id
    ids: frozenset[str]  # object id and group object ids, for role assignments
    client_id: str = ""  # the app's client id, for an app's own token (service principal, managed identity)
    upn: str = ""  # a user's sign-in name, for a user's token


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, flat: bool = False,
                 headers: dict[str, str] | None = None, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.flat = status, code, message, flat
        self.headers = headers or {}
        self.details = details

    def response(self) -> Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return _json(self.status, body if self.flat else {"error": body}, self.headers)


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    hdrs = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": str(uuid.uuid4()),
            "Cache-Control": "no-cache"}
    hdrs.update(headers or {})
    return Response.json(status, payload, hdrs)


