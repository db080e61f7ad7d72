"""Shared fixtures: one real Neo4j per test session, and the API served by real uvicorn.

Where the database comes from, in order:
1. NEO4J_URI (+ NEO4J_USERNAME / NEO4J_PASSWORD) when set: an existing server (its data is
   WIPED by the tests: point it at a scratch database only);
2. MPDB_TEST_TESTCONTAINERS=1 with a Docker engine: testcontainers' Neo4j 5.26 image;
3. otherwise the project-managed local Neo4j, in its own state dir and port (never the dev one).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn

from mpdb.settings import PROJECT_ROOT, Settings

# One state dir per test session (its own Neo4j store, port, password and dev-IdP key), so two
# sessions on one machine never stop each other's database. MPDB_TEST_STATE_DIR pins one.
TEST_STATE_DIR = Path(os.environ.get("MPDB_TEST_STATE_DIR", PROJECT_ROOT / ".mpdb" / f"test-{os.getpid()}"))
TEST_RETRY_BUDGET_S = 30.0  # see neo4j_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_in_thread(app: object, port: int, lifespan: str = "on", force_exit: bool = False,
                    **config: object) -> Iterator[uvicorn.Server]:
    """Serve `app` with real uvicorn on 127.0.0.1:`port` in a daemon thread until the block ends.
    `force_exit`: stop without waiting for open connections (websockets, a request held open);
    `config`: more uvicorn.Config arguments (ssl_keyfile, ssl_certfile...)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                                           log_level="warning", lifespan=lifespan, **config))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield server
    finally:
        server.should_exit = True
        server.force_exit = force_exit
        thread.join(timeout=30 if force_exit else 10)


@contextmanager
def own_local_neo4j(settings: Settings, start_timeout: float = 240.0) -> Iterator[object]:
    """A managed local Neo4j of a test's own (fault tests stop or kill it; the session's must
    never be), migrated and holding the reference agencies, stopped when the block ends."""
    from mpdb.graph.driver import create_driver
    from mpdb.graph.local_server import LocalNeo4j
    from mpdb.graph.migrations import apply_migrations
    from mpdb.ingest.reference import load_reference

    server = LocalNeo4j(settings)
    server.start(timeout=start_timeout)

    async def prepare() -> None:
        driver = create_driver(settings)
        try:
            await apply_migrations(driver, settings.neo4j_database)
            await load_reference(driver, settings.neo4j_database)
        finally:
            await driver.close()

    try:
        asyncio.run(prepare())
        yield server
    finally:
        server.stop(timeout=60)


@contextmanager
def crash_test_neo4j(name: str, **overrides: object) -> Iterator[Settings]:
    """A local Neo4j of a crash test's own (`.mpdb/test-<name>-<port>`, deleted afterwards), with
    the schema and the reference agencies; its settings."""
    state = PROJECT_ROOT / ".mpdb" / f"test-{name}-{free_port()}"
    settings = Settings(env="test", state_dir=state, local_bolt_port=free_port(),  # type: ignore[arg-type]
                        local_heap="1g", local_pagecache="256m", neo4j_uri=None, **overrides)
    try:
        with own_local_neo4j(settings):
            yield settings
    finally:
        shutil.rmtree(state, ignore_errors=True)


def crash(server: object) -> None:
    """SIGKILL a test's own local Neo4j (a crash: no clean shutdown) and wait until it is gone."""
    pid = server.status().pid  # type: ignore[attr-defined]
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    while server.status().running:  # type: ignore[attr-defined]
        time.sleep(0.05)


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    """Settings pointing at the session's Neo4j (started here when needed).

    The retry budget is 30 s rather than production's 5: concurrency tests (five reports racing for
    one child, 120 audit appends on one shard) retry deadlocks and wait for pooled connections, and
    on a loaded 2-core machine that took longer than 5 s and answered SERVICE_UNAVAILABLE. What the
    budget does when Neo4j is down is tested with its own small budget (tests/e2e/test_outage.py).
    """
    if os.environ.get("NEO4J_URI"):
        yield Settings(env="test", state_dir=TEST_STATE_DIR, neo4j_retry_budget_s=TEST_RETRY_BUDGET_S)
        return
    if os.environ.get("MPDB_TEST_TESTCONTAINERS") == "1":
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community") as container:
            yield Settings(env="test", state_dir=TEST_STATE_DIR, neo4j_uri=container.get_connection_url(),
                           neo4j_user="neo4j", neo4j_password=container.password,
                           neo4j_retry_budget_s=TEST_RETRY_BUDGET_S)
        return
    from mpdb.graph.local_server import LocalNeo4j

    settings = Settings(env="test", state_dir=TEST_STATE_DIR, local_bolt_port=free_port(),
                        local_heap="1g", local_pagecache="512m", neo4j_retry_budget_s=TEST_RETRY_BUDGET_S)
    server = LocalNeo4j(settings)
    server.stop()  # with a pinned MPDB_TEST_STATE_DIR, a session killed mid-run leaves nothing behind
    server.wipe_data()
    server.start()
    try:
        yield settings
    finally:
        server.stop()
        if "MPDB_TEST_STATE_DIR" not in os.environ:
            shutil.rmtree(TEST_STATE_DIR, ignore_errors=True)


