"""`mpdb import ...`: bulk-load CSV files and the SSDA903 return as an agency (docs/IMPORT.md).

The operator runs the import on the agency's behalf: records are stamped `recordedBy = --agency`,
`author = --author` (default: the OS user), and each batch's audit event names both.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mpdb.ingest.csv_formats import ImportKind
from mpdb.observability.progress import Progress

import_app = typer.Typer(help="Bulk import: documented CSV formats and the DfE SSDA903 return.",
                         no_args_is_help=True)
console = Console(stderr=True)

AgencyOpt = Annotated[str, typer.Option("--agency", help="Importing agency id (ONS code, e.g. E10000016).")]
ErrorsOpt = Annotated[Path | None, typer.Option("--errors", help="Write the per-row reject report (CSV) here.")]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, max=10_000, help="Rows per transaction.")]
AuthorOpt = Annotated[str | None, typer.Option("--author", help="Who is importing (default: the OS user).")]


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        yield from f


def _count_rows(*paths: Path) -> int:
    total = 0
    for p in paths:
        with open(p, "rb") as f:
            total += max(sum(1 for _ in f) - 1, 0)
    return total


def _principal(agency: str, author: str | None) -> Any:
    from mpdb.auth.principal import AgencyKind, Principal, Role, Scope

    user = author or getpass.getuser()
    # The kind is checked against the graph by the importer; SYSTEM keeps the CLI's national
    # reach for resolving mpdb ids, as for every other operator command.
    return Principal(subject=f"cli:{user}", client_id="mpdb-cli", agency_id=agency,
                     agency_kind=AgencyKind.SYSTEM, role=Role.OPERATOR,
                     scopes=frozenset({Scope.IMPORT_WRITE}))


def _run(work: Any, total: int, label: str) -> Any:
    from mpdb.graph.db import Graph
    from mpdb.graph.driver import create_driver
    from mpdb.settings import get_settings

    async def main() -> Any:
        settings = get_settings()
        driver = create_driver(settings)
        try:
            with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("rows"), TimeElapsedColumn(), console=console,
                          transient=False) as bar:
                task = bar.add_task(label, total=total)
                return await work(Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s),
                                  lambda n: bar.advance(task, n))
        finally:
            await driver.close()

    return asyncio.run(main())


def _report(summary: Any, errors_path: Path | None) -> None:
    from mpdb.ingest.importer import write_error_report

    table = Table(title=f"import {summary.kind} as {summary.agency_id} ({summary.source_system})")
    for col in ("rows", "loaded", "unchanged", "rejected", "batches", "seconds", "rows/s"):
        table.add_column(col, justify="right")
    table.add_row(str(summary.rows), str(summary.loaded), str(summary.unchanged), str(summary.rejected),
                  str(summary.batches), f"{summary.seconds:.2f}", f"{summary.rows_per_second:,.0f}")
    console.print(table)
    if summary.per_table and len(summary.per_table) > 1:
        per = Table(title="per table")
        for col in ("table", "loaded", "unchanged", "rejected"):
            per.add_column(col)
        for name, counts in summary.per_table.items():
            per.add_row(name, str(counts["loaded"]), str(counts["unchanged"]), str(counts["rejected"]))
        console.print(per)
    if errors_path is not None:
        with open(errors_path, "w", encoding="utf-8", newline="") as f:
            write_error_report(summary.errors, f)
        console.print(f"reject report: {errors_path} ({len(summary.errors)} errors)")
    elif summary.errors:
        shown = summary.errors[:20]
        for e in shown:
            console.print(escape(f"  {e.file}:{e.line} [{e.rule}] {e.column or '-'}: {e.reason}"))
        if len(summary.errors) > len(shown):
            console.print(f"  ... {len(summary.errors) - len(shown)} more (use --errors FILE for all)")


def _fail(exc: Exception) -> None:
    from mpdb.domain.errors import MpdbError
    from mpdb.ingest.importer import ImportFileError

    if isinstance(exc, ImportFileError):
        console.print(f"[red]import refused:[/red] {exc.message}")
        for e in exc.errors:
            console.print(escape(f"  {e.file}:{e.line} [{e.rule}] {e.column or '-'}: {e.reason}"))
        raise typer.Exit(2)
    if isinstance(exc, MpdbError):
        console.print(f"[red]import refused:[/red] {exc.message}")
        raise typer.Exit(2)
    raise exc


@import_app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")],
    kind: Annotated[ImportKind, typer.Option("--kind", help="Which documented format the file is in.")],
    agency: AgencyOpt,
    errors: ErrorsOpt = None,
    batch_size: BatchOpt = 1000,
    author: AuthorOpt = None,
) -> None:
    """Import one CSV file (children, episodes, placements, flags or return_interviews)."""
    from mpdb.ingest.importer import Importer

    async def work(graph: Any, tick: Any) -> Any:
        importer = Importer(graph, _principal(agency, author), batch_size=batch_size, progress=tick,
                            purpose=f"bulk import of {file.name}")
        return await importer.import_csv(kind, _lines(file), file=file.name)

    try:
        summary = _run(work, _count_rows(file), f"{kind} {file.name}")
    except Exception as exc:  # noqa: BLE001 - _fail re-raises anything it does not report
        _fail(exc)
        return
    _report(summary, errors)
    if summary.rejected:
        raise typer.Exit(1)


@import_app.command("ssda903")
def import_ssda903(
    agency: AgencyOpt,
    year: Annotated[int, typer.Option("--year", help="Collection year, named by its end (2024 = 2023-24).")],
    header: Annotated[Path, typer.Option("--header", exists=True, dir_okay=False, help="Header table CSV.")],
    episodes: Annotated[Path, typer.Option("--episodes", exists=True, dir_okay=False, help="Episodes table CSV.")],
    missing: Annotated[Path, typer.Option("--missing", exists=True, dir_okay=False, help="Missing table CSV.")],
    errors: ErrorsOpt = None,
    batch_size: BatchOpt = 1000,
    author: AuthorOpt = None,
) -> None:
    """Import an LA's SSDA903 return (header, episodes and missing tables) for one collection year."""
    from mpdb.ingest.importer import Importer

    async def work(graph: Any, tick: Any) -> Any:
        importer = Importer(graph, _principal(agency, author), batch_size=batch_size, progress=tick,
                            purpose=f"SSDA903 import {year}")
        return await importer.import_ssda903(
            year, _lines(header), _lines(episodes), _lines(missing),
            files={"header": header.name, "episodes": episodes.name, "missing": missing.name})

    try:
        summary = _run(work, _count_rows(header, episodes, missing), f"ssda903 {year}")
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    _report(summary, errors)
    if summary.rejected:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(import_app())
