"""The console's child page over real HTTP, on the hand-built link scenario of
tests/integration/test_intel_links.py (children T4L-*, everything in 2019, A missing now since
2019-12-01, reported to the Met)."""

from __future__ import annotations

import json
import re

import pytest

from mpdb.graph.queries.access import REFRESH_ACCESS
from tests.console.conftest import table_rows
from tests.integration.test_intel_links import CHILDREN, CLEAR, ESSEX, KCC, KENT, PARAMS, SCENARIO, SURREY_CC

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def scenario(graph, registered_agencies):  # type: ignore[no-untyped-def]
    await graph.auto_commit(CLEAR)
    await graph.write(SCENARIO, PARAMS)
    await graph.write(REFRESH_ACCESS, {"childIds": CHILDREN})
    return graph


def island(html: str, element_id: str) -> dict:  # type: ignore[type-arg]
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, f"no JSON island {element_id}"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def without_tokens(html: str) -> str:
    return re.sub(r'(nonce-|nonce=")[^"\';]+', r"\1", re.sub(r'value="[A-Za-z0-9_-]{43}"', "", html))


async def test_la_lead_sees_the_whole_picture_of_its_child(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/children/T4L-A")
    assert page.status_code == 200, page.text
    html = page.text
    assert '<h1 class="govuk-heading-l" data-testid="child-name">Ava Synthtest</h1>' in html
    assert "Missing now: reported 2019-12-01 12:00 to Metropolitan Police Service" in html
    assert [r[0] for r in table_rows(html, "flags")] == ["cse"]  # the expired flag is not active
    assert table_rows(html, "flags")[0][2] == "2019-03-05"
    timeline = re.findall(r'<h3 class="govuk-heading-s govuk-!-margin-bottom-1">([0-9: -]+) <span', html)
    assert timeline == ["2019-12-01 12:00", "2019-09-01 12:00", "2019-06-10 20:00", "2019-03-01 18:00"]
    found = table_rows(html, "found-before")
    assert [r[0] for r in found] == ["2019-09-02 12:00", "2019-06-11 09:00", "2019-03-02 10:00"]
    assert [r[1] for r in found] == ["Chatham station, Medway", "Wood Green shops, Haringey", "Chatham station, Medway"]
    points = island(html, "found-map-data")["points"]
    assert [(p["lat"], p["lng"], p["count"]) for p in points] == [(51.38, 0.521, 2), (51.597, -0.109, 1)]
    network = island(html, "child-network-data")
    edges = table_rows(html, "network-table")
    assert len(edges) == len(network["edges"]) > 0
    # every node the table names is in the picture, and children not readable in full are summaries
    kinds = {n["id"]: n["kind"] for n in network["nodes"]}
    assert kinds["child:T4L-A"] == "focus"
    assert {"person:T4L-P-M", "person:T4L-P-N"} <= set(kinds)
    assert "Ben Synthtest" not in html and "summary:PT4L-B" in kinds  # Haringey's child, in summary form
    placements = table_rows(html, "placements")
    assert ["2018-06-01", "current", "K2: Haringey Lodge", "Kent", "Haringey out of area cross force"] in placements


async def test_a_force_on_the_locate_basis_sees_the_locate_profile_only(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    essex = console_as(ESSEX, "investigator")
    page = essex.get("/children/T4L-A")
    assert page.status_code == 200
    assert 'data-testid="locate-basis"' in page.text
    assert 'data-testid="timeline"' not in page.text and 'data-testid="network-table"' not in page.text
    assert "Ava Synthtest" in page.text


async def test_a_child_one_may_not_see_is_the_same_page_as_no_child(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    surrey_cc = console_as(SURREY_CC, "la_missing_lead")
    hidden = surrey_cc.get("/children/T4L-A")
    missing = surrey_cc.get("/children/T4L-NO-SUCH-CHILD")
    assert hidden.status_code == missing.status_code == 404
    # the same page, word for word, but for the address itself (in the purpose's "change" link)
    assert without_tokens(hidden.text).replace("T4L-A", "ID") == without_tokens(missing.text).replace(
        "T4L-NO-SUCH-CHILD", "ID")
    assert "Ava" not in hidden.text
    assert surrey_cc.get("/children/" + "x" * 101).status_code == 404


async def test_viewing_a_child_is_audited_with_the_purpose(scenario, console_as, live_server) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead", purpose="Safeguarding: assessing risk to a child (case KCC-77)")
    assert kcc.get("/children/T4L-A").status_code == 200
    body = live_server.graphql(
        'query { auditEvents(recordId: "T4L-A", first: 20) { nodes { operation agencyId purpose } } }',
        token=live_server.token(KCC, "auditor")).json()
    mine = [e["operation"] for e in body["data"]["auditEvents"]["nodes"]
            if e["purpose"] == "Safeguarding: assessing risk to a child (case KCC-77)" and e["agencyId"] == KCC]
    assert sorted(set(mine)) == ["child", "locateProfile", "riskProfile", "riskProfile.adult.children"]
    assert KENT  # the force that found A twice


async def test_the_audit_trail_page_shows_who_viewed_the_record(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    viewer = console_as(KCC, "la_missing_lead", purpose="Safeguarding: assessing risk to a child (case KCC-78)")
    assert viewer.get("/children/T4L-A").status_code == 200
    auditor = console_as(KCC, "auditor", purpose=None)  # reading the trail names no child: no purpose asked
    page = auditor.get("/audit", params={"record": "T4L-A", "action": "CONSULTATION"})
    assert page.status_code == 200, page.text
    rows = [r for r in table_rows(page.text, "audit-events")
            if r[5] == "Safeguarding: assessing risk to a child (case KCC-78)"]
    assert sorted({r[3] for r in rows}) == ["child", "locateProfile", "riskProfile", "riskProfile.adult.children"]
    assert all(r[2] == "consultation" and r[4].startswith(("Kent County Council (la missing lead)",
                                                            "Kent (la missing lead)")) for r in rows), rows
    assert all("T4L-A" in r[6] for r in rows)
    bad = auditor.get("/audit", params={"since": "2026-13-01"})
    assert bad.status_code == 400 and "Enter a date as YYYY-MM-DD" in bad.text
    refused = console_as(KCC, "la_missing_lead").get("/audit")
    assert refused.status_code == 403  # no audit:read: the API's FORBIDDEN, as a page