@pytest_asyncio.fixture(scope="session")
async def neo4j_driver(neo4j_settings: Settings) -> AsyncIterator[object]:
    from mpdb.graph.driver import create_driver
    from mpdb.graph.migrations import apply_migrations

    driver = create_driver(neo4j_settings)
    await apply_migrations(driver, neo4j_settings.neo4j_database)
    yield driver
    await driver.close()


@pytest_asyncio.fixture(scope="session")
async def graph(neo4j_driver, neo4j_settings):  # type: ignore[no-untyped-def]
    from mpdb.graph.db import Graph

    return Graph(neo4j_driver, neo4j_settings.neo4j_database)


async def wipe_data(graph) -> None:  # type: ignore[no-untyped-def]
    """Delete every data node, keeping the schema and its migration records; the audit trail
    starts again empty (its shard heads, made by a migration, are kept and rewound). The alert
    outbox's head (made by migration 0011) is kept as it is, so seqs keep rising across wipes."""
    await graph.auto_commit(
        "MATCH (n) WHERE NOT n:SchemaMigration AND NOT (n:AuditHead AND n.shard IS NOT NULL) AND NOT n:OutboxHead "
        "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
    )
    await reset_audit_trail(graph)


async def reset_audit_trail(graph) -> None:  # type: ignore[no-untyped-def]
    """An empty, valid trail: no events, no original chain, every shard head back at its start.
    Tests only: in a deployment the trail is append-only and outlives every reset."""
    await graph.auto_commit("MATCH (n) WHERE n:AuditEvent OR (n:AuditHead AND n.shard IS NULL) "
                            "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")
    await graph.write("MATCH (h:AuditHead) WHERE h.shard IS NOT NULL SET h.seq = 0, h.hash = ''")


@pytest_asyncio.fixture(scope="session")
async def reference_graph(graph):  # type: ignore[no-untyped-def]
    """An empty graph holding only the reference data (forces, LAs, agencies)."""
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    return graph


def graph_connection(settings: Settings) -> dict[str, object]:
    """Settings fields that point another Settings (its own state dir) at the session's Neo4j."""
    from mpdb.graph.driver import connection_params

    uri, auth = connection_params(settings)
    if auth is None:
        return {"neo4j_uri": uri}
    return {"neo4j_uri": uri, "neo4j_user": auth[0], "neo4j_password": auth[1]}


@pytest_asyncio.fixture(scope="module")
async def registered_agencies(graph):  # type: ignore[no-untyped-def]
    """The reference agencies in the graph (MERGE: keeps whatever else is there), for tests whose
    tokens the API checks against the agency registry."""
    from mpdb.ingest.reference import load_reference

    await load_reference(graph.driver, graph.database)
    return graph


class LiveServer:
    def __init__(self, base_url: str, settings: Settings, app: object = None) -> None:
        self.base_url = base_url
        self.settings = settings
        self.app = app  # the FastAPI app being served (its state: console sessions...)

    def token(self, agency: str, role: str, scopes: list[str] | None = None, **kwargs: object) -> str:
        from mpdb.auth.dev_idp import mint_dev_token

        return mint_dev_token(self.settings, agency, role, scopes, **kwargs)  # type: ignore[arg-type]

    def graphql(self, query: str, variables: dict | None = None, *, token: str | None,
                purpose: str | None = "test: investigation", headers: dict | None = None) -> httpx.Response:
        h = {"Content-Type": "application/json", **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if purpose:
            h["X-MPDB-Purpose"] = purpose
        return httpx.post(f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}},
                          headers=h, timeout=60)


@pytest.fixture(scope="session")
def live_server(neo4j_settings: Settings, neo4j_driver) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The real app under real uvicorn on a free port, in a background thread."""
    from mpdb.api.app import create_app

    port = free_port()
    # The shared server's callers are the whole suite, not one agency's staff: the per-agency
    # limit has its own test (tests/e2e/test_hardening.py) with its own server.
    # Scenarios register agencies of their own (e.g. test providers) just before their first token:
    # the registry re-reads on every miss here instead of at most every few seconds.
    # Nor does it compete for the alert dispatcher's lease for the whole session: the tests of
    # webhooks and overdue alerts start the dispatcher they observe (tests/e2e/test_alert_delivery.py).
    settings = neo4j_settings.model_copy(update={"port": port, "rate_limit_per_minute": 1_000_000,
                                                 "agency_registry_miss_refresh_seconds": 0.0,
                                                 "alerts_dispatcher": False})
    app = create_app(settings)
    with serve_in_thread(app, port):
        yield LiveServer(f"http://127.0.0.1:{port}", settings, app)


def pytest_configure(config: pytest.Config) -> None:
    import logging

    import structlog

    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    # In-process apps never call configure_logging; structlog's default logger would print access
    # lines straight to the stdout it saw at import, past pytest's capture. Through stdlib logging
    # they are captured like any log record and shown only for a failing test.
    structlog.configure(logger_factory=structlog.stdlib.LoggerFactory())
