"""kube-apiserver's wire formats, as the emulated API server speaks them: request → authorizer attributes,
request bodies (JSON, or the protobuf kubectl's typed clients send), Status bodies, and the Tables `kubectl get`
prints. Followed closely because tests compare kubectl's output with what a real cluster prints."""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from akslogin.emulator.aks import rbac
from akslogin.emulator.aks.resources import (
    JSON,
    RESOURCE_VERSION,
    ResourceType,
)
from akslogin.emulator.net.httpbase import Request, Response

# -- request → authorizer attributes ---------------------------------------------------------------

_METHOD_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                 "DELETE": "delete"}


def request_attributes(method: str, path: str, query: dict[str, str]) -> rbac.Attributes:
    """kube-apiserver's RequestInfoFactory: which verb/resource/namespace/name a request is about."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) < 3 or parts[0] not in ("api", "apis") or (parts[0] == "apis" and len(parts) < 4):
        return rbac.Attributes(verb=method.lower(), path=path)
    group = parts[1] if parts[0] == "apis" else ""
    rest = parts[2:] if parts[0] == "apis" else parts[1:]
    version, rest = rest[0], rest[1:]
    verb = _METHOD_VERBS.get(method, method.lower())
    if rest[0] == "watch":  # the deprecated /watch/ path form
        verb, rest = "watch", rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not name and verb == "get":
        verb = "watch" if query.get("watch") in ("1", "true") else "list"
        selected = query.get("fieldSelector", "")
        if selected.startswith("metadata.name=") and "," not in selected:
            name = selected.split("=", 1)[1]
    elif not name and verb == "delete":
        verb = "deletecollection"
    return rbac.Attributes(verb=verb, resource=resource, api_group=group, subresource=subresource,
                           namespace=namespace, name=name, api_version=version)


# -- request bodies: JSON, or the protobuf kubectl's typed clients send -----------------------------

PROTOBUF = "application/vnd.kubernetes.protobuf"
#: field number → JSON name, or (JSON name, nested schema); only what the review handlers read.
ProtoSchema = dict[int, "str | tuple[str, ProtoSchema]"]
_RESOURCE_ATTRIBUTES: ProtoSchema = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource",
                                     6: "subresource", 7: "name"}
REVIEW_SPECS: dict[str, ProtoSchema] = {
    "selfsubjectreviews": {},
    "selfsubjectaccessreviews": {1: ("resourceAttributes", _RESOURCE_ATTRIBUTES),
                                 2: ("nonResourceAttributes", {1: "path", 2: "verb"})},
    "selfsubjectrulesreviews": {1: "namespace"},
}


def _proto_fields(data: bytes) -> dict[int, list[bytes]]:
    """Length-delimited fields of a protobuf message (varint and fixed fields are skipped)."""
    fields: dict[int, list[bytes]] = {}
    pos = 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while pos < len(data):
        key = varint()
        wire = key & 7
        if wire == 0:
            varint()
        elif wire == 2:
            length = varint()
            fields.setdefault(key >> 3, []).append(data[pos:pos + length])
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return fields


def _proto_decode(data: bytes, schema: ProtoSchema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, values in _proto_fields(data).items():
        entry = schema.get(number)
        if isinstance(entry, str):
            out[entry] = values[-1].decode("utf-8")
        elif entry is not None:
            out[entry[0]] = _proto_decode(values[-1], entry[1])
    return out


def review_spec(request: Request, resource: str) -> dict[str, Any]:
    """The ``spec`` of a posted review, from JSON or from the ``k8s\0``-framed protobuf envelope."""
    if not request.body:
        return {}
    if request.header("content-type").startswith(PROTOBUF):
        if not request.body.startswith(b"k8s\x00"):
            raise ValueError("protobuf body without the k8s envelope")
        raw = _proto_fields(request.body[4:]).get(2, [b""])[-1]  # runtime.Unknown.raw
        encoded = _proto_fields(raw).get(2, [b""])[-1]  # <Review>.spec
        return _proto_decode(encoded, REVIEW_SPECS[resource])
    body = request.json()
    spec = body.get("spec") if isinstance(body, dict) else None
    return spec if isinstance(spec, dict) else {}


def omit_empty(spec: dict[str, Any]) -> dict[str, Any]:
    """Echo a spec as the API server would serialize it (omitempty)."""
    out = {}
    for key, value in spec.items():
        value = omit_empty(value) if isinstance(value, dict) else value
        if value:
            out[key] = value
    return out


# -- responses -------------------------------------------------------------------------------------

def json_response(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), {"Content-Type": JSON})


def status_response(code: int, reason: str, message: str, details: dict[str, str] | None = None) -> Response:
    """A ``metav1.Status`` failure body, field order as kube-apiserver writes it."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return json_response(code, body)


