"""The `mpdb` command line: run the local database, apply the schema, seed, serve, import, audit."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from mpdb.logging import configure_logging
from mpdb.settings import get_settings

app = typer.Typer(
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


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    configure_logging(logging.DEBUG if verbose else logging.INFO)


async def _with_driver(work):  # type: ignore[no-untyped-def]
    from mpdb.graph.driver import create_driver

    settings = get_settings()
    driver = create_driver(settings)
    try:
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
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 at the first tampered, missing or reordered event."""
    from mpdb.audit.trail import verify_chain
    from mpdb.graph.db import Graph

    result = asyncio.run(_with_driver(lambda d, s: verify_chain(Graph(d, s.neo4j_database))))
    if result.ok:
        typer.echo(f"audit chain intact: {result.checked} events")
        return
    typer.echo(f"audit chain BROKEN at event {result.first_bad_seq}: {result.reason} "
               f"({result.checked} events verified before it)", err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default MPDB_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default MPDB_PORT or 8000).")] = None,
) -> None:
    """Run the HTTP API (GraphQL at /graphql) with uvicorn."""
    import uvicorn

    from mpdb.api.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_config=None, access_log=True)


@app.command("export-schema")
def export_schema(
    output: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("graphql/schema.graphql"),
) -> None:
    """Write the GraphQL SDL (the public contract) to graphql/schema.graphql."""
    from mpdb.api.schema import export_sdl

    output.write_text(export_sdl(), encoding="utf-8")
    typer.echo(f"wrote {output}")


_register_subcommands()
