"""A context resolved the way kubectl resolves it: the cluster to call, how to trust it, and the user entry."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from akslogin.kubeconfig.model import KubeconfigError, MissingKubeconfigError, known_contexts
from akslogin.kubeconfig.view import MergedKubeconfig, resolve_path

#: The kubeconfig extension (on a cluster entry) where get-credentials records the cluster's Azure resource id;
#: clients ignore extensions they do not know, and kubectl keeps them when it rewrites the file.
AZURE_EXTENSION = "akslogin.io/azure"


@dataclass(frozen=True)
class ClusterEndpoint:
    """Where the API server is and how kubectl would trust it. Only what the kubeconfig says is honoured."""

    name: str
    server: str
    ca_pem: bytes | None = field(default=None, repr=False)
    #: Where the CA came from, for messages: "certificate-authority-data", a file path, or "" (system trust).
    ca_origin: str = ""
    tls_server_name: str = ""
    insecure_skip_tls_verify: bool = False
    proxy_url: str = ""
    exec_extension: Any = None  # extensions[client.authentication.k8s.io/exec].extension, for provideClusterInfo
    #: The cluster's Azure resource id, when get-credentials recorded it (extensions[akslogin.io/azure]).
    resource_id: str = ""
    #: Whether it authorizes with Azure RBAC for Kubernetes, as get-credentials found it (None: not known).
    azure_rbac: bool | None = None
    #: The Resource Manager get-credentials fetched it from ("" when not recorded: the cloud's).
    resource_manager: str = ""


@dataclass(frozen=True)
class ResolvedContext:
    name: str
    namespace: str
    cluster: ClusterEndpoint
    user_name: str
    user: dict[str, Any]
    #: The file the user entry came from (relative paths in it resolve against its directory).
    user_source: str
    kubeconfig: str  # files that were read, for messages


def resolve(config: MergedKubeconfig, context: str | None = None) -> ResolvedContext:
    where = config.describe_sources()
    wanted = context or config.current_context
    if not wanted:
        raise KubeconfigError(f"{where} has no current-context.",
                              "Pass --context NAME, or run 'kubectl config use-context NAME'.")
    ctx = config.entry("contexts", wanted)
    if ctx is None:
        raise MissingKubeconfigError(f"no context named {wanted!r} in {where}.",
                                     known_contexts(config.names("contexts")))
    cluster_name = str(ctx.body.get("cluster") or "")
    if not cluster_name:
        raise KubeconfigError(f"context {wanted!r} in {ctx.source} names no cluster.")
    cluster = config.entry("clusters", cluster_name)
    if cluster is None:
        raise KubeconfigError(f"context {wanted!r} refers to cluster {cluster_name!r}, which is not in {where}.",
                              "Re-run 'akslogin get-credentials' or fix the context.")
    user_name = str(ctx.body.get("user") or "")
    user: dict[str, Any] = {}
    user_source = ctx.source
    if user_name:
        found = config.entry("users", user_name)
        if found is None:
            raise KubeconfigError(f"context {wanted!r} refers to user {user_name!r}, which is not in {where}.",
                                  "Re-run 'akslogin get-credentials' or fix the context.")
        user, user_source = found.body, found.source
    return ResolvedContext(
        name=wanted,
        namespace=str(ctx.body.get("namespace") or "default"),
        cluster=_endpoint(cluster_name, cluster.body, cluster.source),
        user_name=user_name,
        user=user,
        user_source=user_source,
        kubeconfig=where,
    )


def _endpoint(name: str, body: dict[str, Any], source: str) -> ClusterEndpoint:
    server = str(body.get("server") or "")
    if not server:
        raise KubeconfigError(f"cluster {name!r} in {source} has no server URL.")
    ca_pem: bytes | None = None
    origin = ""
    if body.get("certificate-authority-data"):
        try:
            ca_pem = base64.b64decode(str(body["certificate-authority-data"]), validate=True)
        except (binascii.Error, ValueError):
            raise KubeconfigError(f"cluster {name!r} in {source}: certificate-authority-data is not base64.") from None
        origin = "certificate-authority-data"
    elif body.get("certificate-authority"):
        origin = resolve_path(str(body["certificate-authority"]), source)
        try:
            with open(origin, "rb") as fh:
                ca_pem = fh.read()
        except OSError as exc:
            raise KubeconfigError(f"cannot read the CA file {origin} of cluster {name!r}: {exc.strerror}.") from None
    extension = None
    resource_id = resource_manager = ""
    azure_rbac: bool | None = None
    for item in body.get("extensions") or []:
        if isinstance(item, dict) and item.get("name") == "client.authentication.k8s.io/exec":
            extension = item.get("extension")
        elif isinstance(item, dict) and item.get("name") == AZURE_EXTENSION and isinstance(item.get("extension"), dict):
            value = item["extension"].get("resourceId")
            resource_id = value if isinstance(value, str) and value.lower().startswith("/subscriptions/") else ""
            model = item["extension"].get("azureRBAC")
            azure_rbac = model if isinstance(model, bool) else None
            endpoint = item["extension"].get("resourceManager")
            resource_manager = endpoint if isinstance(endpoint, str) and endpoint.startswith("https://") else ""
    return ClusterEndpoint(
        name=name,
        server=server,
        ca_pem=ca_pem,
        ca_origin=origin,
        tls_server_name=str(body.get("tls-server-name") or ""),
        insecure_skip_tls_verify=body.get("insecure-skip-tls-verify") is True,
        proxy_url=str(body.get("proxy-url") or ""),
        exec_extension=extension,
        resource_id=resource_id,
        azure_rbac=azure_rbac,
        resource_manager=resource_manager,
    )
