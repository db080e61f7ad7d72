"""Imported postcodes are placed where they lie (issue 12 point 5), over real HTTP with real tokens
and a real Neo4j: Birmingham's SSDA903 return places children in Stoke-on-Trent (another force),
Walsall (the same force) and Cardiff (Wales); the host LA and host force then read the child, an
unrelated force does not; the placements are out of area and cross force exactly when they are;
and a postcode that does not resolve is a row warning, marked in the graph, never silently
Birmingham. The CSV placements file does the same from its `postcode` column."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mpdb.ingest.importer import child_id_for, derive_id

pytestmark = pytest.mark.integration

BIRMINGHAM, STOKE, WALSALL, CARDIFF = "E08000025", "E06000021", "E08000030", "W06000015"
WOLVERHAMPTON, DUDLEY = "E08000031", "E08000027"
WMP, STAFFS, SOUTH_WALES, GMP = "E23000014", "E23000015", "W15000003", "E23000005"

HEADER = """CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB
GEO1,1,14/05/2008,WBRI,,,
GEO2,2,02/09/2009,WBRI,,,
GEO3,1,03/03/2008,WBRI,,,
GEO4,2,04/04/2009,WBRI,,,
GEO5,1,05/05/2008,WBRI,,,
GEO6,2,06/06/2009,WBRI,,,
"""
# Lines: 2 Stoke (ST1 3: Hanley), 3 Walsall (WS1 1), 4 Cardiff (CF10 1), 5 Birmingham itself
# (B12 0), 6 a sector that does not exist (ZZ1 1) with a Scottish home (EH1 1), 7 a sector mostly
# in Wolverhampton with a few postcodes in Dudley (WV1 1).
EPISODES = """CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN
GEO1,01/06/2023,S,C2,N1,K2,PR4,,,,B11 1,ST1 3,SC999101
GEO2,01/06/2023,S,C2,N1,U4,PR1,,,,b11 1,ws1 1,XXXXXXX
GEO3,01/06/2023,S,C2,N1,K2,PR4,,,,B11 1,CF10 1,SC999103
GEO4,01/06/2023,S,C2,N1,U4,PR1,,,,B11 1,B12 0,XXXXXXX
GEO5,01/06/2023,S,C2,N1,U4,PR1,,,,EH1 1,ZZ1 1,XXXXXXX
GEO6,01/06/2023,S,C2,N1,U4,PR1,,,,B11 1,WV1 1,XXXXXXX
"""
MISSING = """CHILD,DOB,MISSING,MIS_START,MIS_END
GEO1,14/05/2008,M,10/07/2023,12/07/2023
"""

PLACEMENT_Q = """
MATCH (p:Placement {id: $id})
RETURN p {.outOfArea, .crossForce, .hostResolution} AS p,
       [(p)-[:HOSTED_BY]->(la) | la.code] AS host, [(p)-[:IN_FORCE_AREA]->(f) | f.code] AS force,
       [(p)-[:AT_LOCATION]->(l) | [l.postcode, l.laCode, l.forceCode, l.geoResolution,
         [(l)-[:IN_LA]->(la) | la.code], [(l)-[:IN_FORCE]->(f) | f.code]]] AS loc,
       [(n:Notification)-[:ABOUT]->(p) | n.kind] AS notifications
