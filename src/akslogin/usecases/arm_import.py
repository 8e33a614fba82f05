"""One cluster's credential from ARM into a kubeconfig: the ARM session, fetching, renaming and converting.

Shared by get-credentials for one cluster (:mod:`.get_credentials`) and for the fleet (:mod:`.fleet`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from akslogin import clouds, options
from akslogin.arm import ArmClient
from akslogin.errors import UsageError
from akslogin.http import HttpClient, MakeHttp
from akslogin.kubeconfig import files, merge
from akslogin.kubeconfig.model import KubeConfig
from akslogin.log import Log
from akslogin.retry import RetryPolicy
from akslogin.tokens import source
from akslogin.usecases.convert import ConvertOptions, convert

#: Modes where the client id names the identity itself, so the one used for ARM goes into the exec block.
APP_MODES = frozenset({"spn", "msi", "workloadidentity", "azurepipelines"})


@dataclass
class Session:
    """One run's ARM access: one HTTP client and one ARM token, shared by every call (and thread)."""

    arm: ArmClient
    signin: options.TokenOptions
    environ: Mapping[str, str]
    stderr: TextIO
    log: Log
    clock: Callable[[], float] = time.time


def open_session(signin: options.TokenOptions, environ: Mapping[str, str], stderr: TextIO, log: Log, *,
                 arm_endpoint: str | None = None, arm_resource: str | None = None, pool_size: int = 10,
                 clock: Callable[[], float] = time.time, make_http: MakeHttp = HttpClient,
                 attended: bool | None = None) -> Session:
    """Sign in for Resource Manager with the command's sign-in flags and open the client."""
    started = time.monotonic()  # --timeout bounds the whole command: the sign-in, every ARM call, every wait
    cloud = clouds.cloud(signin.environment)
    endpoint = arm_endpoint or cloud.arm_endpoint
    if not endpoint.startswith("https://"):
        raise UsageError(f"--arm-endpoint must be an https URL, not {endpoint[:80]!r}.")
    arm_opts = source.for_arm(signin, arm_resource or cloud.arm_resource)
    log(1, f"signing in to Resource Manager ({arm_opts.server_id}) with --login {arm_opts.login}")
    token = source.obtain(arm_opts, environ, stderr, log, clock, attended=attended)
    # The ARM client retries (and honours Retry-After) itself, within what is left of --timeout.
    http = make_http(arm_opts.timeout_seconds, arm_opts.certificate_authority, environ, pool_maxsize=pool_size,
                     retry=RetryPolicy(attempts=1), deadline=started + arm_opts.timeout_seconds)
    return Session(ArmClient(http, endpoint, token.token, log), signin, environ, stderr, log, clock)


@dataclass
class ImportSettings:
    """How an ARM kubeconfig becomes what is merged."""

    kind: str = "user"  # user | admin | monitoring
    fmt: str | None = None  # exec | azure (user credential only)
    public_fqdn: bool = False
    convert: bool = True
    convert_opts: ConvertOptions = field(default_factory=ConvertOptions)
    embed_style: str | None = None  # auth-provider | token
    overwrite: bool = False


def conversion_for(signin: options.TokenOptions, *, command: str, allow_secrets: bool,
                   azure_config_dir: str | None = None, api_version: str | None = None) -> ConvertOptions:
    """What get-credentials writes into the exec block: the login mode it used, the flags given, and for
    machine identities the client id they signed in with (non-secret values only, unless allowed)."""
    skip = {"subscription", "verbosity", "login", "server_id"}
    given: dict[str, Any] = {d: getattr(signin, d) for d in signin.explicit if d not in skip}
    if signin.login in APP_MODES:
        for dest in ("client_id", "tenant_id", "federated_token_file", "authority_host"):
            value = getattr(signin, dest)
            if value:
                given.setdefault(dest, value)
    return ConvertOptions(login=signin.login, given=given, command=command, allow_secrets=allow_secrets,
                          azure_config_dir=azure_config_dir, api_version=api_version)


def fetch(session: Session, subscription: str, resource_group: str, name: str, settings: ImportSettings,
          azure_rbac: bool | None = None) -> KubeConfig:
    """The cluster's kubeconfig as ARM returns it, parsed, with the cluster's resource id (and, when known,
    whether it authorizes with Azure RBAC) recorded on its entry."""
    results = session.arm.credentials(subscription, resource_group, name, settings.kind, settings.fmt,
                                      settings.public_fqdn)
    config = files.parse(results[0].text, f"the kubeconfig ARM returned for {name}")
    record_cluster(config, cluster_resource_id(subscription, resource_group, name), azure_rbac, session.arm.endpoint)
    return config


