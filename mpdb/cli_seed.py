"""`mpdb seed`: load reference data and a deterministic synthetic data set (wired into mpdb/cli.py)."""

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
) -> None:
    """Apply the schema, then load reference data and the synthetic data set PROFILE/SEED as of AS_OF."""
    from mpdb.graph.driver import create_driver
    from mpdb.graph.migrations import apply_migrations
    from mpdb.ingest.synthetic.loader import SchemaMissingError, SeedConflictError, seed_dataset, stats_table

    try:
        prof = get_profile(profile)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--profile") from None
    prof = prof.at(parse_as_of(as_of) if as_of is not None else prof.default_as_of())
    console = Console(stderr=True)
    settings = get_settings()

    async def run():  # type: ignore[no-untyped-def]
        driver = create_driver(settings)
        try:
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