"""
CHILD_Q = "query($id: ID!) { child(id: $id) { id responsibleAuthority } }"
DUTIES = """
query($area: String) {
  duties(kind: NOTIFICATION_UNSENT, area: $area, first: 50) { nodes { kind childId placementId dutyHolder recipient } }
}
"""


def post(live_server, kind: str, token: str, files: dict, data: dict | None = None) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(f"{live_server.base_url}/import/{kind}", files=files, data=data or {},
                      headers={"Authorization": f"Bearer {token}"}, timeout=120)


def placement_id(child: str) -> str:
    return derive_id("PL", BIRMINGHAM, "ssda903", f"{child}|2023-06-01")


def read_child(live_server, agency: str, role: str, child: str) -> Any:  # type: ignore[no-untyped-def]
    token = live_server.token(agency, role, subject=f"geo-{agency}-{role}")
    r = live_server.graphql(CHILD_Q, {"id": child_id_for(BIRMINGHAM, child)}, token=token)
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]["child"]


@pytest.fixture(scope="module")
def imported(live_server, reference_graph) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    lead = live_server.token(BIRMINGHAM, "la_missing_lead", subject="geo-bham-lead")
    files = {"header": ("header.csv", HEADER, "text/csv"), "episodes": ("episodes.csv", EPISODES, "text/csv"),
             "missing": ("missing.csv", MISSING, "text/csv")}
    r = post(live_server, "ssda903", lead, files, {"year": "2024"})
    assert r.status_code == 200, r.text
    return {"body": r.json(), "files": files, "lead": lead}


def test_the_report_loads_every_row_and_warns_about_the_postcodes_that_did_not_resolve(imported) -> None:  # type: ignore[no-untyped-def]
    body = imported["body"]
    assert (body["loaded"], body["rejected"], body["errors"]) == (6 + 6 + 1, 0, [])
    assert [(w["file"], w["line"], w["column"], w["rule"]) for w in body["warnings"]] == [
        ("episodes.csv", 6, "HOME_POST", "postcode_outside"),
        ("episodes.csv", 6, "PL_POST", "postcode_unknown"),
        ("episodes.csv", 7, "PL_POST", "postcode_straddles"),
    ]
    reasons = [w["reason"] for w in body["warnings"]]
    assert reasons[0] == ("the postcode is in Scotland, where mpdb has no local authority or force: placed in "
                          "the importing LA, marked geoResolution unresolved")
    assert reasons[1] == ("the postcode is not in the ONS Postcode Directory, November 2025, so its LA and force "
                          "are unknown: placed in the importing LA, marked geoResolution unresolved")
    assert reasons[2] == (f"the postcode sector straddles local authorities: placed in {WOLVERHAMPTON} (99.6% of "
                          f"its postcodes), also {DUDLEY}")
    assert not any(pc in str(body) for pc in ("ZZ1 1", "EH1 1", "WV1 1"))  # the report names line and column


@pytest.mark.parametrize(("child", "host", "force", "out_of_area", "cross_force", "loc"), [
    ("GEO1", STOKE, STAFFS, True, True, ["ST1 3", STOKE, STAFFS, "sector", [STOKE], [STAFFS]]),
    ("GEO2", WALSALL, WMP, True, False, ["WS1 1", WALSALL, WMP, "sector", [WALSALL], [WMP]]),
    ("GEO3", CARDIFF, SOUTH_WALES, True, True, ["CF10 1", CARDIFF, SOUTH_WALES, "sector", [CARDIFF], [SOUTH_WALES]]),
    ("GEO4", BIRMINGHAM, WMP, False, False, ["B12 0", BIRMINGHAM, WMP, "sector", [BIRMINGHAM], [WMP]]),
    ("GEO6", WOLVERHAMPTON, WMP, True, False, ["WV1 1", WOLVERHAMPTON, WMP, "sector", [WOLVERHAMPTON], [WMP]]),
])
async def test_placements_are_hosted_where_their_postcode_lies(imported, reference_graph, child: str, host: str,  # type: ignore[no-untyped-def]
                                                               force: str, out_of_area: bool, cross_force: bool,
                                                               loc: list[Any]) -> None:
    row = await reference_graph.read_one(PLACEMENT_Q, {"id": placement_id(child)})
    assert row["p"] == {"outOfArea": out_of_area, "crossForce": cross_force, "hostResolution": "postcode"}
    assert (row["host"], row["force"], row["loc"]) == ([host], [force], [loc])
    # The importer records no notifications (a file of past placements cannot say which were sent)...
    assert row["notifications"] == []


async def test_an_unknown_postcode_is_marked_unresolved_not_passed_off_as_birmingham(imported, reference_graph) -> None:  # type: ignore[no-untyped-def]
    row = await reference_graph.read_one(PLACEMENT_Q, {"id": placement_id("GEO5")})
    assert row["p"] == {"outOfArea": False, "crossForce": False, "hostResolution": "unresolved"}
    assert (row["host"], row["force"]) == ([BIRMINGHAM], [WMP])  # the stand-in, so the model's invariants hold
    assert row["loc"] == [["ZZ1 1", BIRMINGHAM, WMP, "unresolved", [BIRMINGHAM], [WMP]]]
    home = await reference_graph.read_one(
        "MATCH (:Child {id: $id})-[:HOME_AT]->(l) RETURN [l.postcode, l.laCode, l.geoResolution] AS home",
        {"id": child_id_for(BIRMINGHAM, "GEO5")})
    assert home["home"] == ["EH1 1", BIRMINGHAM, "unresolved"]
    access = await reference_graph.read_one("MATCH (c:Child {id: $id}) RETURN c.accessAgencies AS a",
                                            {"id": child_id_for(BIRMINGHAM, "GEO5")})
    assert access["a"] == [BIRMINGHAM]  # nobody else gains a record from a postcode nobody could place


async def test_homes_are_placed_too_and_give_the_home_la_the_child(imported, reference_graph) -> None:  # type: ignore[no-untyped-def]
    rows = await reference_graph.read(
        "MATCH (c:Child)-[:HOME_AT]->(l) WHERE c.id IN $ids RETURN c.lacChildRef AS child, "
        "[l.postcode, l.laCode, l.forceCode, l.geoResolution] AS home, c.accessAgencies AS access ORDER BY child",
        {"ids": [child_id_for(BIRMINGHAM, c) for c in ("GEO1", "GEO2")]})
    assert [(r["child"], r["home"], sorted(r["access"])) for r in rows] == [
        ("GEO1", ["B11 1", BIRMINGHAM, WMP, "sector"], sorted([BIRMINGHAM, STOKE, STAFFS])),
        ("GEO2", ["B11 1", BIRMINGHAM, WMP, "sector"], sorted([BIRMINGHAM, WALSALL, WMP])),
    ]


@pytest.mark.parametrize(("child", "readers", "not_readers"), [
    # host LA and host force read the child; an unrelated force and an unrelated LA do not
    ("GEO1", [(STOKE, "la_missing_lead"), (STAFFS, "investigator"), (BIRMINGHAM, "social_worker")],
     [(GMP, "investigator"), (WALSALL, "la_missing_lead"), (WMP, "investigator")]),
    ("GEO2", [(WALSALL, "la_missing_lead"), (WMP, "investigator")],
     [(STOKE, "la_missing_lead"), (STAFFS, "investigator"), (GMP, "investigator")]),
    ("GEO3", [(CARDIFF, "la_missing_lead"), (SOUTH_WALES, "investigator")],
     [(STOKE, "la_missing_lead"), (GMP, "investigator"), (WMP, "investigator")]),
])
def test_who_can_read_the_child(imported, live_server, child: str, readers: list[tuple[str, str]],  # type: ignore[no-untyped-def]
                                not_readers: list[tuple[str, str]]) -> None:
    for agency, role in readers:
        got = read_child(live_server, agency, role, child)
        assert got == {"id": child_id_for(BIRMINGHAM, child), "responsibleAuthority": BIRMINGHAM}, (agency, role)
    for agency, role in not_readers:
        assert read_child(live_server, agency, role, child) is None, (agency, role)


def test_the_out_of_area_placements_owe_their_notifications(imported, live_server) -> None:  # type: ignore[no-untyped-def]
    """...so each out-of-area placement is a NOTIFICATION_UNSENT duty (no notification recorded, due
    5 days after the start), for the host as for the placing LA, as an API placement never notified is."""
    stoke = live_server.token(STOKE, "la_missing_lead", subject="geo-stoke-duties")
    r = live_server.graphql(DUTIES, {"area": STOKE}, token=stoke)
    nodes = [n for n in r.json()["data"]["duties"]["nodes"] if n["placementId"] in {placement_id(c) for c in
                                                                                     ("GEO1", "GEO2", "GEO3")}]
    assert nodes == [{"kind": "NOTIFICATION_UNSENT", "childId": child_id_for(BIRMINGHAM, "GEO1"),
                      "placementId": placement_id("GEO1"), "dutyHolder": BIRMINGHAM, "recipient": STOKE}]
    r = live_server.graphql(DUTIES, {"area": BIRMINGHAM}, token=imported["lead"])
    owed = sorted((n["placementId"], n["recipient"]) for n in r.json()["data"]["duties"]["nodes"]
                  if n["placementId"] in {placement_id(f"GEO{i}") for i in range(1, 7)})
    assert owed == sorted([(placement_id("GEO1"), STOKE), (placement_id("GEO2"), WALSALL),
                           (placement_id("GEO3"), CARDIFF), (placement_id("GEO6"), WOLVERHAMPTON)])


def test_a_re_upload_writes_nothing_and_warns_again(imported, live_server) -> None:  # type: ignore[no-untyped-def]
    r = post(live_server, "ssda903", imported["lead"], imported["files"], {"year": "2024"})
    body = r.json()
    assert (body["loaded"], body["unchanged"], body["rejected"]) == (0, 13, 0)
    assert [(w["line"], w["column"], w["rule"]) for w in body["warnings"]] == [
        (6, "HOME_POST", "postcode_outside"), (6, "PL_POST", "postcode_unknown"), (7, "PL_POST", "postcode_straddles")]


CSV_CHILDREN = """child_ref,given_name,family_name,date_of_birth,sex,looked_after,responsible_la
GEOC1,Geoa,One-Synthetic,2009-01-02,F,true,E08000025
"""
# 2: host from the postcode; 3: host stated, postcode elsewhere (kept, warned); 4: host stated and the
# straddling sector reaches into it (no warning); 5: no host and a postcode nobody knows (rejected);
# 6: neither (rejected); 7: a full postcode without its space; 8: host stated, the straddling
# sector's majority (no warning)
CSV_PLACEMENTS = """placement_ref,child_ref,start_date,end_date,placement_type,host_la,postcode
GEOP1,GEOC1,2023-01-01,2023-02-01,K2,,ST1 3
GEOP2,GEOC1,2023-02-01,2023-03-01,K2,E06000021,B12 0
GEOP3,GEOC1,2023-03-01,2023-04-01,U4,E08000027,WV1 1
GEOP4,GEOC1,2023-04-01,2023-05-01,U4,,ZZ1 1
GEOP5,GEOC1,2023-05-01,2023-06-01,U4,,
GEOP6,GEOC1,2023-06-01,,U4,,cf101ab
GEOP7,GEOC1,2022-06-01,2022-07-01,U4,E08000031,WV1 1
"""


async def test_the_csv_placements_file_places_postcodes_the_same_way(live_server, reference_graph) -> None:  # type: ignore[no-untyped-def]
    lead = live_server.token(BIRMINGHAM, "la_missing_lead", subject="geo-bham-csv")
    r = post(live_server, "children", lead, {"file": ("children.csv", CSV_CHILDREN, "text/csv")})
    assert (r.status_code, r.json()["loaded"]) == (200, 1)
    r = post(live_server, "placements", lead, {"file": ("placements.csv", CSV_PLACEMENTS, "text/csv")})
    body = r.json()
    assert (r.status_code, body["loaded"], body["rejected"]) == (200, 5, 2)
    assert [(e["line"], e["column"], e["rule"]) for e in body["errors"]] == [
        (5, "postcode", "postcode_unknown"), (6, "host_la", "required")]
    assert body["errors"][0]["reason"].endswith("the row is rejected: give host_la")
    assert [(w["line"], w["column"], w["rule"], w["reason"]) for w in body["warnings"]] == [
        (3, "postcode", "postcode_host_mismatch", f"the postcode lies in another local authority than host_la "
         f"({BIRMINGHAM}): host_la is kept as the host, the location is placed by its postcode")]
    got = {}
    for ref in ("GEOP1", "GEOP2", "GEOP3", "GEOP6", "GEOP7"):
        row = await reference_graph.read_one(PLACEMENT_Q, {"id": derive_id("PL", BIRMINGHAM, "csv-import", ref)})
        got[ref] = (row["p"], row["host"], row["force"], [x[:4] for x in row["loc"]])
    assert got == {
        "GEOP1": ({"outOfArea": True, "crossForce": True, "hostResolution": "postcode"}, [STOKE], [STAFFS],
                  [["ST1 3", STOKE, STAFFS, "sector"]]),
        "GEOP2": ({"outOfArea": True, "crossForce": True, "hostResolution": "stated"}, [STOKE], [STAFFS],
                  [["B12 0", BIRMINGHAM, WMP, "sector"]]),
        "GEOP3": ({"outOfArea": True, "crossForce": False, "hostResolution": "stated"}, [DUDLEY], [WMP],
                  [["WV1 1", DUDLEY, WMP, "sector"]]),
        "GEOP6": ({"outOfArea": True, "crossForce": True, "hostResolution": "postcode"}, [CARDIFF], [SOUTH_WALES],
                  [["CF10 1AB", CARDIFF, SOUTH_WALES, "unit"]]),
        "GEOP7": ({"outOfArea": True, "crossForce": False, "hostResolution": "stated"}, [WOLVERHAMPTON], [WMP],
                  [["WV1 1", WOLVERHAMPTON, WMP, "sector"]]),
    }
    # the hosts the postcodes gave read the child; a force no placement is in does not
    for agency, role in ((CARDIFF, "la_missing_lead"), (SOUTH_WALES, "investigator"), (STOKE, "la_missing_lead"),
                         (STAFFS, "investigator")):
        assert read_child(live_server, agency, role, "GEOC1") == {
            "id": child_id_for(BIRMINGHAM, "GEOC1"), "responsibleAuthority": BIRMINGHAM}, agency
    assert read_child(live_server, GMP, "investigator", "GEOC1") is None
