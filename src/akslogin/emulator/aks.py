"""An AKS-like Kubernetes API server that real kubectl can talk to: authn, RBAC, discovery, a few reads.

Data-driven and read-only except for creating RBAC bindings (escalation-checked): the resource table below
feeds discovery, routing and tables; objects come from the world's Cluster (pods, namespaces, RBAC). Wire
formats (Status bodies, Tables, reviews) follow kube-apiserver closely, because tests compare kubectl's
output with what a real cluster prints.
"""

from __future__ import annotations

import calendar
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from akslogin.emulator import rbac
from akslogin.emulator.aksauth import Authenticator, AuthFailure, UserInfo, certificate_user
from akslogin.emulator.clock import Clock
from akslogin.emulator.httpbase import Request, Response, Router
from akslogin.emulator.world import Cluster

JSON = "application/json"
UNAUTHORIZED_BODY = (
    b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized",'
    b'"reason":"Unauthorized","code":401}'
)
SERVER_VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.4",
    "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
    "gitTreeState": "clean", "buildDate": "2025-04-22T16:02:27Z", "goVersion": "go1.23.6", "compiler": "gc",
    "platform": "linux/amd64",
}
RESOURCE_VERSION = "1000"
NODE_NAME = "aks-nodepool1-12345678-vmss000000"
#: Called once per request with the outcome of authentication (for the emulator's request log).
AuthObserver = Callable[[Request, "UserInfo | AuthFailure"], None]

_ALL = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_NS = ("create", "delete", "get", "list", "patch", "update", "watch")
_CREATE = ("create",)
_RO = ("get", "list", "watch")  # what this emulator actually serves for listed kinds
_STATUS = ("get", "patch", "update")
_PROXY = ("create", "delete", "get", "patch", "update")


@dataclass(frozen=True)
class ResourceType:
    """One row of discovery: a resource's group/version, kind, scope, verbs, short names, subresources."""

    group_version: str
    name: str
    kind: str
    namespaced: bool = True
    verbs: tuple[str, ...] = _ALL
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (name, kind, verbs)

    @property
    def group(self) -> str:
        return self.group_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.group_version.rpartition("/")[2]

    def discovery(self) -> list[dict[str, Any]]:
        main: dict[str, Any] = {
            "name": self.name, "singularName": self.kind.lower(), "namespaced": self.namespaced,
            "kind": self.kind, "verbs": list(self.verbs),
        }
        if self.short_names:
            main["shortNames"] = list(self.short_names)
        if self.categories:
            main["categories"] = list(self.categories)
        subs = [
            {"name": f"{self.name}/{sub}", "singularName": "", "namespaced": self.namespaced, "kind": kind,
             "verbs": list(verbs)}
            for sub, kind, verbs in self.subresources
        ]
        return [main, *subs]


def _status_sub(kind: str) -> tuple[str, str, tuple[str, ...]]:
    return ("status", kind, _STATUS)


