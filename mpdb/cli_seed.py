"""`mpdb seed`: load reference data and a deterministic synthetic data set (wired into mpdb/cli.py).

Two ways in, the same graph (`mpdb db fingerprint` compares them):
- offline: when the target is the project-managed local server and holds no data, the data set is
  written as CSV and built with `neo4j-admin database import full` (mpdb/ingest/bulk/seed.py);
- transactional: otherwise (NEO4J_URI, data already there, an audit trail to keep, or
  `--transactional`), batched Cypher writes (mpdb/ingest/synthetic/loader.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.console import Console

from mpdb.ingest.synthetic.profiles import PROFILES, get_profile
from mpdb.settings import get_settings


def seed(
    profile: Annotated[str, typer.Option("--profile", "-p", help=f"Data-set profile: {', '.join(PROFILES)}.")] = "tiny",
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same profile + seed gives the same data.")] = 42,
    reset: Annotated[bool, typer.Option("--reset", help="Delete the data already in the graph first (keeps the schema).")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Rows per write transaction.")] = 10_000,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YYYY-MM-DD",
        help="The data set's reference date: nothing happens after it and every time is relative to it. "
             "Default: today (UTC) for `demo`, the profile's fixed date (2026-11-01) for the others.")] = None,
    transactional: Annotated[bool, typer.Option(
        "--transactional", help="Load with batched Cypher transactions even when the offline importer could "
                                "be used (the default for an empty local server).")] = False,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Processes generating and writing CSV (offline path). Default: one per core.")] = None,
    keep_files: Annotated[bool, typer.Option(
        "--keep-files", help="Keep the CSV files and the importer's log under .mpdb/bulk/ (offline path).")] = False,
    duplicates: Annotated[float, typer.Option(
        "--duplicates", min=0.0, max=0.5, metavar="SHARE",
        help="Record this share of the children a second time by another agency, with realistic errors "
             "(entity resolution, docs/RESOLUTION.md); the truth goes to the state dir, never the graph. "
             "A different data set: its profile name gets '+dupSHARE'.")] = 0.0,
) -> None:
    """Apply the schema, then load reference data and the synthetic data set PROFILE/SEED as of AS_OF.

    On the project's own local Neo4j (no NEO4J_URI) holding no data, the data set is written as CSV
    and built with Neo4j's offline importer (neo4j-admin database import full): the server is
    stopped for the import and started again on the new store, then the schema is applied and the
    indexes built. Otherwise, and with --transactional, it is loaded with batched transactions
    (the way to add to a remote server or cluster). Both build the same graph.
    """
    from mpdb.graph.driver import create_driver, verify_reachable
    from mpdb.graph.migrations import apply_migrations
    from mpdb.ingest.synthetic.loader import SchemaMissingError, SeedConflictError, seed_dataset, stats_table

    try:
        prof = get_profile(profile)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--profile") from None
    prof = prof.at(parse_as_of(as_of) if as_of is not None else prof.default_as_of()).with_duplicates(duplicates)
    console = Console(stderr=True)
    settings = get_settings()

    if not transactional and _offline(settings, prof, seed, reset, console, workers, keep_files):
        _write_truth(settings, prof, seed, console)
        return
    _ensure_running(settings, console)

    async def run():  # type: ignore[no-untyped-def]
        driver = create_driver(settings)
        try:
            await verify_reachable(driver, settings)
            await apply_migrations(driver, settings.neo4j_database)
            return await seed_dataset(driver, settings.neo4j_database, prof, seed, reset=reset,
                                      batch_size=batch_size, console=console)
        finally:
            await driver.close()

    try:
        result = asyncio.run(run())
    except (SeedConflictError, SchemaMissingError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if result.status == "already seeded":
        console.print(f"already seeded: profile={prof.name} seed={seed} as of {prof.as_of} (nothing to do)")
        return
    if result.status == "kept":
        console.print(f"[yellow]the graph holds profile={prof.name} seed={seed} as of {result.as_of}, not "
                      f"{prof.as_of}: kept as it is (records written since would be lost). To regenerate it as "
                      f"of {prof.as_of}: mpdb seed --profile {prof.name} --seed {seed} --as-of {prof.as_of} "
                      f"--reset[/yellow]")
        return
    console.print(stats_table(result))
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.node_counts.items()))
    console.print(f"nodes: {counts}")
    _write_truth(settings, prof, seed, console)


def _write_truth(settings, prof, seed: int, console: Console) -> None:  # type: ignore[no-untyped-def]
    """With duplicates: which records are the same child, kept beside the store (bench/resolution.py)."""
    if prof.duplicate_share <= 0:
        return
    from mpdb.resolution.training import write_truth

    path = write_truth(settings.state_dir, prof, seed)
    console.print(f"duplicates' truth (not in the graph): {path}")


def _ensure_running(settings, console: Console) -> None:  # type: ignore[no-untyped-def]
    """Start the project-managed local Neo4j when it is not running (a no-op for NEO4J_URI)."""
    from mpdb.graph.local_server import LocalNeo4j

    if not settings.managed_neo4j:
        return
    server = LocalNeo4j(settings)
    if server.status().running:
        return
    console.print("[dim]starting the local Neo4j[/dim]")
    server.start()  # failures: one line and an exit status (mpdb/cli_errors.py)


def _offline(settings, prof, seed: int, reset: bool, console: Console, workers: int | None,  # type: ignore[no-untyped-def]
             keep_files: bool) -> bool:
    """Seed through the offline importer when it may be used; False to go transactional."""
    from mpdb.graph.driver import create_driver, verify_reachable
    from mpdb.graph.local_server import LocalNeo4j, LocalNeo4jError
    from mpdb.graph.migrations import apply_migrations
    from mpdb.ingest.bulk.seed import bulk_seed, bulk_table, offline_reason, precheck, store_state
    from mpdb.ingest.synthetic.loader import SeedConflictError

    if not settings.managed_neo4j:
        return False
    server = LocalNeo4j(settings)
    fresh = not server.status().running and not (server.home / "data" / "databases" / settings.neo4j_database).exists()
    if fresh:
        # A new state dir: nothing to check and nothing to keep, so the import runs before the
        # server's first start instead of after a start and a stop.
        state: tuple = (None, False, False)
    else:
        _ensure_running(settings, console)

        async def migrate() -> None:
            driver = create_driver(settings)
            try:
                await verify_reachable(driver, settings)
                await apply_migrations(driver, settings.neo4j_database)
            finally:
                await driver.close()

        asyncio.run(migrate())
        state = asyncio.run(store_state(settings))
    try:
        pre = precheck(state, prof, seed, reset=reset)
    except SeedConflictError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if pre is not None:
        return False  # nothing to do: the transactional path reports it as it always has
    reason = offline_reason(settings, state, reset=reset)
    if reason is not None:
        console.print(f"[dim]loading with transactions: {reason}[/dim]")
        _ensure_running(settings, console)
        return False
    try:
        result = bulk_seed(settings, prof, seed, console=console, workers=workers, keep_files=keep_files)
    except LocalNeo4jError as exc:
        console.print(f"[red]offline import failed:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(bulk_table(result))
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.seed.node_counts.items()))
    console.print(f"nodes: {counts}")
    return True


def parse_as_of(value: str, today: date | None = None) -> date:
    """`--as-of`: an ISO date, not after today (UTC): the data set describes the past."""
    try:
        d = date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-01",
                                 param_hint="--as-of") from None
    today = today or datetime.now(UTC).date()
    if d > today:
        raise typer.BadParameter(f"{d} is in the future (today is {today} UTC): the data set describes the past",
                                 param_hint="--as-of")
    return d
