"""The emulated Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources``, for managed clusters.

It understands the query shapes a discovery tool sends, and answers anything else as the real service answers a
query it cannot parse (400 BadRequest, InvalidQuery). The shapes, one stage per ``|``:

- ``Resources`` (the table; case-insensitive);
- ``where type =~ '<type>'``;
- ``where <column> in~ ('a', 'b')`` and ``where <column> =~ 'a'`` for location, resourceGroup, subscriptionId, name;
- ``where tags['<key>'] == '<value>'`` (``=~`` compares without case);
- ``project <column>, <alias> = properties.<field>, ...``;
- ``order by <column> asc|desc``.

Scopes: ``subscriptions`` (as given), ``managementGroups`` (every subscription beneath) or neither (every
subscription of the caller's tenant), at most 10,000 subscriptions a scope (``x-ms-tenant-subscription-limit-hit``).
Rows are the resources the caller may read (Reader anywhere above them, a management group's included).
Paging: ``options.$top`` (at most 1,000; default 100), ``$skip`` and the ``$skipToken`` of the previous page.
Quota: 15 queries per 5 seconds per caller (see :mod:`.quota`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from akslogin.emulator.azure.armwire import READ, ArmError, Principal
from akslogin.emulator.azure.quota import Windows, hms
from akslogin.emulator.net.httpbase import Request, Response, Router
from akslogin.emulator.world import MG_PROVIDER, Cluster, Subscription

if TYPE_CHECKING:
    from akslogin.emulator.azure.arm import ArmService

API_VERSIONS = ("2024-04-01", "2022-10-01", "2021-06-01-preview", "2021-03-01")
MAX_TOP = 1000
DEFAULT_TOP = 100
MAX_SCOPE_SUBSCRIPTIONS = 10_000
CLUSTER_TYPE = "microsoft.containerservice/managedclusters"
_FILTER_COLUMNS = {"location", "resourcegroup", "subscriptionid", "name", "type", "tenantid"}


class QueryError(ValueError):
    def __init__(self, token: str, position: int) -> None:
        super().__init__(token)
        self.token, self.position = token, position


@dataclass
class Query:
    filters: list[tuple[str, str, list[str]]]  # (column or "tags.<key>", operator, values)
    projection: list[tuple[str, list[str]]]  # (output name, path)
    order: tuple[str, bool] | None  # (column, descending)

    def keeps(self, row: dict[str, Any]) -> bool:
        for column, op, values in self.filters:
            if column.startswith("tags."):
                tags = row.get("tags") or {}
                key = column[5:].lower()
                value = next((v for k, v in tags.items() if k.lower() == key), None)
            else:
                value = row.get(_column(column))
            if value is None:
                return False
            text = str(value)
            if op in ("=~", "in~"):
                if text.lower() not in (v.lower() for v in values):
                    return False
            elif text not in values:
                return False
        return True

    def project(self, row: dict[str, Any]) -> dict[str, Any]:
        if not self.projection:
            return row
        out: dict[str, Any] = {}
        for name, path in self.projection:
            value: Any = row
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            out[name] = value
        return out


_COLUMNS = {"id": "id", "name": "name", "type": "type", "tenantid": "tenantId", "kind": "kind",
            "location": "location", "resourcegroup": "resourceGroup", "subscriptionid": "subscriptionId",
            "managedby": "managedBy", "sku": "sku", "tags": "tags", "properties": "properties",
            "identity": "identity", "zones": "zones"}


def _column(name: str) -> str:
    return _COLUMNS.get(name.lower(), name)


_STRING = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_WHERE_TYPE = re.compile(rf"where\s+type\s*(=~|==)\s*({_STRING})\Z", re.I)
_WHERE_IN = re.compile(rf"where\s+({_IDENT})\s+(in~|in)\s*\(\s*((?:{_STRING})(?:\s*,\s*(?:{_STRING}))*)\s*\)\Z", re.I)
_WHERE_EQ = re.compile(rf"where\s+({_IDENT})\s*(=~|==)\s*({_STRING})\Z", re.I)
_WHERE_TAG = re.compile(rf"where\s+tags\s*\[\s*({_STRING})\s*\]\s*(=~|==)\s*({_STRING})\Z", re.I)
_PROJECT_ITEM = re.compile(rf"(?:({_IDENT})\s*=\s*)?({_IDENT}(?:\.{_IDENT})*)\Z")
_ORDER = re.compile(rf"(?:order|sort)\s+by\s+({_IDENT})(?:\s+(asc|desc))?\Z", re.I)


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: m.group(1), body)


def _stages(text: str) -> list[tuple[str, int]]:
    """The query split at each ``|`` outside a string literal: (stage, its offset)."""
    stages: list[tuple[str, int]] = []
    start, quote, i = 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "|":
            stages.append((text[start:i], start))
            start = i + 1
        i += 1
    if quote:
        raise QueryError(text[start:].strip()[:40], start)
    stages.append((text[start:], start))
    return stages


def _squash(stage: str) -> str:
    """Whitespace runs outside string literals as one space, the stage trimmed (literals are kept as written)."""
    parts = re.split(f"({_STRING})", stage)
    return "".join(part if n % 2 else re.sub(r"\s+", " ", part) for n, part in enumerate(parts)).strip()


def parse(text: str) -> Query:
    """The query, or a QueryError naming the token (and its offset) that is not one of the shapes above."""
    stages = _stages(text)
    table, offset = stages[0]
    if table.strip().lower() != "resources":
        raise QueryError(table.strip()[:40] or "<empty>", offset)
    query = Query([], [], None)
    for raw, offset in stages[1:]:
        stage = _squash(raw)
        if m := _WHERE_TYPE.match(stage):
            query.filters.append(("type", m.group(1), [_unquote(m.group(2))]))
        elif m := _WHERE_TAG.match(stage):
            query.filters.append((f"tags.{_unquote(m.group(1))}", m.group(2), [_unquote(m.group(3))]))
        elif (m := _WHERE_IN.match(stage)) and m.group(1).lower() in _FILTER_COLUMNS:
            values = [_unquote(v) for v in re.findall(_STRING, m.group(3))]
            query.filters.append((m.group(1), "in~" if m.group(2).lower() == "in~" else "==", values))
        elif (m := _WHERE_EQ.match(stage)) and m.group(1).lower() in _FILTER_COLUMNS:
            query.filters.append((m.group(1), m.group(2), [_unquote(m.group(3))]))
        elif stage.lower().startswith("project "):
            for item in stage[8:].split(","):
                pm = _PROJECT_ITEM.match(item.strip())
                if pm is None:
                    raise QueryError(item.strip()[:40], offset)
                path = pm.group(2).split(".")
                path[0] = _column(path[0])
                query.projection.append((pm.group(1) or pm.group(2).split(".")[-1], path))
        elif m := _ORDER.match(stage):
            query.order = (_column(m.group(1)), (m.group(2) or "asc").lower() == "desc")
        else:
            raise QueryError(stage.split(" ")[0][:40] or "|", offset)
    return query


class ResourceGraph:
    """Resource Graph over the emulated ARM's world (the same principals, role assignments and clusters)."""

    def __init__(self, arm: ArmService) -> None:
        self.arm = arm
        self.world = arm.world
        self.quota = Windows(15, 5.0)
        #: False: answer as a cloud without Resource Graph (404 NoRegisteredProviderFound).
        self.enabled = True
        self.queries = 0

    def add_routes(self, router: Router) -> None:
        router.add("POST", r"(?i)/providers/Microsoft\.ResourceGraph/resources/?$", self.arm.guard(self.resources))

    # -- the query -----------------------------------------------------------------------------
    def resources(self, req: Request, principal: Principal) -> Response:

        version = req.query.get("api-version", "")
        if not self.enabled:
            raise ArmError(404, "NoRegisteredProviderFound",
                           f"No registered resource provider found for location 'global' and API version '{version}' "
                           "for type 'resources'.")
        if version not in API_VERSIONS:
            raise ArmError(400, "InvalidApiVersionParameter",
                           f"The api-version '{version}' is invalid. The supported versions are "
                           f"'{','.join(API_VERSIONS)}'.")
        allowed, left, resets = self.quota.take(principal.object_id)
        headers = {"x-ms-user-quota-remaining": str(left), "x-ms-user-quota-resets-after": hms(resets)}
        if not allowed:
            headers["Retry-After"] = str(max(1, int(resets + 0.999)))
            raise ArmError(429, "RateLimiting", _support(
                "Client application has been throttled and should not attempt to repeat the request until an "
                "amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help."),
                headers=headers)
        self.queries += 1
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise ArmError(400, "BadRequest", "The request content was invalid and could not be deserialized.",
                           headers=headers)
        try:
            query = parse(body["query"])
        except QueryError as exc:
            raise _invalid_query(exc, headers) from None
        given = body.get("options")
        options: dict[str, Any] = given if isinstance(given, dict) else {}
        top = options.get("$top", DEFAULT_TOP)
        skip = options.get("$skip", 0)
        if not isinstance(top, int) or not 1 <= top <= MAX_TOP or not isinstance(skip, int) or skip < 0:
            raise ArmError(400, "BadRequest", _support(f"$top must be between 1 and {MAX_TOP}, $skip 0 or more."),
                           headers=headers)
        subs, limit_hit = self._scope(body, principal)
        if limit_hit:
            headers["x-ms-tenant-subscription-limit-hit"] = "true"
        rows = [r for r in self._rows(subs, principal) if query.keeps(r)]
        if query.order is not None:
            column, descending = query.order
            rows.sort(key=lambda r: str(r.get(column) or "").lower(), reverse=descending)
        fingerprint = hashlib.sha256(json.dumps([body["query"], body.get("subscriptions"),
                                                 body.get("managementGroups")]).encode()).hexdigest()[:16]
        start = skip
        token = options.get("$skipToken")
        if token:
            start = _read_token(str(token), fingerprint)
        page = rows[start:start + top]
        answer: dict[str, Any] = {"totalRecords": len(rows), "count": len(page), "resultTruncated": "false",
                                  "data": [query.project(r) for r in page], "facets": []}
        if start + top < len(rows):
            answer["$skipToken"] = _make_token(start + top, fingerprint)
        return Response.json(200, answer, {"x-ms-request-id": str(uuid.uuid4()), **headers})

    def _scope(self, body: dict[str, Any], principal: Principal) -> tuple[list[Subscription], bool]:

        given_subs, groups = body.get("subscriptions"), body.get("managementGroups")
        if given_subs is not None and groups is not None:
            raise ArmError(400, "BadRequest", _support("Specify subscriptions or managementGroups, not both."))
        subs: list[Subscription]
        if given_subs is not None:
            if not isinstance(given_subs, list) or not all(isinstance(s, str) for s in given_subs):
                raise ArmError(400, "BadRequest", "subscriptions must be a list of subscription ids.")
            found = (self.world.subscription(s) for s in given_subs)
            subs = [s for s in found if s is not None]
        elif groups is not None:
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise ArmError(400, "BadRequest", "managementGroups must be a list of management group ids.")
            wanted = {f"{MG_PROVIDER}/{g}".lower() for g in groups}
            subs = [s for s in self.world.subscriptions
                    if wanted & {c.lower() for c in self.world.group_chain(s)}]
        else:
            subs = list(self.world.subscriptions)
        subs = [s for s in subs if s.tenant_id == principal.tenant_id]
        return subs[:MAX_SCOPE_SUBSCRIPTIONS], len(subs) > MAX_SCOPE_SUBSCRIPTIONS

    def _rows(self, subs: Iterable[Subscription], principal: Principal) -> Iterable[dict[str, Any]]:

        for sub in subs:
            for cluster in self.world.clusters_in(sub.id):
                if cluster.arc or cluster.fleet or not self.arm.allowed(principal, READ, cluster.arm_id):
                    continue
                yield self._row(cluster, sub)

    def _row(self, cluster: Cluster, sub: Subscription) -> dict[str, Any]:
        doc = self.arm.cluster_json(cluster)
        return {"id": doc["id"], "name": doc["name"], "type": CLUSTER_TYPE, "tenantId": sub.tenant_id,
                "kind": "", "location": doc["location"], "resourceGroup": cluster.resource_group.lower(),
                "subscriptionId": sub.id, "managedBy": "", "sku": doc["sku"], "plan": None,
                "properties": doc["properties"], "tags": doc["tags"], "identity": None, "zones": None,
                "extendedLocation": None}


def _support(text: str) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())
    return (f"Please provide below info when asking for support: timestamp = {stamp}, correlationId = "
            f"{uuid.uuid4()}. {text}")


def _invalid_query(exc: QueryError, headers: dict[str, str]) -> Exception:

    return ArmError(400, "BadRequest", _support(""), headers=headers, details=[
        {"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation for the Azure "
                                            "Resource Graph service and fix the error before retrying."},
        {"code": "ParserFailure", "message": "ParserFailure", "line": 1,
         "characterPositionInLine": exc.position, "token": exc.token},
    ])


def _make_token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": fingerprint}).encode()).decode().rstrip("=")


def _read_token(token: str, fingerprint: str) -> int:

    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode() + b"==").decode())
        offset = int(data["o"])
        same = data["q"] == fingerprint
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ArmError(400, "BadRequest", _support("The $skipToken is invalid.")) from None
    if not same or offset < 0:
        raise ArmError(400, "BadRequest", _support("The $skipToken does not belong to this query."))
    return offset
