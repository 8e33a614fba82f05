"""rbac bind: print (and with --apply, apply) a binding that names an Entra identity the way AKS sees it.

Service principals and managed identities are bound by object id. People often have only the app id, so
when the context can read Microsoft Graph the value is looked up (app id → object id); otherwise the
value is taken as the object id, with a warning saying how to check it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from akslogin import kubectx as ct
from akslogin.errors import AksloginError, ConfigError, UsageError
from akslogin.output import paragraph
from akslogin.rbac import manifest
from akslogin.tokeninfo import TokenInfo, decode_token

if TYPE_CHECKING:
    from akslogin.http import MakeHttp

Clock = Callable[[], float]
Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


@dataclass
class BindRequest:
    role: str
    user: str = ""
    group: str = ""
    service_principal: str = ""
    guest: str = ""
    role_kind: str = "ClusterRole"
    namespace: str = ""
    name: str = ""
    apply: bool = False
    resolve: bool = True
    graph_endpoint: str = ""
    kubeconfig: str | None = None
    context: str | None = None
    output: str = "yaml"
    #: "azure" (a role assignment), "kubernetes" (a binding), or "" (ask Resource Manager which one the
    #: cluster uses, when the kubeconfig records the cluster's resource id).
    model: str = ""
    cluster_id: str = ""
    arm_endpoint: str = ""
    arm_resource: str = ""


@dataclass
class GraphAccess:
    client: Any  # akslogin.graph.GraphClient
    caller: TokenInfo | None


def _warn(stderr: TextIO, text: str) -> None:
    stderr.write(paragraph(text, indent=0, first="akslogin: ") + "\n")


def graph_access(req: BindRequest, environ: Mapping[str, str], stderr: TextIO, clock: Clock,
                 make_http: MakeHttp | None = None, *, attended: bool | None = None) -> GraphAccess:
    """A Graph client signed in with the context's own login (resource = Graph); raises when not possible."""
    from akslogin.graph import GraphClient, graph_resource_and_endpoint
    from akslogin.http import HttpClient

    target = ct.open_context(req.kubeconfig, req.context, environ)
    if target.plan.kind != ct.GET_TOKEN or target.plan.exec is None:
        raise ConfigError("the context does not sign in with akslogin/kubelogin get-token, so akslogin cannot ask "
                          "Microsoft Graph with it.")
    opts = ct.validated_options(target.plan)
    resource, endpoint = graph_resource_and_endpoint(opts.environment, req.graph_endpoint, environ)
    opts.server_id, opts.legacy = resource, False
    token = ct.token_in_process(opts, ct.with_exec_env(environ, target.plan.exec.env), clock, stderr,
                                attended=attended)
    http = (make_http or HttpClient)(opts.timeout_seconds, opts.certificate_authority, environ)
    return GraphAccess(GraphClient(http, endpoint, token.token), decode_token(token.token))


def _service_principal(value: str, req: BindRequest, environ: Mapping[str, str], stderr: TextIO,
                       clock: Clock, make_http: MakeHttp | None = None) -> manifest.Subject:
    if not manifest.is_guid(value):
        raise UsageError(f"--service-principal takes an app id or an object id (a GUID), not {value!r}.",
                         "AKS matches service principals and managed identities by object id.")
    if not req.resolve:
        return manifest.service_principal_subject(value)
    try:
        access = graph_access(req, environ, stderr, clock, make_http)
        caller = access.caller
        if caller is not None and caller.app_id.lower() == value.lower() and caller.object_id:
            found: dict[str, Any] | None = {"id": caller.object_id, "appId": caller.app_id, "displayName": ""}
        else:
            found = access.client.service_principal_by_app_id(value)
        if found is not None:
            oid = str(found.get("id", ""))
            name = str(found.get("displayName") or "")
            _warn(stderr, f"{value} is the app id of service principal {name or oid}; AKS identifies it by its "
                          f"object id {oid}, which is what the binding names.")
            return manifest.service_principal_subject(
                oid, f"service principal {oid}" + (f" ({name}, app id {value})" if name else f" (app id {value})"))
        by_id = access.client.service_principal(value)
        if by_id is None:
            raise UsageError(f"Microsoft Graph knows no service principal with app id or object id {value}.",
                             "Check the id (az ad sp show --id <id>), or pass --no-resolve to bind it as given.")
        name = str(by_id.get("displayName") or "")
        return manifest.service_principal_subject(value, f"service principal {value}" + (f" ({name})" if name else ""))
    except UsageError:
        raise
    except AksloginError as exc:
        _warn(stderr, f"cannot check {value} in Microsoft Graph ({exc.message.rstrip('.')}); it is used as the "
                      "service principal's OBJECT id. AKS does not match app ids: if this is an app id, find the "
                      f"object id with 'az ad sp show --id {value} --query id -o tsv'.")
        return manifest.service_principal_subject(value)


