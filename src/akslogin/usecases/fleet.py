"""get-credentials --all: every managed cluster an identity can reach, merged in one write (or one per file).

With --split-by, one kubeconfig per subscription or tenant.

Clusters are found with Resource Graph (:mod:`.discover`; per-subscription listing when it is refused) in each
tenant asked for (each signs in on its own); each cluster's credential is fetched on a bounded thread pool as soon
as it is known, spread over subscriptions so that no subscription's write budget is spent first (one ARM token
and HTTP connection pool per tenant). A failure on one cluster (e.g. 403) is recorded and the rest go on. Context
names are unique and stable across runs: ``<name>``, else ``<name>-<resource group>``, else
``<name>-<resource group>-<subscription[:8]>``. Each file's merge is one locked, atomic write; a name already used
by a different entry is skipped unless --overwrite-existing.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

from akslogin import fileops
from akslogin.arm import ManagedCluster
from akslogin.errors import AksloginError
from akslogin.kubeconfig import files, merge
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError
from akslogin.output import printable, table
from akslogin.resourcegraph import Filters, Scope
from akslogin.term import Painter, is_terminal
from akslogin.usecases.arm_import import ImportSettings, Prepared, Session, fetch, prepare, rename
from akslogin.usecases.discover import Discovery, discover

DEFAULT_CONCURRENCY = 16
ALL_CLUSTERS = "(all clusters)"
SPLIT_KEYS = ("subscription", "tenant")


@dataclass
class Outcome:
    subscription: str
    resource_group: str
    name: str
    context: str = ""
    status: str = "failed"  # imported | unchanged | skipped | failed
    reason: str = ""
    tenant: str = ""
    file: str = ""


@dataclass
class FleetResult:
    outcomes: list[Outcome] = field(default_factory=list)
    subscriptions: int = 0
    prepared: Prepared = field(default_factory=Prepared)
    #: How clusters were found ("resource graph" or "listing", per tenant) and with how many requests.
    discovery: list[Discovery] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


@dataclass
class Source:
    """One tenant to import from: ``connect`` signs in (lazily, one tenant after another) and says how its
    clusters' entries are converted."""

    tenant: str
    connect: Callable[[], tuple[Session, ImportSettings]]


@dataclass
class Fetched:
    cluster: ManagedCluster
    config: KubeConfig
    session: Session
    settings: ImportSettings


@dataclass
class Collected:
    fetched: list[Fetched] = field(default_factory=list)
    failures: list[Outcome] = field(default_factory=list)
    discovery: Discovery = field(default_factory=Discovery)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, AksloginError):
        return exc.render().removeprefix("akslogin: ")
    return f"unexpected error: {type(exc).__name__}"


class Progress:
    """How a long import is going, on stderr: one self-overwriting line on a terminal; elsewhere (a CI log) a plain
    line at most every ``interval`` seconds, so a run of thousands of clusters shows it is alive."""

    INTERVAL = 5.0

    def __init__(self, stream: TextIO | None, *, clock: Callable[[], float] = time.monotonic,
                 interval: float = INTERVAL, terminal: bool | None = None) -> None:
        self.stream = stream
        self.terminal = is_terminal(stream) if terminal is None else terminal
        self.lock = threading.Lock()
        self.found = self.done = self.failed = 0
        self.clock, self.interval = clock, interval
        self.last = clock()

    def update(self, *, found: int = 0, done: int = 0, failed: int = 0) -> None:
        with self.lock:
            self.found += found
            self.done += done
            self.failed += failed
            if self.stream is None:
                return
            if self.terminal:
                self.stream.write(f"\r\033[Kfetching credentials: {self.done}/{self.found} clusters"
                                  f" ({self.failed} failed)")
                self.stream.flush()
            elif self.clock() - self.last >= self.interval:
                self.last = self.clock()
                self.stream.write(f"akslogin: get-credentials --all: {self.done} done, {self.failed} failed, "
                                  f"{self.found - self.done} left ({self.found} clusters found so far)\n")
                self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.terminal:
            self.stream.write("\r\033[K")
            self.stream.flush()


def spread(clusters: Sequence[ManagedCluster]) -> list[ManagedCluster]:
    """Round-robin over subscriptions (a1 b1 c1 a2 b2 ...): parallel credential requests land in different
    subscriptions, whose write budgets are separate, instead of using up one subscription's first."""
    queues: OrderedDict[str, deque[ManagedCluster]] = OrderedDict()
    for c in clusters:
        queues.setdefault(c.subscription_id.lower(), deque()).append(c)
    out: list[ManagedCluster] = []
    while queues:
        for key in list(queues):
            out.append(queues[key].popleft())
            if not queues[key]:
                del queues[key]
    return out


def settings_for(settings: ImportSettings, cluster: ManagedCluster) -> ImportSettings:
    """The cluster's own Entra tenant (aadProfile.tenantID) in its exec block, where the sign-in named one."""
    given = settings.convert_opts.given
    named = str(given.get("tenant_id") or "")
    if not cluster.tenant_id or not named or named.lower() == cluster.tenant_id.lower():
        return settings
    convert_opts = dataclasses.replace(settings.convert_opts, given={**given, "tenant_id": cluster.tenant_id})
    return dataclasses.replace(settings, convert_opts=convert_opts)


