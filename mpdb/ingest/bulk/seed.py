"""`mpdb seed` through the offline importer: generate -> CSV -> neo4j-admin -> swap -> schema.

Used when the target is the project-managed local server and holds nothing but schema records
(`offline_reason()` says why not otherwise, and `mpdb seed` then uses the transactional loader).
The re-seeding rules are the transactional loader's (mpdb/ingest/synthetic/loader.py): the same
data set again is a no-op, any other data is refused without --reset. With --reset, a store
holding data but no audit trail is replaced whole; an audit trail must outlive a reset, and the
offline importer cannot carry it over, so such a store is reset and loaded transactionally.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mpdb.graph.driver import create_driver
from mpdb.graph.local_server import LocalNeo4j
from mpdb.graph.migrations import apply_migrations
from mpdb.graph.offline_import import (
    await_indexes,
    fix_empties,
    run_admin_import,
    store_size,
    swap_in,
)
from mpdb.graph.queries import alerts as alerts_q
from mpdb.graph.queries import bulk as q
from mpdb.ingest.bulk.csvgraph import Manifest
from mpdb.ingest.reference import ReferenceData, read_reference_data
from mpdb.ingest.synthetic.loader import SeedResult, dataset_state, reseed_rules
from mpdb.ingest.synthetic.profiles import Profile
from mpdb.observability.progress import Progress
from mpdb.settings import Settings


@dataclass
class BulkPhase:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class BulkResult:
    seed: SeedResult
    phases: list[BulkPhase] = field(default_factory=list)
    rows: int = 0
    store_bytes: int = 0
    csv_bytes: int = 0

    @property
    def total_seconds(self) -> float:
        return sum(p.seconds for p in self.phases)


async def store_state(settings: Settings) -> tuple[dict[str, Any] | None, bool, bool]:
    """(DatasetInfo properties or None, holds any node but schema records, holds an audit trail)."""
    driver = create_driver(settings)
    try:
        info, _ = await dataset_state(driver, settings.neo4j_database)
        records, _, _ = await driver.execute_query(q.STORE_STATE, database_=settings.neo4j_database, routing_="r")
        return info, bool(records[0]["hasNodes"]), bool(records[0]["hasAudit"])
    finally:
        await driver.close()


def offline_reason(settings: Settings, state: tuple[dict[str, Any] | None, bool, bool] | None, *,
                   reset: bool) -> str | None:
    """None when the offline importer may build the database; else why not (for the message)."""
    if not settings.managed_neo4j:
        return "NEO4J_URI names an external server (the offline importer needs the local store)"
    if state is None:
        return "the local server is not running"
    _, has_nodes, has_audit = state
    if has_audit:
        return "the graph holds an audit trail, which a reset keeps and an offline import would lose"
    if has_nodes and not reset:
        return "the graph already holds data"
    return None


def precheck(state: tuple[dict[str, Any] | None, bool, bool], profile: Profile, seed: int, *,
             reset: bool) -> SeedResult | None:
    """The loader's re-seeding rules (mpdb.ingest.synthetic.loader.reseed_rules) on a store state."""
    info, has_nodes, _ = state
    return reseed_rules(info, has_nodes, profile, seed, reset=reset)


