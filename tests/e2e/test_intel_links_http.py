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
async def scenario(graph, registered_agencies):  # type: ignore[no-untyped-def]
    # registered_agencies: the reference agencies, so the callers' tokens pass the registry check
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
    flags = ok(live_server.graphql(
        """{ coMissingGroups(since: "2019-01-01T00:00:00Z", asOf: "2019-12-31T00:00:00Z", minSize: 3) {
             nodes { members { summary { pseudonym activeFlags { type raisedBy } } } } } }""", token=token))
    assert [m["summary"] for m in flags["coMissingGroups"]["nodes"][0]["members"]] == [
        {"pseudonym": "PT4L-A", "activeFlags": [{"type": "cse", "raisedBy": S.KENT}]},
        {"pseudonym": "PT4L-B", "activeFlags": [{"type": "cce_county_lines", "raisedBy": S.MEDWAY}]},
        {"pseudonym": "PT4L-G", "activeFlags": []}]


# --- linked risk in summary form (issue 8) ---------------------------------------------------------

RISK_PEERS = """query($id: ID!, $asOf: DateTime) { riskProfile(childId: $id, asOf: $asOf) {
  child { id }
  peers { child { id givenName } summary { pseudonym ageBand responsibleAuthority activeFlags { type raisedBy raisedAt } }
          episodeCount lastTogether strength activeFlags { type } episodes { episodeId episodeOf source at force } }
} }"""

CO_SUMMARY = """query($id: ID!) {
  coMissing(childId: $id, since: "2019-01-01T00:00:00Z", asOf: "2019-12-31T00:00:00Z") {
    nodes { toChild { id givenName } toSummary { pseudonym ageBand responsibleAuthority activeFlags { type raisedBy } }
            strength evidence { kind source episodes { id childId reportedAt reportedTo }
                                places { id name kind laCode forceCode cell latitude longitude } } } } }"""

ASSOC_REACH = """{ sharedAssociates(minChildren: 4, minForces: 3, since: "2019-01-01T00:00:00Z",
                                  asOf: "2019-12-31T00:00:00Z") {
  totalCount nodes { person { id name } childCount forceCount forces childrenByForce { force children }
    children { child { id givenName } summary { pseudonym ageBand responsibleAuthority activeFlags { type raisedBy } }
               forces links { kind episodeId force at } } } } }"""

X_SUMMARY = {"pseudonym": "PT4L-X", "ageBand": "15-17", "responsibleAuthority": S.SURREY_CC,
             "activeFlags": [{"type": "cse", "raisedBy": S.SURREY, "raisedAt": "2019-04-20T10:00:00+00:00"}]}


