"""`mpdb db ...`: the project-managed local Neo4j (start, stop, status, provision).

When NEO4J_URI is set mpdb manages nothing: `start`/`stop` say so and exit 0, `status` checks that
the configured server answers.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mpdb.settings import Settings, get_settings

db_app = typer.Typer(help="The project-managed local Neo4j (ignored when NEO4J_URI is set).",
                     no_args_is_help=True)

EXIT_NOT_RUNNING = 3


def _server(settings: Settings):  # type: ignore[no-untyped-def]
    from mpdb.graph.local_server import LocalNeo4j

    return LocalNeo4j(settings)


def _external_note(settings: Settings) -> None:
    typer.echo(f"NEO4J_URI is set ({settings.neo4j_uri}): using that external server; "
               "mpdb manages no local Neo4j.")


@db_app.command("provision")
def provision(force: Annotated[bool, typer.Option("--force", help="Re-copy the jars even if provisioned.")] = False) -> None:
    """Fetch Neo4j + APOC jars with Maven into the shared dist dir (skipped when already there)."""
    from mpdb.graph.local_server import NEO4J_VERSION

    server = _server(get_settings())
    built = server.provision(force=force)  # failures: one line and an exit status (mpdb/cli_errors.py)
    typer.echo(f"{'provisioned' if built else 'already provisioned'}: Neo4j {NEO4J_VERSION} in {server.dist}")


@db_app.command("start")
def start(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Bolt to answer.")] = 180.0,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until ready.")] = True,
) -> None:
    """Start the local Neo4j (provisioning first if needed); a no-op when it already runs."""
    settings = get_settings()
    if not settings.managed_neo4j:
        _external_note(settings)
        return
    server = _server(settings)
    before = server.status()
    st = server.start(wait=wait, timeout=timeout)  # failures: one line and an exit status (mpdb/cli_errors.py)
    verb = "already running" if before.running else ("started" if wait else "starting")
    typer.echo(f"{verb}: pid {st.pid}, {st.bolt_uri} (user neo4j, password in {server.password_file})")


@db_app.command("stop")
def stop(timeout: Annotated[float, typer.Option(help="Seconds before SIGKILL.")] = 60.0) -> None:
    """Stop the local Neo4j cleanly (SIGTERM, then SIGKILL after --timeout); a no-op when stopped."""
    settings = get_settings()
    if not settings.managed_neo4j:
        _external_note(settings)
        return
    stopped = _server(settings).stop(timeout=timeout)
    typer.echo("stopped" if stopped else "not running")


@db_app.command("status")
def status() -> None:
    """running/stopped, pid, Bolt URI, version. Exit code 0 when running (reachable), else 3."""
    settings = get_settings()
    if not settings.managed_neo4j:
        _external_status(settings)
        return
    st = _server(settings).status()
    typer.echo(f"state:   {'running' if st.running else 'stopped'}")
    typer.echo(f"pid:     {st.pid if st.pid else '-'}")
    typer.echo(f"bolt:    {st.bolt_uri}")
    typer.echo(f"version: Neo4j {st.version} Community + APOC Core")
    typer.echo(f"home:    {st.home}")
    typer.echo(f"dist:    {st.dist}{'' if st.provisioned else ' (not provisioned)'}")
    if not st.running:
        raise typer.Exit(EXIT_NOT_RUNNING)


def _external_status(settings: Settings) -> None:
    import neo4j

    from mpdb.graph.driver import connection_params

    uri, auth = connection_params(settings)
    typer.echo("state:   external (NEO4J_URI)")
    typer.echo(f"uri:     {uri}")
    try:
        with neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=10) as driver:
            with driver.session(database=settings.neo4j_database) as session:  # no retries
                records = list(session.run(
                    "CALL dbms.components() YIELD versions, edition RETURN versions[0] AS v, edition AS e"))
    except Exception as e:  # noqa: BLE001 - any failure means "not usable"
        typer.echo(f"reachable: no ({type(e).__name__}: {e})")
        raise typer.Exit(EXIT_NOT_RUNNING) from None
    typer.echo(f"version: Neo4j {records[0]['v']} {records[0]['e']}" if records else "version: unknown")
    typer.echo("reachable: yes")


@db_app.command("fingerprint")
def fingerprint_cmd(
    output: Annotated[str | None, typer.Option("--output", "-o", help="Also write the fingerprint as JSON here.")] = None,
    compare: Annotated[str | None, typer.Option(
        "--compare", help="A JSON fingerprint written before (-o): exit 1 when this graph differs from it.")] = None,
) -> None:
    """Count and content hash per node label and relationship type (properties canonically
    serialised and sorted; relationships with their endpoints' keys): equal fingerprints, same data.
    Works on any server (NEO4J_URI too); reads every node and relationship once."""
    import asyncio
    import json
    from pathlib import Path

    from mpdb.graph.driver import create_driver, verify_reachable
    from mpdb.graph.fingerprint import Fingerprint, Part, fingerprint

    settings = get_settings()

    async def run() -> Fingerprint:
        driver = create_driver(settings)
        try:
            await verify_reachable(driver, settings)
            return await fingerprint(driver, settings.neo4j_database)
        finally:
            await driver.close()

    fp = asyncio.run(run())
    for kind, parts in (("node", fp.nodes), ("rel", fp.relationships)):
        for key, part in sorted(parts.items()):
            typer.echo(f"{kind:4} {key:32} {part.count:>10,} {part.hash[:16]}")
    if output:
        Path(output).write_text(json.dumps(fp.as_dict(), indent=1) + "\n", encoding="utf-8")
    if compare:
        data = json.loads(Path(compare).read_text(encoding="utf-8"))
        other = Fingerprint({k: Part(*v) for k, v in data["nodes"].items()},
                            {k: Part(*v) for k, v in data["relationships"].items()})
        diff = fp.differences(other)
        for line in diff:
            typer.echo(f"differs: {line}", err=True)
        if diff:
            raise typer.Exit(1)
        typer.echo("same as " + compare)
