"""`mpdb serve --workers 2` for real: two uvicorn worker processes share one rate-limit budget per
agency, and a console sign-in (dev IdP form, authorization code, session, purpose) works when the
browser's requests land on different workers.

Every request goes on a new connection, so the kernel hands it to either worker. Which worker
served what is read from the access log (each line carries its process id); each scenario repeats
until its requests were seen on both workers, so the test proves sharing rather than luck.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import TEST_STATE_DIR, free_port, graph_connection
from mpdb.auth.dev_idp import mint_dev_token
from mpdb.console.sessions import LOGIN_COOKIE, SESSION_COOKIE
from mpdb.settings import Settings
from tests.e2e.test_dev_idp_oidc import parse

pytestmark = pytest.mark.integration

LIMIT = 10  # per minute, for an agency kind the policy gives no budget of its own
# London boroughs: a fresh agency (a full bucket) for each attempt.
BOROUGHS = ("E09000014", "E09000002", "E09000003", "E09000004", "E09000005", "E09000006")


class Workers:
    def __init__(self, base_url: str, settings: Settings, log: Path) -> None:
        self.base_url = base_url
        self.settings = settings
        self.log = log

    def served(self) -> list[tuple[int, str]]:
        """(pid, request id) of every request the workers logged so far (JSON access lines)."""
        events = [json.loads(line) for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        return [(e["pid"], e["request_id"]) for e in events if e.get("logger") == "mpdb.access"]

    def pids(self, marker: str) -> set[int]:
        return {pid for pid, request_id in self.served() if request_id.startswith(marker)}


@pytest.fixture(scope="module")
def workers(neo4j_settings: Settings, registered_agencies, tmp_path_factory) -> Iterator[Workers]:  # type: ignore[no-untyped-def]
    port = free_port()
    log = tmp_path_factory.mktemp("workers") / "serve.log"
    conn = graph_connection(neo4j_settings)
    env = {**os.environ, "MPDB_ENV": "test", "MPDB_STATE_DIR": str(TEST_STATE_DIR),
           "NEO4J_URI": str(conn["neo4j_uri"]), "MPDB_RATE_LIMIT_PER_MINUTE": str(LIMIT),
           "MPDB_CONSOLE_COOKIE_SECURE": "false", "MPDB_AGENCY_REGISTRY_MISS_REFRESH_SECONDS": "0"}
    if "neo4j_user" in conn:
        env |= {"NEO4J_USERNAME": str(conn["neo4j_user"]), "NEO4J_PASSWORD": str(conn["neo4j_password"])}
    with log.open("wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "mpdb"), "serve", "--workers", "2", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "mpdb serve did not start"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        settings = Settings(env="test", state_dir=TEST_STATE_DIR, port=port)
        yield Workers(base, settings, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert not (TEST_STATE_DIR / "shared" / str(port) / "console-sessions.sqlite").stat().st_mode & 0o077


def fresh() -> httpx.Client:
    """A client that opens a new connection for every request (either worker may accept it)."""
    return httpx.Client(timeout=60, follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0))


def test_workers_share_one_rate_limit_budget(workers: Workers) -> None:
    refused = 0
    for agency in BOROUGHS:
        token = mint_dev_token(workers.settings, agency, "la_missing_lead")
        marker = uuid.uuid4().hex
        body = {"query": '{ child(id: "NO-SUCH-CHILD") { id } }'}
        headers = {"Authorization": f"Bearer {token}", "X-MPDB-Purpose": "test: workers", "X-Request-ID": marker}

        def post(_: int) -> httpx.Response:
            with fresh() as client:
                return client.post(f"{workers.base_url}/graphql?m={marker}", json=body, headers=headers)

        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(r.status_code for r in pool.map(post, range(3 * LIMIT)))
        refused += statuses.count(429)
        time.sleep(0.5)  # the access log line is written after the response
        if len(workers.pids(marker)) < 2:
            continue  # all on one worker: that proves nothing
        # One budget: exactly LIMIT allowed (one per process would allow up to 2 * LIMIT).
        assert statuses == [200] * LIMIT + [429] * (2 * LIMIT)
        # Any worker's /metrics adds up every worker's samples (prometheus-client multiprocess mode).
        from prometheus_client.parser import text_string_to_metric_families

        for _ in range(3):
            with fresh() as client:
                text = client.get(f"{workers.base_url}/metrics").text
            samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                       for f in text_string_to_metric_families(text) for s in f.samples}
            assert samples[("mpdb_rate_limit_refusals_total", (("agency_kind", "local_authority"),))] == refused
            assert samples[("mpdb_requests_total", (("operation", "POST /graphql"), ("outcome", "client_error")))] \
                == refused
        return
    pytest.fail("the requests never reached both workers")


def test_console_sign_in_across_workers(workers: Workers) -> None:
    # Signed in as the national unit: its kind has a budget of its own in the policy (6,000/min), so
    # repeated attempts are not refused by the module's 10/min limit for local authorities (a Kent
    # council sign-in ran out of budget on the second attempt once the first stayed on one worker).
    spread: set[int] = set()
    for _attempt in range(8):
        marker = uuid.uuid4().hex
        with fresh() as browser:
            browser.base_url = workers.base_url  # type: ignore[assignment]
            browser.headers["X-Request-ID"] = marker  # how the access lines are found
            login = browser.get("/login", params={"next": f"/search?name=Amy&m={marker}"})
            assert login.status_code == 302
            authorize = login.headers["location"]
            state = parse_qs(urlsplit(authorize).query)["state"][0]
            assert browser.cookies.get(LOGIN_COOKIE) == state
            page = browser.get(authorize)
            assert page.status_code == 200, page.text
            chosen = browser.post("/dev-idp/authorize", params={"m": marker},
                                  data={**parse(page.text).hidden, "user": "nca-investigator",
                                        "action": "sign_in"})
            assert chosen.status_code == 302, chosen.text
            callback = browser.get(chosen.headers["location"] + f"&m={marker}")
            assert callback.status_code == 303, callback.text
            assert callback.headers["location"] == f"/search?name=Amy&m={marker}"
            assert browser.cookies.get(SESSION_COOKIE)
            home = browser.get(f"/?m={marker}")
            assert home.status_code == 200 and "NCA UK Missing Persons Unit" in home.text
            # The purpose given on one worker is known to the other.
            purpose_page = browser.get("/purpose", params={"next": "/search", "m": marker})
            form = parse(purpose_page.text).hidden
            saved = browser.post(f"/purpose?m={marker}",
                                 data={"csrf_token": form["csrf_token"], "next": "/search",
                                       "purpose": "Locating a missing child"})
            assert saved.status_code == 303 and saved.headers["location"] == "/search"
            for _ in range(4):
                search = browser.get("/search", params={"name": "Nobody", "m": marker})
                assert search.status_code == 200 and "Locating a missing child" in search.text, search.text
            # The API behind the console: the session's own token works on either worker too.
            out = browser.post(f"/logout?m={marker}", data={"csrf_token": parse(home.text).hidden["csrf_token"]})
            assert out.status_code == 303
            assert browser.get("/search", params={"m": marker}).status_code == 303  # signed out everywhere
        time.sleep(0.5)
        spread |= workers.pids(marker)
        if len(spread) >= 2 and len(workers.pids(marker)) >= 2:
            return
    pytest.fail(f"the sign-in never crossed workers (seen: {spread})")