def _group(value: str, req: BindRequest, environ: Mapping[str, str], stderr: TextIO,
           clock: Clock, make_http: MakeHttp | None = None) -> manifest.Subject:
    if manifest.is_guid(value) or not req.resolve:
        return manifest.group_subject(value)
    try:
        groups = graph_access(req, environ, stderr, clock, make_http).client.groups_named(value)
    except AksloginError as exc:
        raise UsageError(f"--group takes the group's object id; {value!r} looks like a display name and it cannot "
                         f"be looked up ({exc.message.rstrip('.')}).",
                         f"Find the id with: az ad group show --group '{value}' --query id -o tsv") from None
    if len(groups) != 1:
        raise UsageError(f"{len(groups)} groups are named {value!r} in Microsoft Graph.",
                         "Pass the group's object id.")
    oid = str(groups[0].get("id", ""))
    _warn(stderr, f"group {value!r} has object id {oid}; AKS matches groups by object id, so the binding names it.")
    return manifest.group_subject(oid, value)


def _user(value: str, req: BindRequest, environ: Mapping[str, str], stderr: TextIO, clock: Clock,
          make_http: MakeHttp | None = None) -> manifest.Subject:
    """A member by UPN, as AKS names members; but an address that is a guest's (B2B) e-mail is bound by the
    guest's object id, found in Microsoft Graph, since AKS names guests by object id."""
    from akslogin.credentials.attendance import UnattendedSignIn

    subject = manifest.user_subject(value)  # refuses a guest UPN or an object id with the right advice
    if not req.resolve:
        return subject
    try:
        # Only with a sign-in that needs nobody: a member's UPN (the usual case) is worth no extra prompt.
        client = graph_access(req, environ, stderr, clock, make_http, attended=False).client
        member = client.user(value)
        if member is not None and member.get("userType") != "Guest":
            return subject
        guests = [u for u in client.users_by_mail(value) if u.get("userType") == "Guest" and u.get("id")]
    except UnattendedSignIn:
        return subject
    except AksloginError as exc:
        _warn(stderr, f"could not check in Microsoft Graph whether {value} is a guest ({exc.message.rstrip('.')}); "
                      "it is bound by UPN, as AKS names member users. A guest (B2B) account is named by object id: "
                      "use --guest OBJECT_ID.")
        return subject
    if len(guests) == 1:
        oid = str(guests[0]["id"])
        _warn(stderr, f"{value} is the e-mail of guest (B2B) user {oid}; AKS names guests by object id, which is "
                      "what the binding names.")
        return manifest.guest_subject(oid)
    if member is None and not guests:
        raise UsageError(f"Microsoft Graph knows no user {value} (neither a member's UPN nor a guest's e-mail).",
                         "Check the address, or pass --no-resolve to bind it as given.")
    if len(guests) > 1:
        raise UsageError(f"{len(guests)} guest users have the e-mail {value}.", "Pass --guest OBJECT_ID.")
    return subject


def choose_subject(req: BindRequest, environ: Mapping[str, str], stderr: TextIO, clock: Clock,
                   make_http: MakeHttp | None = None) -> manifest.Subject:
    given = [(flag, v) for flag, v in (("--user", req.user), ("--group", req.group),
                                       ("--service-principal", req.service_principal), ("--guest", req.guest)) if v]
    if len(given) != 1:
        raise UsageError("name exactly one subject: --user UPN, --group OBJECT_ID, --service-principal "
                         "APP_OR_OBJECT_ID or --guest OBJECT_ID.")
    flag, value = given[0]
    if flag == "--user":
        return _user(value, req, environ, stderr, clock, make_http)
    if flag == "--guest":
        return manifest.guest_subject(value)
    if flag == "--group":
        return _group(value, req, environ, stderr, clock, make_http)
    return _service_principal(value, req, environ, stderr, clock, make_http)


