"""An AKS-like Kubernetes API server that real kubectl can talk to: authn, RBAC, discovery, a few reads.

Data-driven and read-only except for creating RBAC bindings (escalation-checked): the resource table
(:mod:`.kuberesources`) feeds discovery, routing and tables; the wire formats (Status bodies, Tables, reviews)
are :mod:`.kubewire`; objects come from the world's Cluster (pods, namespaces, RBAC).
"""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from akslogin.emulator.aks import azurerbac, rbac
from akslogin.emulator.aks.authn import Authenticator, AuthFailure, UserInfo, certificate_user
from akslogin.emulator.aks.resources import (
    BY_PATH,
    GROUP_VERSIONS,
    JSON,
    NODE_NAME,
    READ_ONLY,
    RESOURCE_TYPES,
    RESOURCE_VERSION,
    SERVER_VERSION,
    UNAUTHORIZED_BODY,
    AuthObserver,
    ResourceType,
)
from akslogin.emulator.aks.wire import (
    json_response,
    not_found,
    omit_empty,
    page_not_found,
    qualified,
    request_attributes,
    review_spec,
    rfc3339,
    status_response,
    table,
    unsupported,
    wants_table,
)
from akslogin.emulator.clock import Clock
from akslogin.emulator.net.httpbase import Request, Response, Router
from akslogin.emulator.world import Cluster

#: Azure's decision for a request (emulator/aks/azurerbac.py, bound to the world's role assignments).
AzureAuthorizer = Callable[[UserInfo, "rbac.Attributes"], "rbac.Decision"]

# -- the server --------------------------------------------------------------------------------------

