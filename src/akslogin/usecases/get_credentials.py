"""get-credentials: from an identity to a working kubectl context, through ARM.

``run`` takes a GetCredentialsRequest (what the flags said) and does the whole command:

sign in for ARM (any login mode, cached like get-token) → list{User,Admin,MonitoringUser}Credential →
rename (--context, admin contexts) → convert Entra users to the akslogin exec plugin for the chosen login
mode (or embed a token) → merge into the kubeconfig under its lock, or print it with ``--file -``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from akslogin import options
from akslogin.arm import Subscription
from akslogin.errors import UsageError
from akslogin.http import HttpClient, MakeHttp
from akslogin.kubeconfig import files, merge, paths
from akslogin.kubeconfig.model import KubeConfig
from akslogin.log import Log
from akslogin.output import emit, printable
from akslogin.resourcegraph import Filters, Scope
from akslogin.usecases import fleet
from akslogin.usecases.arm_import import (
    ImportSettings,
    Session,
    conversion_for,
    default_context,
    fetch,
    fetch_hub,
    open_session,
    prepare,
    rename,
    report_prepared,
)

#: --timeout for --all when none is given (one cluster keeps get-token's 60 s).
ALL_TIMEOUT = "30m"
ADMIN_WARNING = (
    "akslogin: warning: --admin fetches the cluster's local admin credential: a client certificate in the "
    "system:masters group (cluster-admin on everything), valid for two years and not tied to any Entra ID "
    "identity, so it cannot be revoked per user, bypasses Conditional Access and leaves no Entra sign-in trail. "
    "Use it for break-glass only, keep the file private, and prefer your Entra identity with a Kubernetes role."
)




@dataclass
class GetCredentialsRequest:
    """What the get-credentials flags say; ``signin`` holds the sign-in flags (``explicit``: those given)."""

    signin: options.TokenOptions
    resource_group: str | None = None
    name: str | None = None
    subscriptions: list[str] = field(default_factory=list)
    all: bool = False
    max_concurrency: int = 16
    admin: bool = False
    user: str = "clusterUser"  # clusterUser | clusterMonitoringUser
    format: str | None = None
    public_fqdn: bool = False
    file: str | None = None
    overwrite: bool = False
    context: str | None = None
    convert: bool = True
    exec_command: str = "akslogin"
    allow_secrets: bool = False
    embed_tokens: str | None = None
    azure_config_dir: str | None = None
    exec_api_version: str | None = None
    output: str = "table"
    arm_endpoint: str | None = None
    arm_resource: str | None = None
    #: --all's filters and scopes (--resource-group may be repeated with --all).
    resource_groups: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    management_group: str | None = None
    tenants: list[str] = field(default_factory=list)
    all_tenants: bool = False
    split_by: tuple[str, str] | None = None
    #: --fleet: an AKS Fleet Manager hub's kubeconfig instead of a cluster's.
    fleet: str | None = None

    def check(self) -> None:
        """The flag combinations that cannot work, refused before anything signs in."""
        if self.resource_group and not self.resource_groups:
            self.resource_groups = [self.resource_group]
        only_all = [flag for flag, given in (("--tag", self.tags), ("--location", self.locations),
                                             ("--management-group", self.management_group),
                                             ("--tenant", self.tenants), ("--all-tenants", self.all_tenants),
                                             ("--split-by", self.split_by)) if given]
        if only_all and not self.all:
            raise UsageError(f"{', '.join(only_all)} choose(s) what --all imports; add --all.",
                             "e.g. akslogin get-credentials --all --tag env=prod --location westeurope")
        if self.fleet:
            if self.all or self.name or len(self.resource_groups) != 1:
                raise UsageError("--fleet NAME takes the fleet's --resource-group (one), not --name or --all.",
                                 "e.g. akslogin get-credentials --fleet fleet-prod -g rg-fleet")
            self.resource_group = self.resource_groups[0]
            return self._check_common()
        if self.all:
            if self.name or self.context:
                raise UsageError("--all imports every cluster; it does not take --name or --context (--resource-group "
                                 "limits it to those resource groups).")
            for tag in self.tags:
                key, eq, _ = tag.partition("=")
                if not eq or not key.strip():
                    raise UsageError(f"--tag takes name=value, not {tag!r}.", "e.g. --tag env=prod")
            odd = next((v for v in (*self.tags, *self.locations, *self.resource_groups)
                        if any(ord(ch) < 32 or ord(ch) == 127 for ch in v)), None)
            if odd is not None:
                raise UsageError(f"{odd!r} holds a control character; Azure names, regions and tags never do.")
            if self.tenants and self.all_tenants:
                raise UsageError("--tenant names tenants; --all-tenants takes every tenant. Pick one.")
            if self.management_group and len(self.subscriptions) > 0:
                raise UsageError("--management-group and --subscription both choose subscriptions; pick one.")
            if self.split_by is not None and self.split_by[0] not in fleet.SPLIT_KEYS:
                raise UsageError(f"--split-by takes subscription or tenant, then a directory; not "
                                 f"{self.split_by[0]!r}.", "e.g. --split-by subscription ~/.kube/estate")
            if self.split_by is not None and self.file:
                raise UsageError("--split-by writes one file per subscription or tenant in its directory; drop --file.")
        else:
            if len(self.resource_groups) > 1:
                raise UsageError("give one --resource-group for one cluster (several only with --all).")
            self.resource_group = self.resource_groups[0] if self.resource_groups else self.resource_group
            if not self.resource_group or not self.name:
                raise UsageError("--resource-group and --name are required (or --all).",
                                 "e.g. akslogin get-credentials -g rg-prod -n aks-prod --login spn -t <tenant>")
            if len(self.subscriptions) > 1:
                raise UsageError("give one --subscription for one cluster (several only with --all).")
        self._check_common()

    def _check_common(self) -> None:
        if self.admin and self.format:
            raise UsageError("--format can only be specified when requesting clusterUser credential.")
        if self.admin and self.user != "clusterUser":
            raise UsageError("--admin and --user clusterMonitoringUser are different credentials; pick one.")
        if self.embed_tokens and not self.convert:
            raise UsageError("--embed-tokens needs the converted entry; drop --no-convert.")
        if self.file == "-" and self.output != "table":
            raise UsageError("--file - prints the kubeconfig itself; --output json|yaml describes an import into a "
                             "file.")
        if self.max_concurrency < 1 or self.max_concurrency > 64:
            raise UsageError("--max-concurrency takes a number from 1 to 64.")

    @property
    def kind(self) -> str:
        return "admin" if self.admin else "monitoring" if self.user == "clusterMonitoringUser" else "user"


def run(req: GetCredentialsRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO, *,
        make_http: MakeHttp = HttpClient) -> int:
    """One cluster (or, with --all, every cluster the identity sees) merged into the kubeconfig; exit code."""
    req.check()
    signin = req.signin
    if req.all and not signin.timeout:
        # An estate's import runs for minutes; the time limit still holds every wait, and progress shows it lives.
        signin.timeout = ALL_TIMEOUT
    if signin.login == "azurecli" and len(req.subscriptions) == 1:
        signin.subscription = req.subscriptions[0]  # az picks the subscription's tenant for the ARM token
    log = Log(signin.verbosity_level, stderr)
    target = "-" if req.file == "-" else paths.write_path(req.file, environ)

    def settings_of(signin: options.TokenOptions) -> ImportSettings:
        return ImportSettings(
            kind=req.kind, fmt=req.format, public_fqdn=req.public_fqdn, convert=req.convert,
            convert_opts=conversion_for(signin, command=req.exec_command, allow_secrets=req.allow_secrets,
                                        azure_config_dir=req.azure_config_dir, api_version=req.exec_api_version),
            embed_style=req.embed_tokens, overwrite=req.overwrite,
        )

    settings = settings_of(signin)
    if req.admin:
        stderr.write(ADMIN_WARNING + "\n")
    if not req.allow_secrets and req.convert:
        note_unwritten_secrets(signin, stderr)

    def connect(signin: options.TokenOptions) -> Session:
        return open_session(signin, environ, stderr, log, arm_endpoint=req.arm_endpoint,
                            arm_resource=req.arm_resource, pool_size=max(10, req.max_concurrency),
                            make_http=make_http)

    if not req.all:
        session = connect(signin)
        assert req.resource_group is not None  # check() said so
        subscription = resolve_subscription(session, req.subscriptions[0] if req.subscriptions else None)
        if req.fleet:
            config = fetch_hub(session, subscription, req.resource_group, req.fleet)
            session.stderr.write(f"akslogin: note: the hub of fleet {req.fleet} authorizes with Azure RBAC: access "
                                 "is granted by the Azure Kubernetes Fleet Manager RBAC roles (Reader, Writer, Admin, "
                                 "Cluster Admin) on the fleet.\n")
            context = import_one(session, subscription, req.resource_group, req.fleet, settings,
                                 context=req.context, target=target, out=stdout, fetched=config)
        else:
            assert req.name is not None
            context = import_one(session, subscription, req.resource_group, req.name, settings, context=req.context,
                                 target=target, out=stdout)
        if req.output != "table":
            data = {"context": context, "file": target, "subscription": subscription,
                    "resource_group": req.resource_group, "name": req.fleet or req.name, "credential": req.kind}
            emit(stdout, req.output, data, lambda _painter: "")
        return 0

    if (req.tenants or req.all_tenants) and any(not _GUID.match(s.strip()) for s in req.subscriptions):
        raise UsageError("with --tenant or --all-tenants, give --subscription as ids (a name is looked up in one "
                         "tenant).")
    if req.split_by is not None:
        fleet.split_directory(req.split_by[1])  # before any sign-in: a path that cannot be a directory fails now
    sources = estate_sources(req, signin, connect, settings_of, stderr)
    scope = Scope(management_group=req.management_group)
    if req.subscriptions:
        first = sources[0].connect()[0] if len(sources) == 1 else None
        scope.subscriptions = subscription_ids(first, req.subscriptions) if first is not None else [
            s.strip() for s in req.subscriptions]
    filters = Filters(tags=tuple((k.strip(), v) for k, _, v in (t.partition("=") for t in req.tags)),
                      locations=tuple(req.locations), resource_groups=tuple(req.resource_groups))
    result = fleet.import_fleet(sources, scope=scope, filters=filters, target=target, split_by=req.split_by,
                                max_concurrency=req.max_concurrency, progress=stderr, out=stdout)
    summary = stderr if target == "-" else stdout
    emit(summary, req.output, fleet.summary_data(result, target),
         lambda painter: fleet.render_summary(result, target, painter))
    report_prepared(stderr, result.prepared, target)
    if result.files:
        sep = ";" if os.name == "nt" else ":"
        stderr.write(f"akslogin: note: kubectl reads them all when KUBECONFIG lists them, '{sep}'-separated "
                     f"(e.g. {sep.join(result.files[:2])}{sep}...).\n")
    return 1 if result.failed else 0


def estate_sources(req: GetCredentialsRequest, signin: options.TokenOptions,
                   connect: Callable[[options.TokenOptions], Session],
                   settings_of: Callable[[options.TokenOptions], ImportSettings], stderr: TextIO) -> list[fleet.Source]:
    """The tenants --all imports from: the sign-in's own, each --tenant, or with --all-tenants every tenant the
    identity has a presence in (GET /tenants); each signs in on its own, once, when its turn comes."""
    opened: dict[str, Session] = {}

    def source(tenant: str | None) -> fleet.Source:
        def open_one() -> tuple[Session, ImportSettings]:
            key = (tenant or "").lower()
            own = signin if tenant is None else signin.replace(tenant_id=tenant,
                                                                explicit=signin.explicit | {"tenant_id"})
            if key not in opened:
                opened[key] = connect(own)
            return opened[key], settings_of(own)
        return fleet.Source(tenant or signin.tenant_id or "", open_one)

    if req.all_tenants:
        home = source(None)
        session, _ = home.connect()
        tenants = [t.id for t in session.arm.list_tenants()]
        stderr.write(f"akslogin: note: {len(tenants)} tenant(s) to import from; each signs in on its own.\n")
        home_id = (signin.tenant_id or "").lower()
        return [home if t.lower() == home_id else source(t) for t in tenants] or [home]
    if req.tenants:
        unique = list(dict.fromkeys(t.strip() for t in req.tenants if t.strip()))
        return [source(t) for t in unique]
    return [source(None)]


def authorization_of(session: Session, subscription: str, resource_group: str, name: str) -> bool | None:
    """Whether the cluster authorizes with Azure RBAC (one GET), or None when it may not be read: the import
    goes on either way, and says which model the cluster uses."""
    from akslogin.errors import AksloginError

    try:
        cluster = session.arm.get_cluster(subscription, resource_group, name)
    except AksloginError as exc:
        session.log(1, f"could not read cluster {name} ({exc.message.rstrip('.')}); its authorization model is "
                       "not recorded")
        return None
    if cluster.azure_rbac:
        session.stderr.write(f"akslogin: note: {name} authorizes with Azure RBAC for Kubernetes: access is granted "
                             "by Azure role assignments (akslogin rbac bind writes them).\n")
    return cluster.azure_rbac


def import_one(session: Session, subscription: str, resource_group: str, name: str, settings: ImportSettings,
               *, context: str | None, target: str, out: TextIO, fetched: KubeConfig | None = None) -> str:
    """Fetch (unless ``fetched``), prepare and merge (or print) one cluster's credential; returns the context
    name."""
    config = fetched or fetch(session, subscription, resource_group, name, settings,
                              azure_rbac=authorization_of(session, subscription, resource_group, name))
    new_name = context or default_context(config, settings)
    # --context renames the context and its cluster entry, as az does (the admin suffix only applies by default).
    rename(config, new_name, cluster_name=context)
    done = prepare(session, config, settings)
    if target == "-":
        out.write(files.dump(config))
        out.flush()
    else:
        def change(existing: KubeConfig) -> merge.MergeResult:
            if context and not settings.overwrite:
                # The same cluster signed in another way (a person's device code beside a CI principal): the
                # user entry az names after the cluster differs, so it takes the --context name too.
                _, body = config.resolve_context(new_name)
                user = str(body.get("user") or "")
                if ("users", user) in merge.conflicts(existing, config):
                    rename(config, new_name, user_name=new_name)
            return merge.merge(existing, config, overwrite=settings.overwrite, set_current=new_name)

        # Replacing entries (--overwrite-existing) rewrites the user's file: keep the previous version.
        files.update(target, change, keep_backup=settings.overwrite, skip_unchanged=settings.overwrite,
                     notify=lambda note: session.stderr.write(f"akslogin: note: {note}\n"))
        session.stderr.write(printable(f'Merged "{new_name}" as current context in {target}') + "\n")
    report_prepared(session.stderr, done, target)
    return new_name


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def subscription_ids(session: Session, given: list[str]) -> list[str]:
    """Each ``--subscription`` as an id, in order and once: ids compare case-insensitively (as ARM compares
    them), and a name is looked up among the identity's subscriptions (as az does), listed once."""
    seen: set[str] = set()
    found: list[str] = []
    listed: list[Subscription] | None = None
    for value in given:
        value = value.strip()
        if not _GUID.match(value):
            listed = listed if listed is not None else session.arm.list_subscriptions()
            value = subscription_by_name(listed, value)
        if value.lower() not in seen:
            seen.add(value.lower())
            found.append(value)
    return found


