"""whoami: who the context's token says you are, next to who the cluster says you are.

The token is obtained (or reused) exactly as the context's exec plugin would, decoded for display
(``--verify`` also checks it against the tenant's published keys) and never printed. The cluster's view
comes from a SelfSubjectReview, which every authenticated identity may create.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from akslogin import kubectx as ct
from akslogin.certinfo import CertificateInfo
from akslogin.clouds import AKS_SERVER_APP_ID
from akslogin.errors import AksloginError
from akslogin.kubeapi import ApiUnauthorized, KubeApiError
from akslogin.output import columns, paragraph, printable, summarize_list, when, write_data
from akslogin.tokeninfo import TokenInfo, decode_token
from akslogin.tokenverify import Verification, verify_token

if TYPE_CHECKING:
    from akslogin.http import MakeHttp

Clock = Callable[[], float]
#: A token with less than this left is flagged.
EXPIRY_WARNING = 600
#: Groups listed in the table (all of them are in -o json).
GROUPS_SHOWN = 3


@dataclass
class WhoamiRequest:
    kubeconfig: str | None = None
    context: str | None = None
    verify: bool = False
    verbosity: int | None = None  # -v for the in-process sign-in (None: the context's own)
    output: str = "table"
    authority_host: str = ""
    certificate_authority: list[str] = field(default_factory=list)


@dataclass
class WhoamiResult:
    target: ct.Target
    origin: str = ""
    expires_on: float | None = None
    token: TokenInfo | None = None
    opaque_token: bool = False
    certificate: CertificateInfo | None = None
    verification: Verification | None = None
    cluster: dict[str, Any] | None = None
    cluster_error: str = ""
    notes: list[str] = field(default_factory=list)
    #: "azure-rbac" or "kubernetes-rbac" when known, and from where ("kubeconfig": what get-credentials found
    #: in Resource Manager; "access review": Azure's reason on a denial).
    authorization: str = ""
    authorization_source: str = ""

    @property
    def ok(self) -> bool:
        return self.cluster is not None and (self.verification is None or self.verification.ok)


def _verify(req: WhoamiRequest, target: ct.Target, token: str, info: TokenInfo, environ: Mapping[str, str],
            now: float, make_http: MakeHttp | None) -> Verification:
    from akslogin.clouds import cloud
    from akslogin.http import HttpClient

    opts = target.plan.opts
    cas = list(req.certificate_authority)
    if req.authority_host:
        host = req.authority_host
    elif opts is not None:
        host = opts.authority_host or cloud(opts.environment).authority_host
    else:
        host = cloud("AzurePublicCloud").authority_host
    if opts is not None:
        cas = list(opts.certificate_authority) + cas
    http = (make_http or HttpClient)(ct.request_timeout(target.plan), cas, environ)
    return verify_token(token, info, http, host, now)


def inspect(req: WhoamiRequest, environ: Mapping[str, str], stderr: TextIO, clock: Clock,
            make_http: MakeHttp | None = None) -> WhoamiResult:
    target = ct.open_context(req.kubeconfig, req.context, environ)
    ct.set_verbosity(target.plan, req.verbosity)
    result = WhoamiResult(target)
    plan = target.plan
    presented: ct.PresentedToken | None = None
    if plan.kind == ct.CERTIFICATE:
        result.certificate = plan.certificate
        result.origin = "client certificate in the kubeconfig"
    else:
        presented = ct.obtain_token(plan, target.ctx, environ, clock=clock, stderr=stderr)
        result.origin, result.expires_on = presented.origin, presented.expires_on
        result.token = decode_token(presented.token)
        result.opaque_token = result.token is None
        if req.verify and result.token is not None:
            result.verification = _verify(req, target, presented.token, result.token, environ, clock(), make_http)
    recorded = target.ctx.cluster.azure_rbac
    if recorded is not None:
        result.authorization = "azure-rbac" if recorded else "kubernetes-rbac"
        result.authorization_source = "kubeconfig"
    try:
        client = ct.api_client(target, presented, environ, timeout=ct.request_timeout(plan))
        result.cluster = client.self_subject_review()
        if not result.authorization:
            _probe_authorization(client, target.ctx.namespace or "default", result)
    except ApiUnauthorized as exc:
        result.cluster_error = f"{exc.message} {exc.hint or ''}".strip()
    except (KubeApiError, AksloginError) as exc:
        result.cluster_error = exc.render().removeprefix("akslogin: ")
    result.notes = _notes(result, clock())
    return result


def _probe_authorization(client: Any, namespace: str, result: WhoamiResult) -> None:
    """Ask the cluster whether this identity may list pods in the context's namespace: a denial that carries
    Azure's reason shows the cluster authorizes with Azure RBAC (an allow or a plain denial does not tell)."""
    from akslogin.rbac.forbidden import AZURE_RBAC_MARKER

    try:
        status = client.access_review({"verb": "list", "group": "", "resource": "pods", "namespace": namespace},
                                      non_resource=False)
    except (KubeApiError, AksloginError):
        return
    if not status.get("allowed") and AZURE_RBAC_MARKER in str(status.get("reason") or ""):
        result.authorization, result.authorization_source = "azure-rbac", "access review"