def unique_names(clusters: list[ManagedCluster], admin: bool) -> dict[str, tuple[str, str]]:
    """ARM id → (context/cluster entry name, user entry name), unique within the batch and stable."""
    by_name = Counter(c.name.lower() for c in clusters)
    by_name_rg = Counter((c.name.lower(), c.resource_group.lower()) for c in clusters)
    taken: set[str] = set()
    out: dict[str, tuple[str, str]] = {}
    for c in sorted(clusters, key=lambda c: (c.name.lower(), c.resource_group.lower(), c.subscription_id.lower())):
        sub8 = c.subscription_id[:8]
        if by_name[c.name.lower()] == 1:
            base = c.name
        elif by_name_rg[(c.name.lower(), c.resource_group.lower())] == 1:
            base = f"{c.name}-{c.resource_group}"
        else:
            base = f"{c.name}-{c.resource_group}-{sub8}"
        if admin:
            base += "-admin"
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.lower())
        kind = "clusterAdmin" if admin else "clusterUser"
        user = f"{kind}_{c.resource_group}_{c.name}"
        if by_name_rg[(c.name.lower(), c.resource_group.lower())] > 1:
            user += f"_{sub8}"
        out[c.id.lower()] = (name, user)
    return out


def collect(session: Session, scope: Scope, filters: Filters, settings: ImportSettings, max_concurrency: int,
            bar: Progress, tenant: str = "") -> Collected:
    """Find the clusters and fetch each one's kubeconfig in parallel, as soon as it is found."""
    got = Collected()
    lock = threading.Lock()

    def fetch_one(cluster: ManagedCluster) -> None:
        own = settings_for(settings, cluster)
        try:
            config = fetch(session, cluster.subscription_id, cluster.resource_group, cluster.name, own,
                           azure_rbac=cluster.azure_rbac)
        except Exception as exc:  # one cluster's failure must not stop the others
            with lock:
                got.failures.append(Outcome(cluster.subscription_id, cluster.resource_group, cluster.name,
                                            reason=_reason(exc), tenant=cluster.tenant_id or tenant))
            bar.update(done=1, failed=1)
            return
        with lock:
            got.fetched.append(Fetched(cluster, config, session, own))
        bar.update(done=1)

    jobs: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=max(1, max_concurrency), thread_name_prefix="akslogin-fleet") as pool:
        try:
            for batch in discover(session, scope, filters, concurrency=max_concurrency, found=got.discovery,
                                  reason=_reason):
                bar.update(found=len(batch))
                jobs.extend(pool.submit(fetch_one, c) for c in spread(batch))
        except Exception as exc:  # discovery stopped half-way: what was found is still imported
            got.failures.append(Outcome("", "", ALL_CLUSTERS, reason=_reason(exc), tenant=tenant))
            bar.update(failed=1)
        for job in jobs:
            job.result()
    for sub, why in got.discovery.unlisted:
        got.failures.append(Outcome(sub, "", ALL_CLUSTERS, reason=why, tenant=tenant))
        bar.update(failed=1)
    return got


def import_fleet(sources: Sequence[Source], *, scope: Scope, filters: Filters, target: str,
                 split_by: tuple[str, str] | None = None, max_concurrency: int = DEFAULT_CONCURRENCY,
                 progress: TextIO | None = None, out: TextIO | None = None) -> FleetResult:
    result = FleetResult()
    bar = Progress(progress)
    fetched: list[Fetched] = []
    subscriptions: set[str] = set()
    admin = False
    try:
        for source in sources:
            try:
                session, settings = source.connect()
            except AksloginError as exc:  # this tenant's sign-in failed: the others still import
                result.outcomes.append(Outcome("", "", ALL_CLUSTERS, tenant=source.tenant,
                                               reason=f"signing in to tenant {source.tenant}: {_reason(exc)}"))
                continue
            admin = settings.kind == "admin"
            got = collect(session, scope, filters, settings, max_concurrency, bar, source.tenant)
            fetched.extend(got.fetched)
            result.outcomes.extend(got.failures)
            result.discovery.append(got.discovery)
            subscriptions |= got.discovery.subscriptions
    finally:
        bar.close()
    result.subscriptions = len(subscriptions)
    names = unique_names([f.cluster for f in fetched], admin=admin)
    prepared: list[tuple[Outcome, KubeConfig, Fetched]] = []
    for item in sorted(fetched, key=lambda f: names[f.cluster.id.lower()][0].lower()):
        cluster = item.cluster
        context, user = names[cluster.id.lower()]
        outcome = Outcome(cluster.subscription_id, cluster.resource_group, cluster.name, context,
                          tenant=cluster.tenant_id)
        try:
            rename(item.config, context, cluster_name=context, user_name=user)
            result.prepared.add(prepare(item.session, item.config, item.settings))
        except AksloginError as exc:
            outcome.reason = _reason(exc)
            result.outcomes.append(outcome)
            continue
        prepared.append((outcome, item.config, item))

    overwrite = bool(prepared) and prepared[0][2].settings.overwrite
    if target == "-":
        combined = KubeConfig({})
        for outcome, config, _ in prepared:
            merge.merge(combined, config, overwrite=True)
            outcome.status = "imported"
        if out is not None:
            out.write(files.dump(combined))
            out.flush()
    elif split_by is not None:
        key, directory = split_by
        groups: dict[str, list[tuple[Outcome, KubeConfig]]] = {}
        for outcome, config, item in prepared:
            name = item.cluster.subscription_id if key == "subscription" else (
                item.cluster.tenant_id or item.session.signin.tenant_id or "tenant")
            groups.setdefault(name.lower(), []).append((outcome, config))
        if groups:
            split_directory(directory)
        for name, members in sorted(groups.items()):
            path = os.path.join(directory, f"{_file_safe(name)}.yaml")
            for outcome, _ in members:
                outcome.file = path
            files.update(path, _merge_all(members, overwrite), keep_backup=overwrite, skip_unchanged=overwrite)
            result.files.append(path)
    elif prepared:
        files.update(target, _merge_all([(o, c) for o, c, _ in prepared], overwrite), keep_backup=overwrite,
                     skip_unchanged=overwrite)
    result.outcomes.extend(o for o, _, _ in prepared)
    result.outcomes.sort(key=lambda o: (o.context or o.name).lower())
    return result


