"""get-credentials --all over a fleet of 55 clusters in 5 subscriptions, end to end, plus concurrency and speed.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

from akslogin.usecases.fleet import unique_names


def test_unique_names_are_stable_and_never_collide() -> None:
    from akslogin.arm import ManagedCluster

    def mc(name: str, rg: str, sub: str) -> ManagedCluster:
        return ManagedCluster(f"/subscriptions/{sub}/resourceGroups/{rg}/providers/x/{name}", name, sub, rg, "eastus",
                              "", "", True, False, "Succeeded")

    clusters = [mc("a", "rg1", "11111111-x"), mc("a", "rg1", "22222222-x"), mc("a", "rg2", "11111111-x"),
                mc("b", "rg1", "11111111-x"), mc("a-rg2", "rg9", "11111111-x")]
    names = unique_names(clusters, admin=False)
    contexts = [names[c.id.lower()][0] for c in clusters]
    # "a-rg2" is both a derived name and a real cluster name: the later one in sort order gets a counter
    assert contexts == ["a-rg1-11111111", "a-rg1-22222222", "a-rg2", "b", "a-rg2-2"]
    assert unique_names(list(reversed(clusters)), admin=False) == names  # order of discovery does not matter
    assert names[clusters[0].id.lower()][1] == "clusterUser_rg1_a_11111111"
