"""The `mpdb` command line: run the local database, apply the schema, seed, serve, import, audit."""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer

from mpdb.logging import configure_logging
from mpdb.settings import get_settings

class MpdbTyper(typer.Typer):
    """The one place a failing command becomes one line on stderr and its exit status
    (mpdb/cli_errors.py has the table); with `mpdb --verbose` the traceback comes first."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            from mpdb.cli_errors import explain
            from mpdb.graph.local_server import LocalNeo4jError

            failure = explain(exc)
            if failure is None and not isinstance(exc, LocalNeo4jError):
                raise  # a bug: typer prints its traceback
            if _verbose:
                traceback.print_exception(exc, file=sys.stderr)
            message = failure.message if failure else str(exc).splitlines()[0]
            typer.echo(f"error: {message}", err=True)
            sys.exit(failure.code if failure else 1)


_verbose = False

app = MpdbTyper(
    name="mpdb",
    help="mpdb: the national missing-children database API with graph intelligence.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
schema_app = typer.Typer(help="The graph schema (constraints and indexes as numbered migrations).", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit trail.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(audit_app, name="audit")


def _register_subcommands() -> None:
    from mpdb.cli_db import db_app
    from mpdb.cli_seed import seed
    from mpdb.cli_token import token

    app.add_typer(db_app, name="db", help="The project-managed local Neo4j (ignored when NEO4J_URI is set).")
    app.command("token")(token)
    app.command("seed")(seed)

    from mpdb.cli_import import import_app
    from mpdb.cli_load import load

    app.add_typer(import_app, name="import")
    app.command("load")(load)

    from mpdb.cli_hotspots import hotspots_app

    app.add_typer(hotspots_app, name="hotspots")

    from mpdb.cli_resolve import resolve_app

    app.add_typer(resolve_app, name="resolve")


@app.callback()
def main(verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Debug logging, and the traceback of a failure.")] = False) -> None:
    global _verbose
    _verbose = verbose
    configure_logging(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        # The driver logs each retry of a failed transaction at WARNING (a screenful while the
        # database is down); the failure itself is reported in one line at the end.
        logging.getLogger("neo4j").setLevel(logging.ERROR)


async def _with_driver(work):  # type: ignore[no-untyped-def]
    from mpdb.graph.driver import create_driver, verify_reachable

    settings = get_settings()
    driver = create_driver(settings)
    try:
        await verify_reachable(driver, settings)
        return await work(driver, settings)
    finally:
        await driver.close()


@schema_app.command("apply")
def schema_apply() -> None:
    """Apply pending migrations from graph_schema/migrations (idempotent)."""
    from mpdb.graph.migrations import apply_migrations

    applied = asyncio.run(_with_driver(lambda d, s: apply_migrations(d, s.neo4j_database)))
    typer.echo("schema up to date" if not applied else "applied: " + ", ".join(applied))


@schema_app.command("status")
def schema_status() -> None:
    """List migrations and whether each is applied."""
    from mpdb.graph.migrations import applied_versions, discover

    applied = asyncio.run(_with_driver(lambda d, s: applied_versions(d, s.neo4j_database)))
    for mig in discover():
        typer.echo(f"{mig.version:04d}_{mig.name}: {'applied' if mig.version in applied else 'PENDING'}")


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[Path | None, typer.Option(
        help="A file kept outside the database: the chain heads seen by the last successful run are "
             "checked to be still there (catches a deleted tail with its head rewound), then rewritten.")] = None,
) -> None:
    """Recompute every audit hash chain; exit 1 at the first tampered, missing or reordered event."""
    import json

    from mpdb.audit.trail import verify_chain
    from mpdb.graph.db import Graph

    seen: dict[str, tuple[int, str]] | None = None
    if checkpoint is not None and checkpoint.exists():
        try:
            raw = json.loads(checkpoint.read_text(encoding="utf-8"))
            seen = {str(k): (int(v[0]), str(v[1])) for k, v in raw["chains"].items()}
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            typer.echo(f"{checkpoint}: not a checkpoint written by `mpdb audit verify`", err=True)
            raise typer.Exit(2) from None
    result = asyncio.run(_with_driver(lambda d, s: verify_chain(Graph(d, s.neo4j_database), checkpoint_in=seen)))
    if result.ok:
        typer.echo(f"audit chains intact: {result.checked} events in {len(result.checkpoint or {})} chains"
                   + (" (and every event of the checkpoint still there)" if seen else ""))
        if checkpoint is not None:
            checkpoint.write_text(json.dumps({"chains": result.checkpoint}, indent=1) + "\n", encoding="utf-8")
        return
    typer.echo(f"audit chain BROKEN: {result.chain}, event {result.first_bad_seq}: {result.reason} "
               f"({result.checked} events verified before it)", err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default MPDB_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default MPDB_PORT or 8000).")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Worker processes (default MPDB_WORKERS, else 1 in dev/test and one per CPU in prod).",
    )] = None,
) -> None:
    """Run the HTTP API (GraphQL at /graphql) with uvicorn, in one or several worker processes."""
    import os

    import uvicorn

    from mpdb.shared_state import reset_shared_dir

    # Workers are new processes that read their settings from the environment: put the command
    # line's choices there, so every worker (and its dev IdP issuer, shared dir) agrees.
    for name, value in (("MPDB_HOST", host), ("MPDB_PORT", port), ("MPDB_WORKERS", workers)):
        if value is not None:
            os.environ[name] = str(value)
    get_settings.cache_clear()
    settings = get_settings()
    from mpdb.cli_errors import port_in_use

    if (taken := port_in_use(settings.host, settings.port)) is not None:
        raise taken  # one line and its exit status, rather than uvicorn's log and exit 1
    if settings.shared_dir is not None:
        reset_shared_dir(settings.shared_dir)  # a restart signs everyone out, as with one process
    # uvicorn's access line has the query string: mpdb writes its own (mpdb/observability/requests.py).
    if settings.worker_count == 1:
        from mpdb.api.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                    access_log=False)
        return
    # Each worker writes its metric samples to files there; a scrape of any worker adds them up.
    from mpdb.observability.metrics import prepare_multiprocess_dir

    prepare_multiprocess_dir(settings.shared_dir / "prometheus" if settings.shared_dir else settings.state_dir / "prometheus")
    # A worker that does not answer the supervisor's ping in time is killed and replaced. Importing
    # the app takes a few seconds of CPU; on a busy host uvicorn's default (5 s) killed every new
    # worker before it had started, forever.
    uvicorn.run("mpdb.api.app:create_worker_app", factory=True, workers=settings.worker_count, host=settings.host,
                port=settings.port, log_config=None, access_log=False, timeout_worker_healthcheck=60)


@app.command("export-schema")
def export_schema(
    output: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("graphql/schema.graphql"),
) -> None:
    """Write the GraphQL SDL (the public contract) to graphql/schema.graphql."""
    from mpdb.api.schema import export_sdl

    output.write_text(export_sdl(), encoding="utf-8")
    typer.echo(f"wrote {output}")


_register_subcommands()
