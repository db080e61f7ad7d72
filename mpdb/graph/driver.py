"""The Neo4j driver: NEO4J_URI when set (any server, Aura, a cluster), else the managed local one."""

from __future__ import annotations

import asyncio

import neo4j

from mpdb.settings import Settings, get_settings


def connection_params(settings: Settings | None = None) -> tuple[str, tuple[str, str] | None]:
    """(uri, auth) for the configured server. With NEO4J_URI set: that URI with NEO4J_USERNAME /
    NEO4J_PASSWORD (auth None when no password is set); otherwise the managed local Neo4j's
    bolt URI and its generated password."""
    settings = settings or get_settings()
    if settings.neo4j_uri:
        if settings.neo4j_password is None:
            return settings.neo4j_uri, None
        return settings.neo4j_uri, (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    from mpdb.graph.local_server import LocalNeo4j

    uri, user, password = LocalNeo4j(settings).credentials()
    return uri, (user, password)


def create_driver(settings: Settings | None = None) -> neo4j.AsyncDriver:
    """A new AsyncDriver. Create ONE per process (it pools connections) and close it on shutdown.
    `neo4j://` URIs (routing: clusters, Aura) and `bolt://` (a single server) both work as given."""
    from mpdb.graph import temporal

    temporal.install()  # DATETIME values straight to `datetime` (mpdb/graph/temporal.py says why)
    settings = settings or get_settings()
    uri, auth = connection_params(settings)
    return neo4j.AsyncGraphDatabase.driver(uri, auth=auth, user_agent="mpdb", **outage_bounds(settings))


def outage_bounds(settings: Settings) -> dict[str, float]:
    """Driver options that keep an unreachable server from holding a caller for the driver's
    defaults (connect 30 s, pool wait 60 s, retries 30 s): each fits in the retry budget."""
    budget = settings.neo4j_retry_budget_s
    return {
        "connection_timeout": budget,
        "connection_acquisition_timeout": budget,
        "max_transaction_retry_time": budget,
    }


async def verify_reachable(driver: neo4j.AsyncDriver, settings: Settings) -> None:
    """One connection attempt within the retry budget, for a command that should fail fast (the
    CLI): a refused connection or a wrong password is reported now, not after the driver's retries."""
    try:
        async with asyncio.timeout(settings.neo4j_retry_budget_s):
            await driver.verify_connectivity()
    except TimeoutError as exc:
        raise neo4j.exceptions.ServiceUnavailable(
            f"no answer within {settings.neo4j_retry_budget_s:g} s") from exc
