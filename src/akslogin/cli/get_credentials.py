"""``akslogin get-credentials``: a cluster's (or the whole fleet's) kubeconfig from ARM, ready for kubectl."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin import options
from akslogin.cli.common import add_exec_api_version_arg, exec_api_version
from akslogin.cli.signin_flags import add_signin_flags, signin_options
from akslogin.kubeconfig import embedded
from akslogin.output import add_output_flag

EPILOG = """\
The kubeconfig is merged like kubectl and az do: --file, else the first KUBECONFIG entry, else ~/.kube/config
(--file - prints it instead). A same-name cluster, user or context is replaced only when identical or with
--overwrite-existing. Writes are locked and atomic and leave the file 0600. Entra users are converted to the
akslogin exec plugin for the --login mode used here (secrets are never written unless you allow it).

examples:
  # a CI service principal (secret in the environment) onto one cluster
  export AAD_SERVICE_PRINCIPAL_CLIENT_ID=<app id> AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=<secret>
  akslogin get-credentials --login spn -t <tenant> -g rg-prod -n aks-prod --subscription <sub>
  kubectl get pods

  # every cluster the identity can reach, in all its subscriptions (or: --subscription A --subscription B)
  akslogin get-credentials --all --login spn -t <tenant>

  # break-glass admin credential (client certificate; printed warning), into a separate file
  akslogin get-credentials -g rg-prod -n aks-prod --admin --file ./admin.kubeconfig

  # for a client that cannot run exec plugins: embed a token (renew it with refresh-kubeconfig)
  akslogin get-credentials -g rg -n aks --login spn -t <tenant> --embed-tokens token

  # an estate: the production clusters in Europe, beneath one management group, one file per subscription
  akslogin get-credentials --all --management-group mg-platform --tag env=prod --location westeurope \
      --split-by subscription ~/.kube/estate --login spn -t <tenant>
  export KUBECONFIG="$(ls ~/.kube/estate/*.yaml | paste -sd: -)"

  # every tenant the identity is in (each tenant signs in on its own)
  akslogin get-credentials --all --all-tenants --login azurecli

  # an AKS Fleet Manager hub
  akslogin get-credentials --fleet fleet-prod -g rg-fleet --login azurecli

  # the fleet import as data for a script
  akslogin get-credentials --all --login workloadidentity -o json | jq '.clusters[] | select(.status=="failed")'