def test_la_reads_its_childs_co_missing_peer_of_another_force_in_summary_form(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(S.SOUTHEND, "la_missing_lead", subject="t4l-southend-lead", agency_kind="local_authority")
    resp = live_server.graphql(RISK_PEERS, {"id": "T4L-H", "asOf": AS_OF}, token=token, purpose="t4l: safeguarding")
    for secret in ("Xan", "2004-04-01", "T4L-X-FLAG-NOTE", "T4L-E-X1", "Guildford", '"T4L-X"'):
        assert secret not in resp.text
    assert ok(resp)["riskProfile"] == {"child": {"id": "T4L-H"}, "peers": [{
        "child": None, "summary": X_SUMMARY, "episodeCount": 1, "lastTogether": "2019-05-05T12:00:00+00:00",
        "strength": S.expected_strength((0.8, "2019-05-05T12:00:00Z")), "activeFlags": None,
        "episodes": [{"episodeId": "T4L-E-H1", "episodeOf": "T4L-H", "source": "reported",
                      "at": "2019-05-05T12:00:00+00:00", "force": S.ESSEX}]}]}
    co = live_server.graphql(CO_SUMMARY, {"id": "T4L-H"}, token=token, purpose="t4l: safeguarding")
    assert "Xan" not in co.text and '"T4L-X"' not in co.text
    assert ok(co)["coMissing"]["nodes"] == [{
        "toChild": None, "toSummary": {**X_SUMMARY, "activeFlags": [{"type": "cse", "raisedBy": S.SURREY}]},
        "strength": S.expected_strength((0.8, "2019-05-05T12:00:00Z")),
        "evidence": [{"kind": "EXPLICIT", "source": "reported", "places": [], "episodes": [
            {"id": "T4L-E-H1", "childId": "T4L-H", "reportedAt": "2019-05-05T12:00:00+00:00", "reportedTo": S.ESSEX}]}]}]
    auditor = live_server.token(S.SOUTHEND, "auditor", agency_kind="local_authority")
    events = ok(live_server.graphql(EVENTS, {"rid": "T4L-X"}, token=auditor))["auditEvents"]["nodes"]
    assert [(e["operation"], e["recordIds"]) for e in events if e["subject"] == "t4l-southend-lead"] == [
        ("coMissing.summary", ["T4L-X"]), ("riskProfile.summary", ["T4L-X"])]


def test_private_place_of_a_linked_child_in_summary_form_is_a_grid_cell(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    essex = live_server.token(S.ESSEX, "investigator", agency_kind="police_force")
    resp = live_server.graphql(CO_SUMMARY, {"id": "T4L-J"}, token=essex)
    assert "K family address" not in resp.text and "T4L-L-K-HOME" not in resp.text and "0.716" not in resp.text
    [link] = ok(resp)["coMissing"]["nodes"]
    assert link["toChild"] is None
    assert link["toSummary"] == {"pseudonym": "PT4L-K", "ageBand": "12-14", "responsibleAuthority": None,
                                 "activeFlags": []}
    pier = {"id": "T4L-L-SOUTHEND-PIER", "name": "Southend pier", "kind": "public_place", "laCode": S.SOUTHEND,
            "forceCode": S.ESSEX, "cell": "g500:t4l:4", "latitude": 51.53, "longitude": 0.717}
    assert link["evidence"] == [{"kind": "SAME_CELL", "source": "FOUND_AT/WENT_TO", "episodes": [
        {"id": "T4L-E-J1", "childId": "T4L-J", "reportedAt": "2019-04-10T12:00:00+00:00", "reportedTo": S.ESSEX},
        {"id": None, "childId": None, "reportedAt": "2019-04-10T15:00:00+00:00", "reportedTo": S.SURREY}],
        "places": [pier, {"id": None, "name": None, "kind": "residence", "laCode": S.SOUTHEND, "forceCode": S.ESSEX,
                          "cell": "g500:t4l:4", "latitude": None, "longitude": None}]}]
    national = live_server.token("NCA-MPU", "investigator")
    [full] = ok(live_server.graphql(CO_SUMMARY, {"id": "T4L-J"}, token=national))["coMissing"]["nodes"]
    assert full["toChild"] == {"id": "T4L-K", "givenName": "Kit"}
    assert full["evidence"][0]["places"][1] == {
        "id": "T4L-L-K-HOME", "name": "K family address", "kind": "residence", "laCode": S.SOUTHEND,
        "forceCode": S.ESSEX, "cell": "g500:t4l:4", "latitude": 51.531, "longitude": 0.716}


M_CHILDREN_SUMMARIES = [
    {"pseudonym": "PT4L-A", "ageBand": "15-17", "responsibleAuthority": S.KCC,
     "activeFlags": [{"type": "cse", "raisedBy": S.KENT}]},
    {"pseudonym": "PT4L-B", "ageBand": "15-17", "responsibleAuthority": S.HARINGEY,
     "activeFlags": [{"type": "cce_county_lines", "raisedBy": S.MEDWAY}]},
    {"pseudonym": "PT4L-E", "ageBand": "12-14", "responsibleAuthority": None, "activeFlags": []},
    {"pseudonym": "PT4L-F", "ageBand": "15-17", "responsibleAuthority": None, "activeFlags": []},
]
M_LINKS = [
    [{"kind": "WITH_PERSON", "episodeId": "T4L-E-A3", "force": S.MET, "at": "2019-09-01T12:00:00+00:00"}],
    [{"kind": "WITH_PERSON", "episodeId": "T4L-E-B4", "force": S.KENT, "at": "2019-09-20T12:00:00+00:00"}],
    [{"kind": "WITH_PERSON", "episodeId": "T4L-E-E1", "force": S.ESSEX, "at": "2019-10-01T12:00:00+00:00"}],
    [{"kind": "ASSOCIATES_WITH", "episodeId": None, "force": S.KENT, "at": "2019-05-01T09:00:00+00:00"}],
]


def _m_node(named: dict[str, str], episode_ids: set[str]) -> dict:  # type: ignore[type-arg]
    """M's node as a caller sees it: `named` children (id -> given name) in full, episode ids only
    for the episodes in `episode_ids`."""
    children = []
    for summary, links, cid, forces in zip(M_CHILDREN_SUMMARIES, M_LINKS, ["T4L-A", "T4L-B", "T4L-E", "T4L-F"],
                                           [[S.MET], [S.KENT], [S.ESSEX], [S.KENT]], strict=True):
        children.append({"child": {"id": cid, "givenName": named[cid]} if cid in named else None,
                         "summary": summary, "forces": forces,
                         "links": [{**li, "episodeId": li["episodeId"] if li["episodeId"] in episode_ids else None}
                                   for li in links]})
    return {"person": {"id": "T4L-P-M", "name": "Mal Adult"}, "childCount": 4, "forceCount": 3,
            "forces": sorted([S.MET, S.KENT, S.ESSEX]),
            "childrenByForce": [{"force": S.KENT, "children": 2}, {"force": S.MET, "children": 1},
                                {"force": S.ESSEX, "children": 1}],
            "children": children}


def test_a_force_sees_an_adult_of_concern_across_three_forces_with_only_its_children_named(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    essex = live_server.token(S.ESSEX, "investigator", subject="t4l-essex-officer", agency_kind="police_force")
    resp = live_server.graphql(ASSOC_REACH, token=essex)
    for secret in ("Ava", "Ben", "Fay", "T4L-E-A3", "T4L-E-B4"):
        assert secret not in resp.text
    assert ok(resp)["sharedAssociates"] == {"totalCount": 1, "nodes": [_m_node({"T4L-E": "Eve"}, {"T4L-E-E1"})]}
    # The national unit reads everything in full (unchanged).
    national = live_server.token("NCA-MPU", "investigator")
    assert ok(live_server.graphql(ASSOC_REACH, token=national))["sharedAssociates"] == {"totalCount": 1, "nodes": [
        _m_node({"T4L-A": "Ava", "T4L-B": "Ben", "T4L-E": "Eve", "T4L-F": "Fay"},
                {"T4L-E-A3", "T4L-E-B4", "T4L-E-E1"})]}
    auditor = live_server.token(S.ESSEX, "auditor", agency_kind="police_force")
    events = ok(live_server.graphql(EVENTS, {"rid": "T4L-P-M"}, token=auditor))["auditEvents"]["nodes"]
    assert [(e["operation"], e["recordIds"]) for e in events if e["subject"] == "t4l-essex-officer"] == [
        ("sharedAssociates", ["T4L-E", "T4L-E-E1", "T4L-P-M"])]
    summary_events = ok(live_server.graphql(EVENTS, {"rid": "T4L-A"}, token=auditor))["auditEvents"]["nodes"]
    assert [(e["operation"], e["recordIds"]) for e in summary_events if e["subject"] == "t4l-essex-officer"] == [
        ("sharedAssociates.summary", ["T4L-A", "T4L-B", "T4L-F"])]


def test_national_unit_reads_the_peer_in_full(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    national = live_server.token("NCA-MPU", "investigator")
    p = ok(live_server.graphql(RISK_PEERS, {"id": "T4L-H", "asOf": AS_OF}, token=national))["riskProfile"]
    assert p["peers"] == [{
        "child": {"id": "T4L-X", "givenName": "Xan"}, "summary": X_SUMMARY, "episodeCount": 1,
        "lastTogether": "2019-05-05T12:00:00+00:00", "strength": S.expected_strength((0.8, "2019-05-05T12:00:00Z")),
        "activeFlags": [{"type": "cse"}],
        "episodes": [{"episodeId": "T4L-E-H1", "episodeOf": "T4L-H", "source": "reported",
                      "at": "2019-05-05T12:00:00+00:00", "force": S.ESSEX}]}]


RISK_ADULTS = """query($id: ID!, $asOf: DateTime) { riskProfile(childId: $id, asOf: $asOf) {
  adults { person { id } otherChildren childrenByForce { force children }
           children { child { id givenName } summary { pseudonym } forces links { kind episodeId force } } } } }"""


def test_risk_profile_adult_carries_its_reach_across_forces(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    essex = live_server.token(S.ESSEX, "investigator", subject="t4l-essex-profile", agency_kind="police_force")
    resp = live_server.graphql(RISK_ADULTS, {"id": "T4L-E", "asOf": AS_OF}, token=essex)
    assert "Ava" not in resp.text and "T4L-E-A3" not in resp.text
    assert ok(resp)["riskProfile"]["adults"] == [{
        "person": {"id": "T4L-P-M"}, "otherChildren": 0,
        "childrenByForce": [{"force": S.KENT, "children": 2}, {"force": S.MET, "children": 1},
                            {"force": S.ESSEX, "children": 1}],
        "children": [
            {"child": None, "summary": {"pseudonym": "PT4L-A"}, "forces": [S.MET],
             "links": [{"kind": "WITH_PERSON", "episodeId": None, "force": S.MET}]},
            {"child": None, "summary": {"pseudonym": "PT4L-B"}, "forces": [S.KENT],
             "links": [{"kind": "WITH_PERSON", "episodeId": None, "force": S.KENT}]},
            {"child": {"id": "T4L-E", "givenName": "Eve"}, "summary": {"pseudonym": "PT4L-E"}, "forces": [S.ESSEX],
             "links": [{"kind": "WITH_PERSON", "episodeId": "T4L-E-E1", "force": S.ESSEX}]},
            {"child": None, "summary": {"pseudonym": "PT4L-F"}, "forces": [S.KENT],
             "links": [{"kind": "ASSOCIATES_WITH", "episodeId": None, "force": S.KENT}]}]}]
    auditor = live_server.token(S.ESSEX, "auditor", agency_kind="police_force")
    events = ok(live_server.graphql(EVENTS, {"rid": "T4L-E"}, token=auditor))["auditEvents"]["nodes"]
    assert sorted((e["operation"], tuple(e["recordIds"])) for e in events if e["subject"] == "t4l-essex-profile") == [
        ("riskProfile", ("T4L-E", "T4L-E-E1", "T4L-P-M")),
        ("riskProfile.adult.children", ("T4L-E", "T4L-E-E1"))]
    summaries = ok(live_server.graphql(EVENTS, {"rid": "T4L-F"}, token=auditor))["auditEvents"]["nodes"]
    assert [(e["operation"], e["recordIds"]) for e in summaries if e["subject"] == "t4l-essex-profile"] == [
        ("riskProfile.adult.children.summary", ["T4L-A", "T4L-B", "T4L-F"])]
