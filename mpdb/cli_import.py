"""`mpdb import ...`: bulk-load CSV files and the SSDA903 return as an agency (docs/IMPORT.md).

The operator runs the import on the agency's behalf: records are stamped `recordedBy = --agency`,
`author = --author` (default: the OS user), and each batch's audit event names both.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mpdb.ingest.csv_formats import ImportKind
from mpdb.observability.progress import Progress

import_app = typer.Typer(help="Bulk import: documented CSV formats and the DfE SSDA903 return.",
                         no_args_is_help=True)
# The progress bar and failures go to stderr; the summary and the reject list (the result) to stdout.
console = Console(stderr=True)
out = Console(soft_wrap=True)

# Exit status (docs/IMPORT.md): 0 loaded, 1 some rows rejected (the rest loaded), 2 the file was
# refused as a whole (nothing written), 75 the database became unavailable mid-import (the batches
# committed stay; re-run to resume). 75 is sysexits' EX_TEMPFAIL: "try again later".
EXIT_REJECTED = 1
EXIT_REFUSED = 2
EXIT_DB_UNAVAILABLE = 75

AgencyOpt = Annotated[str, typer.Option("--agency", help="Importing agency id (ONS code, e.g. E10000016).")]
ErrorsOpt = Annotated[Path | None, typer.Option("--errors", help="Write the per-row reject report (CSV) here.")]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, max=10_000, help="Rows per transaction.")]
AuthorOpt = Annotated[str | None, typer.Option("--author", help="Who is importing (default: the OS user).")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="On a failure, print the traceback too.")]


def _count_rows(*paths: Path) -> int | None:
    """The progress bar's total: only for a terminal, and not for a file the size cap refuses."""
    from mpdb.settings import get_settings

    if not console.is_terminal or any(p.stat().st_size > get_settings().import_max_file_bytes for p in paths):
        return None
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


def _run(work: Any, total: int | None, label: str) -> Any:
    from mpdb.graph.db import Graph
    from mpdb.graph.driver import create_driver
    from mpdb.ingest.files import ImportLimits
    from mpdb.settings import get_settings

    async def main() -> Any:
        settings = get_settings()
        driver = create_driver(settings)
        try:
            # Not on a terminal (a log, a pipe) the bar would only print its last frame.
            with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("rows"), TimeElapsedColumn(), console=console,
                          transient=False, disable=not console.is_terminal) as bar:
                task = bar.add_task(label, total=total)

                def tick(n: int) -> None:
                    bar.advance(task, n)

                return await work(Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s),
                                  ImportLimits.from_settings(settings), tick)
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
    out.print(table)
    if summary.per_table and len(summary.per_table) > 1:
        per = Table(title="per table")
        for col in ("table", "loaded", "unchanged", "rejected"):
            per.add_column(col)
        for name, counts in summary.per_table.items():
            per.add_row(name, str(counts["loaded"]), str(counts["unchanged"]), str(counts["rejected"]))
        out.print(per)
    if summary.matches or summary.proposals:
        _report_matches(summary)
    if errors_path is not None:
        with open(errors_path, "w", encoding="utf-8", newline="") as f:
            write_error_report(summary.errors, f, summary.warnings)
        out.print(f"reject report: {errors_path} ({len(summary.errors)} errors, {len(summary.warnings)} warnings)")
    else:
        for label, rows in (("", summary.errors), ("warning ", summary.warnings)):
            shown = rows[:20]
            for e in shown:
                out.print(escape(f"  {label}{e.file}:{e.line} [{e.rule}] {e.column or '-'}: {e.reason}"))
            if len(rows) > len(shown):
                out.print(f"  ... {len(rows) - len(shown)} more (use --errors FILE for all)")


def _report_matches(summary: Any) -> None:
    """Likely existing records of the imported children, proposed for review (POSSIBLY_SAME_AS):
    a child the importer may read by id, any other by pseudonym only."""
    out.print(f"possible duplicates: {summary.proposals} pair(s) proposed for review "
              f"({len(summary.matches)} imported row(s) with candidates)")
    shown = sorted(summary.matches, key=lambda m: (m.file, m.line))[:50]
    for m in shown:
        for c in m.candidates:
            who = c.get("childId") or f"{c['summary']['pseudonym']} (summary: {c['summary']['ageBand']}, " \
                                      f"{c['summary']['responsibleAuthority'] or 'no responsible LA'})"
            out.print(escape(f"  {m.file}:{m.line} {m.child_id} ~ {who} p={c['matchProbability']:.4f} "
                             f"[{c['candidateId']}]"))
    if len(summary.matches) > len(shown):
        out.print(f"  ... {len(summary.matches) - len(shown)} more rows (review them with the identityCandidates query)")


