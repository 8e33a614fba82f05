"""The emulated AKS API server, driven by the real kubectl (and, for exact wire bodies, directly).

Here: the end-to-end tier (through a real kubectl, az, browser or installer).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from akslogin.emulator.aks.apiserver import build_aks_router
from akslogin.emulator.aks.authn import AuthFailure, TokenAuthenticator, UserInfo
from akslogin.emulator.clock import Clock
from akslogin.emulator.entra.tokens import TokenIssuer
from akslogin.emulator.net.httpbase import HTTPSServer, Request, Response, Router
from akslogin.emulator.net.tlsmaterial import TLSMaterial
from akslogin.emulator.world import AKS_SERVER_APP_ID, World, world_from_dict

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"


DEVS = "5d4a3b2c-1111-4c4c-8888-000000000001"


ADMINS = "5d4a3b2c-1111-4c4c-8888-000000000002"


CI_OID = "0a1b2c3d-0000-4000-8000-00000000c1c1"


LONELY_OID = "0a1b2c3d-0000-4000-8000-0000000010e1"


UNAUTHORIZED = "error: You must be logged in to the server (Unauthorized)"


UNAUTHORIZED_BODY = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                     "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


WORLD = {
    "tenants": [{
        "id": TENANT,
        "domains": ["contoso.com"],
        "groups": [{"name": "aks-devs", "object_id": DEVS}, {"name": "aks-admins", "object_id": ADMINS}],
        "users": [
            {"upn": "alice@contoso.com", "groups": ["aks-devs"]},
            {"upn": "bob@contoso.com"},
            {"upn": "carol@contoso.com", "groups": ["aks-admins"]},
        ],
        "apps": [
            {"name": "ci-bot", "object_id": CI_OID, "secrets": ["s3cret"]},
            {"name": "lonely-app", "object_id": LONELY_OID, "secrets": ["s3cret"]},
        ],
    }],
    "clusters": [
        {
            "name": "aks-dev",
            "pods": {"default": ["web-1", "web-2"], "dev": ["api-1"]},
            "rbac": {"bindings": [
                {"name": "ci-view", "role": "view", "subjects": [{"app": "ci-bot"}]},
                {"name": "devs-edit", "role": "edit", "namespace": "dev", "subjects": [{"group": "aks-devs"}]},
                {"name": "admins", "role": "cluster-admin", "subjects": [{"group": "aks-admins"}]},
            ]},
        },
        {
            "name": "aks-legacy",
            "audience": "spn",
            "pods": {"default": ["old-1"]},
            "rbac": {"bindings": [{"role": "view", "subjects": [{"app": "ci-bot"}]}]},
        },
    ],
}


@dataclass
class Env:
    """One emulator for the whole module: a CA, a token issuer, and an API server per cluster."""

    root: Path
    world: World
    clock: Clock
    issuer: TokenIssuer
    tls: TLSMaterial
    servers: dict[str, HTTPSServer]
    auth_log: list[tuple[str, UserInfo | AuthFailure]] = field(default_factory=list)

    def token(self, who: str, *, cluster: str = "aks-dev", audience: str | None = None,
              tenant_id: str = TENANT, lifetime: int = 3600, issuer: TokenIssuer | None = None) -> str:
        """An access token for a user (UPN) or an app (name), with the audience the cluster expects."""
        tenant = self.world.tenants[0]
        if audience is None:
            spn = self.world.cluster(cluster).audience == "spn"
            audience = f"spn:{AKS_SERVER_APP_ID}" if spn else AKS_SERVER_APP_ID
        common: dict[str, Any] = {"tenant_id": tenant_id, "audience": audience, "lifetime": lifetime}
        user = tenant.user_by_upn(who)
        if user is not None:
            return (issuer or self.issuer).access_token(
                **common, subject_oid=user.object_id, app_id="04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                app_only=False, upn=user.upn, groups=user.groups,
            )
        app = next(a for a in tenant.apps if a.name == who)
        return (issuer or self.issuer).access_token(
            **common, subject_oid=app.object_id, app_id=app.client_id, app_only=True, groups=app.groups or None,
        )

    def kubeconfig(self, token: str | None, cluster: str = "aks-dev") -> Path:
        user: dict[str, Any] = {"token": token} if token is not None else {}
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "ctx",
            "clusters": [{"name": cluster, "cluster": {
                "server": self.servers[cluster].url, "certificate-authority": str(self.tls.ca_path)}}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "ctx", "context": {"cluster": cluster, "user": "u"}}],
        }
        text = json.dumps(config)
        path = self.root / f"kubeconfig-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
        path.write_text(text, encoding="utf-8")
        return path

    def kubectl(self, token: str | None, *args: str, cluster: str = "aks-dev",
                cache_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
        env["HOME"] = str(self.root)
        extra = ["--cache-dir", str(cache_dir)] if cache_dir else []
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(self.kubeconfig(token, cluster)), "--request-timeout", "20s", *extra,
             *args],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    if not os.path.exists(KUBECTL):
        pytest.skip("kubectl is not installed")
    root = tmp_path_factory.mktemp("aks")
    world = world_from_dict(WORLD)
    clock = Clock()
    issuer = TokenIssuer(clock)
    tls = TLSMaterial.create(root / "tls")
    e = Env(root=root, world=world, clock=clock, issuer=issuer, tls=tls, servers={})
    for cluster in world.clusters:
        authenticator = TokenAuthenticator(issuer.jwks(), cluster, clock)
        router = build_aks_router(cluster, authenticator, clock=clock,
                                  on_auth=lambda req, result: e.auth_log.append((req.path, result)))
        server = HTTPSServer(router, str(tls.server_cert_path), str(tls.server_key_path))
        server.start()
        e.servers[cluster.name] = server
    yield e
    for server in e.servers.values():
        server.stop()


def lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def test_viewer_lists_pods(env: Env) -> None:
    result = env.kubectl(env.token("ci-bot"), "get", "pods")
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [r[:4] for r in rows[1:]] == [["web-1", "1/1", "Running", "0"], ["web-2", "1/1", "Running", "0"]]


def test_viewer_lists_pods_everywhere_and_wide(env: Env) -> None:
    result = env.kubectl(env.token("ci-bot"), "get", "pods", "-A")
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    assert rows[0][:2] == ["NAMESPACE", "NAME"]
    assert [r[:2] for r in rows[1:]] == [["default", "web-1"], ["default", "web-2"], ["dev", "api-1"]]
    wide = env.kubectl(env.token("ci-bot"), "get", "pods", "-o", "wide")
    assert lines(wide.stdout)[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED",
                                     "NODE", "READINESS", "GATES"]


def test_get_one_pod_json_and_not_found(env: Env) -> None:
    token = env.token("ci-bot")
    result = env.kubectl(token, "get", "pod", "web-2", "-o", "json")
    assert result.returncode == 0, result.stderr
    pod = json.loads(result.stdout)
    assert (pod["kind"], pod["metadata"]["name"], pod["status"]["phase"]) == ("Pod", "web-2", "Running")
    names = env.kubectl(token, "get", "pods", "-n", "dev", "-o", "name")
    assert names.stdout.split() == ["pod/api-1"]
    missing = env.kubectl(token, "get", "pod", "nope")
    assert (missing.returncode, missing.stderr.strip()) == (1, 'Error from server (NotFound): pods "nope" not found')


def test_get_namespaces(env: Env) -> None:
    result = env.kubectl(env.token("ci-bot"), "get", "namespaces")
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    assert rows[0] == ["NAME", "STATUS", "AGE"]
    assert [r[:2] for r in rows[1:]] == [["default", "Active"], ["dev", "Active"], ["kube-public", "Active"],
                                         ["kube-system", "Active"]]


def test_empty_kinds_and_unknown_namespaces(env: Env) -> None:
    token = env.token("ci-bot")
    for args, where in ((("get", "deployments"), "default"), (("get", "pods", "-n", "nowhere"), "nowhere")):
        result = env.kubectl(token, *args)
        assert (result.returncode, result.stdout, result.stderr.strip()) == (
            0, "", f"No resources found in {where} namespace.")


def test_unbound_identity_is_forbidden(env: Env) -> None:
    result = env.kubectl(env.token("lonely-app"), "get", "pods")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'Error from server (Forbidden): pods is forbidden: User "{LONELY_OID}" cannot list resource "pods" '
        'in API group "" in the namespace "default"'
    )
    result = env.kubectl(env.token("bob@contoso.com"), "get", "namespaces")
    assert result.stderr.strip() == (
        'Error from server (Forbidden): namespaces is forbidden: User "bob@contoso.com" cannot list resource '
        '"namespaces" in API group "" at the cluster scope'
    )


def test_viewer_cannot_read_secrets_or_rbac(env: Env) -> None:
    token = env.token("ci-bot")
    secrets = env.kubectl(token, "get", "secrets")
    assert secrets.stderr.strip() == (
        f'Error from server (Forbidden): secrets is forbidden: User "{CI_OID}" cannot list resource "secrets" '
        'in API group "" in the namespace "default"'
    )
    roles = env.kubectl(token, "get", "clusterroles")
    assert roles.stderr.strip() == (
        "Error from server (Forbidden): clusterroles.rbac.authorization.k8s.io is forbidden: "
        f'User "{CI_OID}" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" '
        "at the cluster scope"
    )


def test_group_rolebinding_grants_only_its_namespace(env: Env) -> None:
    token = env.token("alice@contoso.com")
    ok = env.kubectl(token, "get", "pods", "-n", "dev")
    assert ok.returncode == 0, ok.stderr
    assert [r[0] for r in lines(ok.stdout)[1:]] == ["api-1"]
    denied = env.kubectl(token, "get", "pod", "web-1")
    assert denied.stderr.strip() == (
        'Error from server (Forbidden): pods "web-1" is forbidden: User "alice@contoso.com" cannot get resource '
        '"pods" in API group "" in the namespace "default"'
    )


def test_cluster_admin_reads_rbac_objects(env: Env) -> None:
    token = env.token("carol@contoso.com")
    roles = env.kubectl(token, "get", "clusterroles")
    assert roles.returncode == 0, roles.stderr
    assert lines(roles.stdout)[0] == ["NAME", "CREATED", "AT"]
    assert {"admin", "edit", "view", "cluster-admin", "system:discovery"} <= {r[0] for r in lines(roles.stdout)}
    bindings = env.kubectl(token, "get", "rolebindings", "-n", "dev", "-o", "wide")
    rows = lines(bindings.stdout)
    assert rows[0][:3] == ["NAME", "ROLE", "AGE"]
    assert rows[1][:2] == ["devs-edit", "ClusterRole/edit"] and rows[1][-1] == DEVS
    view = env.kubectl(token, "get", "clusterrole", "view", "-o", "json")
    rules = json.loads(view.stdout)["rules"]
    assert any("pods" in r.get("resources", []) and r["verbs"] == ["get", "list", "watch"] for r in rules)


def test_whoami_user(env: Env) -> None:
    result = env.kubectl(env.token("alice@contoso.com"), "auth", "whoami", "-o", "json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)["status"]["userInfo"]
    alice = env.world.tenants[0].user_by_upn("alice@contoso.com")
    assert alice is not None
    assert info == {"username": "alice@contoso.com", "uid": alice.object_id,
                    "groups": [DEVS, "system:authenticated"], "extra": {"oid": [alice.object_id]}}


def test_whoami_app_is_its_object_id(env: Env) -> None:
    result = env.kubectl(env.token("ci-bot"), "auth", "whoami")
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    assert rows[0] == ["ATTRIBUTE", "VALUE"]
    assert ["Username", CI_OID] in rows
    assert ["Groups", "[system:authenticated]"] in rows


def test_can_i(env: Env) -> None:
    ci, alice = env.token("ci-bot"), env.token("alice@contoso.com")
    cases = [
        (ci, ("list", "pods"), "yes"),
        (ci, ("list", "pods", "-A"), "yes"),
        (ci, ("create", "pods"), "no"),
        (ci, ("get", "secrets"), "no"),
        (ci, ("get", "pods", "--subresource", "log"), "yes"),
        (ci, ("get", "/api"), "yes"),
        (ci, ("get", "/metrics"), "no"),
        (alice, ("create", "deployments.apps", "-n", "dev"), "yes"),
        (alice, ("create", "deployments.apps", "-n", "default"), "no"),
        (alice, ("create", "rolebindings", "-n", "dev"), "no"),
        (env.token("bob@contoso.com"), ("list", "pods"), "no"),
        (env.token("carol@contoso.com"), ("*", "*"), "yes"),
    ]
    for token, args, expected in cases:
        result = env.kubectl(token, "auth", "can-i", *args)
        assert (result.stdout.strip(), result.returncode) == (expected, 0 if expected == "yes" else 1), args


def test_can_i_list(env: Env) -> None:
    result = env.kubectl(env.token("alice@contoso.com"), "auth", "can-i", "--list", "-n", "dev")
    assert result.returncode == 0, result.stderr
    verbs = {r[0]: " ".join(r[3:]) for r in lines(result.stdout)[1:] if not r[0].startswith("[")}
    assert verbs["pods"] == "[create update patch delete deletecollection get list watch]"
    assert verbs["selfsubjectreviews.authentication.k8s.io"] == "[create]"
    assert "rolebindings.rbac.authorization.k8s.io" not in verbs


def _other_key_same_kid(env: Env) -> TokenIssuer:
    forger = TokenIssuer(env.clock)
    forger.kid = env.issuer.kid
    return forger


@pytest.mark.parametrize("case", [
    "expired", "guid-cluster-gets-spn", "spn-cluster-gets-guid", "other-tenant", "unknown-key", "forged-kid",
    "garbage",
])
def test_rejected_tokens_are_unauthorized(env: Env, case: str) -> None:
    cluster = "aks-legacy" if case == "spn-cluster-gets-guid" else "aks-dev"
    mint: dict[str, Callable[[], str]] = {
        "expired": lambda: env.token("ci-bot", lifetime=-300),
        "guid-cluster-gets-spn": lambda: env.token("ci-bot", audience=f"spn:{AKS_SERVER_APP_ID}"),
        "spn-cluster-gets-guid": lambda: env.token("ci-bot", cluster=cluster, audience=AKS_SERVER_APP_ID),
        "other-tenant": lambda: env.token("ci-bot", tenant_id=OTHER_TENANT),
        "unknown-key": lambda: env.token("ci-bot", issuer=TokenIssuer(env.clock)),
        "forged-kid": lambda: env.token("ci-bot", issuer=_other_key_same_kid(env)),
        "garbage": lambda: "not-a-jwt",
    }
    token = mint[case]()
    result = env.kubectl(token, "auth", "whoami", cluster=cluster)
    assert (result.returncode, result.stdout, result.stderr.strip()) == (1, "", UNAUTHORIZED)
    # `get` on a warm discovery cache fails on the list itself, with the same message.
    env.kubectl(env.token("ci-bot", cluster=cluster), "get", "pods", cluster=cluster)  # warm the cache
    result = env.kubectl(token, "get", "pods", cluster=cluster)
    assert (result.returncode, result.stderr.strip()) == (1, UNAUTHORIZED)


def test_cold_discovery_unauthorized_reads_like_kubectl_does(env: Env, tmp_path: Path) -> None:
    """With no discovery cache kubectl fails in discovery first, which words the same 401 differently."""
    result = env.kubectl(env.token("ci-bot", lifetime=-300), "get", "pods", cache_dir=tmp_path / "cache")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
    )


def test_spn_audience_cluster_accepts_spn_tokens(env: Env) -> None:
    result = env.kubectl(env.token("ci-bot", cluster="aks-legacy"), "get", "pods", cluster="aks-legacy")
    assert result.returncode == 0, result.stderr
    assert [r[0] for r in lines(result.stdout)] == ["NAME", "old-1"]


def test_leeway_on_expiry(env: Env) -> None:
    assert env.kubectl(env.token("ci-bot", lifetime=-30), "auth", "whoami").returncode == 0


def test_auth_observer_sees_outcomes(env: Env) -> None:
    env.auth_log.clear()
    env.kubectl(env.token("ci-bot", tenant_id=OTHER_TENANT), "auth", "whoami")
    env.kubectl(env.token("ci-bot"), "auth", "whoami")
    outcomes = [result for path, result in env.auth_log if path.endswith("/selfsubjectreviews")]
    assert isinstance(outcomes[0], AuthFailure) and "issuer" in outcomes[0].reason
    assert isinstance(outcomes[1], UserInfo) and outcomes[1].username == CI_OID


@pytest.fixture(scope="module")
def router(env: Env) -> Router:
    cluster = env.world.cluster("aks-dev")
    return build_aks_router(cluster, TokenAuthenticator(env.issuer.jwks(), cluster, env.clock))


def call(router: Router, method: str, path: str, token: str | None, body: bytes = b"",
         headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> Response:
    hdrs = {"accept": "application/json", **(headers or {})}
    if token is not None:
        hdrs["authorization"] = f"Bearer {token}"
    return router.dispatch(Request(method, path, query or {}, hdrs, body))


def test_unauthorized_body_is_exactly_kube_apiservers(router: Router) -> None:
    for auth in (None, "garbage"):
        response = call(router, "GET", "/api/v1/namespaces/default/pods", auth)
        assert response.status == 401
        assert response.headers["Content-Type"] == "application/json"
        assert response.body == json.dumps(UNAUTHORIZED_BODY, separators=(",", ":")).encode()
        assert json.loads(response.body) == UNAUTHORIZED_BODY


def test_forbidden_and_not_found_status_bodies(env: Env, router: Router) -> None:
    token = env.token("lonely-app")
    response = call(router, "GET", "/apis/apps/v1/namespaces/prod/deployments/web", token)
    assert response.status == 403
    assert json.loads(response.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'deployments.apps "web" is forbidden: User "{LONELY_OID}" cannot get resource "deployments" '
                   'in API group "apps" in the namespace "prod"',
        "reason": "Forbidden", "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 403,
    }
    response = call(router, "GET", "/metrics", token)
    assert json.loads(response.body)["message"] == f'forbidden: User "{LONELY_OID}" cannot get path "/metrics"'
    assert json.loads(response.body)["details"] == {}
    response = call(router, "GET", "/api/v1/namespaces/default/pods/nope", env.token("ci-bot"))
    assert response.status == 404
    assert json.loads(response.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods "nope" not found', "reason": "NotFound", "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }


def test_discovery_documents(env: Env, router: Router) -> None:
    token = env.token("lonely-app")  # discovery needs authentication only
    assert json.loads(call(router, "GET", "/version", token).body)["gitVersion"].startswith("v1.32")
    assert json.loads(call(router, "GET", "/api", token).body)["versions"] == ["v1"]
    groups = json.loads(call(router, "GET", "/apis", token).body)
    names = {g["name"] for g in groups["groups"]}
    assert {"apps", "batch", "rbac.authorization.k8s.io", "authentication.k8s.io", "authorization.k8s.io"} <= names
    core = {r["name"]: r for r in json.loads(call(router, "GET", "/api/v1", token).body)["resources"]}
    assert (core["pods"]["namespaced"], core["pods"]["shortNames"], core["pods"]["kind"]) == (True, ["po"], "Pod")
    assert (core["namespaces"]["namespaced"], core["namespaces"]["shortNames"]) == (False, ["ns"])
    assert core["pods/log"]["verbs"] == ["get"]
    apps = json.loads(call(router, "GET", "/apis/apps/v1", token).body)
    assert apps["groupVersion"] == "apps/v1"
    assert {r["name"]: r for r in apps["resources"]}["deployments"]["shortNames"] == ["deploy"]
    assert call(router, "GET", "/apis/nope/v1", token).status == 404
    assert call(router, "GET", "/api/v1/widgets", env.token("carol@contoso.com")).status == 404


def test_list_and_table_shapes(env: Env, router: Router) -> None:
    token = env.token("ci-bot")
    plain = json.loads(call(router, "GET", "/api/v1/namespaces/default/pods", token).body)
    assert plain["kind"] == "PodList" and [p["metadata"]["name"] for p in plain["items"]] == ["web-1", "web-2"]
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io"
    table = json.loads(call(router, "GET", "/api/v1/pods", token, headers={"accept": accept}).body)
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][2]["object"]["kind"] == "PartialObjectMetadata"
    assert table["rows"][2]["object"]["metadata"]["namespace"] == "dev"
    selected = call(router, "GET", "/api/v1/namespaces/default/pods", token,
                    query={"fieldSelector": "metadata.name=web-2"})
    assert [p["metadata"]["name"] for p in json.loads(selected.body)["items"]] == ["web-2"]
    assert call(router, "GET", "/api/v1/namespaces/default/pods", token, query={"watch": "1"}).status == 405


def test_self_subject_access_review_json(env: Env, router: Router) -> None:
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"namespace": "dev", "verb": "delete", "resource": "secrets"}}}
    response = call(router, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                    env.token("alice@contoso.com"), json.dumps(review).encode(),
                    {"content-type": "application/json"})
    assert response.status == 201
    status = json.loads(response.body)["status"]
    assert status == {"allowed": True, "reason": 'RBAC: allowed by RoleBinding "dev/devs-edit" of ClusterRole '
                                                 f'"edit" to Group "{DEVS}"'}
    bad = call(router, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", env.token("ci-bot"),
               b"k8s\x00\xff", {"content-type": "application/vnd.kubernetes.protobuf"})
    assert bad.status == 400