_SCALE = ("scale", "Scale", _STATUS)
RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("v1", "configmaps", "ConfigMap", short_names=("cm",)),
    ResourceType("v1", "endpoints", "Endpoints", short_names=("ep",)),
    ResourceType("v1", "events", "Event", short_names=("ev",)),
    ResourceType("v1", "limitranges", "LimitRange", short_names=("limits",)),
    ResourceType("v1", "namespaces", "Namespace", namespaced=False, verbs=_NS, short_names=("ns",),
                 subresources=(("finalize", "Namespace", ("update",)), _status_sub("Namespace"))),
    ResourceType("v1", "nodes", "Node", namespaced=False, short_names=("no",),
                 subresources=(("proxy", "NodeProxyOptions", _PROXY),
                               _status_sub("Node"))),
    ResourceType("v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",),
                 subresources=(_status_sub("PersistentVolumeClaim"),)),
    ResourceType("v1", "persistentvolumes", "PersistentVolume", namespaced=False, short_names=("pv",),
                 subresources=(_status_sub("PersistentVolume"),)),
    ResourceType("v1", "pods", "Pod", short_names=("po",), categories=("all",), subresources=(
        ("attach", "PodAttachOptions", ("create", "get")),
        ("eviction", "Eviction", _CREATE),
        ("exec", "PodExecOptions", ("create", "get")),
        ("log", "Pod", ("get",)),
        ("portforward", "PodPortForwardOptions", ("create", "get")),
        ("proxy", "PodProxyOptions", _PROXY),
        _status_sub("Pod"),
    )),
    ResourceType("v1", "replicationcontrollers", "ReplicationController", short_names=("rc",),
                 categories=("all",), subresources=(_SCALE, _status_sub("ReplicationController"))),
    ResourceType("v1", "resourcequotas", "ResourceQuota", short_names=("quota",),
                 subresources=(_status_sub("ResourceQuota"),)),
    ResourceType("v1", "secrets", "Secret"),
    ResourceType("v1", "serviceaccounts", "ServiceAccount", short_names=("sa",),
                 subresources=(("token", "TokenRequest", _CREATE),)),
    ResourceType("v1", "services", "Service", verbs=_NS, short_names=("svc",), categories=("all",),
                 subresources=(("proxy", "ServiceProxyOptions", _PROXY),
                               _status_sub("Service"))),
    ResourceType("apps/v1", "controllerrevisions", "ControllerRevision"),
    ResourceType("apps/v1", "daemonsets", "DaemonSet", short_names=("ds",), categories=("all",),
                 subresources=(_status_sub("DaemonSet"),)),
    ResourceType("apps/v1", "deployments", "Deployment", short_names=("deploy",), categories=("all",),
                 subresources=(_SCALE, _status_sub("Deployment"))),
    ResourceType("apps/v1", "replicasets", "ReplicaSet", short_names=("rs",), categories=("all",),
                 subresources=(_SCALE, _status_sub("ReplicaSet"))),
    ResourceType("apps/v1", "statefulsets", "StatefulSet", short_names=("sts",), categories=("all",),
                 subresources=(_SCALE, _status_sub("StatefulSet"))),
    ResourceType("authentication.k8s.io/v1", "selfsubjectreviews", "SelfSubjectReview", namespaced=False,
                 verbs=_CREATE),
    ResourceType("authentication.k8s.io/v1", "tokenreviews", "TokenReview", namespaced=False, verbs=_CREATE),
    ResourceType("authorization.k8s.io/v1", "localsubjectaccessreviews", "LocalSubjectAccessReview",
                 verbs=_CREATE),
    ResourceType("authorization.k8s.io/v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
                 namespaced=False, verbs=_CREATE),
    ResourceType("authorization.k8s.io/v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview",
                 namespaced=False, verbs=_CREATE),
    ResourceType("authorization.k8s.io/v1", "subjectaccessreviews", "SubjectAccessReview", namespaced=False,
                 verbs=_CREATE),
    ResourceType("autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
                 short_names=("hpa",), categories=("all",),
                 subresources=(_status_sub("HorizontalPodAutoscaler"),)),
    ResourceType("batch/v1", "cronjobs", "CronJob", short_names=("cj",), categories=("all",),
                 subresources=(_status_sub("CronJob"),)),
    ResourceType("batch/v1", "jobs", "Job", categories=("all",), subresources=(_status_sub("Job"),)),
    ResourceType("coordination.k8s.io/v1", "leases", "Lease"),
    ResourceType("discovery.k8s.io/v1", "endpointslices", "EndpointSlice"),
    ResourceType("networking.k8s.io/v1", "ingresses", "Ingress", short_names=("ing",),
                 subresources=(_status_sub("Ingress"),)),
    ResourceType("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",)),
    ResourceType("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", short_names=("pdb",),
                 subresources=(_status_sub("PodDisruptionBudget"),)),
    ResourceType(f"{rbac.RBAC_GROUP}/v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    ResourceType(f"{rbac.RBAC_GROUP}/v1", "clusterroles", "ClusterRole", namespaced=False),
    ResourceType(f"{rbac.RBAC_GROUP}/v1", "rolebindings", "RoleBinding"),
    ResourceType(f"{rbac.RBAC_GROUP}/v1", "roles", "Role"),
)
_BY_PATH = {(r.group_version, r.name): r for r in RESOURCE_TYPES}
GROUP_VERSIONS = tuple(dict.fromkeys(r.group_version for r in RESOURCE_TYPES if r.group))


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


def _omit_empty(spec: dict[str, Any]) -> dict[str, Any]:
    """Echo a spec as the API server would serialize it (omitempty)."""
    out = {}
    for key, value in spec.items():
        value = _omit_empty(value) if isinstance(value, dict) else value
        if value:
            out[key] = value
    return out


# -- responses -------------------------------------------------------------------------------------

def _json(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), {"Content-Type": JSON})


