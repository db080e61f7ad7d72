"""hotspots, duties and reconciliation over real HTTP with dev-IdP tokens (scenario:
tests/integration/intel_areas_scenario.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from conftest import wipe_data  # noqa: E402
from intel_areas_scenario import AS_OF, ESLA, KF, KLA, SF, build_scenario  # noqa: E402
from mpdb.domain.geo import cell_centre, cell_id  # noqa: E402

pytestmark = pytest.mark.integration

HOTSPOTS = """
query($area: String!, $first: Int, $after: String) {
  hotspots(area: $area, kind: FOUND_AT, from: "2026-07-01", to: "2026-10-01", first: $first, after: $after) {
    area clusterRadiusKm suppressionThreshold totalCount
    nodes { rank children episodes previousChildren emerging suppressed episodeIds forceCodes
            place { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

DUTIES = """
query($kind: DutyKind!, $asOf: DateTime, $first: Int, $after: String) {
  duties(kind: $kind, asOf: $asOf, first: $first, after: $after) {
    area totalCount
    nodes { id daysOverdue dutyHolder recipient evidence { kind id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

RECONCILIATION = """
query($la: String!) {
  reconciliation(localAuthority: $la, from: "2026-07-01", to: "2026-10-01") {
    suppressed totalCount
    counts { episodes policeOnly laOnly datesDisagree agree unrecorded }
    nodes { episodeId category startDifferenceHours policeRecords { id } laRecords { id } }
  }
}
"""


@pytest_asyncio.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await build_scenario(graph)
    return graph


def data(resp):  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "errors" not in body, body
    return body["data"]


async def test_hotspots_for_an_investigator_page_by_page(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KF, "investigator")
    first = data(live_server.graphql(HOTSPOTS, {"area": KF, "first": 2}, token=token))["hotspots"]
    assert (first["area"], first["clusterRadiusKm"], first["suppressionThreshold"], first["totalCount"]) == (
        KF, 1.25, None, 3)
    h1, h2 = first["nodes"]
    assert (h1["children"], h1["episodes"], h1["forceCodes"], h1["place"]["id"]) == (5, 6, [KF, "E23000033"], "T4A-L2")
    assert h1["episodeIds"] == ["T4A-E-K2a", "T4A-E-K1b", "T4A-E-K1a"]
    assert (h2["children"], h2["previousChildren"], h2["emerging"]) == (4, 1, True)
    assert first["pageInfo"]["hasNextPage"]
    rest = data(live_server.graphql(HOTSPOTS, {"area": KF, "first": 2, "after": first["pageInfo"]["endCursor"]},
                                    token=token))["hotspots"]
    assert [(n["rank"], n["place"]["id"]) for n in rest["nodes"]] == [(3, "T4A-L4")]
    assert not rest["pageInfo"]["hasNextPage"]


async def test_hotspots_for_an_analyst_are_suppressed(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KF, "analyst")
    res = data(live_server.graphql(HOTSPOTS, {"area": KF}, token=token, purpose=None))["hotspots"]
    assert res["suppressionThreshold"] == 5
    assert [(n["children"], n["episodes"], n["previousChildren"], n["suppressed"], n["episodeIds"])
            for n in res["nodes"]] == [(5, 6, None, True, []), (None, None, None, True, []), (None, None, 0, True, [])]


WENT_TO_NATIONAL = """
{ hotspots(area: "national", kind: WENT_TO, from: "2026-07-01", to: "2026-10-01") {
    nodes { id children place { id name kind laCode forceCode latitude longitude }
            locations { id name latitude longitude } } } }
"""


async def test_a_foster_home_in_another_force_is_a_cell_unless_you_read_an_episode_there(  # type: ignore[no-untyped-def]
        scenario, live_server) -> None:
    lf_cell = cell_id(50.9712, 0.0534)
    lat, lon = cell_centre(lf_cell)

    def foster_home(agency: str) -> dict:  # type: ignore[type-arg]
        nodes = data(live_server.graphql(WENT_TO_NATIONAL, token=live_server.token(agency, "investigator", agency_kind="police_force")))[
            "hotspots"]["nodes"]
        assert nodes[0]["id"] == lf_cell and nodes[0]["children"] == 2
        return {"place": nodes[0]["place"], "locations": nodes[0]["locations"]}

    # Kent Police (force A) may read no episode at the Sussex foster home: its grid cell only.
    assert foster_home(KF) == {
        "place": {"id": None, "name": None, "kind": "foster_home", "laCode": ESLA, "forceCode": SF,
                  "latitude": lat, "longitude": lon},
        "locations": [{"id": None, "name": None, "latitude": lat, "longitude": lon}]}
    # Sussex Police (force B) reads S2a and S3a, which went there: name and exact coordinates.
    assert foster_home(SF) == {
        "place": {"id": "T4A-LF", "name": "A foster home", "kind": "foster_home", "laCode": ESLA, "forceCode": SF,
                  "latitude": 50.9712, "longitude": 0.0534},
        "locations": [{"id": "T4A-LF", "name": "A foster home", "latitude": 50.9712, "longitude": 0.0534}]}


async def test_hotspot_errors(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    bad = live_server.graphql(HOTSPOTS, {"area": "nowhere"}, token=live_server.token(KF, "investigator")).json()
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "area"}
    cursor = live_server.graphql(HOTSPOTS, {"area": KF, "after": "!!"}, token=live_server.token(KF, "investigator"))
    assert cursor.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    denied = live_server.graphql(HOTSPOTS, {"area": KF}, token=live_server.token(KF, "call_handler")).json()
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_duties_over_http(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KLA, "la_missing_lead")
    res = data(live_server.graphql(DUTIES, {"kind": "RHI_OVERDUE", "asOf": AS_OF.isoformat()}, token=token))["duties"]
    assert (res["area"], res["totalCount"]) == (KLA, 1)
    assert res["nodes"][0]["id"] == "T4A-RI1" and res["nodes"][0]["daysOverdue"] == 3
    unsent = data(live_server.graphql(DUTIES, {"kind": "NOTIFICATION_UNSENT", "asOf": AS_OF.isoformat(), "first": 1},
                                      token=token))["duties"]
    assert [n["id"] for n in unsent["nodes"]] == ["placement:T4A-P1:placement_to_host_la"]
    more = data(live_server.graphql(DUTIES, {"kind": "NOTIFICATION_UNSENT", "asOf": AS_OF.isoformat(), "first": 1,
                                             "after": unsent["pageInfo"]["endCursor"]}, token=token))["duties"]
    assert [(n["id"], n["daysOverdue"]) for n in more["nodes"]] == [("T4A-N1", 35)]
    analyst = live_server.graphql(DUTIES, {"kind": "RHI_OVERDUE"}, token=live_server.token(KLA, "analyst")).json()
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    nopurpose = live_server.graphql(DUTIES, {"kind": "RHI_OVERDUE", "asOf": AS_OF.isoformat()}, token=token,
                                    purpose=None).json()
    assert nopurpose["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


async def test_reconciliation_over_http(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    lead = data(live_server.graphql(RECONCILIATION, {"la": KLA}, token=live_server.token(KLA, "la_missing_lead")))
    r = lead["reconciliation"]
    assert r["counts"] == {"episodes": 8, "policeOnly": 1, "laOnly": 1, "datesDisagree": 1, "agree": 5,
                           "unrecorded": 0}
    assert [(n["episodeId"], n["category"]) for n in r["nodes"]] == [
        ("T4A-E-K3a", "DATES_DISAGREE"), ("T4A-E-K1b", "POLICE_ONLY"), ("T4A-E-K4a", "LA_ONLY")]
    assert r["nodes"][0]["startDifferenceHours"] == 48.0
    analyst = data(live_server.graphql(RECONCILIATION, {"la": KLA}, token=live_server.token(KLA, "analyst"),
                                       purpose=None))["reconciliation"]
    assert analyst["nodes"] == [] and analyst["suppressed"] and analyst["counts"]["policeOnly"] is None