def subscription_by_name(subscriptions: list[Subscription], name: str) -> str:
    """The id of the one subscription whose display name is ``name`` (any case); a UsageError listing what
    there is when none or several are."""
    matches = [s for s in subscriptions if s.display_name.lower() == name.lower()]
    if len(matches) == 1:
        return matches[0].id
    if matches:
        ids = ", ".join(s.id for s in matches)
        raise UsageError(f"{len(matches)} subscriptions are named {name!r}: {ids}.", "Pass the id instead.")
    seen = ", ".join(f"{s.display_name} ({s.id})" for s in subscriptions[:10]) + (
        f" and {len(subscriptions) - 10} more" if len(subscriptions) > 10 else "")
    raise UsageError(f"no subscription named {name!r} is visible to this identity.",
                     f"Pass a subscription id or one of these names: {seen or 'none at all'}.")


def resolve_subscription(session: Session, given: str | None) -> str:
    """--subscription (an id, or a name as az takes it), else AZURE_SUBSCRIPTION_ID / ARM_SUBSCRIPTION_ID, else
    (--login azurecli) az's current subscription, else the only one the identity sees."""
    if given:
        return subscription_ids(session, [given])[0]
    for var in ("AZURE_SUBSCRIPTION_ID", "ARM_SUBSCRIPTION_ID"):
        if session.environ.get(var):
            return session.environ[var]
    if session.signin.login == "azurecli":
        from akslogin.credentials.azure_cli import current_subscription

        current = current_subscription(session.environ)
        if current:
            session.log(1, f"using az's current subscription {current}")
            return current
    subs = session.arm.list_subscriptions()
    if len(subs) == 1:
        session.log(1, f"using the only subscription this identity sees: {subs[0].id} ({subs[0].display_name})")
        return subs[0].id
    if not subs:
        raise UsageError("this identity sees no subscription.",
                         "Pass --subscription, and check its Azure role assignments.")
    listed = ", ".join(f"{s.id} ({s.display_name})" for s in subs[:10]) + (" ..." if len(subs) > 10 else "")
    raise UsageError(f"this identity sees {len(subs)} subscriptions; say which one holds the cluster.",
                     f"Pass --subscription (or set AZURE_SUBSCRIPTION_ID). Seen: {listed}.")


def note_unwritten_secrets(signin: options.TokenOptions, stderr: TextIO) -> None:
    given = [d for d in sorted(options.SECRET_DESTS) if d in signin.explicit]
    if given:
        flags = ", ".join("--" + d.replace("_", "-") for d in given)
        stderr.write(f"akslogin: note: {flags} signed in to Resource Manager but is not written into the "
                     "kubeconfig; kubectl will need it from the environment (AAD_SERVICE_PRINCIPAL_CLIENT_SECRET, "
                     "AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_PASSWORD, ...), or pass "
                     "--allow-secrets-in-kubeconfig.\n")