def status_response(code: int, reason: str, message: str, details: dict[str, str] | None = None) -> Response:
    """A ``metav1.Status`` failure body, field order as kube-apiserver writes it."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return _json(code, body)


def _qualified(rt: ResourceType) -> str:
    return f"{rt.name}.{rt.group}" if rt.group else rt.name


def _not_found(rt: ResourceType, name: str) -> Response:
    details = {k: v for k, v in (("name", name), ("group", rt.group), ("kind", rt.name)) if v}
    return status_response(404, "NotFound", f'{_qualified(rt)} "{name}" not found', details)


def _page_not_found() -> Response:
    return Response.text(404, "404 page not found\n")


def _unsupported(rt: ResourceType, verb: str) -> Response:
    details = {k: v for k, v in (("group", rt.group), ("kind", rt.name)) if v}
    return status_response(405, "MethodNotAllowed",
                           f'{verb} is not supported on resources of kind "{_qualified(rt)}"', details)


def _rfc3339(epoch: float) -> str:
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


def _wants_table(request: Request) -> bool:
    return any("as=Table" in part for part in request.header("accept").split(","))


def _table(rt: ResourceType, objects: Sequence[dict[str, Any]], now: float) -> dict[str, Any]:
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


# -- the server --------------------------------------------------------------------------------------

class _ApiServer:
    """Per-cluster state: authenticates, authorizes with RBAC, then serves discovery and reads."""

    def __init__(self, cluster: Cluster, authenticator: Authenticator, clock: Clock | None,
                 on_auth: AuthObserver | None) -> None:
        self.cluster = cluster
        self.authenticator = authenticator
        self.now: Callable[[], float] = clock.now if clock else time.time
        self.on_auth = on_auth
        self.created = _rfc3339(self.now())
        self._lock = threading.Lock()

    # objects ------------------------------------------------------------------------------------
    def _meta(self, kind: str, name: str, namespace: str = "", **extra: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if namespace:
            meta["namespace"] = namespace
        meta["uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aks://{self.cluster.name}/{kind}/{namespace}/{name}"))
        meta["resourceVersion"] = RESOURCE_VERSION
        meta["creationTimestamp"] = self.created
        meta.update(extra)
        return meta

    def _pods(self, namespace: str | None) -> list[dict[str, Any]]:
        out = []
        for i, (ns, names) in enumerate(sorted(self.cluster.pods.items())):
            if namespace is not None and ns != namespace:
                continue
            for j, name in enumerate(names):
                app = name.rsplit("-", 1)[0] if "-" in name else name
                image = "mcr.microsoft.com/azuredocs/aks-helloworld:v1"
                running = {"running": {"startedAt": self.created}}
                out.append({
                    "metadata": self._meta("Pod", name, ns, labels={"app": app}),
                    "spec": {"containers": [{"name": app, "image": image}], "restartPolicy": "Always",
                             "serviceAccountName": "default", "nodeName": NODE_NAME},
                    "status": {
                        "phase": "Running", "hostIP": "10.224.0.4", "podIP": f"10.244.{i}.{j + 10}",
                        "startTime": self.created,
                        "conditions": [{"type": t, "status": "True", "lastProbeTime": None,
                                        "lastTransitionTime": self.created}
                                       for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                        "containerStatuses": [{"name": app, "ready": True, "started": True, "restartCount": 0,
                                               "image": image, "imageID": "", "state": running}],
                    },
                })
        return out

    def _namespaces(self, _namespace: str | None) -> list[dict[str, Any]]:
        return [{
            "metadata": self._meta("Namespace", ns, labels={"kubernetes.io/metadata.name": ns}),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        } for ns in sorted(self.cluster.namespaces)]

    def _rbac_objects(self, kind: str, items: Sequence[dict[str, Any]],
                      namespace: str | None) -> list[dict[str, Any]]:
        out = []
        for item in items:
            meta = item["metadata"]
            ns = str(meta.get("namespace") or "")
            if namespace is not None and ns != namespace:
                continue
            extra = {k: v for k, v in meta.items() if k not in ("name", "namespace")}
            out.append({**item, "metadata": self._meta(kind, meta["name"], ns, **extra)})
        return out

    def objects(self, rt: ResourceType, namespace: str | None) -> list[dict[str, Any]]:
        """Objects of a type, in ``namespace`` or (None) everywhere; unknown kinds are simply empty."""
        c = self.cluster
        if rt.name == "pods":
            return self._pods(namespace)
        if rt.name == "namespaces":
            return self._namespaces(namespace)
        rbac_sources: dict[str, tuple[str, Sequence[dict[str, Any]]]] = {
            "clusterroles": ("ClusterRole", rbac.cluster_roles(c)),
            "clusterrolebindings": ("ClusterRoleBinding", rbac.cluster_role_bindings(c)),
            "roles": ("Role", c.roles),
            "rolebindings": ("RoleBinding", c.role_bindings),
        }
        if rt.group == rbac.RBAC_GROUP and rt.name in rbac_sources:
            kind, items = rbac_sources[rt.name]
            return self._rbac_objects(kind, items, namespace)
        return []

    # request handling ---------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        auth = request.header("authorization").split(" ", 2)
        bearer = auth[1] if len(auth) >= 2 and auth[0].lower() == "bearer" else ""
        result: UserInfo | AuthFailure
        if request.client_cert is not None:  # x509 comes first in kube-apiserver's authenticator chain
            result = certificate_user(request.client_cert)
        elif bearer and not self.cluster.disable_local_accounts and not self.cluster.arc and hmac.compare_digest(
                bearer.encode(), self.cluster.admin_token.encode()):
            result = UserInfo(username="clusterAdmin", uid="", groups=("system:masters", "system:authenticated"))
        elif bearer:
            result = self.authenticator.authenticate(bearer)
        else:
            result = AuthFailure("no bearer token")
        if self.on_auth is not None:
            self.on_auth(request, result)
        if isinstance(result, AuthFailure):
            if self.cluster.arc:  # Arc's guard says why; AKS says only "Unauthorized"
                return status_response(401, "Unauthorized", f"Unauthorized: {result.reason}")
            return Response(401, UNAUTHORIZED_BODY, {"Content-Type": JSON})
        attrs = request_attributes(request.method, request.path, request.query)
        decision = rbac.authorize(result, attrs, self.cluster)
        if not decision.allowed:
            message = rbac.forbidden_message(result.username, attrs, decision.reason)
            return status_response(403, "Forbidden", message, rbac.forbidden_details(attrs))
        if not attrs.is_resource_request:
            return self.non_resource(request.path)
        return self.resource(request, attrs, result)

    def non_resource(self, path: str) -> Response:
        path = path.rstrip("/") or "/"
        if path == "/version":
            return _json(200, SERVER_VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return Response.text(200, "ok")
        if path == "/api":
            address = f"{self.cluster.name}-dns.hcp.{self.cluster.location}.azmk8s.io:443"
            return _json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": address}]})
        if path == "/apis":
            return _json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                               "groups": [_api_group(gv) for gv in GROUP_VERSIONS]})
        if path.startswith("/apis/") and path.count("/") == 2:
            gv = next((gv for gv in GROUP_VERSIONS if gv.split("/")[0] == path[len("/apis/"):]), None)
            if gv is not None:
                return _json(200, {"kind": "APIGroup", "apiVersion": "v1", **_api_group(gv)})
        gv = path[len("/api/"):] if path.startswith("/api/") else path[len("/apis/"):]
        if path.startswith(("/api/", "/apis/")) and (gv == "v1" or gv in GROUP_VERSIONS):
            resources = [d for r in RESOURCE_TYPES if r.group_version == gv for d in r.discovery()]
            return _json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                               "resources": resources})
        return _page_not_found()

    def resource(self, request: Request, attrs: rbac.Attributes, user: UserInfo) -> Response:
        gv = f"{attrs.api_group}/{attrs.api_version}" if attrs.api_group else attrs.api_version
        rt = _BY_PATH.get((gv, attrs.resource))
        named = attrs.verb != "list" and bool(attrs.name)  # a list's name comes from its fieldSelector
        if rt is None or (attrs.namespace and not rt.namespaced and rt.name != "namespaces") or (
            rt.namespaced and not attrs.namespace and named
        ):
            return _page_not_found()
        if attrs.verb == "create" and not attrs.subresource and rt.name in ("rolebindings", "clusterrolebindings"):
            return self.create_binding(request, rt, attrs, user)
        if attrs.verb == "create" and not attrs.subresource:
            review = _REVIEWS.get(rt.name)
            if review is not None:
                try:
                    spec = review_spec(request, rt.name)
                except (ValueError, IndexError) as exc:
                    return status_response(400, "BadRequest", f"the body of the request was in an unknown "
                                           f"format: {exc}")
                return _json(201, review(self, spec, user))
        if attrs.verb not in _RO or attrs.verb == "watch":
            return _unsupported(rt, attrs.verb)
        if attrs.subresource:
            if rt.name == "pods" and attrs.subresource == "log" and self._find(rt, attrs) is not None:
                return Response.text(200, f"{attrs.name}: listening on :8080\n")
            if self._find(rt, attrs) is None:
                return _not_found(rt, attrs.name)
            return _unsupported(rt, attrs.verb)
        now = self.now()
        if attrs.verb == "get":
            obj = self._find(rt, attrs)
            if obj is None:
                return _not_found(rt, attrs.name)
            if _wants_table(request):
                return _json(200, _table(rt, [obj], now))
            return _json(200, {"kind": rt.kind, "apiVersion": rt.group_version, **obj})
        items = self.objects(rt, attrs.namespace or None)
        if attrs.name:  # fieldSelector=metadata.name=<name>
            items = [o for o in items if o["metadata"]["name"] == attrs.name]
        if _wants_table(request):
            return _json(200, _table(rt, items, now))
        return _json(200, {"kind": f"{rt.kind}List", "apiVersion": rt.group_version,
                           "metadata": {"resourceVersion": RESOURCE_VERSION}, "items": items})

    # writes -------------------------------------------------------------------------------------
    def create_binding(self, request: Request, rt: ResourceType, attrs: rbac.Attributes,
                       user: UserInfo) -> Response:
        """POST of a RoleBinding/ClusterRoleBinding: validated, escalation-checked, stored in the cluster."""
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return status_response(400, "BadRequest", "the body of the request was in an unknown format")
        if not isinstance(body, dict):
            return status_response(400, "BadRequest", "the body of the request must be an object")
        if body.get("kind") not in (None, rt.kind) or body.get("apiVersion") not in (None, rt.group_version):
            return status_response(400, "BadRequest", f"the API version in the data ({body.get('apiVersion')}) "
                                   f"does not match the expected API version ({rt.group_version})")
        raw_meta = body.get("metadata")
        meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        name = str(meta.get("name") or "")
        namespace = attrs.namespace if rt.namespaced else ""
        if rt.namespaced and meta.get("namespace") not in (None, "", namespace):
            return status_response(400, "BadRequest", "the namespace of the provided object does not match the "
                                   "namespace sent on the request")
        problems = _binding_problems(body, name, rt.namespaced)
        if problems:
            return status_response(422, "Invalid", f'{rt.kind}.{rt.group} "{name}" is invalid: ' + ", ".join(problems),
                                   {"name": name, "group": rt.group, "kind": rt.kind})
        ref = body["roleRef"]
        if self._find(rt, rbac.Attributes(verb="get", resource=rt.name, namespace=namespace, name=name)):
            return status_response(409, "AlreadyExists", f'{_qualified(rt)} "{name}" already exists',
                                   {"name": name, "group": rt.group, "kind": rt.name})
        decision = rbac.may_bind(user, self.cluster, ref["kind"], ref["name"], namespace)
        if not decision.allowed:
            return status_response(403, "Forbidden", f'{_qualified(rt)} "{name}" is forbidden: {decision.reason}',
                                   {"name": name, "group": rt.group, "kind": rt.name})
        stored_meta: dict[str, Any] = {"name": name}
        if namespace:
            stored_meta["namespace"] = namespace
        for key in ("labels", "annotations"):
            if isinstance(meta.get(key), dict):
                stored_meta[key] = {str(k): str(v) for k, v in meta[key].items()}
        stored_meta["uid"] = str(uuid.uuid4())
        stored_meta["creationTimestamp"] = _rfc3339(self.now())
        obj = {"metadata": stored_meta, "roleRef": dict(ref), "subjects": [dict(s) for s in body.get("subjects") or []]}
        if request.query.get("dryRun") != "All":
            with self._lock:
                target = self.cluster.role_bindings if rt.namespaced else self.cluster.cluster_role_bindings
                target.append(obj)
        meta_out = self._meta(rt.kind, name, namespace, **{k: v for k, v in stored_meta.items()
                                                           if k not in ("name", "namespace")})
        return _json(201, {"kind": rt.kind, "apiVersion": rt.group_version, **obj, "metadata": meta_out})

    def _find(self, rt: ResourceType, attrs: rbac.Attributes) -> dict[str, Any] | None:
        scope = attrs.namespace if rt.namespaced else None
        return next((o for o in self.objects(rt, scope) if o["metadata"]["name"] == attrs.name), None)

    # reviews ------------------------------------------------------------------------------------
    def self_subject_review(self, _spec: dict[str, Any], user: UserInfo) -> dict[str, Any]:
        user_info: dict[str, Any] = {"username": user.username, "uid": user.uid, "groups": list(user.groups)}
        if user.extra:
            user_info["extra"] = {k: list(v) for k, v in user.extra.items()}
        return {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "status": {"userInfo": user_info}}

    def self_subject_access_review(self, spec: dict[str, Any], user: UserInfo) -> dict[str, Any]:
        ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        if isinstance(ra, dict):
            attrs = rbac.Attributes(
                verb=str(ra.get("verb", "")), resource=str(ra.get("resource", "")),
                api_group=str(ra.get("group", "")), subresource=str(ra.get("subresource", "")),
                namespace=str(ra.get("namespace", "")), name=str(ra.get("name", "")),
                api_version=str(ra.get("version", "")),
            )
        elif isinstance(nra, dict):
            attrs = rbac.Attributes(verb=str(nra.get("verb", "")), path=str(nra.get("path", "")) or "/")
        else:
            attrs = rbac.Attributes(verb="", path="/")
        decision = rbac.authorize(user, attrs, self.cluster)
        status: dict[str, Any] = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        return {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "spec": _omit_empty(spec), "status": status}

    def self_subject_rules_review(self, spec: dict[str, Any], user: UserInfo) -> dict[str, Any]:
        rules = rbac.rules_for(user, self.cluster, str(spec.get("namespace") or ""))
        resource_rules = [
            {k: r[k] for k in ("verbs", "apiGroups", "resources", "resourceNames") if r.get(k)}
            for r in rules if "nonResourceURLs" not in r
        ]
        url_rules = [{"verbs": r["verbs"], "nonResourceURLs": r["nonResourceURLs"]}
                     for r in rules if "nonResourceURLs" in r]
        status = {"resourceRules": resource_rules, "nonResourceRules": url_rules, "incomplete": False}
        return {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "spec": _omit_empty(spec), "status": status}


_REVIEWS: dict[str, Callable[[_ApiServer, dict[str, Any], UserInfo], dict[str, Any]]] = {
    "selfsubjectreviews": _ApiServer.self_subject_review,
    "selfsubjectaccessreviews": _ApiServer.self_subject_access_review,
    "selfsubjectrulesreviews": _ApiServer.self_subject_rules_review,
}


def _binding_problems(body: dict[str, Any], name: str, namespaced: bool) -> list[str]:
    """Field errors as kube's validation reports them (the subset that matters for bindings)."""
    problems = []
    if not name:
        problems.append("metadata.name: Required value: name or generateName is required")
    ref = body.get("roleRef")
    kinds = ("ClusterRole", "Role") if namespaced else ("ClusterRole",)
    if not isinstance(ref, dict) or not ref.get("name"):
        problems.append("roleRef.name: Required value")
    elif ref.get("kind") not in kinds:
        problems.append(f"roleRef.kind: Unsupported value: {json.dumps(ref.get('kind'))}: supported values: "
                        + ", ".join(json.dumps(k) for k in kinds))
    elif ref.get("apiGroup") != rbac.RBAC_GROUP:
        problems.append(f"roleRef.apiGroup: Unsupported value: {json.dumps(ref.get('apiGroup'))}: supported "
                        f'values: "{rbac.RBAC_GROUP}"')
    subjects = body.get("subjects") or []
    if not isinstance(subjects, list):
        return [*problems, "subjects: Invalid value: must be a list"]
    for i, subject in enumerate(subjects):
        if not isinstance(subject, dict) or not subject.get("name"):
            problems.append(f"subjects[{i}].name: Required value")
        elif subject.get("kind") not in ("User", "Group", "ServiceAccount"):
            problems.append(f"subjects[{i}].kind: Unsupported value: {json.dumps(subject.get('kind'))}")
    return problems


def _api_group(gv: str) -> dict[str, Any]:
    group, version = gv.split("/")
    ref = {"groupVersion": gv, "version": version}
    return {"name": group, "versions": [ref], "preferredVersion": ref}


def build_aks_router(cluster: Cluster, authenticator: Authenticator, *, clock: Clock | None = None,
                     on_auth: AuthObserver | None = None) -> Router:
    """A Router serving ``cluster`` as an AKS API server; ``on_auth`` sees each authentication outcome."""
    server = _ApiServer(cluster, authenticator, clock, on_auth)
    router = Router()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        router.add(method, r"/.*", server.handle)
    return router
