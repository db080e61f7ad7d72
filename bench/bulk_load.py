"""Load time and store size: `mpdb seed` through neo4j-admin's offline importer, and through the
transactional loader, each into a fresh local Neo4j of its own (a temporary state dir on a free
port, stopped and deleted afterwards).

    .venv/bin/python -m bench.bulk_load [--bulk tiny,demo,national] [--transactional tiny,demo]
                                        [--compare] [--keep]

For each profile and path it prints the end-to-end wall time (for the transactional path: server
start + seed, the same work `make run` does) split into phases, the CPU seconds of this process
and its children (generation, CSV, neo4j-admin; the server JVM is not counted), the store size on
disk and the load average before and after. `--compare` fingerprints both graphs of a profile
loaded both ways and says whether they are identical (mpdb/graph/fingerprint.py). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mpdb.graph.driver import create_driver
from mpdb.graph.fingerprint import Fingerprint, fingerprint
from mpdb.graph.local_server import LocalNeo4j
from mpdb.graph.migrations import apply_migrations
from mpdb.graph.offline_import import store_size
from mpdb.ingest.bulk.seed import bulk_seed
from mpdb.ingest.synthetic.loader import seed_dataset
from mpdb.ingest.synthetic.profiles import get_profile
from mpdb.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

console = Console()


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _settings(tag: str, heap: str) -> Settings:
    state = PROJECT_ROOT / ".mpdb" / f"bench-load-{tag}-{free_port()}"
    shutil.rmtree(state, ignore_errors=True)
    return Settings(state_dir=state, local_bolt_port=free_port(), local_heap=heap, local_pagecache="1g")


async def _fp(settings: Settings) -> Fingerprint:
    driver = create_driver(settings)
    try:
        return await fingerprint(driver, settings.neo4j_database)
    finally:
        await driver.close()


def run_bulk(profile: str, heap: str) -> tuple[dict, Settings]:
    settings = _settings(f"bulk-{profile}", heap)
    load0, cpu0, t0 = _loadavg(), _cpu(), time.perf_counter()
    result = bulk_seed(settings, get_profile(profile), 42, show_progress=False)
    wall = time.perf_counter() - t0
    phases = {p.name: p.seconds for p in result.phases}
    return {"profile": profile, "path": "offline", "rows": result.rows, "wall": wall,
            "phases": " / ".join(f"{v:.0f}" for v in phases.values()), "cpu": _cpu() - cpu0,
            "store": result.store_bytes, "load": f"{load0} -> {_loadavg()}"}, settings


def run_transactional(profile: str, heap: str) -> tuple[dict, Settings]:
    settings = _settings(f"tx-{profile}", heap)
    server = LocalNeo4j(settings)
    load0, cpu0, t0 = _loadavg(), _cpu(), time.perf_counter()
    server.start()
    started = time.perf_counter() - t0

    async def seed() -> int:
        driver = create_driver(settings)
        try:
            await apply_migrations(driver, settings.neo4j_database)
            res = await seed_dataset(driver, settings.neo4j_database, get_profile(profile), 42, show_progress=False)
            return res.rows
        finally:
            await driver.close()

    rows = asyncio.run(seed())
    wall = time.perf_counter() - t0
    return {"profile": profile, "path": "transactional", "rows": rows, "wall": wall,
            "phases": f"start {started:.0f} / seed {wall - started:.0f}", "cpu": _cpu() - cpu0,
            "store": store_size(server, settings.neo4j_database), "load": f"{load0} -> {_loadavg()}"}, settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bulk", default="tiny,demo", help="profiles to load offline (comma separated)")
    ap.add_argument("--transactional", default="tiny,demo", help="profiles to load with transactions")
    ap.add_argument("--compare", action="store_true", help="fingerprint both graphs of a profile loaded both ways")
    ap.add_argument("--keep", action="store_true", help="leave the servers running and their state dirs")
    ap.add_argument("--heap", default="2g", help="server heap (MPDB_LOCAL_HEAP of each server)")
    args = ap.parse_args()
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)  # "label does not exist" on a new store
    rows: list[dict] = []
    servers: dict[tuple[str, str], Settings] = {}
    try:
        for path, names, fn in (("offline", args.bulk, run_bulk), ("transactional", args.transactional,
                                                                    run_transactional)):
            for name in filter(None, names.split(",")):
                console.print(f"[dim]{path} {name} ... (load {_loadavg()})[/dim]")
                row, settings = fn(name, args.heap)
                rows.append(row)
                servers[(name, path)] = settings
                if not (args.compare and name in args.bulk.split(",") and name in args.transactional.split(",")):
                    if not args.keep:
                        LocalNeo4j(settings).stop()
        table = Table(title="mpdb seed: load time and store size (seed 42)")
        for col in ("profile", "path", "rows", "wall s", "phases s", "CPU s", "rows/s", "store MB", "loadavg"):
            table.add_column(col, justify="left" if col in ("profile", "path", "phases s", "loadavg") else "right")
        for r in rows:
            table.add_row(r["profile"], r["path"], f"{r['rows']:,}", f"{r['wall']:.0f}", r["phases"], f"{r['cpu']:.0f}",
                          f"{r['rows'] / r['wall']:,.0f}", f"{r['store'] / 1e6:,.0f}", r["load"])
        table.caption = ("offline phases: generate+CSV / neo4j-admin / restart / schema+indexes; CPU: this process "
                         "and its children (generation, CSV, neo4j-admin), not the server JVM")
        console.print(table)
        if args.compare:
            for name in args.bulk.split(","):
                if (name, "transactional") in servers and (name, "offline") in servers:
                    a = asyncio.run(_fp(servers[(name, "offline")]))
                    b = asyncio.run(_fp(servers[(name, "transactional")]))
                    diff = a.differences(b)
                    console.print(f"{name}: offline vs transactional: "
                                  + ("identical" if not diff else "differ in " + "; ".join(diff)))
    finally:
        if not args.keep:
            for settings in servers.values():
                LocalNeo4j(settings).stop()
                shutil.rmtree(settings.state_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
