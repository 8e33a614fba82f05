"""explain-forbidden: why a request is denied, which binding would allow it, and the command that adds it.

Input is what ``kubectl auth can-i`` takes (VERB RESOURCE[/NAME] [-n NS] [--subresource S]) or the
Forbidden message itself. The answer uses only what the caller may see: SelfSubjectReview (who the cluster
thinks you are), SelfSubjectAccessReview (the decision) and, when the caller may list them, the RBAC
objects (which bindings name you or your groups, which roles would grant the request).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from akslogin import kubectx as ct
from akslogin.errors import UsageError
from akslogin.kubeapi import ApiForbidden, KubeApiError, KubeClient
from akslogin.output import columns, paragraph, printable, summarize_list, write_data
from akslogin.rbac import azure as azure_rbac
from akslogin.rbac import manifest
from akslogin.rbac.forbidden import AZURE_RBAC_MARKER, ForbiddenMessage, parse_forbidden
from akslogin.rbac.rules import (
    CLUSTER_SCOPED,
    RBAC_GROUP,
    Binding,
    BindingMatch,
    RbacSnapshot,
    ResourceRequest,
    Role,
    granting_roles,
    guess_builtin_role,
    matching_bindings,
    minimal_role_rules,
)
from akslogin.term import Painter
from akslogin.tokeninfo import TokenInfo, decode_token

Clock = Callable[[], float]
RBAC_PATH = f"/apis/{RBAC_GROUP}/v1"


@dataclass
class ExplainRequest:
    kubeconfig: str | None = None
    context: str | None = None
    verb: str = ""
    resource: str = ""
    namespace: str | None = None
    subresource: str = ""
    message: str = ""
    output: str = "table"


@dataclass
class Suggestion:
    subject: manifest.Subject
    role: str
    role_kind: str
    namespace: str
    command: str
    binding: dict[str, Any]
    custom_role: dict[str, Any] | None = None
    certain: bool = True  # False when the role is a guess (RBAC objects unreadable)

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject.to_manifest(), "role": self.role, "role_kind": self.role_kind,
                "namespace": self.namespace or None, "command": self.command, "manifest": self.binding,
                "custom_role": self.custom_role, "role_is_a_guess": not self.certain}


@dataclass
class AzureAdvice:
    """On an Azure RBAC cluster: the role assignment that would allow the request."""

    grant: azure_rbac.AzureGrant
    object_id: str
    principal_type: str
    cluster_id: str  # the resource id, or a shell expression that prints it
    command: str
    #: The identity's role assignments around the cluster, as Resource Manager lists them (None: not asked).
    held: list[azure_rbac.HeldAssignment] | None = None
    held_error: str = ""

    @property
    def granting(self) -> list[azure_rbac.HeldAssignment]:
        """Assignments that should already allow the request: a denial then means it has not propagated."""
        return [h for h in self.held or [] if h.covers and h.grants]

    def to_json(self) -> dict[str, Any]:
        held = None if self.held is None else [
            {"role": h.role, "scope": h.scope, "created_on": h.created_on or None, "covers_the_request": h.covers,
             "grants_the_request": h.grants and h.covers} for h in self.held]
        return {"role": self.grant.role, "namespace": self.grant.namespace or None,
                "scope": self.grant.scope(self.cluster_id), "assignee_object_id": self.object_id,
                "assignee_principal_type": self.principal_type, "command": self.command, "held": held,
                "held_error": self.held_error or None}


@dataclass
class Explanation:
    request: ResourceRequest
    context: str
    username: str
    uid: str
    groups: list[str]
    token: TokenInfo | None
    allowed: bool
    reason: str = ""
    snapshot: RbacSnapshot = field(default_factory=RbacSnapshot)
    bindings: list[BindingMatch] = field(default_factory=list)
    granting: list[Role] = field(default_factory=list)
    suggestion: Suggestion | None = None
    message: ForbiddenMessage | None = None
    notes: list[str] = field(default_factory=list)
    #: Set when the cluster authorizes with Azure role assignments (the fix is one of those).
    azure: AzureAdvice | None = None

    @property
    def authorization(self) -> str:
        return "azure-rbac" if self.azure is not None else "kubernetes-rbac"

    def to_json(self) -> dict[str, Any]:
        return {
            "request": self.request.to_json(),
            "context": self.context,
            "identity": {"username": self.username, "uid": self.uid or None, "groups": self.groups,
                         "type": self.token.identity_type if self.token else None},
            "message_user": self.message.username if self.message else None,
            "allowed": self.allowed,
            "reason": self.reason or None,
            "rbac_readable": self.snapshot.complete,
            "unreadable": self.snapshot.unreadable,
            "bindings": [{"kind": m.binding.kind, "name": m.binding.name, "namespace": m.binding.namespace or None,
                          "role": f"{m.binding.role_kind}/{m.binding.role_name}", "via": m.via,
                          "applies_here": m.applies, "grants": m.grants and m.applies} for m in self.bindings],
            "granting_roles": [f"{r.kind}/{r.namespace + '/' if r.namespace else ''}{r.name}" for r in self.granting],
            "suggestion": self.suggestion.to_json() if self.suggestion else None,
            "authorization": self.authorization,
            "azure_role_assignment": self.azure.to_json() if self.azure else None,
            "notes": self.notes,
        }


# -- turning input into a request -------------------------------------------------------------------

def _discover(client: KubeClient) -> list[tuple[str, dict[str, Any]]]:
    """(group, APIResource) pairs from discovery: core first, then each group's preferred version."""
    found: list[tuple[str, dict[str, Any]]] = []
    core = client.call("GET", "/api/v1")
    found += [("", r) for r in (core.get("resources") or []) if isinstance(r, dict)] if isinstance(core, dict) else []
    groups = client.call("GET", "/apis")
    for group in (groups.get("groups") or []) if isinstance(groups, dict) else []:
        preferred = (group.get("preferredVersion") or {}).get("groupVersion")
        if not preferred:
            continue
        listing = client.call("GET", f"/apis/{preferred}")
        if isinstance(listing, dict):
            found += [(str(group.get("name", "")), r) for r in listing.get("resources") or [] if isinstance(r, dict)]
    return found


