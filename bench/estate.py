"""An estate of 10,000 subscriptions and 2,000 clusters: get-credentials --all through Resource Graph against
today's per-subscription listing, on the same world, side by side; then a run under quota pressure.

The emulator runs in its own process (``akslogin emulator --world``, the world generated from its ``estate:`` key)
with 100 ms added to every ARM request. "Listing" is the same akslogin with Resource Graph refused by the emulator
(as a cloud without it answers), which is the path every release before this one took. Each variant runs
``rounds`` times, interleaved; wall time from spawn to exit, peak RSS of akslogin alone (GNU time), ARM requests as
the emulator logged them (its log is sized to hold them all).

Run alone: ``.venv/bin/python bench/estate.py`` prints the section; bench/run puts it into RESULTS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import (  # noqa: E402  (bench/ is not a package)
    FLEET_APP,
    GNU_TIME,
    TENANT,
    EmulatorProcess,
    fleet_invocation,
    median,
    rss_probe_available,
)

SUBSCRIPTIONS, CLUSTERS = 10_000, 2_000
LATENCY = 0.1
#: Under quota pressure: Resource Graph allows 1 query per 3 s, and ARM answers the first N credential requests
#: with 429 + Retry-After.
PRESSURE_THROTTLED, PRESSURE_RETRY_AFTER = 300, 1
TIMEOUT = 600


@dataclass
class EstateRun:
    label: str
    wall: float
    rss_mib: float
    returncode: int
    summary: dict[str, Any]
    requests: dict[str, int]

    @property
    def imported(self) -> int:
        return int(self.summary.get("counts", {}).get("imported", 0))


def world_file(tmp: Path) -> Path:
    client_id, object_id, secret = FLEET_APP
    spec = {"tenants": [{"id": TENANT, "domains": ["bench.example"], "apps": [
        {"name": "bench-fleet", "client_id": client_id, "object_id": object_id, "secrets": [secret]}]}],
        "estate": {"subscriptions": SUBSCRIPTIONS, "clusters": CLUSTERS, "principals": ["bench-fleet"]}}
    path = tmp / "estate-world.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _requests(entries: list[dict[str, Any]]) -> dict[str, int]:
    arm = [e for e in entries if e["service"] == "arm"]
    return {
        "arm": len(arm),
        "graph": sum(1 for e in arm if str(e["path"]).endswith(".ResourceGraph/resources")),
        "listings": sum(1 for e in arm if str(e["path"]).endswith("/managedClusters") or e["path"] == "/subscriptions"),
        "credentials": sum(1 for e in arm if str(e["path"]).endswith("Credential")),
        "throttled": sum(1 for e in arm if e["status"] == 429),
    }


def run_once(emulator: EmulatorProcess, home: Path, label: str, n: int, *extra: str) -> EstateRun:
    emu = emulator.endpoints
    emu.call("requests/reset", {})
    call = fleet_invocation(emu, home, home / f"kubeconfig-{n}", 16, "-o", "json", "--timeout", str(TIMEOUT), *extra)
    with tempfile.NamedTemporaryFile() as rss:
        argv = [GNU_TIME, "-f", "%M", "-o", rss.name, *call.argv] if rss_probe_available() else call.argv
        started = time.perf_counter()
        done = subprocess.run(argv, env=call.env, capture_output=True, text=True, timeout=TIMEOUT + 60,
                              stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        text = rss.read().decode().strip().splitlines()
    try:
        summary = json.loads(done.stdout)
    except ValueError:
        raise SystemExit(f"bench: estate run '{label}' printed no summary: {done.stderr[-800:]}") from None
    return EstateRun(label, wall, int(text[-1]) / 1024 if text and text[-1].isdigit() else 0.0, done.returncode,
                     summary, _requests(emu.call("requests")))


def estate(tmp: Path, rounds: int = 2) -> tuple[list[str], dict[str, float]]:
    emulator = EmulatorProcess(world_file(tmp), tmp / "estate-emulator", timeout=180)  # its log holds 50,000
    try:
        emu = emulator.endpoints
        emu.call("faults", {"latency": {"arm": LATENCY}})
        home = tmp / "estate"
        graph_runs: list[EstateRun] = []
        listing_runs: list[EstateRun] = []
        n = 0
        for i in range(rounds):
            for via in (("graph", "listing") if i % 2 == 0 else ("listing", "graph")):
                n += 1
                emu.call("arm", {"resource_graph": via == "graph"})
                run = run_once(emulator, home, via, n)
                (graph_runs if via == "graph" else listing_runs).append(run)
        emu.call("arm", {"resource_graph": True, "graph_quota": [1, 3]})
        emu.call("faults", {"faults": [{"service": "arm", "path": r"/listClusterUserCredential$", "kind": "status",
                                        "status": 429, "retry_after": PRESSURE_RETRY_AFTER,
                                        "times": PRESSURE_THROTTLED}]})
        pressure = run_once(emulator, home, "pressure", n + 1)
        emu.call("faults", {"faults": []})
        cut = run_once(emulator, home, "cut", n + 2, "--timeout", "4")
    finally:
        emulator.stop()
    return report(graph_runs, listing_runs, pressure, cut)


def report(graph: list[EstateRun], listing: list[EstateRun], pressure: EstateRun,
           cut: EstateRun) -> tuple[list[str], dict[str, float]]:
    g_wall, l_wall = median([r.wall for r in graph]), median([r.wall for r in listing])
    g_rss, l_rss = median([r.rss_mib for r in graph]), median([r.rss_mib for r in listing])
    g, lst = graph[0].requests, listing[0].requests
    discovery = g["arm"] - g["credentials"]
    per_cluster = g["credentials"] / max(1, graph[0].imported)
    complete = all(r.imported == CLUSTERS and r.returncode == 0 for r in graph + listing)
    lines = [
        f"World: {SUBSCRIPTIONS:,} subscriptions, {CLUSTERS:,} clusters (generated: `estate:` in the world file), "
        f"{int(LATENCY * 1000)} ms added to every ARM request, `--max-concurrency 16`; {len(graph)} runs of each "
        "variant, interleaved.",
        "",
        "| discovery | runs | median wall s | peak RSS MiB | ARM requests | discovery requests | credential "
        "requests | clusters imported |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| Resource Graph (this release) | {len(graph)} | {g_wall:.1f} | {g_rss:.1f} | {g['arm']:,} | "
        f"{discovery} | {g['credentials']:,} | {graph[0].imported:,} |",
        f"| per-subscription listing (before; now the fallback) | {len(listing)} | {l_wall:.1f} | {l_rss:.1f} | "
        f"{lst['arm']:,} | {lst['listings']:,} | {lst['credentials']:,} | {listing[0].imported:,} |",
        "",
        f"Result: discovery takes **{discovery}** requests (target ≤ 15; listing: {lst['listings']:,}); ARM requests "
        f"per cluster **{g['arm'] / CLUSTERS:.3f}** including discovery (target ≤ 1.05 + discovery: "
        f"{per_cluster:.3f} + {discovery}); wall time **{l_wall / g_wall:.1f}×** shorter than listing "
        f"({g_wall:.1f} s against {l_wall:.1f} s), peak memory {g_rss:.1f} MiB against {l_rss:.1f} MiB. Every run "
        f"imported all {CLUSTERS:,}: {'yes' if complete else 'NO'}.",
        "",
        f"Quota pressure (one run): Resource Graph allowed 1 query per 3 s and ARM answered the first "
        f"{PRESSURE_THROTTLED} credential requests 429 with `Retry-After: {PRESSURE_RETRY_AFTER}`: "
        f"{pressure.requests['throttled']} answers 429, {pressure.imported:,} of {CLUSTERS:,} imported "
        f"(exit {pressure.returncode}) in {pressure.wall:.1f} s, within `--timeout {TIMEOUT}`.",
    ]
    failed = [c for c in cut.summary.get("clusters", []) if c.get("status") == "failed"]
    named = {(c["subscription"], c["resource_group"], c["name"]) for c in failed}
    done = {(c["subscription"], c["resource_group"], c["name"]) for c in cut.summary.get("clusters", [])
            if c.get("status") == "imported"}
    exact = len(named) + len(done) == CLUSTERS and not named & done
    lines += [
        "",
        f"Cut short (`--timeout 4`): {len(done):,} imported, {len(failed):,} reported failed by name (exit "
        f"{cut.returncode}); every cluster is in exactly one of the two lists: {'yes' if exact else 'NO'}.",
    ]
    figures = {"discovery": float(discovery), "per_cluster": g["arm"] / CLUSTERS, "speedup": l_wall / g_wall,
               "graph_rss": g_rss, "listing_rss": l_rss, "complete": float(complete),
               "pressure_ok": float(pressure.imported == CLUSTERS and pressure.returncode == 0), "cut_exact":
               float(exact)}
    return lines, figures


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="akslogin-estate-") as tmp:
        lines, figures = estate(Path(tmp), int(os.environ.get("ESTATE_ROUNDS", "2")))
    print("\n".join(lines))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