exit codes: 0 done; 1 ARM, sign-in or file failure (with --all: any cluster failed); 2 bad flags.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "get-credentials", help="fetch a cluster's kubeconfig from ARM (or every cluster with --all)",
        description="Fetch AKS credentials through Azure Resource Manager with any --login mode and merge them "
                    "into your kubeconfig, converted to the akslogin exec plugin.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
    )
    target = p.add_argument_group("which cluster(s)")
    target.add_argument("-g", "--resource-group", metavar="RG", action="append",
                        help="the cluster's (or fleet's) resource group; with --all, repeat to import only clusters "
                             "in these resource groups")
    target.add_argument("-n", "--name", metavar="NAME", help="the cluster's name")
    target.add_argument("-s", "--subscription", metavar="ID|NAME", action="append", dest="subscriptions",
                        help="subscription id or name, as az takes it (default: AZURE_SUBSCRIPTION_ID, else az's "
                             "current subscription with "
                             "--login azurecli, else the only one the identity sees); with --all, repeat to limit "
                             "the import to these subscriptions")
    target.add_argument("--all", action="store_true",
                        help="import every cluster the identity can read (found with Azure Resource Graph), in the "
                             "sign-in's tenant or as chosen below; --timeout defaults to 30m here")
    target.add_argument("--max-concurrency", type=int, default=16, metavar="N",
                        help="parallel ARM requests with --all (default 16)")
    target.add_argument("--fleet", metavar="NAME",
                        help="an AKS Fleet Manager fleet: import its hub's kubeconfig (with --resource-group)")
    estate = p.add_argument_group(
        "with --all: where to look and what to keep",
        "Clusters are found with Azure Resource Graph (one query per 1,000 clusters), or by listing each "
        "subscription when Resource Graph is refused. Filters apply in the query; repeat a flag for more values.")
    estate.add_argument("--tag", action="append", default=[], metavar="NAME=VALUE",
                        help="only clusters with this tag (every --tag must match; the value exactly)")
    estate.add_argument("--location", action="append", default=[], metavar="REGION",
                        help="only clusters in this region (e.g. westeurope)")
    estate.add_argument("--management-group", metavar="ID",
                        help="only subscriptions beneath this management group (at any depth)")
    estate.add_argument("--tenant", action="append", default=[], metavar="TENANT",
                        help="import from this tenant (repeat for several; each signs in on its own, with the same "
                             "--login); default: the sign-in's tenant")
    estate.add_argument("--all-tenants", action="store_true",
                        help="import from every tenant the identity has a presence in (az account tenant list)")
    estate.add_argument("--split-by", nargs=2, metavar=("subscription|tenant", "DIR"),
                        help="write one kubeconfig per subscription (or tenant) into DIR, instead of one file; list "
                             "them in KUBECONFIG")
    cred = p.add_argument_group("which credential")
    cred.add_argument("-a", "--admin", action="store_true",
                      help="the local cluster-admin credential (client certificate; see the warning it prints)")
    cred.add_argument("-u", "--user", choices=("clusterUser", "clusterMonitoringUser"), default="clusterUser",
                      help="which user credential (default clusterUser)")
    cred.add_argument("--format", choices=("exec", "azure"),
                      help="what ARM returns for Entra clusters: exec (kubelogin, default) or azure (legacy "
                           "auth-provider); both are converted unless --no-convert")
    cred.add_argument("--public-fqdn", action="store_true", help="use the public FQDN of a private cluster")
    out = p.add_argument_group("kubeconfig")
    out.add_argument("-f", "--file", metavar="FILE", help="kubeconfig to merge into; '-' prints to stdout")
    out.add_argument("--overwrite-existing", action="store_true",
                     help="replace same-name entries that differ (otherwise that is an error)")
    out.add_argument("--context", metavar="NAME",
                     help="name of the imported context and its cluster entry (and of its user entry when one of "
                          "that cluster's name exists and differs: e.g. a CI principal beside your own sign-in)")
    out.add_argument("--no-convert", action="store_true",
                     help="keep the user entry exactly as AKS returned it (kubelogin exec or auth-provider)")
    out.add_argument("--exec-command", default="akslogin", metavar="CMD",
                     help="command the exec plugin runs (default 'akslogin' from PATH; give an absolute path to "
                          "pin one)")
    out.add_argument("--allow-secrets-in-kubeconfig", action="store_true",
                     help="also write --client-secret / --password / --client-certificate-password given here into "
                          "the exec arguments (clear text; a warning is printed)")
    out.add_argument("--embed-tokens", nargs="?", const="auth-provider", choices=embedded.STYLES, metavar="STYLE",
                     help="embed a current token instead of the exec plugin: auth-provider (legacy azure "
                          "provider format, the default) or token (plain bearer); less safe, see the docs")
    out.add_argument("--azure-config-dir", metavar="DIR", help="AZURE_CONFIG_DIR for --login azurecli exec blocks")
    add_exec_api_version_arg(out)
    add_output_flag(out)
    arm = p.add_argument_group("Resource Manager")
    arm.add_argument("--arm-endpoint", metavar="URL",
                     help="Resource Manager URL (default: the --environment's, e.g. https://management.azure.com/)")
    arm.add_argument("--arm-resource", metavar="URL",
                     help="token audience for Resource Manager (default: the --environment's)")
    add_signin_flags(p, exclude={"--subscription", "--server-id"})
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases.get_credentials import GetCredentialsRequest
    from akslogin.usecases.get_credentials import run as get_credentials

    signin = signin_options(args, os.environ)
    req = GetCredentialsRequest(
        signin=signin, name=args.name, subscriptions=args.subscriptions or [],
        all=args.all, max_concurrency=args.max_concurrency, admin=args.admin, user=args.user, format=args.format,
        public_fqdn=args.public_fqdn, file=args.file, resource_groups=args.resource_group or [], tags=args.tag,
        locations=args.location, management_group=args.management_group, tenants=args.tenant,
        all_tenants=args.all_tenants, split_by=tuple(args.split_by) if args.split_by else None, fleet=args.fleet,
        overwrite=args.overwrite_existing, context=args.context,
        convert=not args.no_convert, exec_command=args.exec_command, allow_secrets=args.allow_secrets_in_kubeconfig,
        embed_tokens=args.embed_tokens, azure_config_dir=args.azure_config_dir, exec_api_version=exec_api_version(args),
        output=args.output, arm_endpoint=args.arm_endpoint, arm_resource=args.arm_resource)
    req.check()
    options.check_login(signin)
    return get_credentials(req, os.environ, sys.stdout, sys.stderr)
