"""Hot spots from the pre-aggregates (HotspotBucket) against the exact scan over episodes, side by
side in one run, in-process through the driver (the service function, as bench.harness's "driver"
column), with the load average before and after.

    .venv/bin/python -m bench.hotspots                       # the three hot-spot queries of bench.harness
    .venv/bin/python -m bench.hotspots --iterations 20 --only national

For each query the old computation (`scan=True`: step 1 scans the episodes, HOTSPOT_CELLS_SCAN) and
the new one (step 1 reads the buckets) run alternately, iteration by iteration, so both see the same
load. The first answer of each is compared field by field and a difference is reported (and fails
the run). Columns: p50 / p95 of the whole service call, the new/old ratio of the p95s, and the p95
of step 1 alone for the area itself (its query and the fold into per-cell stats, i.e. what changed;
a force's ring of neighbouring cells is a second such query, not included). Needs the
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
from mpdb.graph.repositories.intel_areas import IntelAreaRepository
from mpdb.intel.hotspots import HotspotKind, fold_bucket_columns, hotspots, merge_cell_rows
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


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--only", help="run the cases whose name contains this text")
    ap.add_argument("--kind", default="found_at", choices=[k.value for k in HotspotKind])
    args = ap.parse_args(argv)
    settings = get_settings()
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
        head = (f"{'query':34} {'old p50':>8} {'old p95':>8} {'new p50':>8} {'new p95':>8} {'p95 new/old':>11}"
                f" {'step1 old p95':>13} {'step1 new p95':>13}  same answer")
        lines = []
        for name, agency, akind, role, area, days in CASES:
            if args.only and args.only.lower() not in name.lower():
                continue
            principal = Principal(subject="bench", client_id="bench", agency_id=agency, agency_kind=akind, role=role,
                                  scopes=frozenset(policy.scopes_for(akind, role)))
            frm = to - timedelta(days=days)
            times: dict[tuple[str, bool], list[float]] = {(w, s): [] for w in ("all", "step1") for s in (True, False)}
            answers: dict[bool, Any] = {}
            start = datetime.combine(frm, dtime(), UTC)
            end = datetime.combine(to, dtime(), UTC)
            prev = start - (end - start)
            mode = "national" if area == "national" else ("force" if area.startswith("E23") else "la")
            repo = IntelAreaRepository(graph)
            for i in range(args.warmup + args.iterations):
                for scan in (True, False) if i % 2 == 0 else (False, True):
                    ctx = ServiceContext(graph=graph, settings=settings, principal=principal, purpose=PURPOSE,
                                         request_id=str(uuid.uuid4()))
                    t0 = time.perf_counter()
                    res = await hotspots(ctx, area, kind, frm, to, limit=20, scan=scan)
                    t1 = time.perf_counter()
                    step1 = repo.hotspot_cells if scan else repo.hotspot_buckets
                    cols = await step1(mode, kind.value, area=None if mode == "national" else area,
                                       prev_from=prev, from_=start, to=end)
                    if scan:
                        merge_cell_rows(cols)  # type: ignore[arg-type]
                    else:
                        fold_bucket_columns(cols)  # type: ignore[arg-type]
                    t2 = time.perf_counter()
                    answers.setdefault(scan, res)
                    if i >= args.warmup:
                        times[("all", scan)].append((t1 - t0) * 1000)
                        times[("step1", scan)].append((t2 - t1) * 1000)
            same = asdict(answers[True]) == asdict(answers[False])
            failed |= not same
            old, new = Timing(times[("all", True)]), Timing(times[("all", False)])
            s_old, s_new = Timing(times[("step1", True)]), Timing(times[("step1", False)])
            lines.append(f"{name:34} {old.p50:8.1f} {old.p95:8.1f} {new.p50:8.1f} {new.p95:8.1f} "
                         f"{new.p95 / old.p95:11.3f} {s_old.p95:13.1f} {s_new.p95:13.1f}  "
                         f"{'yes' if same else 'NO'} ({answers[False].total} hot spots)")
            print(f"  {name}: done", file=sys.stderr)
        print(f"load average after: {loadavg()}")
        print(f"\n{args.iterations} iterations (old and new alternating) after {args.warmup} warm-up runs; ms\n")
        print(head)
        print("-" * len(head))
        for ln in lines:
            print(ln)
    finally:
        await driver.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