def fetch_hub(session: Session, subscription: str, resource_group: str, name: str) -> KubeConfig:
    """An AKS Fleet Manager hub's kubeconfig (``fleets/{name}/listCredentials``), recorded like a cluster's: the
    hub always authorizes with Azure RBAC, on the fleet's resource id."""
    results = session.arm.fleet_credentials(subscription, resource_group, name)
    config = files.parse(results[0].text, f"the kubeconfig ARM returned for fleet {name}")
    fleet_id = (f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/"
                f"Microsoft.ContainerService/fleets/{name}")
    record_cluster(config, fleet_id, True, session.arm.endpoint)
    return config


def record_cluster(config: KubeConfig, resource_id: str, azure_rbac: bool | None, arm_endpoint: str) -> None:
    """Note the cluster's Azure resource id, whether Azure role assignments authorize on it, and the Resource
    Manager that said so, on its kubeconfig entry (an extension kubectl keeps and ignores): explain-forbidden
    and rbac bind need them."""
    from akslogin.kubeconfig.resolved import AZURE_EXTENSION

    extension: dict[str, Any] = {"resourceId": resource_id, "resourceManager": arm_endpoint}
    if azure_rbac is not None:
        extension["azureRBAC"] = azure_rbac
    for name in config.names("clusters"):
        body = config.get("clusters", name)
        if body is None:
            continue
        others = [e for e in body.get("extensions") or []
                  if not (isinstance(e, dict) and e.get("name") == AZURE_EXTENSION)]
        body["extensions"] = [*others, {"name": AZURE_EXTENSION, "extension": extension}]


def cluster_resource_id(subscription: str, resource_group: str, name: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/"
            f"Microsoft.ContainerService/managedClusters/{name}")


def rename(config: KubeConfig, context: str, *, cluster_name: str | None = None,
           user_name: str | None = None) -> None:
    """Rename the (single) imported context, and optionally its cluster and user entries, keeping references."""
    old_ctx, body = config.resolve_context(None)
    if cluster_name and body.get("cluster") and cluster_name != body["cluster"]:
        config.rename("clusters", str(body["cluster"]), cluster_name)
        body["cluster"] = cluster_name
    if user_name and body.get("user") and user_name != body["user"]:
        config.rename("users", str(body["user"]), user_name)
        body["user"] = user_name
    merge.rename_context(config, old_ctx, context)
    config.current_context = context


def default_context(config: KubeConfig, settings: ImportSettings) -> str:
    name, body = config.resolve_context(None)
    # As az does: an admin context gets "-admin" so it does not replace the user context of the same cluster.
    if str(body.get("user", "")).startswith("clusterAdmin") and not name.endswith("-admin"):
        return f"{name}-admin"
    return name


@dataclass
class Prepared:
    secrets_written: list[str] = field(default_factory=list)
    embedded: int = 0
    earliest_expiry: float = float("inf")

    def add(self, other: Prepared) -> None:
        self.secrets_written += [s for s in other.secrets_written if s not in self.secrets_written]
        self.embedded += other.embedded
        self.earliest_expiry = min(self.earliest_expiry, other.earliest_expiry)


def prepare(session: Session, config: KubeConfig, settings: ImportSettings) -> Prepared:
    """Convert (and embed a token for) the imported Entra users in place."""
    done = Prepared()
    if not settings.convert:
        return done
    result = convert(config, settings.convert_opts)
    done.secrets_written = result.secrets_written
    if settings.embed_style is not None and result.converted:
        from akslogin.usecases.embed import embed_users

        done.earliest_expiry = embed_users(config, result.converted, settings.embed_style, session.environ,
                                           session.stderr, session.log, session.clock)
        done.embedded = len(result.converted)
    return done


def report_prepared(stderr: TextIO, done: Prepared, target: str) -> None:
    where = "the printed kubeconfig" if target == "-" else target
    if done.secrets_written:
        stderr.write(f"akslogin: warning: {', '.join(done.secrets_written)} written in clear text into {where}, "
                     "as asked with --allow-secrets-in-kubeconfig. Anyone who can read it can sign in as this "
                     "identity; prefer the environment variables (e.g. AAD_SERVICE_PRINCIPAL_CLIENT_SECRET) at "
                     "kubectl time.\n")
    if done.embedded:
        from akslogin.usecases.embed import warn_embedded

        warn_embedded(stderr, where, done.embedded, done.earliest_expiry)
