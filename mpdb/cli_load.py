"""`mpdb load`: an agency's first bulk load of its history (mpdb/ingest/bulk/agency.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True)


def load(
    directory: Annotated[Path, typer.Argument(
        exists=True, file_okay=False, help="A directory holding children.csv, placements.csv, flags.csv, "
                                           "episodes.csv and/or return_interviews.csv (docs/IMPORT.md formats).")],
    agency: Annotated[str, typer.Option("--agency", help="The agency whose history this is (ONS code).")],
    errors: Annotated[Path | None, typer.Option("--errors", help="Write every validation error (CSV) here.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=10_000,
                                            help="Rows per transaction / per audit event.")] = 1000,
    author: Annotated[str | None, typer.Option("--author", help="Who is loading (default: the OS user).")] = None,
    transactional: Annotated[bool, typer.Option(
        "--transactional", help="Load with transactions even into an empty local server.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Validate the files only; write nothing.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="On a failure, print the traceback too.")] = False,
) -> None:
    """Validate an agency's files whole, then load them: with neo4j-admin's offline importer when the
    target is the project's own local Neo4j and holds no data, else with the transactional importer.

    Every row of every file is checked first (the rules of `mpdb import csv`, plus references between
    the files); with any error nothing is written and the errors are listed (file, line, column,
    rule, reason). Exit status: 0 loaded (or valid, with --check), 2 refused, 75 the database became
    unavailable during the transactional load (re-run to resume).
    """
    from mpdb.cli_import import _principal, _quiet_driver_logs, _report, fail, verbose_requested
    from mpdb.ingest.files import ImportLimits
    from mpdb.graph.local_server import LocalNeo4jError
    from mpdb.ingest.bulk.agency import find_files, load_files
    from mpdb.ingest.importer import Importer, write_error_report
    from mpdb.settings import get_settings

    files = find_files(directory)
    if not files:
        console.print(f"[red]load refused:[/red] no children.csv, placements.csv, flags.csv, episodes.csv or "
                      f"return_interviews.csv in {directory}")
        raise typer.Exit(2)
    verbose = verbose_requested(verbose)
    if not verbose:
        _quiet_driver_logs()
    now = datetime.now(UTC)
    settings = get_settings()
    importer = Importer(None, _principal(agency, author), batch_size=batch_size,  # type: ignore[arg-type]
                        purpose=f"first bulk load from {directory.name}", now=lambda: now,
                        limits=ImportLimits.from_settings(settings), alerts=False)
    try:
        result = load_files(settings, files, importer, transactional=transactional, check_only=check)
    except ValueError as exc:
        console.print(f"[red]load refused:[/red] {exc}")
        raise typer.Exit(2) from None
    except LocalNeo4jError as exc:
        console.print(f"[red]offline import failed:[/red] {exc}")
        raise typer.Exit(1) from None
    except Exception as exc:  # noqa: BLE001 - fail() re-raises anything it does not report
        fail(exc, verbose, "load")
        return
    v = result.validated
    if not v.ok:
        console.print(f"[red]load refused:[/red] {len(v.errors)} errors in {v.rows:,} rows; nothing was written")
        for e in v.errors[:30]:
            console.print(escape(f"  {e.file}:{e.line} [{e.rule}] {e.column or '-'}: {e.reason}"))
        if len(v.errors) > 30:
            console.print(f"  ... {len(v.errors) - 30} more" + ("" if errors else " (use --errors FILE for all)"))
        if errors:
            with open(errors, "w", encoding="utf-8", newline="") as f:
                write_error_report(v.errors, f)
            console.print(f"error report: {errors}")
        raise typer.Exit(2)
    shown = v.warnings[:30] if check or result.path == "offline" else []  # else in the summaries below
    for w in shown:
        console.print(escape(f"  warning {w.file}:{w.line} [{w.rule}] {w.column or '-'}: {w.reason}"))
    if len(v.warnings) > len(shown) > 0:
        console.print(f"  ... {len(v.warnings) - len(shown)} more warnings")
    if check:
        console.print(f"valid: {v.rows:,} rows in {len(files)} files; would load {result.path}"
                      + (f" ({result.reason})" if result.reason else ""))
        return
    if result.path == "offline":
        counts = ", ".join(f"{k} {len(p):,}" for k, p in v.planned.items() if p)
        console.print(f"loaded offline with neo4j-admin import: {counts}")
        for ph in result.phases:
            console.print(f"  {ph.name}: {ph.seconds:.1f}s")
    else:
        console.print(f"[dim]loaded with transactions: {result.reason}[/dim]")
    for s in result.summaries:
        _report(s, None)