def load_manifest(settings: Settings, manifest: Manifest, *, progress: Progress | None = None,
                  work: Path, phases: list[BulkPhase]) -> int:
    """Import `manifest` into the local server's database (see mpdb/graph/offline_import.py);
    appends its phases; returns the store size in bytes."""
    server = LocalNeo4j(settings)
    database = settings.neo4j_database

    def task(name: str) -> Any:
        return progress.add_task(name, total=None, rate="") if progress else None

    def done(t: Any, name: str, started: float, detail: str = "") -> None:
        phases.append(BulkPhase(name, time.perf_counter() - started, detail))
        if progress is not None and t is not None:
            progress.update(t, total=1, completed=1, rate=detail)

    t0 = time.perf_counter()
    t = task("neo4j-admin import")

    def on_line(line: str) -> None:
        if progress is not None and t is not None and line and not line.startswith(".........."):
            progress.update(t, rate=line[:60])

    imported = run_admin_import(server, manifest, work / "staging", database, on_line=on_line)
    done(t, "neo4j-admin import", t0, f"{manifest.rows:,} rows")

    t0 = time.perf_counter()
    t = task("restart on the new store")
    swap_in(server, imported, database)
    done(t, "restart on the new store", t0)

    t0 = time.perf_counter()
    t = task("schema, fix-ups, indexes")

    split: list[str] = []

    async def timed(name: str, step: Awaitable[Any]) -> None:
        s0 = time.perf_counter()
        await step
        split.append(f"{name} {time.perf_counter() - s0:.1f}")

    async def schema() -> None:
        driver = create_driver(settings)
        try:
            # the fix-ups touch no indexed property: they run while the constraints are built
            await asyncio.gather(timed("migrations", apply_migrations(driver, database, parallel=4)),
                                 timed("fix-ups", fix_empties(driver, database, manifest)))
            await timed("indexes", await_indexes(driver, database))
            # A first load of history raises no alerts: nothing in it is news, and the scheduler
            # must not page the duties it missed (docs/ALERTS.md, "What the loaders do").
            await driver.execute_query(alerts_q.HISTORY_LOADED, {"at": datetime.now(UTC)}, database_=database)
        finally:
            await driver.close()

    asyncio.run(schema())
    done(t, "schema, fix-ups, indexes", t0, " / ".join(split))
    return store_size(server, database)


def bulk_seed(settings: Settings, profile: Profile, seed: int, *, console: Console | None = None,
              show_progress: bool = True, workers: int | None = None, keep_files: bool = False,
              ref: ReferenceData | None = None) -> BulkResult:
    """Generate, write CSV, import offline, restart, apply the schema. The caller has checked
    `offline_reason()` and `precheck()`."""
    from mpdb.ingest.bulk.synthetic import export_seed

    console = console or Console(stderr=True)
    ref = ref or read_reference_data()
    work = settings.state_dir / "bulk" / f"seed-{profile.name}-{seed}-{int(time.time())}"
    shutil.rmtree(work, ignore_errors=True)
    phases: list[BulkPhase] = []
    progress = Progress(SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console,
                        disable=not show_progress, transient=False)
    try:
        with progress:
            t0 = time.perf_counter()
            gen_task = progress.add_task("generate + write CSV", total=profile.n_children, rate="")

            def on_progress(stage: str, n: int, total: int) -> None:
                progress.update(gen_task, total=total, completed=n, rate="children")

            manifest, counts = export_seed(profile, seed, ref, work / "csv", workers=workers, progress=on_progress)
            csv_bytes = sum(p.stat().st_size for _, p in manifest.nodes + manifest.relationships)
            phases.append(BulkPhase("generate + write CSV", time.perf_counter() - t0,
                                    f"{manifest.rows:,} rows, {csv_bytes / 1e6:,.0f} MB"))
            progress.update(gen_task, rate=f"{manifest.rows:,} rows")
            size = load_manifest(settings, manifest, progress=progress, work=work, phases=phases)
    finally:
        if not keep_files:
            shutil.rmtree(work, ignore_errors=True)
    result = SeedResult("seeded", profile.name, seed, node_counts=counts,
                        info={"profile": profile.name, "seed": seed, "asOf": profile.as_of})
    return BulkResult(result, phases, manifest.rows, size, csv_bytes)


def bulk_table(result: BulkResult) -> Table:
    r = result.seed
    table = Table(title=f"seed {r.profile} (seed {r.seed}, as of {r.as_of}): {r.status} with neo4j-admin import")
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    table.add_column("")
    for p in result.phases:
        table.add_row(p.name, f"{p.seconds:.1f}", p.detail)
    total = result.total_seconds
    table.add_row("[bold]total[/bold]", f"{total:.1f}", f"{result.rows / total if total else 0:,.0f} rows/s")
    table.caption = f"store {result.store_bytes / 1e6:,.0f} MB"
    return table
