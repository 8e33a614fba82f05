"""Finding managed clusters with Azure Resource Graph: one KQL query a page, instead of one call per subscription.

A query covers a whole tenant, a management group or 1,000 subscriptions at a time.

The query asks only for managed clusters, with the filters (tags, locations, resource groups) in the query, and
projects only what an import needs. Pages of up to 1,000 rows follow ``$skipToken``. Resource Graph allows a user
about 15 queries per 5 seconds and says what is left in ``x-ms-user-quota-remaining`` /
``x-ms-user-quota-resets-after``: at 0 the next query waits for the reset (a 429 is still retried by the ARM
client, honouring Retry-After, within --timeout).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from akslogin.arm import Answer, ArmClient, ArmError, ManagedCluster, cluster_from_json
from akslogin.log import Log

CLUSTER_TYPE = "microsoft.containerservice/managedclusters"
#: Subscriptions per query (what az and PowerShell send at most) and rows per page (the service's maximum).
BATCH = 1000
PAGE = 1000
MAX_PAGES = 1000
PROJECTION = ("id, name, resourceGroup, subscriptionId, tenantId, location, tags, aadProfile = properties.aadProfile, "
              "fqdn = properties.fqdn, privateFQDN = properties.privateFQDN, "
              "provisioningState = properties.provisioningState, "
              "disableLocalAccounts = properties.disableLocalAccounts")


@dataclass(frozen=True)
class Filters:
    """What ``--tag``, ``--location`` and ``--resource-group`` keep: every tag must match (value exactly, name in
    any case, as Azure compares tag names), and the location and resource group must be one of those given."""

    tags: tuple[tuple[str, str], ...] = ()
    locations: tuple[str, ...] = ()
    resource_groups: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tags or self.locations or self.resource_groups)

    def matches(self, cluster: ManagedCluster) -> bool:
        """The same test, for clusters listed without Resource Graph."""
        if self.locations and cluster.location.lower() not in {loc.lower() for loc in self.locations}:
            return False
        if self.resource_groups and cluster.resource_group.lower() not in {g.lower() for g in self.resource_groups}:
            return False
        tags = {k.lower(): v for k, v in cluster.tags}
        return all(tags.get(key.lower()) == value for key, value in self.tags)


def kql_string(value: str) -> str:
    """A KQL string literal (single quotes; backslash and quote escaped): values never become query syntax."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def build_query(filters: Filters) -> str:
    stages = ["Resources", f"where type =~ {kql_string(CLUSTER_TYPE)}"]
    if filters.locations:
        stages.append(f"where location in~ ({', '.join(kql_string(v) for v in filters.locations)})")
    if filters.resource_groups:
        stages.append(f"where resourceGroup in~ ({', '.join(kql_string(v) for v in filters.resource_groups)})")
    stages.extend(f"where tags[{kql_string(k)}] == {kql_string(v)}" for k, v in filters.tags)
    stages.append(f"project {PROJECTION}")
    stages.append("order by id asc")
    return "\n| ".join(stages)


def cluster_from_row(row: dict[str, Any]) -> ManagedCluster:
    """A projected row back in the managed cluster's ARM shape."""
    props = {key: row.get(key) for key in ("aadProfile", "fqdn", "privateFQDN", "provisioningState",
                                           "disableLocalAccounts")}
    return cluster_from_json({"id": row.get("id"), "name": row.get("name"), "location": row.get("location"),
                              "tags": row.get("tags"), "tenantId": row.get("tenantId"), "properties": props})


class Quota:
    """Resource Graph's per-user quota as its answers report it."""

    def __init__(self, log: Log, sleep: Callable[[float], None] = time.sleep) -> None:
        self.remaining: int | None = None
        self.resets_after = 0.0
        self._log, self._sleep = log, sleep

    def saw(self, headers: dict[str, str]) -> None:
        left = headers.get("x-ms-user-quota-remaining", "").strip()
        self.remaining = int(left) if left.isdigit() else None
        self.resets_after = _seconds(headers.get("x-ms-user-quota-resets-after", ""))

    def before_query(self, fits: Callable[[float], bool]) -> None:
        if self.remaining == 0 and self.resets_after > 0 and fits(self.resets_after):
            self._log(1, f"Resource Graph quota used up; waiting {self.resets_after:g}s for it to reset")
            self._sleep(self.resets_after)
            self.remaining = None


def _seconds(value: str) -> float:
    """``hh:mm:ss`` (Resource Graph's format) as seconds; 0 when absent or odd."""
    parts = value.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return 0.0
    hours, minutes, seconds = (int(p) for p in parts)
    return float(min(hours * 3600 + minutes * 60 + seconds, 300))


@dataclass
class Scope:
    """Where to look: ``subscriptions`` (each batch of 1,000 is one query) or ``management_group``; neither means
    every subscription of the signed-in tenant."""

    subscriptions: list[str] | None = None
    management_group: str | None = None

    def bodies(self) -> Iterator[dict[str, Any]]:
        if self.management_group:
            yield {"managementGroups": [self.management_group]}
        elif self.subscriptions is not None:
            for start in range(0, len(self.subscriptions), BATCH):
                yield {"subscriptions": self.subscriptions[start:start + BATCH]}
        else:
            yield {}


class LimitHit(ArmError):
    """Resource Graph searched only the first 10,000 subscriptions of a scope."""


def query_clusters(arm: ArmClient, scope: Scope, filters: Filters, quota: Quota) -> Iterator[list[ManagedCluster]]:
    """Every managed cluster the identity may read in ``scope``, a page at a time."""
    query = build_query(filters)
    for scoped in scope.bodies():
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            options: dict[str, Any] = {"$top": PAGE, "resultFormat": "objectArray"}
            if token:
                options["$skipToken"] = token
            quota.before_query(arm.fits)
            answer: Answer = arm.resource_graph({**scoped, "query": query, "options": options},
                                                "query Resource Graph for AKS clusters")
            quota.saw(answer.headers)
            if answer.headers.get("x-ms-tenant-subscription-limit-hit", "").lower() == "true":
                raise LimitHit("Resource Graph searched only the first 10,000 subscriptions of this scope.", None,
                               200, "TenantSubscriptionLimitHit")
            rows = answer.body.get("data")
            if not isinstance(rows, list):
                raise ArmError("Resource Graph's answer has no 'data' list (was resultFormat honoured?).", None,
                               200, "InvalidResponse")
            yield [cluster_from_row(r) for r in rows if isinstance(r, dict) and r.get("id")]
            next_token = answer.body.get("$skipToken")
            if not next_token:
                break
            token = str(next_token)
            if token in seen:
                raise ArmError("Resource Graph's paging loops ($skipToken repeats).", None, 200, "InvalidSkipToken")
            seen.add(token)
        else:
            raise ArmError(f"Resource Graph's answer has more than {MAX_PAGES} pages.", None, 200, "TooManyPages")
