"""Neo4j goes away under a live API, and comes back: a prompt, retryable 503, then recovery.

A Neo4j of this module's own (its own state dir and Bolt port, started once) is stopped and
started for real; the session's shared test database is never touched. The API runs under real
uvicorn, with real tokens; `mpdb serve` runs as a real process.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import LiveServer, free_port, own_local_neo4j, serve_in_thread
from mpdb.console.sessions import SESSION_COOKIE
from mpdb.graph.local_server import LocalNeo4j
from mpdb.settings import Settings

pytestmark = pytest.mark.integration

BUDGET_S = 2.0
# Time beyond the budget a request may take: the HTTP round trip, the last retry's teardown and a
# busy 2-core CI machine.
SLACK_S = 3.0
KP = "E23000032"  # Kent Police
FORCES = "{ forces { code name } }"
PURPOSE = {"X-MPDB-Purpose": "test: outage"}


@pytest.fixture(scope="module")
def own_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    """A Neo4j for this module alone, with the schema and the reference agencies."""
    settings = Settings(env="test", state_dir=tmp_path_factory.mktemp("outage-state"), local_bolt_port=free_port(),
                        local_heap="512m", local_pagecache="128m", neo4j_uri=None,
                        neo4j_retry_budget_s=BUDGET_S)
    with own_local_neo4j(settings) as server:
        yield server  # type: ignore[misc]


@pytest.fixture(scope="module")
def outage_server(own_neo4j: LocalNeo4j) -> Iterator[LiveServer]:
    from mpdb.api.app import create_app

    port = free_port()
    # A token of an agency the registry does not know makes it re-read the graph at once.
    settings = own_neo4j.settings.model_copy(update={
        "port": port, "rate_limit_per_minute": 1_000_000, "agency_registry_miss_refresh_seconds": 0.0,
        "console_cookie_secure": False})
    app = create_app(settings)
    with serve_in_thread(app, port):
        yield LiveServer(f"http://127.0.0.1:{port}", settings, app)


def post(server: LiveServer, token: str, query: str = FORCES) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(f"{server.base_url}/graphql", json={"query": query},
                          headers={"Authorization": f"Bearer {token}", **PURPOSE}, timeout=60)
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, elapsed: float) -> None:
    assert elapsed < BUDGET_S + SLACK_S, f"took {elapsed:.1f} s"
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(math.ceil(BUDGET_S))
    body = response.json()
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert body["errors"][0]["message"] == "the database is unavailable; try again in a few seconds"


def console_client(server: LiveServer) -> httpx.Client:
    from tests.console.conftest import console_principal

    store = server.app.state.console_sessions  # type: ignore[attr-defined]
    session = store.create(principal=console_principal(server.settings, KP, "investigator"),
                           access_token="not-used-by-the-console", id_token="", user_name="Test investigator",
                           agency_name=KP, expires_at=time.time() + 900)
    store.set_purpose(session, "test: outage")
    return httpx.Client(base_url=server.base_url, cookies={SESSION_COOKIE: session.id}, timeout=60,
                        follow_redirects=False)


def test_outage_is_a_prompt_503_and_the_api_recovers_by_itself(own_neo4j: LocalNeo4j,
                                                               outage_server: LiveServer) -> None:
    from mpdb.auth.dev_idp import mint_dev_token

    token = outage_server.token(KP, "investigator")
    # An agency missing from the registry: its token sends the registry back to the graph.
    stranger = mint_dev_token(outage_server.settings, "E23999999", "investigator", agency_kind="police_force")
    before, _ = post(outage_server, token)
    assert before.status_code == 200, before.text
    forces = before.json()["data"]["forces"]
    assert {"code": KP, "name": "Kent Police"} in forces
    assert post(outage_server, stranger)[0].status_code == 401  # up: an unknown agency is refused
    with console_client(outage_server) as console:
        assert console.get("/children/NO-SUCH-CHILD").status_code == 404

        own_neo4j.stop(timeout=60)

        # A field resolver cannot read: the request fails within the budget, coded and retryable.
        assert_unavailable(*post(outage_server, token))
        assert_unavailable(*post(outage_server, token))  # and again: nothing cached a broken state
        # Authentication cannot read the agency registry: the same 503, not a 401.
        assert_unavailable(*post(outage_server, stranger))
        ready = httpx.get(f"{outage_server.base_url}/readyz", timeout=30)
        assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "neo4j": "unreachable"})
        assert httpx.get(f"{outage_server.base_url}/healthz", timeout=30).status_code == 200
        started = time.monotonic()
        page = console.get("/children/NO-SUCH-CHILD")
        assert time.monotonic() - started < BUDGET_S + SLACK_S
        assert page.status_code == 503
        assert page.headers["Retry-After"] == str(math.ceil(BUDGET_S))
        assert "The database is unavailable" in page.text and "try again in a few seconds" in page.text

        own_neo4j.start(timeout=240)

        # The same server, not restarted: the first request after the restart is answered.
        after, _ = post(outage_server, token)
        assert after.status_code == 200, after.text
        assert after.json() == {"data": {"forces": forces}}
        assert post(outage_server, stranger)[0].status_code == 401
        assert console.get("/children/NO-SUCH-CHILD").status_code == 404
    ready = httpx.get(f"{outage_server.base_url}/readyz", timeout=30)
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")


class Lines:
    """A process's stderr, line by line, read in a thread (so a wait can time out)."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for raw in stream:
            self._queue.put(raw.decode(errors="replace"))

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout:.0f} s; got:\n{''.join(self.seen)}")


def test_serve_started_while_neo4j_is_down_says_degraded_then_ready(own_neo4j: LocalNeo4j,
                                                                    tmp_path: Path) -> None:
    own_neo4j.stop(timeout=60)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MPDB_", "NEO4J_"))}
    env |= {"MPDB_ENV": "test", "MPDB_STATE_DIR": str(own_neo4j.settings.state_dir),
            "MPDB_LOCAL_BOLT_PORT": str(own_neo4j.port), "MPDB_NEO4J_RETRY_BUDGET_S": str(BUDGET_S)}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "mpdb"), "serve", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        log = Lines(proc.stderr)
        log.wait_for("mpdb API degraded: Neo4j unreachable", timeout=90)
        assert not any("mpdb API ready" in line for line in log.seen)
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 503

        own_neo4j.start(timeout=240)

        log.wait_for("mpdb API ready", timeout=30)
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