#: Verbs RBAC knows beyond the API verbs a resource lists in discovery.
RBAC_ONLY_VERBS = frozenset({"*", "bind", "escalate", "impersonate", "approve", "sign", "use", "attest"})


@dataclass
class FoundResource:
    resource: str
    group: str
    namespaced: bool | None  # None: discovery could not tell (unreadable, or the resource is unknown)
    verbs: list[str] = field(default_factory=list)
    known: bool | None = None  # True in discovery, False not there, None when discovery could not be read


def resolve_resource(client: KubeClient, text: str) -> FoundResource:
    """What a user typed (plural, singular, short name, or resource.group), looked up in the API server's
    discovery, so a misspelt resource is said to be unknown instead of explained."""
    name, _, group = text.lower().partition(".")
    try:
        discovered = _discover(client)
    except KubeApiError:
        return FoundResource(name, group, None)
    for g, res in discovered:
        if "/" in str(res.get("name", "")):
            continue
        names = {str(res.get("name", "")), str(res.get("singularName", "")),
                 *[str(s) for s in res.get("shortNames") or []]}
        if name in names and (not group or group == g):
            return FoundResource(str(res["name"]), g, bool(res.get("namespaced")),
                                 [str(v) for v in res.get("verbs") or []], True)
    return FoundResource(name, group, None, known=False if discovered and name != "*" else None)


def build_request(req: ExplainRequest, client: KubeClient,
                  default_namespace: str) -> tuple[ResourceRequest, ForbiddenMessage | None]:
    if req.message:
        parsed = parse_forbidden(req.message)
        return parsed.request, parsed
    if not req.verb or not req.resource:
        raise UsageError("give VERB RESOURCE (as for 'kubectl auth can-i') or --message 'the Forbidden text'.",
                         "Example: akslogin explain-forbidden list pods -n dev")
    if req.resource.startswith("/"):
        return ResourceRequest(verb=req.verb.lower(), path=req.resource), None
    text, _, name = req.resource.partition("/")
    verb = req.verb.lower()
    if verb == "*" and text == "*":
        raise UsageError("'* *' is every verb on every resource (what cluster-admin grants), not one denied request.",
                         "Name the verb and resource that failed, e.g. 'akslogin explain-forbidden list pods -n dev', "
                         "or paste kubectl's message with --message.")
    found = resolve_resource(client, text)
    if found.known is False:
        raise UsageError(f"the API server of this cluster serves no resource {text!r} (checked its discovery).",
                         "Check the spelling ('kubectl api-resources' lists what it serves); for a custom resource, "
                         "check that its CustomResourceDefinition is installed.")
    if found.verbs and verb not in found.verbs and verb not in RBAC_ONLY_VERBS:
        raise UsageError(f"{verb!r} is not a verb of {found.resource}: it supports {', '.join(found.verbs)}.",
                         "Use the verb kubectl's Forbidden message names (get, list, watch, create, update, patch, "
                         "delete, ...).")
    resource, group, namespaced = found.resource, found.group, found.namespaced
    if namespaced is None:
        namespaced = resource not in CLUSTER_SCOPED
    namespace = (req.namespace if req.namespace is not None else default_namespace) if namespaced else ""
    return ResourceRequest(verb=verb, resource=resource, group=group, subresource=req.subresource,
                           namespace=namespace, name=name), None


