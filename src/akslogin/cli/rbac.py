"""``akslogin rbac``: RBAC helpers for AKS + Entra ID (``rbac bind``)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.cli.common import add_context_args

BIND_EPILOG = """\
AKS presents Entra identities to Kubernetes RBAC as: member users by UPN; guest users, service principals
and managed identities by object id; groups by object id (display names never match). With --namespace a
RoleBinding is written, without it a ClusterRoleBinding. --service-principal accepts an app id: when the
context can read Microsoft Graph, akslogin resolves it to the object id AKS needs (--no-resolve skips that).

On a cluster that authorizes with Azure RBAC for Kubernetes (Resource Manager says so, or --azure), the same
command writes an Azure role assignment instead: view/edit/admin/cluster-admin become the AKS RBAC Reader/
Writer/Admin/Cluster Admin roles, at the cluster's scope or --namespace of it; it prints the az line (-o json:
the ARM request), and --apply makes it through Resource Manager with the context's sign-in (which needs the
right to assign roles: Owner or User Access Administrator).

examples:
  akslogin rbac bind --user alice@contoso.com --role view --namespace dev
  akslogin rbac bind --group 3c9e1f27-8a4b-4d6c-b2e5-7f0a1d9c8e36 --role edit --namespace team-a --apply
  akslogin rbac bind --service-principal <app id or object id> --role view --apply --context aks-dev
  akslogin rbac bind --guest <object id> --role pod-reader --role-kind Role --namespace dev
  akslogin rbac bind --service-principal <object id> --role edit --namespace dev --azure --apply

exit codes: 0 printed (and applied); 1 kubectl apply failed; 2 bad flags, or (--apply) no such kubeconfig or context.
"""


def register(sub: Any) -> None:
    p = sub.add_parser("rbac", help="RBAC helpers: 'rbac bind' writes bindings the way AKS maps Entra identities",
                       description="RBAC helpers for AKS clusters that use Entra ID.",
                       epilog="examples:\n  akslogin rbac bind --user alice@contoso.com --role view --namespace dev\n"
                              "  akslogin rbac bind --help\n\nexit codes: 2 without a subcommand; see each "
                              "subcommand's --help.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    rsub = p.add_subparsers(dest="rbac_command", metavar="SUBCOMMAND")
    b = rsub.add_parser(
        "bind", help="print (or --apply) a RoleBinding/ClusterRoleBinding for an Entra identity",
        description="Print a RoleBinding or ClusterRoleBinding that names an Entra identity the way AKS does.",
        epilog=BIND_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    who = b.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="UPN", default="", help="a member user, by user principal name")
    who.add_argument("--group", metavar="OBJECT_ID", default="", help="an Entra group, by object id")
    who.add_argument("--service-principal", metavar="ID", default="",
                     help="a service principal or managed identity, by object id (an app id is resolved)")
    who.add_argument("--guest", metavar="OBJECT_ID", default="", help="a guest (B2B) user, by object id")
    b.add_argument("--role", required=True, help="cluster-admin, admin, edit, view, or any ClusterRole/Role name")
    b.add_argument("--role-kind", choices=("ClusterRole", "Role"), default="ClusterRole",
                   help="kind of the role (Role needs --namespace)")
    b.add_argument("-n", "--namespace", default="", help="write a RoleBinding in this namespace")
    b.add_argument("--name", default="", help="binding name (default akslogin-<role>-<subject>)")
    b.add_argument("--apply", action="store_true", help="apply it with 'kubectl apply -f -' and the chosen context")
    b.add_argument("--no-resolve", dest="resolve", action="store_false",
                   help="do not ask Microsoft Graph to turn an app id (or group name) into an object id")
    b.add_argument("--graph-endpoint", default="", metavar="URL",
                   help="Microsoft Graph endpoint (default: the context's cloud; env AKSLOGIN_GRAPH_ENDPOINT)")
    b.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml",
                   help="manifest format (on an Azure RBAC cluster: the az line, or with json the ARM request)")
    model = b.add_argument_group("Azure RBAC for Kubernetes (clusters whose role assignments authorize)")
    forced = model.add_mutually_exclusive_group()
    forced.add_argument("--azure", dest="model", action="store_const", const="azure", default="",
                        help="write an Azure role assignment (default when Resource Manager says the cluster uses "
                             "Azure RBAC)")
    forced.add_argument("--kubernetes", dest="model", action="store_const", const="kubernetes",
                        help="write a Kubernetes binding, whatever the cluster uses")
    model.add_argument("--cluster-id", default="", metavar="RESOURCE_ID",
                       help="the cluster's Azure resource id (default: what get-credentials recorded)")
    model.add_argument("--arm-endpoint", default="", metavar="URL", help="Resource Manager URL")
    model.add_argument("--arm-resource", default="", metavar="URL", help="token audience for Resource Manager")
    add_context_args(b)
    b.set_defaults(handler=run_bind)
    p.set_defaults(handler=lambda _args: (p.print_help(), 2)[1])


def run_bind(args: argparse.Namespace) -> int:
    from akslogin.usecases.rbac_bind import BindRequest
    from akslogin.usecases.rbac_bind import run as bind

    req = BindRequest(role=args.role, user=args.user, group=args.group, service_principal=args.service_principal,
                      guest=args.guest, role_kind=args.role_kind, namespace=args.namespace, name=args.name,
                      apply=args.apply, resolve=args.resolve, graph_endpoint=args.graph_endpoint,
                      kubeconfig=args.kubeconfig, context=args.context, output=args.output, model=args.model,
                      cluster_id=args.cluster_id, arm_endpoint=args.arm_endpoint, arm_resource=args.arm_resource)
    return bind(req, os.environ, sys.stdout, sys.stderr)
