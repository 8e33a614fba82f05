"""The emulated AKS API server, driven by the real kubectl (and, for exact wire bodies, directly).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest

from akslogin.emulator.aks.rbac import Attributes
from akslogin.emulator.aks.wire import human_duration, request_attributes


@pytest.mark.parametrize(("method", "path", "query", "expected"), [
    ("GET", "/api/v1/namespaces/default/pods", {}, Attributes("list", "pods", namespace="default")),
    ("GET", "/api/v1/pods", {"watch": "true"}, Attributes("watch", "pods")),
    ("GET", "/api/v1/namespaces/default/pods/web-1/log", {},
     Attributes("get", "pods", subresource="log", namespace="default", name="web-1")),
    ("GET", "/api/v1/namespaces/default/pods", {"fieldSelector": "metadata.name=web-1"},
     Attributes("list", "pods", namespace="default", name="web-1")),
    ("GET", "/api/v1/namespaces", {}, Attributes("list", "namespaces")),
    # Getting a namespace is a request *in* that namespace, as in kube-apiserver.
    ("GET", "/api/v1/namespaces/dev", {}, Attributes("get", "namespaces", namespace="dev", name="dev")),
    ("PUT", "/api/v1/namespaces/dev/status", {},
     Attributes("update", "namespaces", subresource="status", namespace="dev", name="dev")),
    ("DELETE", "/apis/apps/v1/namespaces/x/deployments", {},
     Attributes("deletecollection", "deployments", api_group="apps", namespace="x")),
    ("PATCH", "/apis/apps/v1/namespaces/x/deployments/w/scale", {},
     Attributes("patch", "deployments", api_group="apps", subresource="scale", namespace="x", name="w")),
    ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {},
     Attributes("create", "selfsubjectaccessreviews", api_group="authorization.k8s.io")),
    ("GET", "/api/v1/watch/namespaces/default/pods", {}, Attributes("watch", "pods", namespace="default")),
    ("GET", "/apis/apps/v1", {}, Attributes("get", path="/apis/apps/v1")),
    ("GET", "/api", {}, Attributes("get", path="/api")),
    ("POST", "/metrics", {}, Attributes("post", path="/metrics")),
])
def test_request_attributes(method: str, path: str, query: dict[str, str], expected: Attributes) -> None:
    got = request_attributes(method, path, query)
    assert (got.verb, got.resource, got.api_group, got.subresource, got.namespace, got.name, got.path) == (
        expected.verb, expected.resource, expected.api_group, expected.subresource, expected.namespace,
        expected.name, expected.path)


@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "<invalid>"), (0, "0s"), (119, "119s"), (150, "2m30s"), (600, "10m"), (3 * 3600 + 60, "3h1m"),
    (10 * 3600, "10h"), (50 * 3600, "2d2h"), (10 * 86400, "10d"), (3 * 365 * 86400, "3y"),
    (3 * 365 * 86400 + 86400, "3y1d"), (9 * 365 * 86400, "9y"),
])
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text