def apply_manifest(doc: dict[str, Any], req: BindRequest, environ: Mapping[str, str], stdout: TextIO,
                   stderr: TextIO, runner: Runner = subprocess.run) -> int:
    """``kubectl apply -f -`` with the chosen kubeconfig/context; list args, no shell."""
    kubectl = shutil.which("kubectl", path=environ.get("PATH"))
    if kubectl is None:
        raise ConfigError("--apply needs kubectl on PATH.", "Install kubectl, or drop --apply and apply the "
                          "printed manifest yourself.")
    argv = [kubectl, "apply", "-f", "-", "--validate=false"]
    # The manifest is generated here; the API server still validates it (client-side OpenAPI validation is
    # off because it needs the server's OpenAPI document, which some API servers do not serve).
    if req.kubeconfig:
        argv += ["--kubeconfig", req.kubeconfig]
    if req.context:
        argv += ["--context", req.context]
    proc = runner(argv, input=json.dumps(doc).encode(), env=dict(environ), capture_output=True, timeout=120,
                  check=False)
    stdout.write(proc.stdout.decode("utf-8", "replace"))
    err = proc.stderr.decode("utf-8", "replace")
    stderr.write(err)
    if proc.returncode != 0 and "forbidden" in err.lower():
        _warn(stderr, "creating a binding needs 'create' on (cluster)rolebindings, and either the 'bind' verb on "
                      "the role or every permission the role grants (Kubernetes refuses privilege escalation). "
                      "Ask a cluster admin, or a namespace admin for a RoleBinding in their namespace.")
    return 0 if proc.returncode == 0 else 1


def authorization_model(req: BindRequest, environ: Mapping[str, str]) -> str:
    """"azure" or "kubernetes": as forced, else as get-credentials recorded the cluster (Resource Manager's
    ``enableAzureRBAC``, kept on the kubeconfig entry); Kubernetes RBAC when nothing says otherwise."""
    if req.model:
        return req.model
    try:
        target = ct.open_context(req.kubeconfig, req.context, environ)
    except AksloginError:
        return "kubernetes"  # printing a binding needs no context; --apply reports the missing one
    return "azure" if target.ctx.cluster.azure_rbac else "kubernetes"


def run_azure(req: BindRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO, clock: Clock,
              make_http: MakeHttp | None = None) -> int:
    """The role assignment that grants --role to the subject on this cluster (or --namespace of it)."""
    from akslogin.usecases import rbac_azure

    role = rbac_azure.azure_role(req.role)
    target = ct.open_context(req.kubeconfig, req.context, environ)
    scope = rbac_azure.cluster_scope(target, req.cluster_id)
    if req.namespace:
        scope += f"/namespaces/{req.namespace}"
    subject = choose_subject(req, environ, stderr, clock, make_http)

    def lookup_user(upn: str) -> str:
        try:
            found = graph_access(req, environ, stderr, clock, make_http).client.user(upn)
        except AksloginError as exc:
            raise UsageError(f"an Azure role assignment names a user by object id, and {upn} could not be looked "
                             f"up in Microsoft Graph ({exc.message.rstrip('.')}).",
                             f"Find it with: az ad user show --id '{upn}' --query id -o tsv, and pass --guest "
                             "OBJECT_ID (it works for members too).") from None
        if found is None or not found.get("id"):
            raise UsageError(f"Microsoft Graph knows no user {upn}.", "Check the name, or pass --guest OBJECT_ID.")
        return str(found["id"])

    object_id, kind = rbac_azure.assignee(subject, lookup_user if req.resolve else None)
    assignment = rbac_azure.AzureAssignment(role, scope, object_id, kind, subject.label)
    rbac_azure.render(assignment, req.output, stdout)
    if not req.apply:
        return 0
    arm = rbac_azure.arm_client(target, environ, stderr, clock, arm_endpoint=req.arm_endpoint,
                                arm_resource=req.arm_resource, make_http=make_http)
    return rbac_azure.apply(arm, assignment, stdout, stderr)


def run(req: BindRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO, clock: Clock = time.time,
        runner: Runner = subprocess.run, make_http: MakeHttp | None = None) -> int:
    if not req.role:
        raise UsageError("--role is required (cluster-admin, admin, edit, view, or any ClusterRole/Role name).")
    if authorization_model(req, environ) == "azure":
        return run_azure(req, environ, stdout, stderr, clock, make_http)
    target = ct.open_context(req.kubeconfig, req.context, environ) if req.apply else None  # exists, else exit 2
    subject = choose_subject(req, environ, stderr, clock, make_http)
    doc = manifest.binding_manifest(subject, req.role, req.role_kind, req.namespace, req.name)
    if req.output == "json":
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        stdout.write(manifest.to_yaml(doc))
    stdout.flush()
    if target is not None:
        if target.plan.kind == ct.GET_TOKEN:
            # Sign in here, where the person sees any prompt, before kubectl runs the plugin with its output
            # captured (a device code there would reach the screen only after kubectl gave up).
            ct.obtain_token(target.plan, target.ctx, environ, clock=clock, stderr=stderr)
        return apply_manifest(doc, req, environ, stdout, stderr, runner)
    return 0
