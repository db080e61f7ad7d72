"""My area over real HTTP: an LA's linked children (table, network island, placements in and out)
and a force's co-missing groups, from the API's linkedChildren and coMissingGroups
(scenario: tests/console/pages_scenario.py)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import pytest_asyncio

from tests.conftest import wipe_data
from tests.console.conftest import table_rows
from tests.console.pages_scenario import KCC, KP, TODAY, build_pages_scenario

pytestmark = pytest.mark.integration

ISLAND = re.compile(r'<script type="application/json" id="area-network">(.*?)</script>', re.S)


@pytest_asyncio.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await build_pages_scenario(graph)
    return graph


def island(html: str) -> dict:
    match = ISLAND.search(html)
    assert match, "no network island"
    return json.loads(match.group(1))


def pseudonym_of(cell: str) -> str:
    return cell.removeprefix("Summary only ").rsplit("(", 1)[-1].rstrip(")")


def assert_island_is_the_tables(html: str) -> dict:
    data = island(html)
    children = table_rows(html, "area-children")
    assert [n["id"] for n in data["nodes"]] == [pseudonym_of(r[0]) for r in children]
    links = table_rows(html, "area-links") if 'data-testid="area-links"' in html else []
    assert len(data["edges"]) == len(links)
    for edge, row in zip(data["edges"], links, strict=True):
        assert f"{edge['weight']:.2f}" == row[2] and edge["label"] == row[3]
    rows_by_edge = re.findall(r'<tr class="govuk-table__row" data-source="([^"]+)" data-target="([^"]+)">', html)
    assert [(e["source"], e["target"]) for e in data["edges"]] == rows_by_edge
    return data


async def test_an_la_sees_its_children_named_and_others_in_summary(scenario, console_as, live_server) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/area")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    rows = table_rows(page.text, "area-children")
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("Amber Quill (P-CP-K1)", "Looked after by us", "Kent", ""),
        ("Basil Thorne (P-CP-K2)", "Looked after by us", "Kent", ""),
        ('Cora Vane, "Jr" (P-CP-K3)', "Looked after by us", "Kent", "Kent in East Sussex"),
        ("Dara Fenn (P-CP-K4)", "Looked after by us", "Kent", ""),
        ("=SUM(A1) Quill (P-CP-K5)", "Looked after by us", "Kent", ""),
        ("Eli Marsh (P-CP-S1)", "Placed in our area", "East Sussex", "East Sussex in Kent"),
        ("Summary only P-CP-S2", "Linked", "East Sussex", ""),
    ]
    # Age bands are the API's own (the summary form's).
    api = live_server.graphql(
        f'query {{ linkedChildren(localAuthority: "{KCC}") {{ nodes {{ strength summary {{ pseudonym ageBand }}'
        " links { strength } } } }", token=live_server.token(KCC, "la_missing_lead")).json()
    bands = {n["summary"]["pseudonym"]: n["summary"]["ageBand"] for n in api["data"]["linkedChildren"]["nodes"]}
    assert [r[2] for r in rows] == [bands[pseudonym_of(r[0])] for r in rows]
    # The summary-form child is never named, nor linked to a child page.
    assert "Fay" not in page.text and "Rook" not in page.text and "/children/CP-S2" not in page.text
    assert 'href="/children/CP-K1"' in page.text
    strength = next(n["links"][0]["strength"] for n in api["data"]["linkedChildren"]["nodes"]
                    if n["summary"]["pseudonym"] == "P-CP-S2")
    assert table_rows(page.text, "area-links") == [
        ["Amber Quill", "P-CP-S2 (summary only)", f"{strength:.2f}", "went missing together"]]
    assert table_rows(page.text, "area-placed-in") == [
        ["Eli Marsh (P-CP-S1)", "East Sussex", "Kent", "Kent Police", started(100), "U4", "48 km"]]
    assert table_rows(page.text, "area-placed-out") == [
        ['Cora Vane, "Jr" (P-CP-K3)', "Kent", "East Sussex", "Sussex Police", started(40), "K2", "61 km"]]


def started(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


async def test_the_la_network_island_is_exactly_the_tables(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/area")
    data = assert_island_is_the_tables(page.text)
    assert {n["id"]: (n["kind"], n["label"]) for n in data["nodes"]} == {
        "P-CP-K1": ("child", "Amber Quill"), "P-CP-K2": ("child", "Basil Thorne"),
        "P-CP-K3": ("child", 'Cora Vane, "Jr"'), "P-CP-K4": ("child", "Dara Fenn"),
        "P-CP-K5": ("child", "=SUM(A1) Quill"), "P-CP-S1": ("child", "Eli Marsh"),
        "P-CP-S2": ("summary", "P-CP-S2"),
    }
    assert "href" not in next(n for n in data["nodes"] if n["kind"] == "summary")
    assert [(e["source"], e["target"], e["explicit"]) for e in data["edges"]] == [("P-CP-K1", "P-CP-S2", True)]
    # The island is JSON inside HTML: markup in a name cannot close the script element.
    assert "</script>" not in ISLAND.search(page.text).group(1)  # type: ignore[union-attr]
    assert 'src="/static/js/network.js"' in page.text and "<script>" not in page.text


async def test_a_force_sees_its_co_missing_groups(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kent_police = console_as(KP, "investigator")
    page = kent_police.get("/area")
    assert page.status_code == 200, page.text
    assert table_rows(page.text, "area-groups") == [["grp:P-CP-K1", "3", "1", "Kent Police", "East Sussex, Kent"]]
    assert [r[0] for r in table_rows(page.text, "area-children")] == [
        "Amber Quill (P-CP-K1)", "=SUM(A1) Quill (P-CP-K5)", "Fay Rook (P-CP-S2)"]
    data = assert_island_is_the_tables(page.text)
    assert sorted((e["source"], e["target"]) for e in data["edges"]) == [
        ("P-CP-K1", "P-CP-K5"), ("P-CP-K1", "P-CP-S2")]
    assert {n["kind"] for n in data["nodes"]} == {"child"}
    # A force may not ask for an LA's linked children: the API's refusal, as a page.
    assert kent_police.get("/area", params={"area": KCC}).status_code == 403


async def test_the_national_unit_picks_an_area(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    nca = console_as("NCA-MPU", "investigator")
    start = nca.get("/area")
    assert start.status_code == 200 and 'name="area"' in start.text and 'data-testid="area-network"' not in start.text
    page = nca.get("/area", params={"area": KCC})
    assert page.status_code == 200
    # Nationally every child may be read: the linked child is named too.
    assert table_rows(page.text, "area-children")[-1][0] == "Fay Rook (P-CP-S2)"
    assert_island_is_the_tables(page.text)
    bad = nca.get("/area", params={"area": "E99999999"})
    assert bad.status_code == 400 and 'href="#area"' in bad.text
    assert "E99999999 is not a police force or local authority code" in bad.text