def split_directory(directory: str) -> None:
    """Make --split-by's directory (and its parents, 0755 as kubectl makes them), or say why it cannot be."""
    try:
        fileops.make_dirs(directory)
    except OSError as exc:
        why = "it is not a directory" if os.path.lexists(directory) and not os.path.isdir(directory) else (
            exc.strerror or type(exc).__name__)
        raise KubeconfigError(f"cannot write the kubeconfigs into {directory}: {why}.",
                              "--split-by takes a directory; it is created when missing.") from None


def _file_safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:100] or "_"


def _merge_all(prepared: list[tuple[Outcome, KubeConfig]], overwrite: bool) -> Callable[[KubeConfig], None]:
    def change(existing: KubeConfig) -> None:
        for outcome, config in prepared:
            try:
                merged = merge.merge(existing, config, overwrite=overwrite)
            except KubeconfigError as exc:
                said = exc.message.removeprefix(existing.source).strip().rstrip(".")
                outcome.status = "skipped"
                outcome.reason = f"the kubeconfig {said} (--overwrite-existing replaces it)"
                continue
            outcome.status = "imported" if merged.added or merged.replaced else "unchanged"
        if not existing.current_context:
            # A new file (or one without a current context): kubectl needs one to do anything; the first
            # imported context, in the order of the summary, as a single import would set its own.
            first = next((o.context for o, _ in sorted(prepared, key=lambda p: p[0].context.lower())
                          if o.status == "imported"), "")
            if first:
                existing.current_context = first
    return change


def summary_data(result: FleetResult, target: str) -> dict[str, Any]:
    """The fleet import as plain data (``--output json|yaml``)."""
    data: dict[str, Any] = {
        "file": "-" if target == "-" else target,
        "subscriptions": result.subscriptions,
        "counts": {s: result.count(s) for s in ("imported", "unchanged", "skipped", "failed")},
        "clusters": [{"context": o.context, "name": o.name, "resource_group": o.resource_group,
                      "subscription": o.subscription, "status": o.status, "reason": o.reason}
                     | ({"tenant": o.tenant} if o.tenant else {}) | ({"file": o.file} if o.file else {})
                     for o in result.outcomes],
        "discovery": [{"via": d.via, "requests": d.requests} for d in result.discovery],
    }
    if result.files:
        data["file"] = os.path.dirname(result.files[0])
        data["files"] = result.files
    return data


def render_summary(result: FleetResult, target: str, painter: Painter | None = None) -> str:
    rows = []
    for o in result.outcomes:
        status = o.status + (f": {o.reason}" if o.reason else "")
        where = o.subscription[:8] or (f"tenant {o.tenant[:8]}" if o.tenant else "-")
        rows.append((o.context or o.name, o.resource_group or "-", where, status))
    text = table(("CONTEXT", "RESOURCE GROUP", "SUBSCRIPTION", "RESULT"), rows, painter, status_column=3)
    clusters = sum(1 for o in result.outcomes if o.name != ALL_CLUSTERS)
    where = "stdout" if target == "-" else target
    if result.files:
        where = f"{len(result.files)} files in {os.path.dirname(result.files[0])}"
    tenants = f" of {len(result.discovery)} tenants" if len(result.discovery) > 1 else ""
    return text + printable(
        f"{result.count('imported')} imported, {result.count('unchanged')} unchanged, {result.count('skipped')} "
        f"skipped, {result.count('failed')} failed ({clusters} clusters in {result.subscriptions} "
        f"subscription(s){tenants}) → {where}") + "\n"
