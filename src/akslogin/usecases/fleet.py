"""get-credentials --all: every managed cluster of every (or the given) subscription, in one kubeconfig write.

Subscriptions are listed once; each subscription's cluster list and each cluster's credential are fetched on a
bounded thread pool as soon as they are known (one ARM token, one HTTP connection pool). A failure on one
cluster (e.g. 403) is recorded and the rest go on. Context names are unique and stable across runs:
``<name>``, else ``<name>-<resource group>``, else ``<name>-<resource group>-<subscription[:8]>``. The merge is
one locked, atomic write; a name already used by a different entry is skipped unless --overwrite-existing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

from akslogin.arm import ManagedCluster
from akslogin.errors import AksloginError
from akslogin.kubeconfig import files, merge
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError
from akslogin.output import table
from akslogin.term import Painter, is_terminal
from akslogin.usecases.arm_import import ImportSettings, Prepared, Session, fetch, prepare, rename

DEFAULT_CONCURRENCY = 16
ALL_CLUSTERS = "(all clusters)"


@dataclass
class Outcome:
    subscription: str
    resource_group: str
    name: str
    context: str = ""
    status: str = "failed"  # imported | unchanged | skipped | failed
    reason: str = ""


@dataclass
class FleetResult:
    outcomes: list[Outcome] = field(default_factory=list)
    subscriptions: int = 0
    prepared: Prepared = field(default_factory=Prepared)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, AksloginError):
        return exc.render().removeprefix("akslogin: ")
    return f"unexpected error: {type(exc).__name__}"


class _Progress:
    """A single self-overwriting line on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream if is_terminal(stream) else None
        self.lock = threading.Lock()
        self.done = self.total = self.failed = 0
        self.listing = 0

    def update(self, *, total: int = 0, done: int = 0, failed: int = 0, listing: int = 0) -> None:
        with self.lock:
            self.total += total
            self.done += done
            self.failed += failed
            self.listing += listing
            if self.stream is not None:
                pending = f", listing {self.listing} subscription(s)" if self.listing else ""
                self.stream.write(f"\r\033[Kfetching credentials: {self.done}/{self.total} clusters"
                                  f" ({self.failed} failed){pending}")
                self.stream.flush()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()


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


def collect(session: Session, subscriptions: list[str] | None, settings: ImportSettings, max_concurrency: int,
            progress: TextIO | None) -> tuple[list[tuple[ManagedCluster, KubeConfig]], list[Outcome], int]:
    """Fetch every cluster's kubeconfig in parallel; returns (successes, failures, number of subscriptions)."""
    subs = subscriptions
    if subs is None:
        subs = [s.id for s in session.arm.list_subscriptions() if s.state in ("", "Enabled", "Warned", "PastDue")]
    bar = _Progress(progress)
    fetched: list[tuple[ManagedCluster, KubeConfig]] = []
    failures: list[Outcome] = []
    lock = threading.Lock()
    pending: list[Future[None]] = []

    def fetch_one(cluster: ManagedCluster) -> None:
        try:
            config = fetch(session, cluster.subscription_id, cluster.resource_group, cluster.name, settings,
                           azure_rbac=cluster.azure_rbac)
        except Exception as exc:  # one cluster's failure must not stop the others
            with lock:
                failures.append(Outcome(cluster.subscription_id, cluster.resource_group, cluster.name,
                                        reason=_reason(exc)))
            bar.update(done=1, failed=1)
            return
        with lock:
            fetched.append((cluster, config))
        bar.update(done=1)

    def list_one(sub: str, pool: ThreadPoolExecutor) -> None:
        """List one subscription's clusters and queue their credential fetches (never waits on the pool)."""
        try:
            clusters = session.arm.list_clusters(sub)
        except Exception as exc:
            with lock:
                failures.append(Outcome(sub, "", ALL_CLUSTERS, reason=_reason(exc)))
            bar.update(failed=1, listing=-1)
            return
        bar.update(total=len(clusters), listing=-1)
        with lock:
            pending.extend(pool.submit(fetch_one, c) for c in clusters)

    with ThreadPoolExecutor(max_workers=max(1, max_concurrency), thread_name_prefix="akslogin-fleet") as pool:
        bar.update(listing=len(subs))
        for listing in [pool.submit(list_one, s, pool) for s in subs]:
            listing.result()
        with lock:
            jobs = list(pending)  # complete: every listing has returned, so every fetch is queued
        for job in jobs:
            job.result()
    bar.close()
    return fetched, failures, len(subs)


def import_fleet(session: Session, *, subscriptions: list[str] | None, settings: ImportSettings, target: str,
                 max_concurrency: int = DEFAULT_CONCURRENCY, progress: TextIO | None = None,
                 out: TextIO | None = None) -> FleetResult:
    fetched, failures, nsubs = collect(session, subscriptions, settings, max_concurrency, progress)
    result = FleetResult(subscriptions=nsubs)
    result.outcomes.extend(failures)
    names = unique_names([c for c, _ in fetched], admin=settings.kind == "admin")
    prepared: list[tuple[Outcome, KubeConfig]] = []
    for cluster, config in sorted(fetched, key=lambda item: names[item[0].id.lower()][0].lower()):
        context, user = names[cluster.id.lower()]
        outcome = Outcome(cluster.subscription_id, cluster.resource_group, cluster.name, context)
        try:
            rename(config, context, cluster_name=context, user_name=user)
            result.prepared.add(prepare(session, config, settings))
        except AksloginError as exc:
            outcome.reason = _reason(exc)
            result.outcomes.append(outcome)
            continue
        prepared.append((outcome, config))

    if target == "-":
        combined = KubeConfig({})
        for outcome, config in prepared:
            merge.merge(combined, config, overwrite=True)
            outcome.status = "imported"
        if out is not None:
            out.write(files.dump(combined))
            out.flush()
    elif prepared:
        files.update(target, _merge_all(prepared, settings.overwrite), keep_backup=settings.overwrite,
                     skip_unchanged=settings.overwrite)
    result.outcomes.extend(o for o, _ in prepared)
    result.outcomes.sort(key=lambda o: (o.context or o.name).lower())
    return result


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
    return {
        "file": "-" if target == "-" else target,
        "subscriptions": result.subscriptions,
        "counts": {s: result.count(s) for s in ("imported", "unchanged", "skipped", "failed")},
        "clusters": [{"context": o.context, "name": o.name, "resource_group": o.resource_group,
                      "subscription": o.subscription, "status": o.status, "reason": o.reason}
                     for o in result.outcomes],
    }


def render_summary(result: FleetResult, target: str, painter: Painter | None = None) -> str:
    rows = []
    for o in result.outcomes:
        status = o.status + (f": {o.reason}" if o.reason else "")
        rows.append((o.context or o.name, o.resource_group or "-", o.subscription[:8] or "-", status))
    text = table(("CONTEXT", "RESOURCE GROUP", "SUBSCRIPTION", "RESULT"), rows, painter, status_column=3)
    clusters = sum(1 for o in result.outcomes if o.name != ALL_CLUSTERS)
    where = "stdout" if target == "-" else target
    return text + (
        f"{result.count('imported')} imported, {result.count('unchanged')} unchanged, {result.count('skipped')} "
        f"skipped, {result.count('failed')} failed ({clusters} clusters in {result.subscriptions} "
        f"subscription(s)) → {where}\n"
    )