# -- reading what the caller may read ---------------------------------------------------------------

def read_rbac(client: KubeClient, namespace: str) -> RbacSnapshot:
    snap = RbacSnapshot()

    def listing(kind: str, path: str) -> list[dict[str, Any]]:
        try:
            return client.list_items(path)
        except ApiForbidden:
            snap.unreadable.append(kind)
            return []

    for obj in listing("clusterroles", f"{RBAC_PATH}/clusterroles"):
        snap.cluster_roles.append(Role("ClusterRole", str(obj.get("metadata", {}).get("name", "")), "",
                                       tuple(obj.get("rules") or [])))
    snap.bindings += [Binding.from_object("ClusterRoleBinding", o)
                      for o in listing("clusterrolebindings", f"{RBAC_PATH}/clusterrolebindings")]
    if namespace:
        for obj in listing(f"roles in {namespace}", f"{RBAC_PATH}/namespaces/{namespace}/roles"):
            meta = obj.get("metadata", {})
            snap.roles.append(Role("Role", str(meta.get("name", "")), namespace, tuple(obj.get("rules") or [])))
        snap.bindings += [Binding.from_object("RoleBinding", o)
                          for o in listing(f"rolebindings in {namespace}",
                                           f"{RBAC_PATH}/namespaces/{namespace}/rolebindings")]
    return snap


def subject_for(username: str, token: TokenInfo | None) -> manifest.Subject:
    """How to name this identity in a binding, the way AKS presents it."""
    if token is not None and token.aks_username == username:
        if token.guest:
            return manifest.guest_subject(username)
        if token.app_only:
            label = ("managed identity " if token.managed_identity else "service principal ") + username
            return manifest.service_principal_subject(username, f"{label} (app id {token.app_id})")
    if manifest.is_guid(username):
        return manifest.service_principal_subject(username)
    return manifest.user_subject(username)


def suggest(request: ResourceRequest, username: str, token: TokenInfo | None, snapshot: RbacSnapshot,
            granting: list[Role]) -> Suggestion:
    subject = subject_for(username, token)
    namespace = request.namespace
    custom = None
    certain = "clusterroles" not in snapshot.unreadable
    # Never suggest cluster-admin for one permission: another role, or a minimal custom one below.
    usable = [r for r in granting if (r.kind == "ClusterRole" or r.namespace == namespace)
              and r.name != "cluster-admin"]
    if usable:
        role, role_kind = usable[0].name, usable[0].kind
    else:
        guess = guess_builtin_role(request) if not certain else None
        certain = certain or guess is None
        if guess is not None:
            role, role_kind = guess, "ClusterRole"
        else:
            verb = request.verb.replace("*", "all")
            target = request.combined.replace("/", "-") if request.is_resource else "path"
            role, role_kind = f"akslogin-{verb}-{target}", "Role" if namespace else "ClusterRole"
            custom = manifest.role_manifest(role, minimal_role_rules(request), namespace)
    binding = manifest.binding_manifest(subject, role, role_kind, namespace)
    command = manifest.bind_command(subject, role, role_kind, namespace)
    return Suggestion(subject, role, role_kind, namespace, command, binding, custom, certain)


