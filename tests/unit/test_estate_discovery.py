"""The pieces of an estate import that need no network: the query akslogin sends (as the emulated Resource Graph
parses it), filters on listed clusters, the spread over subscriptions, the progress lines, the quota headers."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from akslogin.arm import ManagedCluster, WritePacer
from akslogin.emulator.azure.resourcegraph import parse
from akslogin.log import Log
from akslogin.resourcegraph import Filters, Quota, build_query, cluster_from_row
from akslogin.usecases.fleet import Progress, spread


def _mc(name: str, sub: str, rg: str = "rg", location: str = "eastus",
        tags: tuple[tuple[str, str], ...] = ()) -> ManagedCluster:
    return ManagedCluster(f"/subscriptions/{sub}/resourceGroups/{rg}/providers/x/{name}", name, sub, rg, location,
                          "", "", True, False, "Succeeded", tags=tags)


#: What a tag, region or resource group may hold: anything printable (get-credentials refuses control characters).
_VALUE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)


@given(st.lists(st.tuples(_VALUE.filter(bool), _VALUE), max_size=3), st.lists(_VALUE, max_size=3),
       st.lists(_VALUE, max_size=3))
def test_any_filter_value_reaches_resource_graph_as_that_value(tags: list[tuple[str, str]], locations: list[str],
                                                              groups: list[str]) -> None:
    """Quotes, pipes, backslashes and newlines in a value stay inside its string literal."""
    query = parse(build_query(Filters(tuple(tags), tuple(locations), tuple(groups))))
    got = {(column, tuple(values)) for column, _, values in query.filters}
    assert ("type", ("microsoft.containerservice/managedclusters",)) in got
    for key, value in tags:
        assert (f"tags.{key}", (value,)) in got
    if locations:
        assert ("location", tuple(locations)) in got
    if groups:
        assert ("resourceGroup", tuple(groups)) in got
    assert [name for name, _ in query.projection][:4] == ["id", "name", "resourceGroup", "subscriptionId"]


def test_filters_on_listed_clusters_mean_what_the_query_means() -> None:
    f = Filters(tags=(("Env", "prod"),), locations=("WestEurope",), resource_groups=("RG-1",))
    assert f.matches(_mc("a", "s", "rg-1", "westeurope", (("env", "prod"),)))
    assert not f.matches(_mc("a", "s", "rg-1", "westeurope", (("env", "Prod"),)))  # values compare exactly
    assert not f.matches(_mc("a", "s", "rg-2", "westeurope", (("env", "prod"),)))
    assert not f.matches(_mc("a", "s", "rg-1", "eastus", (("env", "prod"),)))
    assert Filters().matches(_mc("a", "s")) and not Filters()


def test_a_row_becomes_the_cluster_arm_lists() -> None:
    row = {"id": "/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/aks",
           "name": "aks", "location": "eastus", "tenantId": "T", "tags": {"env": "prod"},
           "aadProfile": {"managed": True, "enableAzureRBAC": True, "tenantID": "T2"}, "fqdn": "f", "privateFQDN": None}
    cluster = cluster_from_row(row)
    assert (cluster.subscription_id, cluster.resource_group, cluster.tenant_id) == ("S", "RG", "T2")
    assert cluster.azure_rbac and cluster.aad and cluster.tags == (("env", "prod"),)


def test_credential_requests_are_spread_over_subscriptions() -> None:
    clusters = [_mc(f"a{i}", "A") for i in range(3)] + [_mc("b0", "B")] + [_mc(f"c{i}", "C") for i in range(2)]
    assert [c.name for c in spread(clusters)] == ["a0", "b0", "c0", "a1", "c1", "a2"]


def test_progress_in_a_log_is_a_line_every_few_seconds_and_silent_in_between() -> None:
    now = [0.0]
    out = io.StringIO()
    bar = Progress(out, clock=lambda: now[0], interval=5.0, terminal=False)
    bar.update(found=100)
    for _ in range(40):
        now[0] += 0.5
        bar.update(done=1, failed=0)
    bar.update(done=1, failed=1)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "\r" not in out.getvalue() and "\033" not in out.getvalue()
    assert lines[-1] == "akslogin: get-credentials --all: 40 done, 0 failed, 60 left (100 clusters found so far)"
    tty = io.StringIO()
    live = Progress(tty, clock=lambda: now[0], terminal=True)
    live.update(found=2, done=1)
    live.close()
    assert tty.getvalue().startswith("\r\033[Kfetching credentials: 1/2") and tty.getvalue().endswith("\r\033[K")


def test_quota_headers_make_the_next_query_wait_for_the_reset() -> None:
    slept: list[float] = []
    quota = Quota(Log(0, io.StringIO()), sleep=slept.append)
    quota.saw({"x-ms-user-quota-remaining": "3", "x-ms-user-quota-resets-after": "00:00:04"})
    quota.before_query(lambda _: True)
    quota.saw({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:04"})
    quota.before_query(lambda _: False)  # no time left to wait: go (a 429 is then retried or reported)
    quota.before_query(lambda _: True)
    assert slept == [4.0]
    quota.saw({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "99:00:00"})
    quota.before_query(lambda _: True)
    assert slept[-1] == 300.0  # an absurd reset time is capped


def test_the_write_pacer_pauses_a_subscription_that_is_nearly_out() -> None:
    pacer = WritePacer()
    url = "https://arm/subscriptions/ABC/resourceGroups/r/providers/x/y/listClusterUserCredential"
    assert pacer.before_write("abc") == 0.0  # unknown budget: go
    pacer.saw(url, {"x-ms-ratelimit-remaining-subscription-writes": "4"})
    assert [pacer.before_write("ABC") for _ in range(3)] == [0.0, 0.0, WritePacer.PAUSE]
    assert pacer.before_write("abc") == 0.0 and pacer.paused == 1  # after a pause: ARM says again
