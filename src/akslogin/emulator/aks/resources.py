"""The Kubernetes resource types the emulated API server knows: discovery, routing and `kubectl get` columns
come from this one table (group/version, name, kind, verbs, namespaced, short names)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from akslogin.emulator.aks import rbac
from akslogin.emulator.aks.authn import AuthFailure, UserInfo
from akslogin.emulator.net.httpbase import Request

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
READ_ONLY = ("get", "list", "watch")  # what this emulator actually serves for listed kinds
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
BY_PATH = {(r.group_version, r.name): r for r in RESOURCE_TYPES}
GROUP_VERSIONS = tuple(dict.fromkeys(r.group_version for r in RESOURCE_TYPES if r.group))
