"""get-credentials --all across an estate: Resource Graph discovery, filters, management groups, tenants, quotas,
--split-by and progress; against the emulator's generated estate (emulator/world/estate.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from akslogin.emulator import Emulator
from support.armworld import FLEETBOT, OUTSIDER, TENANT, Runner, fresh_runner, serve
from support.estateworld import SECOND_TENANT, estate_spec, expected

SUBS, CLUSTERS = 2500, 2200


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from serve(estate_spec(SUBS, CLUSTERS, tenants=2), tmp_path_factory, "estate-emu")


@pytest.fixture
def runner(emu: Emulator, tmp_path: Path) -> Iterator[Runner]:
    yield from fresh_runner(emu, tmp_path)
    emu.arm.resource_graph.enabled = True
    emu.arm.resource_graph.quota.configure(15, 5.0)
    emu.arm.writes.configure(200, 10)


def _json(result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _imported(data: dict[str, Any]) -> set[str]:
    return {c["name"] for c in data["clusters"] if c["status"] == "imported"}


def _arm_calls(emu: Emulator) -> list[tuple[str, str, int]]:
    return [(e.method, e.path, e.status) for e in emu.request_log.entries() if e.service == "arm"]


def test_one_resource_graph_query_a_page_finds_every_cluster_of_the_tenant(runner: Runner, emu: Emulator) -> None:
    data = _json(runner.get_credentials("--all", "-o", "json", principal=FLEETBOT, timeout=300))
    want = expected(emu.world, tenant=TENANT)
    assert _imported(data) == want and len(want) > 1000  # more than one page of 1,000
    calls = _arm_calls(emu)
    discovery = [c for c in calls if "listClusterUserCredential" not in c[1]]
    # Two pages of Resource Graph, nothing else: not one list call for each of the tenant's 1,250 subscriptions.
    assert [c[1] for c in discovery] == ["/providers/Microsoft.ResourceGraph/resources"] * 2
    assert len(calls) - len(discovery) == len(want)  # exactly one credential request per cluster
    assert data["discovery"] == [{"via": "resource graph", "requests": 2}]
    assert data["subscriptions"] == len({c.subscription for c in emu.world.clusters if c.tenant_id == TENANT})
    # The exec block carries each cluster's own Entra tenant, and the file records each cluster's model.
    config = runner.config()
    users = {u["name"]: u["user"] for u in config["users"]}
    args = next(iter(users.values()))["exec"]["args"]
    assert args[args.index("--tenant-id") + 1] == TENANT


def test_filters_run_in_the_query_and_mean_the_same_when_listing(runner: Runner, emu: Emulator) -> None:
    flags = ("--tag", "env=prod", "--tag", "TEAM=team-3", "--location", "westeurope", "--location", "eastus",
             "-g", "rg-1", "-g", "RG-3")

    def keep(c: Any) -> bool:
        return (c.tags["env"] == "prod" and c.tags["team"] == "team-3" and c.location in ("westeurope", "eastus")
                and c.resource_group in ("rg-1", "rg-3"))

    want = expected(emu.world, keep, tenant=TENANT)
    assert want
    graph = _json(runner.get_credentials("--all", *flags, "-o", "json", principal=FLEETBOT))
    assert _imported(graph) == want
    query = next(e for e in emu.request_log.entries() if e.path.endswith("ResourceGraph/resources"))
    assert query.status == 200
    # Where Resource Graph is refused, listing finds the same clusters, and says so once.
    emu.arm.resource_graph.enabled = False
    emu.request_log.reset()
    listed = runner.get_credentials("--all", *flags, "-o", "json", "--file", str(runner.home / "listed"),
                                    principal=FLEETBOT, timeout=300)
    assert listed.stderr.count("Resource Graph refused the query (HTTP 404 NoRegisteredProviderFound)") == 1
    assert _imported(_json(listed)) == want
    lists = [c for c in _arm_calls(emu) if c[1].endswith("/managedClusters")]
    assert len(lists) == SUBS // 2  # the listing path: one request for each of the tenant's subscriptions


def test_a_tag_value_cannot_break_out_of_the_query(runner: Runner) -> None:
    result = runner.get_credentials("--all", "--tag", "env=prod' | project secret | where '1'=='1", "-o", "json",
                                    principal=FLEETBOT)
    data = _json(result)
    assert data["clusters"] == [] and data["discovery"][0]["via"] == "resource graph"


def test_management_group_scope_through_resource_graph_and_through_listing(runner: Runner, emu: Emulator) -> None:
    group = "estate-0-1"
    beneath = {s.id for s in emu.world.subscriptions if s.management_group == group}
    want = expected(emu.world, lambda c: c.subscription in beneath)
    assert 0 < len(want) < len(expected(emu.world, tenant=TENANT))
    data = _json(runner.get_credentials("--all", "--management-group", group, "-o", "json", principal=FLEETBOT))
    assert _imported(data) == want and data["discovery"] == [{"via": "resource graph", "requests": 1}]
    emu.arm.resource_graph.enabled = False
    emu.request_log.reset()
    listed = runner.get_credentials("--all", "--management-group", group, "-o", "json", "--file",
                                    str(runner.home / "listed"), principal=FLEETBOT, timeout=300)
    assert _imported(_json(listed)) == want
    paths = [c[1] for c in _arm_calls(emu)]
    assert f"/providers/Microsoft.Management/managementGroups/{group}/descendants" in paths
    assert sum(p.endswith("/managedClusters") for p in paths) == len(beneath)




def _tenant_of_exec(user: dict[str, Any]) -> str:
    args = user["exec"]["args"]
    return str(args[args.index("--tenant-id") + 1])


def test_every_tenant_signs_in_on_its_own_and_each_cluster_keeps_its_tenant(runner: Runner, emu: Emulator) -> None:
    data = _json(runner.get_credentials("--all", "--all-tenants", "-o", "json", principal=FLEETBOT, timeout=300))
    assert _imported(data) == expected(emu.world)  # both tenants
    tokens = {e.path.split("/")[1] for e in emu.request_log.entries() if e.service == "entra"
              and e.path.endswith("/token")}
    assert tokens == {TENANT, SECOND_TENANT}  # one Resource Manager sign-in per tenant
    assert ("GET", "/tenants", 200) in _arm_calls(emu)
    config = runner.config()
    users = {u["name"]: u["user"] for u in config["users"]}
    contexts = {c["name"]: c["context"] for c in config["contexts"]}
    tenant_of = {c.arm_name: c.tenant_id for c in emu.world.clusters}
    for name, tenant in tenant_of.items():
        assert _tenant_of_exec(users[contexts[name]["user"]]) == tenant
    assert {d["via"] for d in data["discovery"]} == {"resource graph"} and len(data["discovery"]) == 2


def test_a_named_tenant_only_and_a_tenant_that_refuses_is_reported(runner: Runner, emu: Emulator) -> None:
    data = _json(runner.get_credentials("--all", "--tenant", SECOND_TENANT, "-o", "json", "--tag", "env=dev",
                                        principal=FLEETBOT))
    assert _imported(data) == expected(emu.world, lambda c: c.tags["env"] == "dev", tenant=SECOND_TENANT)
    unknown = "00000000-dead-4000-8000-000000000000"
    result = runner.get_credentials("--all", "--tenant", unknown, "--tenant", SECOND_TENANT, "--tag", "env=dev",
                                    "-o", "json", "--file", str(runner.home / "two"), principal=FLEETBOT)
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    failed = [c for c in summary["clusters"] if c["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["tenant"] == unknown and f"signing in to tenant {unknown}" in \
        failed[0]["reason"]
    assert _imported(summary) == _imported(data)  # the other tenant still imported


def test_split_by_subscription_writes_one_private_file_each(runner: Runner, emu: Emulator) -> None:
    directory = runner.home / "estate"
    result = runner.get_credentials("--all", "--all-tenants", "--tag", "env=prod", "-g", "rg-2", "--split-by",
                                    "subscription", str(directory), "-o", "json", principal=FLEETBOT, timeout=300)
    data = _json(result)
    want = expected(emu.world, lambda c: c.tags["env"] == "prod" and c.resource_group == "rg-2")
    assert _imported(data) == want
    files = sorted(directory.glob("*.yaml"))  # beside each: its hidden .<file>.akslogin-lock
    by_sub = {c.subscription for c in emu.world.clusters if c.arm_name in want}
    assert {f.stem for f in files} == by_sub and data["file"] == str(directory)
    seen: set[str] = set()
    for f in files:
        assert f.stat().st_mode & 0o777 == 0o600
        config = yaml.safe_load(f.read_text())
        names = {c["name"] for c in config["contexts"]}
        assert config["current-context"] in names
        assert all(next(c for c in emu.world.clusters if c.arm_name == n).subscription == f.stem for n in names)
        seen |= names
    assert seen == want and "KUBECONFIG" in result.stderr
    by_tenant = runner.home / "by-tenant"
    _json(runner.get_credentials("--all", "--all-tenants", "--tag", "env=prod", "-g", "rg-2", "--split-by", "tenant",
                                 str(by_tenant), "-o", "json", principal=FLEETBOT, timeout=300))
    assert {f.stem for f in by_tenant.glob("*.yaml")} == {TENANT, SECOND_TENANT}


def test_outside_identities_see_nothing_and_say_so(runner: Runner) -> None:
    data = _json(runner.get_credentials("--all", "--all-tenants", "-o", "json", principal=OUTSIDER))
    assert data["clusters"] == [] and data["counts"]["imported"] == 0


@pytest.mark.parametrize("argv, said", [
    (["--tag", "env=prod"], "add --all"),
    (["--all", "--tag", "env"], "--tag takes name=value"),
    (["--all", "--tenant", "x", "--all-tenants"], "Pick one"),
    (["--all", "--split-by", "region", "d"], "--split-by takes subscription or tenant"),
    (["--all", "--management-group", "mg", "-s", "s"], "pick one"),
    (["--fleet", "f"], "--fleet NAME takes the fleet's --resource-group"),
    (["--fleet", "f", "-g", "rg", "--all"], "--fleet NAME takes"),
    (["-g", "a", "-g", "b", "-n", "x"], "one --resource-group for one cluster"),
    (["--all", "--all-tenants", "-s", "Production"], "give --subscription as ids"),
    (["--all", "--location", "west\neurope"], "control character"),
])
def test_estate_flags_that_cannot_work_are_refused_before_signing_in(runner: Runner, argv: list[str],
                                                                       said: str) -> None:
    result = runner.get_credentials(*argv, principal=FLEETBOT)
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr
    assert not [e for e in runner.emu.request_log.entries() if e.service == "entra" and e.path.endswith("/token")]


# -- the emulated Resource Graph on the wire ---------------------------------------------------------------------
def _graph(emu: Emulator, body: Any, *, api: str = "2022-10-01", who: Any = FLEETBOT) -> Any:
    import requests

    token = emu.issuer.access_token(tenant_id=TENANT, audience="https://management.azure.com/", lifetime=3600,
                                    subject_oid=who.object_id, app_id=who.client_id, app_only=True)
    with requests.Session() as http:
        http.trust_env = False
        return http.post(f"{emu.server_url('arm')}/providers/Microsoft.ResourceGraph/resources",
                         params={"api-version": api}, json=body, headers={"Authorization": f"Bearer {token}"},
                         verify=str(emu.ca_path), timeout=30)


def test_resource_graph_pages_reports_its_quota_and_throttles_past_it(emu: Emulator) -> None:
    emu.arm.resource_graph.quota.configure(3, 30.0)
    try:
        query = "Resources | where type =~ 'microsoft.containerservice/managedclusters' | project id, name"
        first = _graph(emu, {"query": query, "options": {"$top": 700}})
        assert first.status_code == 200
        body = first.json()
        assert body["count"] == 700 and body["totalRecords"] == len(expected(emu.world, tenant=TENANT))
        assert set(body["data"][0]) == {"id", "name"} and body["resultTruncated"] == "false"
        assert first.headers["x-ms-user-quota-remaining"] == "2"
        assert first.headers["x-ms-user-quota-resets-after"].count(":") == 2
        second = _graph(emu, {"query": query, "options": {"$top": 700, "$skipToken": body["$skipToken"]}})
        rows = body["data"] + second.json()["data"]
        assert "$skipToken" not in second.json() and len({r["id"] for r in rows}) == body["totalRecords"]
        other = _graph(emu, {"query": query + " | order by id asc", "options": {"$skipToken": body["$skipToken"]}})
        assert other.status_code == 400  # a skip token belongs to its query
        throttled = _graph(emu, {"query": query})
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
        assert throttled.json()["error"]["code"] == "RateLimiting"
    finally:
        emu.arm.resource_graph.quota.configure(15, 5.0)


@pytest.mark.parametrize("body, api, code", [
    ({"query": "Resources | where type == 'x' | summarize count()"}, "2022-10-01", "InvalidQuery"),
    ({"query": "securityresources"}, "2022-10-01", "InvalidQuery"),
    ({"query": "Resources | where name == 'unterminated"}, "2022-10-01", "InvalidQuery"),
    ({"query": "Resources", "options": {"$top": 1001}}, "2022-10-01", "BadRequest"),
    ({"query": "Resources", "subscriptions": ["a"], "managementGroups": ["b"]}, "2022-10-01", "BadRequest"),
    ({"query": "Resources"}, "2018-09-01", "InvalidApiVersionParameter"),
])
def test_resource_graph_answers_what_it_cannot_run_with_400(emu: Emulator, body: dict[str, Any], api: str,
                                                             code: str) -> None:
    answer = _graph(emu, body, api=api)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert code in (error["code"], *(d["code"] for d in error.get("details", [])))


def test_the_resource_graph_quota_is_waited_for_not_run_into(runner: Runner, emu: Emulator) -> None:
    emu.arm.resource_graph.quota.configure(1, 2.0)  # one query per two seconds; the tenant's clusters are 2 pages
    _json(runner.get_credentials("--all", "-o", "json", principal=FLEETBOT, timeout=300))
    statuses = [c[2] for c in _arm_calls(emu) if c[1].endswith("ResourceGraph/resources")]
    assert statuses == [200, 200]  # the second page waited for the quota to reset instead of drawing a 429


def test_split_by_into_a_path_that_is_a_file_is_a_clear_error(runner: Runner) -> None:
    taken = runner.home / "taken"
    taken.parent.mkdir(parents=True, exist_ok=True)
    taken.write_text("not a directory\n")
    result = runner.get_credentials("--all", "--tag", "env=prod", "-g", "rg-2", "--split-by", "subscription",
                                    str(taken), principal=FLEETBOT)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert f"cannot write the kubeconfigs into {taken}" in result.stderr, result.stderr
    assert taken.read_text() == "not a directory\n"
