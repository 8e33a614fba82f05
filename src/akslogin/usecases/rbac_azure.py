"""rbac bind on a cluster that authorizes with Azure RBAC for Kubernetes: an Azure role assignment, not a binding.

On such a cluster AKS asks Azure's role assignments before Kubernetes RBAC, so granting access means assigning
one of the built-in AKS RBAC roles (Reader, Writer, Admin, Cluster Admin) at the cluster's scope or at
``<cluster id>/namespaces/<namespace>``. The identity is named by object id with its principal type (a guest
or a service principal cannot be found by name without Graph rights). The assignment is printed as the
``az role assignment create`` line (``-o json``: the ARM request), and ``--apply`` makes it through Resource
Manager with the context's own sign-in: that needs a role that may assign roles on the cluster (Owner, User
Access Administrator, Role Based Access Control Administrator), and ARM's refusal is explained.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from akslogin import kubectx as ct
from akslogin.errors import ConfigError, UsageError
from akslogin.output import paragraph
from akslogin.rbac import azure as azure_rbac
from akslogin.rbac import manifest

if TYPE_CHECKING:
    from akslogin.arm import ArmClient
    from akslogin.http import MakeHttp

Clock = Callable[[], float]

#: ``--role`` on an Azure RBAC cluster: the Kubernetes role names people know, and the Azure ones.
ROLE_ALIASES = {
    "view": azure_rbac.READER, "reader": azure_rbac.READER,
    "edit": azure_rbac.WRITER, "writer": azure_rbac.WRITER,
    "admin": azure_rbac.ADMIN,
    "cluster-admin": azure_rbac.CLUSTER_ADMIN,
}


def azure_role(role: str) -> str:
    """The built-in AKS RBAC role ``--role`` names (view/edit/admin/cluster-admin, reader/writer, or the name)."""
    wanted = role.strip()
    found = ROLE_ALIASES.get(wanted.lower()) or next((r for r in azure_rbac.ROLES if r.lower() == wanted.lower()), None)
    if found is None:
        raise UsageError(f"--role {role!r} is not an Azure RBAC role for AKS.",
                         "On an Azure RBAC cluster use view/reader, edit/writer, admin or cluster-admin (or the "
                         "role's name, e.g. 'Azure Kubernetes Service RBAC Reader'); --kubernetes writes a "
                         "binding instead.")
    return found


@dataclass
class AzureAssignment:
    role: str
    scope: str
    object_id: str
    principal_type: str  # User | Group | ServicePrincipal
    label: str

    def command(self) -> str:
        return azure_rbac.assign_command(self.object_id, self.principal_type, self.role, self.scope)

    def to_json(self) -> dict[str, Any]:
        """What ``--apply`` sends: the scope, the role by name (its id is looked up there), and the body."""
        return {"scope": self.scope, "roleName": self.role,
                "properties": {"principalId": self.object_id, "principalType": self.principal_type},
                "command": self.command()}


def assignee(subject: manifest.Subject, lookup_user: Callable[[str], str] | None) -> tuple[str, str]:
    """(object id, principal type) for the subject ``rbac bind`` chose; a member user's UPN is looked up."""
    if subject.flag == "--service-principal":
        return subject.name, "ServicePrincipal"
    if subject.flag == "--group":
        return subject.name, "Group"
    if subject.flag == "--guest" or manifest.is_guid(subject.name):
        return subject.name, "User"
    if lookup_user is None:
        raise UsageError(f"an Azure role assignment names a user by object id, and {subject.name} cannot be "
                         "looked up here.",
                         f"Find it with: az ad user show --id '{subject.name}' --query id -o tsv, and pass "
                         "--guest OBJECT_ID (it works for members too).")
    return lookup_user(subject.name), "User"


def cluster_scope(target: ct.Target, given: str) -> str:
    """The cluster's resource id: --cluster-id, or what get-credentials recorded in the kubeconfig."""
    resource_id = given or target.ctx.cluster.resource_id
    if not resource_id:
        raise UsageError(f"the Azure resource id of cluster {target.ctx.cluster.name!r} is not known: its kubeconfig "
                         "entry was not written by 'akslogin get-credentials'.",
                         f"Pass --cluster-id \"$(az aks show -g <resource group> -n {target.ctx.cluster.name} "
                         "--query id -o tsv)\", or fetch the kubeconfig again with akslogin get-credentials.")
    if not resource_id.lower().startswith("/subscriptions/") or "/managedclusters/" not in resource_id.lower():
        raise UsageError(f"--cluster-id must be an AKS cluster's resource id (/subscriptions/.../managedClusters/"
                         f"NAME), not {resource_id[:120]!r}.")
    return resource_id.rstrip("/")