def _notes(result: WhoamiResult, now: float) -> list[str]:
    notes: list[str] = []
    info, cert = result.token, result.certificate
    plan = result.target.plan
    if info is not None:
        if info.legacy_audience:
            notes.append(f"The audience {info.audience} is the legacy 'spn:' form (get-token --legacy). Only old "
                         "AAD-integrated clusters configured for it accept it; AKS-managed Entra ID expects the bare "
                         f"server id {AKS_SERVER_APP_ID}: drop --legacy.")
        elif info.audience.rstrip("/") != AKS_SERVER_APP_ID:
            notes.append(f"The audience {info.audience} is not the AKS server app ({AKS_SERVER_APP_ID}). That is "
                         "right only for clusters with their own server app (legacy AAD integration); otherwise fix "
                         "--server-id.")
        if info.group_overage and info.app_only:
            notes.append("Group overage on an app-only token: this service principal is in more than 200 groups. "
                         "AKS does not look up an application's groups in Microsoft Graph, so bindings or Azure role "
                         "assignments that name its groups do not apply (the request is refused): bind or assign "
                         "the service principal's own object id, or take it out of groups it does not need.")
        elif info.group_overage:
            notes.append("Group overage: the identity is in more than 200 groups, so Entra ID left the groups claim "
                         "out of the token and pointed to the directory instead "
                         f"({info.overage_endpoint or '_claim_sources'}). AKS looks the groups up in Microsoft Graph; "
                         "the cluster column shows what it found.")
        if info.guest:
            notes.append(f"Guest (B2B) account: the token has no upn claim, so AKS identifies you by object id "
                         f"{info.object_id}. RoleBindings must name that id, not your e-mail "
                         f"(akslogin rbac bind --guest {info.object_id} ...).")
        if info.managed_identity or (plan.opts is not None and plan.opts.login == "msi"):
            notes.append("Managed identity: AKS identifies it by object id "
                         f"{info.object_id}; bind it with --service-principal {info.object_id}.")
        exp = info.expires_at
        if exp is not None and exp < now:
            notes.append(f"The token expired {when(exp, now)}.")
        elif exp is not None and exp - now < EXPIRY_WARNING:
            notes.append(f"The token expires soon ({when(exp, now)}); get-token renews it on the next call.")
        iat = info.issued_at
        if iat is not None and iat - now > 300:
            notes.append(f"The token was issued {int(iat - now)}s in this machine's future: the clocks of this "
                         "machine and Entra ID differ. Sync the clock (NTP).")
    if result.opaque_token:
        notes.append("The bearer token is not a JWT (a static cluster token): it cannot be decoded, and it works "
                     "until someone rotates it on the cluster.")
    if cert is not None:
        notes.append("A client certificate cannot be revoked: it stays valid until it expires "
                     f"({when(cert.not_after, now)}) unless the cluster CA is rotated (az aks rotate-certs).")
        if cert.cluster_admin:
            notes.append("The certificate is in group system:masters: cluster-admin that no RBAC change can take "
                         "away. Prefer 'akslogin get-credentials' with an Entra login and delete this context.")
    if result.cluster is not None and info is not None:
        seen = str(result.cluster.get("username", ""))
        if seen and seen != info.aks_username:
            notes.append(f"The cluster sees you as {seen!r}, not {info.aks_username!r} as AKS would map this token "
                         "(impersonation, or another authenticator in front of the API server).")
    if result.target.ctx.cluster.insecure_skip_tls_verify:
        notes.append("The kubeconfig sets insecure-skip-tls-verify for this cluster: the API server's identity was "
                     "NOT verified (and neither does kubectl). Remove it and use certificate-authority-data.")
    if result.authorization == "azure-rbac":
        notes.append("This cluster authorizes with Azure RBAC for Kubernetes: Azure role assignments (the AKS RBAC "
                     "Reader/Writer/Admin/Cluster Admin roles, on the cluster or a namespace) decide before any "
                     "RoleBinding. 'akslogin explain-forbidden' names the assignment a denied request needs.")
    if result.cluster_error:
        notes.append(f"The cluster did not confirm who you are: {result.cluster_error}")
    return notes


# -- output -----------------------------------------------------------------------------------------

def to_json(result: WhoamiResult) -> dict[str, Any]:
    ctx = result.target.ctx
    return {
        "context": {"name": ctx.name, "cluster": ctx.cluster.name, "server": ctx.cluster.server,
                    "user": ctx.user_name, "namespace": ctx.namespace, "kubeconfig": ctx.kubeconfig},
        "credential": {**result.target.plan.to_json(), "origin": result.origin,
                       "expires_on": int(result.expires_on) if result.expires_on else None},
        "token": result.token.to_json() if result.token else None,
        "opaque_token": result.opaque_token,
        "certificate": result.certificate.to_json() if result.certificate else None,
        "verification": result.verification.to_json() if result.verification else None,
        "cluster": result.cluster,
        "cluster_error": result.cluster_error or None,
        "authorization": {"model": result.authorization or None, "source": result.authorization_source or None},
        "notes": result.notes,
    }


