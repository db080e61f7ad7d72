"""The console's hot spots page over real HTTP, on the hand-built scenario of
tests/integration/intel_areas_scenario.py (all of it within the last 365 days of today)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import httpx
import pytest
import pytest_asyncio

from tests.conftest import wipe_data
from tests.console.conftest import table_rows
from tests.integration.intel_areas_scenario import KF, build_scenario

pytestmark = pytest.mark.integration

API = """query($area: String!, $from: Date!, $to: Date!) {
  hotspots(area: $area, kind: FOUND_AT, from: $from, to: $to, first: 50) {
    suppressionThreshold nodes { rank children episodes cells place { name } } } }"""


@pytest_asyncio.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await build_scenario(graph)
    return graph


def window(days: int) -> dict[str, str]:
    to = date.today() + timedelta(days=1)
    return {"from": (to - timedelta(days=days)).isoformat(), "to": to.isoformat()}


def map_island(html: str) -> dict:  # type: ignore[type-arg]
    match = re.search(r'<script type="application/json" id="hotspot-map-data">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))  # type: ignore[no-any-return]


async def test_the_table_and_the_map_are_the_api_answer(scenario, console_as, live_server) -> None:  # type: ignore[no-untyped-def]
    kent = console_as(KF, "investigator")
    page = kent.get("/hotspots", params={"kind": "FOUND_AT", "period": "365"})
    assert page.status_code == 200, page.text
    api = live_server.graphql(API, {"area": KF, **window(365)}, token=live_server.token(KF, "investigator"))
    nodes = api.json()["data"]["hotspots"]["nodes"]
    rows = table_rows(page.text, "hotspots")
    assert [(int(r[0]), int(r[2]), int(r[3])) for r in rows] == [(n["rank"], n["children"], n["episodes"]) for n in nodes]
    assert len(nodes) >= 3
    island = map_island(page.text)
    assert [c["rank"] for c in island["cells"]] == [n["rank"] for n in nodes]
    assert [len(c["squares"]) for c in island["cells"]] == [len(n["cells"]) for n in nodes]
    assert not any(c["suppressed"] for c in island["cells"])
    assert "/geo/outlines/police_forces.geojson?v=" in page.text


async def test_analysts_see_small_numbers_withheld_on_the_map_and_in_the_table(scenario, console_as, live_server) -> None:  # type: ignore[no-untyped-def]
    analyst = console_as(KF, "analyst", purpose="Analysis of patterns (aggregates)")
    page = analyst.get("/hotspots", params={"kind": "FOUND_AT", "period": "365"})
    assert page.status_code == 200, page.text
    api = live_server.graphql(API, {"area": KF, **window(365)}, token=live_server.token(KF, "analyst"))
    body = api.json()["data"]["hotspots"]
    threshold = body["suppressionThreshold"]
    assert threshold == 5 and f"Counts below {threshold} are withheld" in page.text
    rows = table_rows(page.text, "hotspots")
    expected = [str(n["children"]) if n["children"] is not None else f"fewer than {threshold}" for n in body["nodes"]]
    assert [r[2] for r in rows] == expected
    assert "fewer than 5" in expected  # the scenario has small hot spots
    island = map_island(page.text)
    assert [c["suppressed"] for c in island["cells"]] == [n["children"] is None for n in body["nodes"]]
    assert all(c["count"] is None for c in island["cells"] if c["suppressed"])


async def test_choices_are_validated(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kent = console_as(KF, "investigator")
    bad = kent.get("/hotspots", params={"kind": "NOWHERE", "period": "7"})
    assert bad.status_code == 400
    assert "Select a kind of place from the list" in bad.text and "Select a period from the list" in bad.text
    unknown = kent.get("/hotspots", params={"area": "E99999999"})
    assert unknown.status_code == 400 and 'href="#area"' in unknown.text


async def test_outline_files_are_served_with_long_caching(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{live_server.base_url}/geo/outlines/police_forces.geojson")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert "immutable" in r.headers["cache-control"]
    assert len(r.json()["features"]) == 43
    assert httpx.get(f"{live_server.base_url}/geo/outlines/secret.geojson").status_code == 404