def explain(target: ct.Target, client: KubeClient, token_info: TokenInfo | None, request: ResourceRequest,
            message: ForbiddenMessage | None = None) -> Explanation:
    me = client.self_subject_review()
    username, groups = str(me.get("username", "")), [str(g) for g in me.get("groups") or []]
    attrs = ({"verb": request.verb, "path": request.path} if not request.is_resource else
             {"verb": request.verb, "group": request.group, "resource": request.resource,
              "subresource": request.subresource, "namespace": request.namespace, "name": request.name})
    status = client.access_review(attrs, non_resource=not request.is_resource)
    result = Explanation(request=request, context=target.ctx.name, username=username, uid=str(me.get("uid", "")),
                         groups=groups, token=token_info, allowed=bool(status.get("allowed")),
                         reason=str(status.get("reason") or status.get("evaluationError") or ""), message=message)
    if message is not None and message.username != username:
        result.notes.append(f"The message is about {message.username!r}, but context {target.ctx.name!r} signs in "
                            f"as {username!r}. The analysis below is for {username!r}; run it with the context that "
                            "failed (--context) to explain that denial.")
    if result.allowed:
        return result
    if ((message is not None and message.azure_rbac) or AZURE_RBAC_MARKER in result.reason
            or target.ctx.cluster.azure_rbac):
        result.azure = azure_advice(target, token_info, result.uid or username, request)
    result.snapshot = read_rbac(client, request.namespace)
    result.bindings = matching_bindings(result.snapshot, username, groups, request)
    result.granting = granting_roles(result.snapshot, request)
    if request.namespace and namespace_missing(client, request.namespace):
        result.notes.append(f"Namespace {request.namespace!r} does not exist on this cluster, so no RoleBinding can "
                            "be created there; check the name ('kubectl get namespaces') or create it first.")
        return result
    suggestion = suggest(request, username, token_info, result.snapshot, result.granting)
    existing = already_bound(result.bindings, suggestion)
    if existing is None:
        result.suggestion = suggestion
    else:
        why = ("but that role does not exist (or you may not read it): create it" if not existing.role_found
               else "and it grants this request, so the denial comes from elsewhere: an Azure RBAC cluster, an "
                    "admission webhook, or a token the cluster maps to another name than the binding's subject")
        result.notes.append(f"{existing.binding.label()} already binds you (via {existing.via}) to "
                            f"{suggestion.role_kind} {suggestion.role}, {why}. Adding the same binding again would "
                            "not help.")
    return result


def azure_advice(target: ct.Target, token_info: TokenInfo | None, object_id: str,
                 request: ResourceRequest) -> AzureAdvice:
    """The smallest built-in Azure role and narrowest scope that allow ``request``, and the az line that assigns it
    to this identity (object id and principal type, which guests and service principals need)."""
    grant = azure_rbac.smallest_role(request)
    if token_info is not None and token_info.object_id:
        object_id = token_info.object_id
    kind = azure_rbac.principal_type(token_info.identity_type if token_info else "")
    cluster_id = target.ctx.cluster.resource_id or azure_rbac.cluster_id_hint(target.ctx.cluster.name)
    grant = azure_rbac.on_fleet_hub(grant, cluster_id)
    command = azure_rbac.assign_command(object_id, kind, grant.role, grant.scope(cluster_id))
    return AzureAdvice(grant, object_id, kind, cluster_id, command)


def list_held(advice: AzureAdvice, target: ct.Target, environ: Mapping[str, str], stderr: TextIO,
              clock: Clock) -> None:
    """The identity's role assignments at, above and below where the request lands (through its groups too),
    read from Resource Manager with the context's own sign-in; why not, when they cannot be read."""
    from akslogin.errors import AksloginError
    from akslogin.usecases import rbac_azure

    if not target.ctx.cluster.resource_id:
        advice.held_error = ("the cluster's resource id is not in the kubeconfig (fetch it with 'akslogin "
                             "get-credentials' to have it recorded)")
        return
    from akslogin.arm import ArmError
    from akslogin.credentials.attendance import UnattendedSignIn

    try:
        # Never a second prompt just to list them: a person signed in for the cluster already.
        arm = rbac_azure.arm_client(target, environ, stderr, clock, attended=False)
        found = arm.role_assignments_for(advice.grant.scope(advice.cluster_id), advice.object_id)
    except ArmError as exc:
        advice.held_error = ("this identity may not read role assignments there: that needs "
                             "Microsoft.Authorization/roleAssignments/read, which the AKS RBAC roles include"
                             if exc.code == "AuthorizationFailed" else exc.message.rstrip("."))
        return
    except UnattendedSignIn:
        advice.held_error = "listing them needs a separate sign-in to Resource Manager, which would prompt here"
        return
    except AksloginError as exc:
        advice.held_error = exc.message.rstrip(".")
        return
    advice.held = [azure_rbac.judge(a, advice.grant, advice.cluster_id) for a in found]