class _ApiServer:
    """Per-cluster state: authenticates, authorizes with RBAC, then serves discovery and reads."""

    def __init__(self, cluster: Cluster, authenticator: Authenticator, clock: Clock | None,
                 on_auth: AuthObserver | None, azure: AzureAuthorizer | None = None) -> None:
        self.cluster = cluster
        self.azure = azure
        self.authenticator = authenticator
        self.now: Callable[[], float] = clock.now if clock else time.time
        self.on_auth = on_auth
        self.created = rfc3339(self.now())
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
        decision = self.authorize(result, attrs)
        if not decision.allowed:
            message = rbac.forbidden_message(result.username, attrs, decision.reason)
            return status_response(403, "Forbidden", message, rbac.forbidden_details(attrs))
        if not attrs.is_resource_request:
            return self.non_resource(request.path)
        return self.resource(request, attrs, result)

    def authorize(self, user: UserInfo, attrs: rbac.Attributes) -> rbac.Decision:
        """AKS's authorizer chain: on an Azure RBAC cluster Azure's role assignments first, then Kubernetes RBAC;
        a request neither allows is denied with Azure's reason."""
        if self.azure is None or not self.cluster.azure_rbac:
            return rbac.authorize(user, attrs, self.cluster)
        azure = self.azure(user, attrs)
        if azure.allowed:
            return azure
        kubernetes = rbac.authorize(user, attrs, self.cluster)
        if kubernetes.allowed or not attrs.is_resource_request:
            return kubernetes
        return rbac.Decision(False, azurerbac.DENIAL)

    def non_resource(self, path: str) -> Response:
        path = path.rstrip("/") or "/"
        if path == "/version":
            return json_response(200, SERVER_VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return Response.text(200, "ok")
        if path == "/api":
            address = f"{self.cluster.name}-dns.hcp.{self.cluster.location}.azmk8s.io:443"
            return json_response(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": address}]})
        if path == "/apis":
            return json_response(200, {"kind": "APIGroupList", "apiVersion": "v1",
                               "groups": [_api_group(gv) for gv in GROUP_VERSIONS]})
        if path.startswith("/apis/") and path.count("/") == 2:
            gv = next((gv for gv in GROUP_VERSIONS if gv.split("/")[0] == path[len("/apis/"):]), None)
            if gv is not None:
                return json_response(200, {"kind": "APIGroup", "apiVersion": "v1", **_api_group(gv)})
        gv = path[len("/api/"):] if path.startswith("/api/") else path[len("/apis/"):]
        if path.startswith(("/api/", "/apis/")) and (gv == "v1" or gv in GROUP_VERSIONS):
            resources = [d for r in RESOURCE_TYPES if r.group_version == gv for d in r.discovery()]
            return json_response(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                               "resources": resources})
        return page_not_found()

    def resource(self, request: Request, attrs: rbac.Attributes, user: UserInfo) -> Response:
        gv = f"{attrs.api_group}/{attrs.api_version}" if attrs.api_group else attrs.api_version
        rt = BY_PATH.get((gv, attrs.resource))
        named = attrs.verb != "list" and bool(attrs.name)  # a list's name comes from its fieldSelector
        if rt is None or (attrs.namespace and not rt.namespaced and rt.name != "namespaces") or (
            rt.namespaced and not attrs.namespace and named
        ):
            return page_not_found()
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
                return json_response(201, review(self, spec, user))
        if attrs.verb not in READ_ONLY or attrs.verb == "watch":
            return unsupported(rt, attrs.verb)
        if attrs.subresource:
            if rt.name == "pods" and attrs.subresource == "log" and self._find(rt, attrs) is not None:
                return Response.text(200, f"{attrs.name}: listening on :8080\n")
            if self._find(rt, attrs) is None:
                return not_found(rt, attrs.name)
            return unsupported(rt, attrs.verb)
        now = self.now()
        if attrs.verb == "get":
            obj = self._find(rt, attrs)
            if obj is None:
                return not_found(rt, attrs.name)
            if wants_table(request):
                return json_response(200, table(rt, [obj], now))
            return json_response(200, {"kind": rt.kind, "apiVersion": rt.group_version, **obj})
        items = self.objects(rt, attrs.namespace or None)
        if attrs.name:  # fieldSelector=metadata.name=<name>
            items = [o for o in items if o["metadata"]["name"] == attrs.name]
        if wants_table(request):
            return json_response(200, table(rt, items, now))
        return json_response(200, {"kind": f"{rt.kind}List", "apiVersion": rt.group_version,
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
            return status_response(409, "AlreadyExists", f'{qualified(rt)} "{name}" already exists',
                                   {"name": name, "group": rt.group, "kind": rt.name})
        decision = rbac.may_bind(user, self.cluster, ref["kind"], ref["name"], namespace)
        if not decision.allowed:
            return status_response(403, "Forbidden", f'{qualified(rt)} "{name}" is forbidden: {decision.reason}',
                                   {"name": name, "group": rt.group, "kind": rt.name})
        stored_meta: dict[str, Any] = {"name": name}
        if namespace:
            stored_meta["namespace"] = namespace
        for key in ("labels", "annotations"):
            if isinstance(meta.get(key), dict):
                stored_meta[key] = {str(k): str(v) for k, v in meta[key].items()}
        stored_meta["uid"] = str(uuid.uuid4())
        stored_meta["creationTimestamp"] = rfc3339(self.now())
        obj = {"metadata": stored_meta, "roleRef": dict(ref), "subjects": [dict(s) for s in body.get("subjects") or []]}
        if request.query.get("dryRun") != "All":
            with self._lock:
                target = self.cluster.role_bindings if rt.namespaced else self.cluster.cluster_role_bindings
                target.append(obj)
        meta_out = self._meta(rt.kind, name, namespace, **{k: v for k, v in stored_meta.items()
                                                           if k not in ("name", "namespace")})
        return json_response(201, {"kind": rt.kind, "apiVersion": rt.group_version, **obj, "metadata": meta_out})

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
        decision = self.authorize(user, attrs)
        status: dict[str, Any] = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        return {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "spec": omit_empty(spec), "status": status}

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
                "metadata": {"creationTimestamp": None}, "spec": omit_empty(spec), "status": status}


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
                     on_auth: AuthObserver | None = None, azure: AzureAuthorizer | None = None) -> Router:
    """A Router serving ``cluster`` as an AKS API server; ``on_auth`` sees each authentication outcome;
    ``azure`` decides first on an Azure RBAC cluster (emulator/aks/azurerbac.py)."""
    server = _ApiServer(cluster, authenticator, clock, on_auth, azure)
    router = Router()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        router.add(method, r"/.*", server.handle)
    return router
