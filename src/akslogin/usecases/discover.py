"""Which clusters ``get-credentials --all`` imports: Resource Graph first, per-subscription listing when refused.

Resource Graph answers for a whole tenant (or a management group, or 1,000 subscriptions) in one query a page of
1,000 clusters; listing needs one ARM call per subscription, 10,000 calls for 10,000 subscriptions. Where
Resource Graph is refused (a cloud without it, a policy, a proxy that blocks the provider), the listing path
runs instead and says so once; the filters then apply to what was listed, with the same meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from akslogin.arm import ArmError, ManagedCluster
from akslogin.resourcegraph import Filters, LimitHit, Quota, Scope, query_clusters
from akslogin.usecases.arm_import import Session

#: Statuses after which listing is tried instead: Resource Graph is missing or refused, not the identity.
_NOT_FALLBACK = frozenset({401, 429})
_LISTABLE = ("", "Enabled", "Warned", "PastDue")


@dataclass
class Discovery:
    """What was found, and how: the caller reports it."""

    via: str = "resource graph"  # | "listing"
    subscriptions: set[str] = field(default_factory=set)
    #: (subscription, reason) for each subscription that could not be listed (listing path only).
    unlisted: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0


def discover(session: Session, scope: Scope, filters: Filters, *, concurrency: int, found: Discovery,
             reason: Callable[[BaseException], str]) -> Iterator[list[ManagedCluster]]:
    """Batches of clusters as they are found (fetching can start on the first)."""
    quota = Quota(session.log)
    try:
        for batch in query_clusters(session.arm, scope, filters, quota):
            found.requests += 1
            found.subscriptions.update(c.subscription_id.lower() for c in batch)
            yield batch
        if scope.subscriptions is not None:
            found.subscriptions.update(s.lower() for s in scope.subscriptions)
        return
    except LimitHit:
        if found.requests:
            raise  # never mix halves of two methods: a page already went out
        session.stderr.write("akslogin: note: Resource Graph searches at most 10,000 subscriptions at once; listing "
                             "the subscriptions and querying them 1,000 at a time.\n")
        subs = _subscriptions(session, scope)
        yield from discover(session, Scope(subscriptions=subs), filters, concurrency=concurrency, found=found,
                            reason=reason)
        return
    except ArmError as exc:
        if exc.status < 400 or exc.status in _NOT_FALLBACK or found.requests:
            raise  # an odd answer, the identity's token or throttling: listing would not do better
        session.stderr.write(f"akslogin: note: Resource Graph refused the query ({exc.short}); listing each "
                             "subscription's clusters instead (one request per subscription).\n")
        session.log(1, f"Resource Graph: {exc.message}")
    found.via = "listing"
    yield from _listed(session, _subscriptions(session, scope), filters, concurrency, found, reason)


def _subscriptions(session: Session, scope: Scope) -> list[str]:
    if scope.subscriptions is not None:
        return scope.subscriptions
    if scope.management_group:
        return [s.id for s in session.arm.management_group_subscriptions(scope.management_group)]
    return [s.id for s in session.arm.list_subscriptions() if s.state in _LISTABLE]


def _listed(session: Session, subs: list[str], filters: Filters, concurrency: int, found: Discovery,
            reason: Callable[[BaseException], str]) -> Iterator[list[ManagedCluster]]:
    found.subscriptions.update(s.lower() for s in subs)
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="akslogin-list") as pool:
        jobs = {pool.submit(session.arm.list_clusters, sub): sub for sub in subs}
        for job in as_completed(jobs):
            found.requests += 1
            try:
                clusters = job.result()
            except Exception as exc:  # one subscription's failure must not stop the others
                found.unlisted.append((jobs[job], reason(exc)))
                continue
            yield [c for c in clusters if filters.matches(c)]