def namespace_missing(client: KubeClient, namespace: str) -> bool:
    """True only when the API server says the namespace is not there (unknown when it may not be read)."""
    try:
        client.call("GET", f"/api/v1/namespaces/{namespace}")
    except KubeApiError as exc:
        return exc.status == 404
    return False


def already_bound(bindings: list[BindingMatch], suggestion: Suggestion) -> BindingMatch | None:
    """The binding the identity already has that is exactly what ``suggestion`` would add."""
    for match in bindings:
        b = match.binding
        scope_ok = (b.kind == "ClusterRoleBinding" and not suggestion.namespace) or (
            b.kind == "RoleBinding" and b.namespace == suggestion.namespace)
        if scope_ok and b.role_name == suggestion.role and b.role_kind == suggestion.role_kind:
            return match
    return None


# -- output -----------------------------------------------------------------------------------------

def _group_label(group: str) -> str:
    if group == "system:authenticated":
        return f"{group} (every signed-in identity)"
    return group


def render(result: Explanation) -> str:
    req = result.request
    identity = result.username
    if result.token is not None and result.token.aks_username == result.username:
        extra = [result.token.identity_type]
        if result.token.app_id and result.token.app_only:
            extra.append(f"app id {result.token.app_id}")
        if result.token.display_name:
            extra.append(result.token.display_name)
        identity += f" ({', '.join(extra)})"
    decision = f"ALLOWED — {result.reason}" if result.allowed else "DENIED (SelfSubjectAccessReview)"
    lines = [columns([
        ("Request", req.describe()),
        ("Context", result.context),
        ("You are", identity + "  [as the cluster sees you]"),
        ("Groups", summarize_list([_group_label(g) for g in result.groups], 6)),
        ("Decision", decision),
    ])]
    if result.notes:
        lines += [""] + [paragraph(n, indent=0, first="Note: ") for n in result.notes]
    if result.allowed:
        lines.append("\nNothing to fix: this identity may do that now (a stale token or another context may have "
                     "been denied).")
        return "\n".join(lines) + "\n"
    if result.azure is not None:  # Azure decides first here: its assignment is the fix, before any binding
        lines += _render_azure(result.azure)
        alternative = result.suggestion
        if alternative is not None:  # Kubernetes RBAC is asked after Azure: a binding works, as a second way
            lines += ["", paragraph("Kubernetes RBAC is consulted after Azure on this cluster, so a cluster admin "
                                    f"could bind {alternative.role_kind} {alternative.role} instead: "
                                    f"{alternative.command} --apply", indent=0, first="Alternatively: ")]
        return "\n".join(lines) + "\n"
    snap = result.snapshot
    lines.append("")
    if snap.unreadable:
        lines.append(paragraph(
            "You may not list " + ", ".join(snap.unreadable) + ", so the bindings below may be incomplete. A cluster "
            "admin can run this same command (or 'kubectl get clusterrolebindings,rolebindings -A -o wide') to see "
            "every binding.", indent=0))
    if result.bindings:
        lines.append("Bindings that name you or one of your groups:")
        rows = []
        for m in result.bindings:
            scope = "cluster-wide" if m.binding.kind == "ClusterRoleBinding" else f"only in {m.binding.namespace}"
            if not m.role_found:
                effect = "role not found or not readable"
            elif m.grants and m.applies:
                effect = "grants it"
            elif m.grants:
                effect = "would grant it, but not in this scope"
            else:
                effect = "does not grant it"
            rows.append((m.binding.label(), f"via {m.via}", scope, effect))
        lines.append(columns(rows, indent=2))
    elif not snap.unreadable:
        lines.append("No binding names you or any of your groups.")
    if result.granting:
        lines.append("Roles that would grant it: " + summarize_list(
            [f"{r.kind} {r.namespace + '/' if r.namespace else ''}{r.name}" for r in result.granting], 6))
    sug = result.suggestion
    if sug is not None:
        scope = f"a RoleBinding in namespace {sug.namespace}" if sug.namespace else "a ClusterRoleBinding"
        guess = "" if sug.certain else " (most likely; the roles could not be read)"
        lines += ["", paragraph(f"{scope} from {sug.role_kind} {sug.role}{guess} to {sug.subject.label}.",
                                indent=0, first="Missing: "),
                  "Fix (run as someone allowed to create it, e.g. a cluster or namespace admin):",
                  f"  {sug.command} --apply"]
        if sug.custom_role is not None:
            lines.append(f"  (first create the {sug.custom_role['kind']} below: no existing role grants exactly this)")
        lines.append("Manifest:")
        docs = [sug.custom_role, sug.binding] if sug.custom_role else [sug.binding]
        lines += ["  " + line for line in manifest.to_yaml(*[d for d in docs if d]).splitlines()]
        groups = [g for g in result.groups if manifest.is_guid(g)]
        if groups:
            lines.append(paragraph("To grant it to a whole team instead, bind one of your Entra groups "
                                   f"(--group {groups[0]}).", indent=0))
    return "\n".join(lines) + "\n"