def qualified(rt: ResourceType) -> str:
    return f"{rt.name}.{rt.group}" if rt.group else rt.name


def not_found(rt: ResourceType, name: str) -> Response:
    details = {k: v for k, v in (("name", name), ("group", rt.group), ("kind", rt.name)) if v}
    return status_response(404, "NotFound", f'{qualified(rt)} "{name}" not found', details)


def page_not_found() -> Response:
    return Response.text(404, "404 page not found\n")


def unsupported(rt: ResourceType, verb: str) -> Response:
    details = {k: v for k, v in (("group", rt.group), ("kind", rt.name)) if v}
    return status_response(405, "MethodNotAllowed",
                           f'{verb} is not supported on resources of kind "{qualified(rt)}"', details)


def rfc3339(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def human_duration(seconds: float) -> str:
    """apimachinery's ``duration.HumanDuration``, the AGE column."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes, hours = s // 60, s // 3600
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


# -- tables (what `kubectl get` prints) --------------------------------------------------------------

Column = tuple[str, str, str, int]  # name, type, format, priority
CellsFn = Callable[[dict[str, Any], float], list[Any]]


def _age(obj: dict[str, Any], now: float) -> str:
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    return human_duration(now - calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ")))


def _subjects(obj: dict[str, Any], kind: str) -> str:
    subjects = [s for s in obj.get("subjects") or [] if s.get("kind") == kind]
    if kind == "ServiceAccount":
        return ", ".join(f"{s.get('namespace', '')}/{s.get('name', '')}" for s in subjects)
    return ", ".join(str(s.get("name", "")) for s in subjects)


def _pod_cells(obj: dict[str, Any], now: float) -> list[Any]:
    statuses = obj["status"].get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    return [obj["metadata"]["name"], f"{ready}/{len(obj['spec']['containers'])}", obj["status"]["phase"],
            str(restarts), _age(obj, now), obj["status"].get("podIP", "<none>"),
            obj["spec"].get("nodeName", "<none>"), "<none>", "<none>"]


def _binding_cells(obj: dict[str, Any], now: float) -> list[Any]:
    ref = obj["roleRef"]
    return [obj["metadata"]["name"], f"{ref['kind']}/{ref['name']}", _age(obj, now),
            _subjects(obj, "User"), _subjects(obj, "Group"), _subjects(obj, "ServiceAccount")]


_NAME: Column = ("Name", "string", "name", 0)
_AGE: Column = ("Age", "string", "", 0)
_CREATED_AT: Column = ("Created At", "date", "", 0)
_BINDING_COLUMNS = (_NAME, ("Role", "string", "", 0), _AGE, ("Users", "string", "", 1),
                    ("Groups", "string", "", 1), ("ServiceAccounts", "string", "", 1))
_DEFAULT_TABLE: tuple[tuple[Column, ...], CellsFn] = (
    (_NAME, _CREATED_AT), lambda o, _now: [o["metadata"]["name"], o["metadata"].get("creationTimestamp")],
)
TABLES: dict[str, tuple[tuple[Column, ...], CellsFn]] = {
    "pods": ((_NAME, ("Ready", "string", "", 0), ("Status", "string", "", 0), ("Restarts", "string", "", 0),
              _AGE, ("IP", "string", "", 1), ("Node", "string", "", 1), ("Nominated Node", "string", "", 1),
              ("Readiness Gates", "string", "", 1)), _pod_cells),
    "namespaces": ((_NAME, ("Status", "string", "", 0), _AGE),
                   lambda o, now: [o["metadata"]["name"], o["status"]["phase"], _age(o, now)]),
    "clusterrolebindings": (_BINDING_COLUMNS, _binding_cells),
    "rolebindings": (_BINDING_COLUMNS, _binding_cells),
}


def wants_table(request: Request) -> bool:
    return any("as=Table" in part for part in request.header("accept").split(","))


def table(rt: ResourceType, objects: Sequence[dict[str, Any]], now: float) -> dict[str, Any]:
    columns, cells = TABLES.get(rt.name, _DEFAULT_TABLE)
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": RESOURCE_VERSION},
        "columnDefinitions": [
            {"name": n, "type": t, "format": f, "description": "", "priority": p} for n, t, f, p in columns
        ],
        "rows": [
            {"cells": cells(o, now), "object": {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}}
            for o in objects
        ],
    }
