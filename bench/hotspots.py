"""Hot spots from the pre-aggregates (HotspotBucket) against the exact scan over episodes, side by
side in one run, in-process through the driver (the service function, as bench.harness's "driver"
column), with the load average before and after.

    .venv/bin/python -m bench.hotspots                       # the three hot-spot queries of bench.harness
    .venv/bin/python -m bench.hotspots --iterations 20 --only national

Modes, run in rotating order iteration by iteration so all see the same load:
- old: `scan=True`, step 1 scans the episodes (HOTSPOT_CELLS_SCAN), the exact computation;
- uncached: step 1 reads the buckets, with the step-1 cache off (MPDB_HOTSPOT_CACHE_ENTRIES=0);
- cold: the first request after a write: one recent episode's buckets are refreshed (the statement
  every write path runs; their stamps get new versions) just before it, so step 1 is recomputed;
- warm: the step-1 cache holds a valid entry (checked against the stamps, one small read).
The first answer of each mode is compared field by field and a difference is reported (and fails
the run). `--modes cold,warm` skips the slow scan. Needs the
buckets to be there: `mpdb schema apply` then `mpdb hotspots rebuild`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, time as dtime, timedelta
from typing import Any

from bench.harness import PURPOSE, Timing
from bench.queries import KENT_POLICE, NATIONAL_UNIT, pick_params
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import AgencyKind, Principal, Role
from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.graph.repositories.hotspot_buckets import refresh_episodes
from mpdb.intel.hotspots import HotspotKind, hotspots
from mpdb.services.context import ServiceContext
from mpdb.settings import get_settings

# (name, caller agency, kind, role, area, days): the hot-spot queries of bench/queries.py
CASES: list[tuple[str, str, AgencyKind, Role, str, int]] = [
    ("hotspots force 90d", KENT_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, KENT_POLICE, 90),
    ("hotspots national 1y", NATIONAL_UNIT, AgencyKind.NATIONAL_UNIT, Role.ANALYST, "national", 365),
    ("hotspots national 1y investigator", KENT_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, "national", 365),
]


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# One episode reported in the window's last days with a place of the kind: refreshing its buckets
# (the statement every write path runs, which recounts them exactly and gives their stamps new
# versions) is the cheapest real write that makes the next request "cold".
_EPISODE_IN_WINDOW = """
MATCH (e:Episode) WHERE e.reportedAt >= $from AND e.reportedAt < $to
  AND EXISTS { (e)-[r]->() WHERE type(r) IN $types }
RETURN e.id AS id ORDER BY e.reportedAt DESC LIMIT 1
"""


_PLACE_TYPES = {HotspotKind.MISSING_FROM: ["MISSING_FROM_LOCATION", "MISSING_FROM"],
                HotspotKind.LAST_SEEN: ["LAST_SEEN_AT"], HotspotKind.WENT_TO: ["WENT_TO"],
                HotspotKind.FOUND_AT: ["FOUND_AT"]}


async def touch(graph: Graph, episode_id: str) -> None:
    async def work(tx: Any) -> None:
        await refresh_episodes(tx, [episode_id])
    await graph.in_write_tx(work)


MODES = ("old", "uncached", "cold", "warm")


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--only", help="run the cases whose name contains this text")
    ap.add_argument("--kind", default="found_at", choices=[k.value for k in HotspotKind])
    ap.add_argument("--modes", default=",".join(MODES),
                    help="old (scan=True), uncached (buckets, no cache), cold (buckets, first request after a "
                         "write), warm (buckets, cache valid); comma-separated")
    args = ap.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    settings = get_settings()
    uncached_settings = settings.model_copy(update={"hotspot_cache_entries": 0})
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, max(settings.neo4j_query_timeout_s, 120.0))
    policy = get_policy(settings.policy_file)
    kind = HotspotKind(args.kind)
    failed = False
    try:
        params = await pick_params(graph, None)
        to = params["asOf"].date()
        print(f"data set: {params.get('profile') or 'unknown'}; asOf {params['asOf'].isoformat()}; kind {kind.value}")
        print(f"load average before: {loadavg()}")
        head = f"{'query':34} " + " ".join(f"{m + ' p50':>13} {m + ' p95':>13}" for m in modes) + "  same answer"
        lines = []
        for name, agency, akind, role, area, days in CASES:
            if args.only and args.only.lower() not in name.lower():
                continue
            principal = Principal(subject="bench", client_id="bench", agency_id=agency, agency_kind=akind, role=role,
                                  scopes=frozenset(policy.scopes_for(akind, role)))
            frm = to - timedelta(days=days)
            start = datetime.combine(frm, dtime(), UTC)
            end = datetime.combine(to, dtime(), UTC)
            row = await graph.read_one(_EPISODE_IN_WINDOW, {"from": end - timedelta(days=7), "to": end,
                                                             "types": _PLACE_TYPES[kind]})
            episode_id = row["id"] if row else None
            times: dict[str, list[float]] = {m: [] for m in modes}
            answers: dict[str, Any] = {}
            for i in range(args.warmup + args.iterations):
                order = modes[i % len(modes):] + modes[:i % len(modes)]
                for mode in order:
                    if mode == "cold" and episode_id:
                        await touch(graph, episode_id)
                    if mode == "warm":  # make sure an entry exists, so this is the warm path
                        await hotspots(ServiceContext(graph=graph, settings=settings, principal=principal,
                                                      purpose=PURPOSE, request_id=str(uuid.uuid4())),
                                       area, kind, frm, to, limit=20)
                    ctx = ServiceContext(graph=graph, settings=uncached_settings if mode == "uncached" else settings,
                                         principal=principal, purpose=PURPOSE, request_id=str(uuid.uuid4()))
                    t0 = time.perf_counter()
                    res = await hotspots(ctx, area, kind, frm, to, limit=20, scan=mode == "old")
                    t1 = time.perf_counter()
                    answers.setdefault(mode, res)
                    if i >= args.warmup:
                        times[mode].append((t1 - t0) * 1000)
            first = asdict(answers[modes[0]])
            same = all(asdict(a) == first for a in answers.values())
            failed |= not same
            cols = " ".join(f"{Timing(times[m]).p50:13.1f} {Timing(times[m]).p95:13.1f}" for m in modes)
            lines.append(f"{name:34} {cols}  {'yes' if same else 'NO'} ({answers[modes[0]].total} hot spots)")
            print(f"  {lines[-1]}", file=sys.stderr)
        print(f"load average after: {loadavg()}")
        print(f"\n{args.iterations} iterations (modes rotating) after {args.warmup} warm-up runs; ms\n")
        print(head)
        print("-" * len(head))
        for ln in lines:
            print(ln)
    finally:
        await driver.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
