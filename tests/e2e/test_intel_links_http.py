"""The link queries over real HTTP with dev-IdP tokens, on the hand-built T4L scenario of
tests/integration/test_intel_links.py (loaded from that file so both suites share one picture)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mpdb.graph.queries.access import REFRESH_ACCESS

pytestmark = pytest.mark.integration

_spec = importlib.util.spec_from_file_location(
    "t4l_scenario", Path(__file__).resolve().parents[1] / "integration" / "test_intel_links.py")
assert _spec and _spec.loader
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)

AS_OF, SINCE = "2019-12-31T00:00:00+00:00", "2019-01-01T00:00:00+00:00"

RISK = """query($id: ID!, $asOf: DateTime) { riskProfile(childId: $id, asOf: $asOf) {
  child { id pseudonym } asOf
  priorEpisodes { total { last90Days last12Months ever episodeIds } byForce { forceCode ever } }
  flags { id type active raisedBy { id } }
  placements { current placement { id outOfArea crossForce hostedBy forceArea } }
  peers { child { id } episodeCount activeFlags { type } episodes { episodeId episodeOf source } }
  adults { person { id role } otherChildren links { kind episodeId } }
  whereToLook { place { id name } timesFound lastFoundAt episodeIds }
  returnInterviews { id status summaryPlaces by { id } }
  triggers { rule area count episodeIds }
} }"""

CO = """query($id: ID!, $hops: Int!, $first: Int, $after: String) {
  coMissing(childId: $id, since: "2019-01-01T00:00:00Z", hops: $hops, asOf: "2019-12-31T00:00:00Z",
            first: $first, after: $after) {
    child { id } totalCount pageInfo { hasNextPage endCursor }
    nodes { fromChild { id } toChild { id pseudonym ageBand } hop strength explicit
            evidence { kind source weight episodes { id reportedTo } places { id cell } } } } }"""

LINKED = """query($la: String!) {
  linkedChildren(localAuthority: $la, since: "2019-01-01T00:00:00Z", asOf: "2019-12-31T00:00:00Z") {
    totalCount nodes { relation summary { pseudonym ageBand responsibleAuthority } child { id givenName }
      strength links { anchor { id } evidence { kind episodes { id reportedTo } places { id } } } } } }"""

ASSOC = """{ sharedAssociates(minChildren: 4, minForces: 3, since: "2019-01-01T00:00:00Z",
                            asOf: "2019-12-31T00:00:00Z") {
  totalCount nodes { person { id } childCount forceCount forces children { child { id } links { kind episodeId force } } } } }"""

GROUPS = """{ coMissingGroups(since: "2019-01-01T00:00:00Z", asOf: "2019-12-31T00:00:00Z", minSize: 3) {
  totalCount nodes { id size forces localAuthorities episodeCount members { pseudonym child { id } } } } }"""

EVENTS = """query($rid: String) { auditEvents(recordId: $rid, first: 50) { nodes { subject operation recordIds } } }"""


@pytest.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    await graph.auto_commit(S.CLEAR)
    await graph.write(S.SCENARIO, S.PARAMS)
    await graph.write(REFRESH_ACCESS, {"childIds": S.CHILDREN})
    return graph


def ok(resp) -> dict:  # type: ignore[no-untyped-def]
    body = resp.json()
    assert resp.status_code == 200 and "errors" not in body, body
    return body["data"]


def test_risk_profile_over_http_for_the_force_holding_the_open_episode(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(S.MET, "investigator", subject="t4l-met-officer")
    resp = live_server.graphql(RISK, {"id": "T4L-A", "asOf": AS_OF}, token=token, purpose="t4l: child reported")
    assert "T4L-CONFIDENTIAL-ACCOUNT" not in resp.text
    p = ok(resp)["riskProfile"]
    assert p["priorEpisodes"]["total"] == {"last90Days": 1, "last12Months": 4, "ever": 4,
                                           "episodeIds": ["T4L-E-A4", "T4L-E-A3", "T4L-E-A2", "T4L-E-A1"]}
    assert [(f["id"], f["active"], f["raisedBy"]["id"]) for f in p["flags"]] == [
        ("T4L-FL-1", True, S.KENT), ("T4L-FL-2", False, S.KCC)]
    assert p["placements"][0] == {"current": True, "placement": {"id": "T4L-P-A", "outOfArea": True, "crossForce": True,
                                                                 "hostedBy": S.HARINGEY, "forceArea": S.MET}}
    # Met holds A's open episode, so it sees A's whole history, but B's Kent record of March
    # is B's history, not Met's to see: the peer evidence is A's own two records.
    assert p["peers"] == [{"child": {"id": "T4L-B"}, "episodeCount": 2, "activeFlags": [{"type": "cce_county_lines"}],
                           "episodes": [{"episodeId": "T4L-E-A2", "episodeOf": "T4L-A", "source": "found"},
                                        {"episodeId": "T4L-E-A1", "episodeOf": "T4L-A", "source": "found"}]}]
    assert [(w["place"]["id"], w["timesFound"]) for w in p["whereToLook"]] == [
        ("T4L-L-CHATHAM-STN", 2), ("T4L-L-HARINGEY-SHOP", 1)]
    assert p["returnInterviews"] == [{"id": "T4L-RI-1", "status": "completed", "summaryPlaces": ["Chatham station"],
                                      "by": {"id": S.KCC}}]
    assert p["triggers"] == [{"rule": "strategy_meeting", "area": S.KCC, "count": 1, "episodeIds": ["T4L-E-A4"]}]
    auditor = live_server.token(S.MET, "auditor")
    events = ok(live_server.graphql(EVENTS, {"rid": "T4L-A"}, token=auditor))["auditEvents"]["nodes"]
    mine = [e for e in events if e["subject"] == "t4l-met-officer"]
    assert [(e["operation"], e["recordIds"]) for e in mine] == [("riskProfile", sorted(
        ["T4L-A", "T4L-B", "T4L-E-A1", "T4L-E-A2", "T4L-E-A3", "T4L-E-A4", "T4L-P-M", "T4L-P-N"]))]


def test_co_missing_over_http_pages_with_cursors(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token("NCA-MPU", "investigator")
    first = ok(live_server.graphql(CO, {"id": "T4L-A", "hops": 2, "first": 2}, token=token))["coMissing"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    assert [(n["fromChild"]["id"], n["toChild"]["id"], n["hop"], n["explicit"]) for n in first["nodes"]] == [
        ("T4L-A", "T4L-B", 1, True), ("T4L-B", "T4L-G", 2, True)]
    ab = first["nodes"][0]
    assert ab["toChild"] == {"id": "T4L-B", "pseudonym": "PT4L-B", "ageBand": "15-17"}
    assert ab["strength"] == S.expected_strength((0.8, "2019-03-01T19:00:00Z"), (0.8, "2019-06-10T21:00:00Z"))
    assert sorted((e["kind"], tuple(x["id"] for x in e["episodes"])) for e in ab["evidence"]) == [
        ("EXPLICIT", ("T4L-E-A1",)), ("EXPLICIT", ("T4L-E-A2",)), ("EXPLICIT", ("T4L-E-B1",)),
        ("SAME_PLACE", ("T4L-E-A1", "T4L-E-B1")), ("SAME_PLACE", ("T4L-E-A2", "T4L-E-B2"))]
    rest = ok(live_server.graphql(CO, {"id": "T4L-A", "hops": 2, "first": 2, "after": first["pageInfo"]["endCursor"]},
                                  token=token))["coMissing"]
    assert [n["toChild"]["id"] for n in rest["nodes"]] == ["T4L-C"] and not rest["pageInfo"]["hasNextPage"]
    assert rest["nodes"][0]["evidence"][0]["places"] == [{"id": "T4L-L-CHATHAM-STN", "cell": "g500:t4l:1"}]


def test_errors_are_specific(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token("NCA-MPU", "investigator")
    bad = live_server.graphql(CO, {"id": "T4L-A", "hops": 3}, token=token).json()
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "hops"}
    cursor = live_server.graphql(CO, {"id": "T4L-A", "hops": 1, "after": "not-a-cursor"}, token=token).json()
    assert cursor["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    too_many = live_server.graphql(CO, {"id": "T4L-A", "hops": 1, "first": 1000}, token=token).json()
    assert too_many["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    analyst = live_server.token(S.KENT, "analyst")
    for q, v in ((CO, {"id": "T4L-A", "hops": 1}), (ASSOC, {}), (GROUPS, {}), (LINKED, {"la": S.KCC})):
        denied = live_server.graphql(q, v, token=analyst).json()
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    kcc = live_server.token(S.KCC, "la_missing_lead")
    other_la = live_server.graphql(LINKED, {"la": S.HARINGEY}, token=kcc).json()
    assert other_la["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "localAuthority"}


def test_linked_children_gives_other_las_children_in_summary_form(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(S.HARINGEY, "la_missing_lead")
    data = ok(live_server.graphql(LINKED, {"la": S.HARINGEY}, token=token))["linkedChildren"]
    assert [(n["relation"], n["summary"]["pseudonym"], n["child"]) for n in data["nodes"]] == [
        ("LOOKED_AFTER", "PT4L-B", {"id": "T4L-B", "givenName": "Ben"}),
        ("PLACED_IN", "PT4L-A", {"id": "T4L-A", "givenName": "Ava"}),
        ("LINKED", "PT4L-G", None), ("LINKED", "PT4L-C", None)]
    g = data["nodes"][2]
    assert g["summary"] == {"pseudonym": "PT4L-G", "ageBand": "8-11", "responsibleAuthority": S.MEDWAY}
    assert g["links"] == [{"anchor": {"id": "T4L-B"}, "evidence": [
        {"kind": "EXPLICIT", "episodes": [{"id": None, "reportedTo": S.KENT}], "places": []}]}]
    assert "Gus" not in str(data) and "T4L-E-G1" not in str(data) and "T4L-G\"" not in str(data)


def test_shared_associates_and_groups_over_http(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token("NCA-MPU", "investigator")
    data = ok(live_server.graphql(ASSOC, token=token))["sharedAssociates"]
    assert data["totalCount"] == 1
    [m] = data["nodes"]
    assert (m["person"]["id"], m["childCount"], m["forceCount"]) == ("T4L-P-M", 4, 3)
    assert [c["child"]["id"] for c in m["children"]] == ["T4L-A", "T4L-B", "T4L-E", "T4L-F"]
    groups = ok(live_server.graphql(GROUPS, token=token))["coMissingGroups"]
    assert groups["totalCount"] == 1
    [g] = groups["nodes"]
    assert (g["id"], g["size"], g["forces"], g["localAuthorities"], g["episodeCount"]) == (
        "grp:PT4L-A", 3, sorted([S.MET, S.KENT]), sorted([S.KCC, S.HARINGEY, S.MEDWAY]), 5)
