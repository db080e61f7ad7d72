"""`mpdb hotspots ...`: the hot-spot pre-aggregates (HotspotBucket, see mpdb/intel/hotspots.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

hotspots_app = typer.Typer(help="Hot-spot pre-aggregates (per kind, grid cell, LA, force and day).",
                           no_args_is_help=True)
console = Console(stderr=True)


@hotspots_app.command("rebuild")
def rebuild(
    days_per_batch: Annotated[int, typer.Option(
        "--days-per-batch", min=1, max=366,
        help="Days of reports recomputed per write transaction (more: fewer, larger transactions).")] = 7,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Recompute every hot-spot bucket from the episodes in the graph (exact; idempotent).

    Every write path keeps the buckets up to date in its own transaction; rebuild after a bulk
    load that did not compute them, or to check them (it changes nothing when they are exact).
    Run it with writes quiet: a write during a rebuild is still counted, but the rebuild may
    recount a day the write had just refreshed, in its own later transaction."""
    from mpdb.graph.db import Graph
    from mpdb.graph.driver import create_driver, verify_reachable
    from mpdb.graph.repositories.hotspot_buckets import rebuild as rebuild_buckets
    from mpdb.settings import get_settings

    settings = get_settings()

    async def run() -> dict[str, int]:
        driver = create_driver(settings)
        try:
            await verify_reachable(driver, settings)
            graph = Graph(driver, settings.neo4j_database, timeout_s=max(settings.neo4j_query_timeout_s, 600.0))
            bar = Progress(TextColumn("hot-spot buckets"), BarColumn(), MofNCompleteColumn(), TextColumn("days"),
                           TimeElapsedColumn(), console=console, disable=not progress)
            with bar:
                task = bar.add_task("rebuild", total=None)

                def tick(done: int, total: int, counts: dict[str, int]) -> None:
                    bar.update(task, completed=done, total=total)

                return await rebuild_buckets(graph, days_per_batch=days_per_batch, progress=tick)
        finally:
            await driver.close()

    t = time.perf_counter()
    totals = asyncio.run(run())  # failures: one line and an exit status (mpdb/cli_errors.py)
    typer.echo(f"rebuilt hot-spot buckets over {totals['days']} days in {time.perf_counter() - t:.1f} s: "
               f"{totals['written']} written, {totals['deleted']} deleted")
