"""The console's live alert list in a real browser (Debian chromium via Playwright): signed in through
the dev IdP's OIDC pages, the first page rendered from the outbox, then an alert raised while the
page is open appears at the top over graphql-transport-ws (the vendored graphql-ws client) with the
user's real access token; an alert the agency may not read never appears."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from mpdb.alerts.events import AlertEvent, AlertKind
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.outbox import append_events
from tests.browser.test_console_pages import sign_in, table
from tests.conftest import LiveServer, free_port, serve_in_thread, wipe_data

pytestmark = pytest.mark.integration

KENT_CC, STAFFS_POLICE = "E10000016", "E23000015"
PURPOSE = "Locating a missing child"
SCENARIO = """
MATCH (kcc:LocalAuthority {code: $kcc}), (staffs:Force {code: $staffs})
CREATE (:Child {id: 'ALP-C1', pseudonym: 'P-ALP-C1', sex: 'F', lookedAfter: true, recordedBy: $kcc,
                recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (:Child {id: 'ALP-C2', pseudonym: 'P-ALP-C2', sex: 'M', lookedAfter: false, recordedBy: $staffs,
                recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})
"""


def alert(kind: AlertKind, child: str, recipient: str = KENT_CC) -> AlertEvent:
    return AlertEvent(kind=kind, key=f"{kind}|{child}|{recipient}|{uuid.uuid4().hex[:8]}", recipient=recipient,
                      reason="responsible_la", subject_type="Child", subject_id=child,
                      occurred_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), child_id=child)


async def append(graph: Any, event: AlertEvent) -> None:
    async def work(tx: Any) -> Any:
        return await append_events(tx, [event])

    await graph.in_write_tx(work)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def alerts_graph(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await graph.write("MERGE (h:OutboxHead {id: 'outbox'}) ON CREATE SET h.seq = 0")
    await graph.write(SCENARIO, {"kcc": KENT_CC, "staffs": STAFFS_POLICE})
    await graph.write(REFRESH_ACCESS, {"childIds": ["ALP-C1", "ALP-C2"]})
    return graph


@pytest.fixture(scope="module")
def console(alerts_graph, neo4j_settings) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    from mpdb.api.app import create_app

    port = free_port()
    settings = neo4j_settings.model_copy(update={"port": port, "rate_limit_per_minute": 100_000,
                                                 "alerts_poll_seconds": 0.1})
    with serve_in_thread(create_app(settings), port):
        yield LiveServer(f"http://127.0.0.1:{port}", settings)


async def test_alert_list_first_page_then_live(console, alerts_graph, offline_page) -> None:  # type: ignore[no-untyped-def]
    await append(alerts_graph, alert(AlertKind.CHILD_REPORTED_MISSING, "ALP-C1"))
    page = offline_page.page
    await sign_in(page, console.base_url, "kent-la-missing-lead", start="/alerts")
    assert page.url.endswith("/alerts")
    assert await table(page, "alerts") == [["2026-12-01 09:30:00", "Reported missing", "ALP-C1", "Child ALP-C1",
                                            "responsible la"]]
    await page.wait_for_selector("text=Live: new alerts appear at the top.")
    await append(alerts_graph, alert(AlertKind.CHILD_FOUND, "ALP-C2"))  # Kent CC may not read ALP-C2
    await append(alerts_graph, alert(AlertKind.CHILD_FOUND, "ALP-C1"))
    await page.locator("[data-testid='alerts'] tbody tr").nth(1).wait_for()  # the page's CSP forbids eval
    assert await table(page, "alerts") == [
        ["2026-12-01 09:30:00", "Found", "ALP-C1", "Child ALP-C1", "responsible la"],
        ["2026-12-01 09:30:00", "Reported missing", "ALP-C1", "Child ALP-C1", "responsible la"]]
    link = await page.get_attribute("[data-testid='alerts'] tbody tr:first-child a", "href")
    assert link == "/children/ALP-C1"
    assert offline_page.page_errors == [] and offline_page.external_requests == []
