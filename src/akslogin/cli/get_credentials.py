"""``akslogin get-credentials``: a cluster's (or the whole fleet's) kubeconfig from ARM, ready for kubectl."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from akslogin.cli.common import add_exec_api_version_arg, exec_api_version
from akslogin.cli.signin_flags import add_signin_flags, check_login, signin_options
from akslogin.errors import UsageError
from akslogin.kubeconfig import embedded, paths
from akslogin.log import Log
from akslogin.output import add_output_flag, emit

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
    target.add_argument("-g", "--resource-group", metavar="RG", help="the cluster's resource group")
    target.add_argument("-n", "--name", metavar="NAME", help="the cluster's name")
    target.add_argument("-s", "--subscription", metavar="ID|NAME", action="append", dest="subscriptions",
                        help="subscription id or name, as az takes it (default: AZURE_SUBSCRIPTION_ID, else az's "
                             "current subscription with "
                             "--login azurecli, else the only one the identity sees); with --all, repeat to limit "
                             "the import to these subscriptions")
    target.add_argument("--all", action="store_true", help="import every cluster of every (or each --subscription) "
                        "subscription the identity can see")
    target.add_argument("--max-concurrency", type=int, default=16, metavar="N",
                        help="parallel ARM requests with --all (default 16)")
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


def _check(args: argparse.Namespace) -> None:
    if args.all:
        if args.resource_group or args.name or args.context:
            raise UsageError("--all imports every cluster; it does not take --resource-group, --name or --context.")
    else:
        if not args.resource_group or not args.name:
            raise UsageError("--resource-group and --name are required (or --all).",
                             "e.g. akslogin get-credentials -g rg-prod -n aks-prod --login spn -t <tenant>")
        if args.subscriptions and len(args.subscriptions) > 1:
            raise UsageError("give one --subscription for one cluster (several only with --all).")
    if args.admin and args.format:
        raise UsageError("--format can only be specified when requesting clusterUser credential.")
    if args.admin and args.user != "clusterUser":
        raise UsageError("--admin and --user clusterMonitoringUser are different credentials; pick one.")
    if args.embed_tokens and args.no_convert:
        raise UsageError("--embed-tokens needs the converted entry; drop --no-convert.")
    if args.file == "-" and args.output != "table":
        raise UsageError("--file - prints the kubeconfig itself; --output json|yaml describes an import into a file.")
    if args.max_concurrency < 1 or args.max_concurrency > 64:
        raise UsageError("--max-concurrency takes a number from 1 to 64.")


def run(args: argparse.Namespace) -> int:
    from akslogin.usecases import fleet
    from akslogin.usecases.get_credentials import (
        ADMIN_WARNING,
        ImportSettings,
        conversion_for,
        import_one,
        note_unwritten_secrets,
        open_session,
        report_prepared,
        resolve_subscription,
        subscription_ids,
    )

    _check(args)
    environ = os.environ
    signin = signin_options(args, environ)
    check_login(signin)
    if signin.login == "azurecli" and args.subscriptions and len(args.subscriptions) == 1:
        signin.subscription = args.subscriptions[0]  # az picks the subscription's tenant for the ARM token
    stderr = sys.stderr
    log = Log(signin.verbosity_level, stderr)
    target = "-" if args.file == "-" else paths.write_path(args.file, environ)
    kind = "admin" if args.admin else "monitoring" if args.user == "clusterMonitoringUser" else "user"
    settings = ImportSettings(
        kind=kind, fmt=args.format, public_fqdn=args.public_fqdn, convert=not args.no_convert,
        convert_opts=conversion_for(signin, command=args.exec_command, allow_secrets=args.allow_secrets_in_kubeconfig,
                                    azure_config_dir=args.azure_config_dir, api_version=exec_api_version(args)),
        embed_style=args.embed_tokens, overwrite=args.overwrite_existing,
    )
    if args.admin:
        stderr.write(ADMIN_WARNING + "\n")
    if not args.allow_secrets_in_kubeconfig and not args.no_convert:
        note_unwritten_secrets(signin, stderr)
    session = open_session(signin, environ, stderr, log, arm_endpoint=args.arm_endpoint,
                           arm_resource=args.arm_resource, pool_size=max(10, args.max_concurrency))
    if not args.all:
        subscription = resolve_subscription(session, (args.subscriptions or [None])[0])
        context = import_one(session, subscription, args.resource_group, args.name, settings, context=args.context,
                             target=target, out=sys.stdout)
        if args.output != "table":
            data = {"context": context, "file": target, "subscription": subscription,
                    "resource_group": args.resource_group, "name": args.name, "credential": kind}
            emit(sys.stdout, args.output, data, lambda _painter: "")
        return 0
    subscriptions = subscription_ids(session, args.subscriptions) if args.subscriptions else None
    result = fleet.import_fleet(session, subscriptions=subscriptions, settings=settings, target=target,
                                max_concurrency=args.max_concurrency, progress=stderr, out=sys.stdout)
    summary = sys.stderr if target == "-" else sys.stdout
    emit(summary, args.output, fleet.summary_data(result, target),
         lambda painter: fleet.render_summary(result, target, painter))
    report_prepared(stderr, result.prepared, target)
    return 1 if result.failed else 0