def arm_client(target: ct.Target, environ: Mapping[str, str], stderr: TextIO, clock: Clock, *,
               arm_endpoint: str = "", arm_resource: str = "", make_http: MakeHttp | None = None,
               attended: bool | None = None) -> ArmClient:
    """Resource Manager signed in with the context's own login (the identity kubectl uses there); ``attended``
    False: a sign-in that would need a person raises UnattendedSignIn instead of asking."""
    from akslogin.http import HttpClient
    from akslogin.log import Log
    from akslogin.usecases.arm_import import open_session

    if target.plan.kind != ct.GET_TOKEN or target.plan.exec is None:
        raise ConfigError("the context does not sign in with akslogin/kubelogin get-token, so akslogin cannot call "
                          "Resource Manager with it.",
                          "Run the printed az command yourself, or use a context that signs in with akslogin.")
    opts = ct.validated_options(target.plan)
    env = ct.with_exec_env(environ, target.plan.exec.env)
    endpoint = arm_endpoint or recorded_endpoint(target, opts.environment) or None
    session = open_session(opts, env, stderr, Log(0, stderr), arm_endpoint=endpoint,
                           arm_resource=arm_resource or None, clock=clock, make_http=make_http or HttpClient,
                           attended=attended)
    return session.arm


def recorded_endpoint(target: ct.Target, environment: str) -> str:
    """The Resource Manager get-credentials recorded for the cluster, when it may be trusted with an ARM token:
    the cloud's own, or one on this machine (an emulator). A kubeconfig can come from anywhere, and a recorded
    endpoint elsewhere would receive the token: that is refused (ConfigError), not replaced by another."""
    import urllib.parse

    from akslogin.clouds import cloud

    recorded = target.ctx.cluster.resource_manager
    if not recorded:
        return ""
    host = (urllib.parse.urlsplit(recorded).hostname or "").lower()
    own = (urllib.parse.urlsplit(cloud(environment).arm_endpoint).hostname or "").lower()
    if host in (own, "localhost", "127.0.0.1", "::1"):
        return recorded
    raise ConfigError(f"the kubeconfig records Resource Manager {recorded} for cluster {target.ctx.cluster.name}, "
                      f"which is neither the cloud's ({own}) nor on this machine: no token is sent there.",
                      "Pass --arm-endpoint with the Resource Manager you trust (or fetch the kubeconfig again "
                      "with akslogin get-credentials).")


def apply(arm: ArmClient, assignment: AzureAssignment, stdout: TextIO, stderr: TextIO) -> int:
    from akslogin.arm import ArmError

    try:
        role_id = arm.role_definition_id(assignment.scope, assignment.role)
        if not role_id:
            raise ConfigError(f"Resource Manager knows no role named {assignment.role!r} at {assignment.scope}.")
        made = arm.create_role_assignment(assignment.scope, str(uuid.uuid4()), role_id, assignment.object_id,
                                          assignment.principal_type)
    except ArmError as exc:
        if exc.code == "AuthorizationFailed":
            stderr.write(paragraph(
                f"you may not assign roles on {assignment.scope} ({exc.message.rstrip('.')}). Assigning roles needs "
                "Microsoft.Authorization/roleAssignments/write there: Owner, User Access Administrator or Role "
                "Based Access Control Administrator (Contributor is not enough). Ask one of them to run the az "
                "command above.", indent=0, first="akslogin: error: ") + "\n")
            return 1
        if exc.code == "RoleAssignmentExists":
            stdout.write(f"{assignment.label} already holds {assignment.role} at {assignment.scope}: nothing to do.\n")
            return 0
        raise
    name = str(made.get("name") or "")
    stdout.write(f"Assigned {assignment.role} to {assignment.label} at {assignment.scope} (role assignment "
                 f"{name}). It takes a few minutes to reach the cluster.\n")
    return 0


def render(assignment: AzureAssignment, output: str, stdout: TextIO) -> None:
    if output == "json":
        stdout.write(json.dumps(assignment.to_json(), indent=2) + "\n")
    else:
        stdout.write(f"# {assignment.role} for {assignment.label}, at {assignment.scope}\n{assignment.command()}\n")
    stdout.flush()