def _render_held(advice: AzureAdvice) -> list[str]:
    if advice.held is None:
        return [paragraph(f"Your Azure role assignments could not be listed ({advice.held_error}).", indent=0)]
    if not advice.held:
        return ["You hold no Azure role assignment on this cluster (nor above it, nor through a group)."]
    rows = []
    for h in advice.held:
        effect = ("grants it" if h.grants and h.covers else "not at this scope" if not h.covers
                  else "does not grant it")
        rows.append((h.role, h.scope, effect))
    lines = ["Your Azure role assignments around this cluster (yours and your groups'):", columns(rows, indent=2)]
    for h in advice.granting:
        lines.append(paragraph(f"{h.role} at {h.scope}" + (f" (made {h.created_on})" if h.created_on else "")
                               + " already grants this request: Azure carries a new assignment to the cluster within "
                               "a few minutes, so try again shortly. If it is older than that, check that the "
                               "request goes to this cluster and is signed in as this identity.", indent=0,
                               first="Propagation: "))
    return lines


def _render_azure(advice: AzureAdvice) -> list[str]:
    where = (f"on namespace {advice.grant.namespace} of this cluster" if advice.grant.namespace
             else "on the whole cluster")
    if advice.granting:
        return ["", paragraph("This cluster authorizes with Azure RBAC for Kubernetes: Azure role assignments "
                              "decide first, and the denial came from Azure.", indent=0, first="Note: "),
                *_render_held(advice)]
    return [
        "", paragraph("This cluster authorizes with Azure RBAC for Kubernetes: Azure role assignments decide "
                      "first, and the denial came from Azure.", indent=0, first="Note: "),
        paragraph(f"an Azure role assignment of {advice.grant.role} {where}, for object id {advice.object_id} "
                  f"({advice.principal_type}).", indent=0, first="Missing: "),
        "Fix (run as someone who may assign roles on the cluster: Owner, User Access Administrator or Role Based "
        "Access Control Administrator):",
        f"  {advice.command}",
        paragraph("A new assignment takes a few minutes to reach the cluster; until then the request is still "
                  "denied.", indent=0),
        *_render_held(advice),
    ]


def run(req: ExplainRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO,
        clock: Clock = time.time) -> int:
    target = ct.open_context(req.kubeconfig, req.context, environ)
    token = None if target.plan.kind == ct.CERTIFICATE else ct.obtain_token(
        target.plan, target.ctx, environ, clock=clock, stderr=stderr)
    client = ct.api_client(target, token, environ, timeout=ct.request_timeout(target.plan))
    request, message = build_request(req, client, target.ctx.namespace)
    result = explain(target, client, decode_token(token.token) if token else None, request, message)
    if result.azure is not None:
        list_held(result.azure, target, environ, stderr, clock)
    if req.output != "table":
        write_data(stdout, result.to_json(), req.output)
    else:
        stdout.write(Painter(stdout).marks(printable(render(result), keep_newlines=True),
                                           {"DENIED (": ("bold", "red"), "ALLOWED —": ("green",)}))
    return 0 if result.allowed else 1