def verbose_requested(flag: bool) -> bool:
    """This command's --verbose, or the one given to `mpdb` itself."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root().params if ctx is not None else {}
    if flag:  # failures this command does not report itself go to the CLI's one handler: same flag
        import mpdb.cli

        mpdb.cli._verbose = True
    return flag or bool(root.get("verbose"))


def _quiet_driver_logs() -> None:
    # The driver logs every retry of a failed transaction at WARNING: while the database is down
    # that is a screenful; the one line printed at the end says what happened.
    logging.getLogger("neo4j").setLevel(logging.CRITICAL)


def fail(exc: BaseException, verbose: bool, what: str = "import") -> None:
    """One line on stderr and the documented exit status for what the import can explain;
    anything else propagates to the CLI's one handler (mpdb/cli.py: unreachable, credentials, or
    a bug's traceback)."""
    from mpdb.domain.errors import MpdbError
    from mpdb.ingest.files import ImportFileError
    from mpdb.ingest.importer import ImportInterrupted, database_unavailable

    if isinstance(exc, ImportInterrupted):
        line, code = f"{what} interrupted: {exc.message}", EXIT_DB_UNAVAILABLE
    elif database_unavailable(exc):
        raise exc  # never reached the database: the CLI's own "unreachable" line (mpdb/cli_errors.py)
    elif isinstance(exc, ImportFileError):
        line, code = f"{what} refused: {exc.one_line()}", EXIT_REFUSED
    elif isinstance(exc, MpdbError):
        line, code = f"{what} refused: {exc.message}", EXIT_REFUSED
    else:
        raise exc
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    typer.echo(line, err=True)
    raise typer.Exit(code)


@import_app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")],
    kind: Annotated[ImportKind, typer.Option("--kind", help="Which documented format the file is in.")],
    agency: AgencyOpt,
    errors: ErrorsOpt = None,
    batch_size: BatchOpt = 1000,
    author: AuthorOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Import one CSV file (children, episodes, placements, flags or return_interviews).

    Exit status: 0 loaded, 1 rows rejected (the rest loaded), 2 file refused (nothing written),
    75 database unavailable mid-import (re-run to resume)."""
    from mpdb.ingest.files import CsvFile
    from mpdb.ingest.importer import Importer

    verbose = verbose_requested(verbose)
    if not verbose:
        _quiet_driver_logs()

    async def work(graph: Any, limits: Any, tick: Any) -> Any:
        importer = Importer(graph, _principal(agency, author), batch_size=batch_size, progress=tick,
                            purpose=f"bulk import of {file.name}", limits=limits)
        return await importer.import_csv(kind, CsvFile.from_path(file))

    try:
        summary = _run(work, _count_rows(file), f"{kind} {file.name}")
    except Exception as exc:  # noqa: BLE001 - fail() re-raises anything it does not report
        fail(exc, verbose)
        return
    _report(summary, errors)
    if summary.rejected:
        raise typer.Exit(EXIT_REJECTED)


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
    verbose: VerboseOpt = False,
) -> None:
    """Import an LA's SSDA903 return (header, episodes and missing tables) for one collection year.

    Exit status as for `mpdb import csv`; one bad table refuses the whole return."""
    from mpdb.ingest.files import CsvFile
    from mpdb.ingest.importer import Importer

    verbose = verbose_requested(verbose)
    if not verbose:
        _quiet_driver_logs()

    async def work(graph: Any, limits: Any, tick: Any) -> Any:
        importer = Importer(graph, _principal(agency, author), batch_size=batch_size, progress=tick,
                            purpose=f"SSDA903 import {year}", limits=limits)
        return await importer.import_ssda903(
            year, CsvFile.from_path(header), CsvFile.from_path(episodes), CsvFile.from_path(missing))

    try:
        summary = _run(work, _count_rows(header, episodes, missing), f"ssda903 {year}")
    except Exception as exc:  # noqa: BLE001 - fail() re-raises anything it does not report
        fail(exc, verbose)
        return
    _report(summary, errors)
    if summary.rejected:
        raise typer.Exit(EXIT_REJECTED)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(import_app())
