"""What the residence basis costs: REFRESH_ACCESS with and without the home-LA branch, side by side.

The access lists on every child (`accessAgencies`, `historyAgencies`) are recomputed by
REFRESH_ACCESS after every write and in bulk after seeding and imports. The residence basis
(docs/ACCESS.md) adds one branch (the LA of the child's `HOME_AT` place). This runs the statement
without that branch ("before") and with it ("after") over every child of the loaded data set,
alternating rounds so both see the same machine load, and prints the time of each, the ratio, the
load average, and how much wider the lists got. It leaves the lists as the current code writes them.

    .venv/bin/python -m bench.access_refresh [--rounds 3] [--batch 1000]

(The read predicates are unchanged in shape: `$agencyId IN c.accessAgencies` over lists that grew
by at most one element per child.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import LiteralString, cast

from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.settings import get_settings

_HOME_BRANCH = """
        MATCH (c)-[:HOME_AT]->(home:Location) WHERE home.laCode IS NOT NULL RETURN home.laCode AS a
        UNION"""
if _HOME_BRANCH not in REFRESH_ACCESS:
    raise SystemExit("REFRESH_ACCESS changed shape: update bench/access_refresh.py")
REFRESH_WITHOUT_RESIDENCE = cast(LiteralString, REFRESH_ACCESS.replace(_HOME_BRANCH, ""))

_WIDTH = """
MATCH (c:Child)
RETURN count(c) AS children, sum(size(c.accessAgencies)) AS accessEntries,
       sum(size(c.historyAgencies)) AS historyEntries,
       sum(count { MATCH (c)-[:HOME_AT]->(h:Location) WHERE h.laCode IN c.accessAgencies }) AS homeLaReads,
       sum(count { MATCH (c)-[:HOME_AT]->(:Location) }) AS withHome
"""


async def _refresh_all(graph: Graph, statement: LiteralString, ids: list[str], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(ids), batch):
        await graph.write(statement, {"childIds": ids[i:i + batch]})
    return time.perf_counter() - started


async def main(rounds: int, batch: int) -> None:
    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, timeout_s=600)
    try:
        ids = [r["id"] for r in await graph.read("MATCH (c:Child) RETURN c.id AS id ORDER BY id")]
        if not ids:
            raise SystemExit("no children loaded: run `mpdb seed --profile demo` first")
        times: dict[str, list[float]] = {"before": [], "after": []}
        width: dict[str, dict[str, int]] = {}
        loads = [os.getloadavg()[0]]
        for _ in range(rounds):
            for label, statement in (("before", REFRESH_WITHOUT_RESIDENCE), ("after", REFRESH_ACCESS)):
                times[label].append(await _refresh_all(graph, statement, ids, batch))
                width[label] = (await graph.read(_WIDTH))[0]
                loads.append(os.getloadavg()[0])
        print(f"children: {len(ids):,}; batches of {batch}; {rounds} alternating rounds; "
              f"load average (1 min) {min(loads):.1f}-{max(loads):.1f}")
        print(f"{'REFRESH_ACCESS':<26}{'median s':>10}{'min s':>10}{'children/s':>12}")
        for label in ("before", "after"):
            med = statistics.median(times[label])
            print(f"{label + (' (no residence)' if label == 'before' else ' (residence)'):<26}"
                  f"{med:>10.2f}{min(times[label]):>10.2f}{len(ids) / med:>12,.0f}")
        ratio = statistics.median(times["after"]) / statistics.median(times["before"])
        print(f"ratio after/before (medians): {ratio:.2f}")
        print(f"{'lists':<26}{'before':>12}{'after':>12}")
        for key in ("children", "withHome", "accessEntries", "historyEntries", "homeLaReads"):
            print(f"{key:<26}{width['before'][key]:>12,}{width['after'][key]:>12,}")
    finally:
        await driver.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternating before/after rounds (default 3)")
    parser.add_argument("--batch", type=int, default=1000, help="children per REFRESH_ACCESS call (default 1000)")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.batch))