def _cluster_values(result: WhoamiResult) -> dict[str, str]:
    if result.cluster is None:
        return {}
    info = result.cluster
    groups = [str(g) for g in info.get("groups") or []]
    extra = info.get("extra") or {}
    return {
        "username": str(info.get("username", "")),
        "uid": str(info.get("uid", "")) or "-",
        "groups": f"{len(groups)}: {summarize_list(groups, GROUPS_SHOWN)}",
        "extra": ", ".join(f"{k}={','.join(v)}" for k, v in extra.items()) if isinstance(extra, dict) else "",
    }


def _authorization_text(result: WhoamiResult) -> str:
    if not result.authorization:
        return "not known (Kubernetes RBAC, unless Azure RBAC for Kubernetes is on: get-credentials records it)"
    model = ("by Azure role assignments (Azure RBAC for Kubernetes), then Kubernetes RBAC"
             if result.authorization == "azure-rbac" else "by Kubernetes RBAC (RoleBindings)")
    source = ("as Resource Manager reported it to get-credentials" if result.authorization_source == "kubeconfig"
              else "as the cluster's access review says")
    return f"{model}, {source}"


def render(result: WhoamiResult, now: float) -> str:
    ctx, plan = result.target.ctx, result.target.plan
    out = [
        f"Context     {ctx.name}  (cluster {ctx.cluster.name} at {ctx.cluster.server}, user {ctx.user_name or '-'})",
        f"Kubeconfig  {ctx.kubeconfig}",
        f"Credential  {plan.describe()}",
        f"Obtained    from {result.origin}"
        + (f", expires {when(result.expires_on, now)}" if result.expires_on else ""),
        f"Authorized  {_authorization_text(result)}",
        "",
    ]
    cl = _cluster_values(result)
    rows: list[tuple[str, str, str]] = [("", "TOKEN (what Entra ID issued)", "CLUSTER (SelfSubjectReview)")]
    info, cert = result.token, result.certificate
    if info is not None:
        groups = info.groups
        if info.group_overage:
            token_groups = "overage: not in the token; AKS reads them from Graph"
        else:
            token_groups = f"{len(groups or [])}: {summarize_list(groups or [], GROUPS_SHOWN)}"
        rows += [
            ("Identity", info.identity_type, "-"),
            ("Username", f"{info.aks_username} (as AKS maps it)", cl.get("username", "-")),
            ("UPN", info.upn or "-", ""),
            ("E-mail", info.email or "-", ""),
            ("Name", info.display_name or "-", ""),
            ("Object id", info.object_id or "-", cl.get("uid", "-")),
            ("App id", info.app_id or "-", ""),
            ("Tenant", info.tenant_id or "-", ""),
            ("Groups", token_groups, cl.get("groups", "-")),
            ("Audience", info.audience + (" (legacy spn: form)" if info.legacy_audience else ""), ""),
            ("Issued", when(info.issued_at, now), ""),
            ("Expires", when(info.expires_at, now), ""),
        ]
    elif cert is not None:
        rows += [
            ("Identity", "client certificate", "-"),
            ("Username", f"{cert.common_name} (CN)", cl.get("username", "-")),
            ("Groups", f"{len(cert.organizations)}: {summarize_list(list(cert.organizations), GROUPS_SHOWN)} (O)",
             cl.get("groups", "-")),
            ("Subject", cert.subject, ""),
            ("Issuer", cert.issuer, ""),
            ("Valid", f"{when(cert.not_before, now)} to {when(cert.not_after, now)}", ""),
        ]
    else:
        rows += [("Identity", "opaque bearer token (not a JWT)", "-"),
                 ("Username", "-", cl.get("username", "-")),
                 ("Groups", "-", cl.get("groups", "-"))]
    if cl.get("extra"):
        rows.append(("Extra", "", cl["extra"]))
    if result.cluster is None:
        rows.append(("Cluster", "", "did not answer (see notes)"))
    out.append(columns(rows))
    if result.verification is not None:
        out += ["", "Verification" + (f" (keys from {result.verification.jwks_uri})"
                                      if result.verification.jwks_uri else "")]
        out.append(columns([("  ok" if c.ok else "  FAILED", c.name, c.detail) for c in result.verification.checks]))
    if result.notes:
        out += ["", "Notes"]
        out += [paragraph(n, indent=2, first="- ") for n in result.notes]
    return "\n".join(out) + "\n"


def run(req: WhoamiRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO,
        clock: Clock = time.time, make_http: MakeHttp | None = None) -> int:
    result = inspect(req, environ, stderr, clock, make_http)
    if req.output != "table":
        write_data(stdout, to_json(result), req.output)
    else:
        stdout.write(printable(render(result, clock()), keep_newlines=True))
    return 0 if result.ok else 1
