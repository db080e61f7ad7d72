"""/area in a real chromium: the linked-children network (static/js/network.js) is drawn with as many
nodes and edges as the tables beside it, from vendored files only (scenario: tests/console/pages_scenario.py)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from mpdb.console.sessions import SESSION_COOKIE
from tests.conftest import wipe_data
from tests.console.conftest import console_as  # noqa: F401  (the fixture, for this module)
from tests.console.pages_scenario import KCC, KP, build_pages_scenario

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def scenario(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await build_pages_scenario(graph)
    return graph


async def _open_area(offline_page, live_server, client) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    page = offline_page.page
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": client.cookies.get(SESSION_COOKIE),
                                     "domain": urlsplit(live_server.base_url).hostname, "path": "/"}])
    await page.goto(f"{live_server.base_url}/area")
    canvas = "[data-testid='area-network'][data-rendered='true']"
    await page.wait_for_selector(canvas, state="attached", timeout=15_000)
    nodes = await page.get_attribute(canvas, "data-node-count")
    edges = await page.get_attribute(canvas, "data-edge-count")
    drawn = await page.eval_on_selector("[data-testid='area-network'] canvas", "c => c.width > 0 && c.height > 0")
    assert drawn
    return str(nodes), str(edges), await page.content()


@pytest.mark.parametrize(("agency", "role", "expected"), [
    (KCC, "la_missing_lead", ("7", "1")),  # 7 children (one in summary form), 1 link
    (KP, "investigator", ("3", "2")),  # one co-missing group of 3
])
async def test_area_network_renders_the_tables(scenario, console_as, live_server, offline_page,  # noqa: F811
                                               agency, role, expected) -> None:  # type: ignore[no-untyped-def]
    client = console_as(agency, role)
    html = client.get("/area").text
    children = html.count('<tr class="govuk-table__row" data-node=')
    links = html.count('<tr class="govuk-table__row" data-source=')
    nodes, edges, _ = await _open_area(offline_page, live_server, client)
    assert (nodes, edges) == expected == (str(children), str(links))
    assert offline_page.external_requests == []
    assert offline_page.page_errors == []
