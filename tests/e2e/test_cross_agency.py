"""A cross-force case told with local agencies' tokens only (no national unit), over real HTTP with
real tokens and a real Neo4j: each agency does its own part and sees exactly what docs/ACCESS.md
gives it.

The case (all synthetic):
- XA-A, looked after by Kent County Council (responsible LA), registered by Kent before anyone went
  missing, with a CSE flag Kent raised, and placed by Kent in a Stoke-on-Trent children's home (host
  LA Stoke, host force Staffordshire) on a date weeks before Kent recorded it: out of area, across a
  force boundary, its notifications overdue from the real start date.
- Staffordshire Police (the host force) reports XA-A missing from the placement.
- West Midlands Police, a third force with no other link to the child, reads the child's locate
  profile, records a sighting in Birmingham and the finding; Staffordshire records the return.
- XA-B, not looked after, lives in Birmingham (home LA) and went missing with XA-A: Birmingham sees
  its episode and records the return interview it owes.
- An adult of concern already known to the Metropolitan Police (a fourth force) is linked to XA-A by
  Staffordshire as the same person, not a second record.
- Haringey and Greater Manchester Police have no basis: every read is exactly like a read of a child
  that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from mpdb.graph.queries.access import REFRESH_ACCESS

pytestmark = pytest.mark.integration

KENT_POLICE, STAFFS, WMP, MET, GMP = "E23000032", "E23000015", "E23000014", "E23000001", "E23000005"
KCC, STOKE, BIRMINGHAM, HARINGEY = "E10000016", "E06000021", "E08000025", "E09000014"
PURPOSE = "test: locate a child reported missing"

SCENARIO = """
MATCH (kcc:LocalAuthority {code: $kcc}), (bham:LocalAuthority {code: $bham}), (wmp:Force {code: $wmp}),
      (met:Force {code: $met}), (har:LocalAuthority {code: $haringey})
CREATE (bhome:Location {id: 'XA-L-BHOME', name: 'XA-B family home', kind: 'residence', laCode: $bham,
        forceCode: $wmp, point: point({latitude: 52.47, longitude: -1.90})})-[:IN_LA]->(bham)
CREATE (bhome)-[:IN_FORCE]->(wmp)
CREATE (b:Child {id: 'XA-B', pseudonym: 'P-XA-B', givenName: 'Ben', familyName: 'Homewood', sex: 'M',
        dateOfBirth: date('2010-07-08'), lookedAfter: false, recordedBy: $wmp,
        recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test', author: 'xa'})
CREATE (b)-[:HOME_AT]->(bhome)
// an adult of concern the Met already knows, through one of its own children
CREATE (m:Child {id: 'XA-M', pseudonym: 'P-XA-M', givenName: 'Mia', familyName: 'Metro', sex: 'F',
        dateOfBirth: date('2010-01-01'), lookedAfter: false, recordedBy: $met,
        recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})
CREATE (m)-[:HAD]->(:Episode {id: 'XA-M-E1', status: 'closed', reportedAt: datetime('2026-02-01T20:00:00Z')})
       -[:REPORTED_TO]->(met)
CREATE (m)-[:ASSOCIATES_WITH {kind: 'adult_of_concern', since: date('2026-01-01'), recordedBy: $met,
                        recordedAt: datetime('2026-06-01T00:00:00Z')}]->
       (:Person {id: 'XA-ADULT', name: 'Adult Known-to-Met', role: 'adult_of_concern', recordedBy: $met})
"""

REGISTER = """
mutation($input: RegisterChildInput!, $key: String!) {
  registerChild(input: $input, idempotencyKey: $key) {
    childId created candidates { matchedOn child { id } summary { pseudonym ageBand responsibleAuthority } }
  }
}
"""
RAISE = """
mutation($input: RaiseFlagInput!, $key: String!) { raiseFlag(input: $input, idempotencyKey: $key) { flagId status } }
"""
START = """
mutation($input: StartPlacementInput!, $key: String!) {
  startPlacement(input: $input, idempotencyKey: $key) {
    placementId startDate hostLa hostForce outOfArea crossForce notifications { id kind to sent dueAt }
  }
}
"""
REPORT = """
mutation($input: ReportMissingInput!, $key: String!) {
  reportMissing(input: $input, idempotencyKey: $key) { episodeId childId reportedTo ruleArea }
}
"""
UPDATE = """
mutation($input: UpdateEpisodeInput!, $key: String!) {
  updateEpisode(input: $input, idempotencyKey: $key) { episodeId wentToLocationIds withChildIds }
}
"""
FOUND = """
mutation($input: RecordFoundInput!, $key: String!) {
  recordFound(input: $input, idempotencyKey: $key) { episodeId foundBy notifiedAgency }
}
"""
RETURN = """
mutation($input: RecordReturnInput!, $key: String!) {
  recordReturn(input: $input, idempotencyKey: $key) { episodeId status returnInterviewId returnInterviewDueAt ruleArea }
}
"""
RHI = """
mutation($input: RecordReturnInterviewInput!, $key: String!) {
  recordReturnInterview(input: $input, idempotencyKey: $key) { episodeId status providerAgencyId }
}
"""
LINK = """
mutation($input: LinkAssociateInput!, $key: String!) {
  linkAssociate(input: $input, idempotencyKey: $key) { childId personId kind linked }
}
"""
LOCATE = """
query($id: ID!) {
  locateProfile(childId: $id) {
    id pseudonym givenName familyName sex age dateOfBirth lookedAfter basis
    responsibleAuthority { code name } homeAuthority { code name }
    activeFlags { type raisedBy raisedAt }
    openEpisodes { id reportedTo lastSeenPlace { name laCode } riskGrade sightings { place { name laCode } } }
    foundBefore { episodeId foundBy place { name laCode forceCode } }
  }
}
"""
CHILD = "query($id: ID!) { child(id: $id) { id givenName episodes { nodes { id } } } }"
RISK = """
query($id: ID!) {
  riskProfile(childId: $id) {
    child { id }
    peers { child { id givenName } summary { pseudonym ageBand responsibleAuthority activeFlags { type raisedBy } }
            episodeCount activeFlags { type } episodes { episodeId } }
  }
}
"""
CO_MISSING = """
query($id: ID!) {
  coMissing(childId: $id) {
    nodes { toChild { id } toSummary { pseudonym activeFlags { type raisedBy } } explicit
            evidence { kind episodes { id childId } } }
  }
}
"""
SHARED = """
query {
  sharedAssociates(minChildren: 3, minForces: 3) {
    nodes { person { id name } childCount forceCount childrenByForce { force children }
            children { child { id } summary { pseudonym responsibleAuthority } } }
  }
}
"""
SEARCH = """
query($name: String!, $dob: Date) {
  searchChildren(name: $name, dateOfBirth: $dob) {
    nodes { child { id } summary { pseudonym responsibleAuthority activeFlags { type raisedBy } } missingNowChildId }
  }
}
"""
SEARCH_PERSONS = """
query($name: String!) {
  searchPersons(name: $name) {
    nodes { id name role knownToYou linkedChildren linkedChildrenByForce { forceCode children } }
  }
}
"""
EPISODE = "query($id: ID!) { episode(id: $id) { id status foundBy } }"
DUTIES = """
query($kind: DutyKind!, $area: String) {
  duties(kind: $kind, area: $area, first: 50) {
    nodes { kind childId episodeId placementId notificationId dutyHolder recipient dueAt }
  }
}
"""


def key() -> str:
    return str(uuid.uuid4())


def ok(resp: httpx.Response, field: str) -> Any:
    body = resp.json()
    assert resp.status_code == 200 and "errors" not in body, body
    return body["data"][field]


def error(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert resp.status_code == 200 and body.get("errors"), body
    return body["errors"][0]


@pytest.fixture(scope="module")
async def case(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write("MATCH (n) WHERE n.id STARTS WITH 'XA-' DETACH DELETE n", {})
    await reference_graph.write(SCENARIO, {"kcc": KCC, "bham": BIRMINGHAM, "wmp": WMP, "met": MET,
                                           "haringey": HARINGEY})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["XA-B", "XA-M"]})
    return reference_graph


class Agencies:
    """One token per agency doing its part; subjects distinct so audit events can be told apart."""

    def __init__(self, live_server: Any) -> None:
        self.live = live_server
        self.tokens = {
            "kcc": live_server.token(KCC, "la_missing_lead", subject="xa-kcc"),
            "stoke": live_server.token(STOKE, "la_missing_lead", subject="xa-stoke"),
            "bham": live_server.token(BIRMINGHAM, "la_missing_lead", subject="xa-bham"),
            "bham-rhi": live_server.token(BIRMINGHAM, "rhi_practitioner", subject="xa-bham-rhi"),
            "haringey": live_server.token(HARINGEY, "la_missing_lead", subject="xa-haringey"),
            "staffs": live_server.token(STAFFS, "investigator", subject="xa-staffs"),
            "wmp": live_server.token(WMP, "investigator", subject="xa-wmp"),
            "gmp": live_server.token(GMP, "investigator", subject="xa-gmp"),
            "met": live_server.token(MET, "investigator", subject="xa-met"),
        }

    def q(self, who: str, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.live.graphql(query, variables, token=self.tokens[who], purpose=kw.pop("purpose", PURPOSE), **kw)

    def m(self, who: str, query: str, input: dict[str, Any]) -> httpx.Response:
        return self.live.graphql(query, {"input": input, "key": key()}, token=self.tokens[who], purpose=PURPOSE)


async def test_cross_force_case_with_local_tokens_only(live_server, case) -> None:  # type: ignore[no-untyped-def]
    ag = Agencies(live_server)

    # -- Kent CC registers its looked-after child before anyone goes missing, and raises a CSE flag
    child = {"id": "XA-A", "givenName": "Ava", "familyName": "Crossfield", "dateOfBirth": "2011-03-04", "sex": "F",
             "lookedAfterBy": KCC, "lacRefLa": KCC, "lacChildRef": "KCC-XA-0001"}
    reg = ok(ag.m("kcc", REGISTER, child), "registerChild")
    assert reg == {"childId": "XA-A", "created": True, "candidates": []}
    # registering it again (another key) finds the same record by the LA's reference, creating nothing
    again = ok(ag.m("kcc", REGISTER, {**child, "id": None}), "registerChild")
    assert (again["childId"], again["created"]) == ("XA-A", False)
    # Haringey, which cannot read XA-A, trying to register the same child as one living in its area,
    # is shown a summary (no id, no names) and creates nothing
    dup = ok(ag.m("haringey", REGISTER, {
        "id": "XA-HAR-1", "givenName": "Ava", "familyName": "Crossfield", "dateOfBirth": "2011-03-04",
        "home": {"name": "XA Haringey flat", "kind": "address", "laCode": HARINGEY, "forceCode": MET}}),
        "registerChild")
    assert dup["childId"] is None and dup["created"] is False
    assert [(c["child"], c["summary"]["pseudonym"], c["summary"]["responsibleAuthority"])
            for c in dup["candidates"]] == [(None, reg_pseudonym := dup["candidates"][0]["summary"]["pseudonym"], KCC)]
    assert reg_pseudonym.startswith("P-")
    assert ok(ag.m("kcc", RAISE, {"flagId": "XA-FLAG-CSE", "childId": "XA-A", "type": "cse",
                                  "raisedAt": "2026-01-05T00:00:00Z", "note": "private note"}), "raiseFlag") == \
        {"flagId": "XA-FLAG-CSE", "status": "active"}

    # -- Kent CC records the placement it made on 1 February: out of area, across a force boundary
    placed = ok(ag.m("kcc", START, {
        "placementId": "XA-P1", "childId": "XA-A", "startDate": "2026-02-01", "placementType": "K2",
        "dcsApproved": True,
        "place": {"name": "XA Stoke children's home", "kind": "childrens_home", "latitude": 53.02,
                  "longitude": -2.17, "laCode": STOKE, "forceCode": STAFFS}}), "startPlacement")
    assert (placed["hostLa"], placed["hostForce"], placed["outOfArea"], placed["crossForce"]) == \
        (STOKE, STAFFS, True, True)
    assert sorted((n["kind"], n["to"], n["sent"], n["dueAt"]) for n in placed["notifications"]) == [
        ("placement_to_host_force", STAFFS, False, "2026-02-06T00:00:00+00:00"),
        ("placement_to_host_la", STOKE, False, "2026-02-06T00:00:00+00:00")]
    note_ids = {n["to"]: n["id"] for n in placed["notifications"]}
    # the duties the late record opens: Kent owes both notices, overdue from the real start date;
    # Stoke sees the one owed to it; Staffordshire (police) the one owed to it
    owed = [(d["notificationId"], d["dutyHolder"], d["recipient"], d["dueAt"])
            for d in ok(ag.q("kcc", DUTIES, {"kind": "NOTIFICATION_UNSENT", "area": KCC}), "duties")["nodes"]
            if d["placementId"] == "XA-P1"]
    assert sorted(owed) == sorted([(note_ids[STOKE], KCC, STOKE, "2026-02-06T00:00:00+00:00"),
                                   (note_ids[STAFFS], KCC, STAFFS, "2026-02-06T00:00:00+00:00")])
    owed_to_stoke = [d["notificationId"] for d in ok(ag.q("stoke", DUTIES, {"kind": "NOTIFICATION_UNSENT",
                                                                             "area": STOKE}), "duties")["nodes"]
                     if d["placementId"] == "XA-P1"]
    assert owed_to_stoke == [note_ids[STOKE]]

    # -- Staffordshire (host force) reports XA-A missing from the placement
    ep_a = ok(ag.m("staffs", REPORT, {
        "childId": "XA-A", "reporterType": "childrens_home", "reportedAt": "2026-03-01T22:00:00Z",
        "lastSeenAt": "2026-03-01T20:30:00Z", "missingFromPlacementId": placed["placementId"],
        "lastSeenPlace": {"name": "XA bus station", "kind": "transport_hub", "latitude": 53.025, "longitude": -2.175,
                          "laCode": STOKE, "forceCode": STAFFS},
        "riskAssessment": {"scheme": "2017", "grade": "high"}}), "reportMissing")
    assert (ep_a["reportedTo"], ep_a["ruleArea"]) == (STAFFS, KCC)
    e1 = ep_a["episodeId"]

    # -- West Midlands Police, which knows XA-B, has flagged him for county lines
    assert ok(ag.m("wmp", RAISE, {"flagId": "XA-FLAG-CCE", "childId": "XA-B", "type": "cce_county_lines",
                                  "raisedAt": "2026-02-10T00:00:00Z", "note": "WMP intelligence"}), "raiseFlag") == \
        {"flagId": "XA-FLAG-CCE", "status": "active"}

    # -- West Midlands Police reports its own XA-B missing from home in Birmingham, with XA-A: a child
    # it has no record of, but one missing right now (the locate basis)
    ep_b = ok(ag.m("wmp", REPORT, {
        "childId": "XA-B", "reporterType": "parent", "reportedAt": "2026-03-01T23:00:00Z",
        "missingFromPlace": {"locationId": "XA-L-BHOME"}, "companions": {"childIds": ["XA-A"]},
        "riskAssessment": {"scheme": "2017", "grade": "medium"}}), "reportMissing")
    assert (ep_b["reportedTo"], ep_b["ruleArea"]) == (WMP, "national")  # Birmingham keeps the national rules

    # -- West Midlands Police: the child gives her name on the street; the force finds her by search
    # (a typo and the date of birth), in summary form with the id to open her locate profile
    hits = ok(ag.q("wmp", SEARCH, {"name": "Ava Crossfeld", "dob": "2011-03-04"}), "searchChildren")["nodes"]
    assert hits == [{"child": None, "missingNowChildId": "XA-A", "summary": {
        "pseudonym": hits[0]["summary"]["pseudonym"], "responsibleAuthority": KCC,
        "activeFlags": [{"type": "cse", "raisedBy": KCC}]}}]
    # Haringey, an LA, has no locate basis: the same search gives the summary only
    hits = ok(ag.q("haringey", SEARCH, {"name": "Ava Crossfield", "dob": "2011-03-04"}), "searchChildren")["nodes"]
    assert [(h["child"], h["missingNowChildId"]) for h in hits] == [(None, None)]
    # -- no record, but the locate profile while the child is missing
    assert ok(ag.q("wmp", CHILD, {"id": "XA-A"}), "child") is None
    assert ok(ag.q("wmp", EPISODE, {"id": e1}), "episode") is None
    profile = ok(ag.q("wmp", LOCATE, {"id": "XA-A"}), "locateProfile")
    assert profile["basis"] == "LOCATE"
    assert (profile["givenName"], profile["familyName"], profile["sex"], profile["lookedAfter"]) == \
        ("Ava", "Crossfield", "F", True)
    assert profile["dateOfBirth"] == "2011-03-04"  # investigators hold child:read:sensitive
    assert profile["responsibleAuthority"] == {"code": KCC, "name": "Kent"}
    assert profile["homeAuthority"] is None
    assert profile["activeFlags"] == [{"type": "cse", "raisedBy": KCC, "raisedAt": "2026-01-05T00:00:00+00:00"}]
    assert profile["openEpisodes"] == [{"id": e1, "reportedTo": STAFFS, "riskGrade": "high", "sightings": [],
                                        "lastSeenPlace": {"name": "XA bus station", "laCode": STOKE}}]
    assert profile["foundBefore"] == []

    # a finding force records facts of finding, not the investigating force's risk judgement
    err = error(ag.m("wmp", UPDATE, {"episodeId": e1, "riskAssessment": {"scheme": "2017", "grade": "low"}}))
    assert err["extensions"] == {"code": "FORBIDDEN", "field": "input.episodeId"}
    assert "not riskAssessment" in err["message"]
    seen = ok(ag.m("wmp", UPDATE, {"episodeId": e1, "wentTo": [{"at": "2026-03-02T09:00:00Z", "place": {
        "name": "XA Birmingham New Street", "kind": "transport_hub", "latitude": 52.4778, "longitude": -1.8990,
        "laCode": BIRMINGHAM, "forceCode": WMP}}]}), "updateEpisode")
    assert len(seen["wentToLocationIds"]) == 1
    found = ok(ag.m("wmp", FOUND, {"episodeId": e1, "foundAt": "2026-03-02T10:00:00Z", "foundPlace": {
        "name": "XA Birmingham park", "kind": "park", "latitude": 52.47, "longitude": -1.89,
        "laCode": BIRMINGHAM, "forceCode": WMP}}), "recordFound")
    assert found == {"episodeId": e1, "foundBy": WMP, "notifiedAgency": KCC}
    # a force may only record as itself, also on the locate basis
    err = error(ag.m("gmp", FOUND, {"episodeId": ep_b["episodeId"], "foundAt": "2026-03-02T10:00:00Z",
                                    "foundByForce": WMP, "foundPlace": {"laCode": BIRMINGHAM, "forceCode": WMP}}))
    assert err["extensions"] == {"code": "FORBIDDEN", "field": "input.foundByForce"}

    # -- Staffordshire records the return; the duty falls to the responsible LA
    ret = ok(ag.m("staffs", RETURN, {"episodeId": e1, "returnedAt": "2026-03-02T14:00:00Z",
                                     "returnedToPlacementId": placed["placementId"]}), "recordReturn")
    assert (ret["status"], ret["ruleArea"]) == ("closed", KCC)
    # ... and West Midlands closes its own XA-B's episode (found with XA-A)
    ok(ag.m("wmp", FOUND, {"episodeId": ep_b["episodeId"], "foundAt": "2026-03-02T10:00:00Z",
                           "foundPlace": {"locationId": "XA-L-BHOME"}}), "recordFound")
    ok(ag.m("wmp", RETURN, {"episodeId": ep_b["episodeId"], "returnedAt": "2026-03-02T11:00:00Z"}), "recordReturn")

    # -- after the episode closes: the finder keeps that episode and the record, not the history
    profile = ok(ag.q("wmp", LOCATE, {"id": "XA-A"}), "locateProfile")
    assert profile["basis"] == "RECORD" and profile["openEpisodes"] == []
    assert profile["foundBefore"] == [{"episodeId": e1, "foundBy": WMP, "place": {
        "name": "XA Birmingham park", "laCode": BIRMINGHAM, "forceCode": WMP}}]
    child = ok(ag.q("wmp", CHILD, {"id": "XA-A"}), "child")
    assert child["episodes"]["nodes"] == [{"id": e1}]
    assert ok(ag.q("wmp", EPISODE, {"id": e1}), "episode") == {"id": e1, "status": "closed", "foundBy": WMP}
    # a force that never touched the case: no basis once the child is found
    assert ok(ag.q("gmp", LOCATE, {"id": "XA-A"}), "locateProfile") is None
    # ... and no write either: the closed episode reads like one that does not exist
    err = error(ag.m("gmp", RETURN, {"episodeId": e1, "returnedAt": "2026-03-02T15:00:00Z"}))
    nope = error(ag.m("gmp", RETURN, {"episodeId": "XA-NO-SUCH", "returnedAt": "2026-03-02T15:00:00Z"}))
    assert err["extensions"] == nope["extensions"] == {"code": "NOT_FOUND", "field": "input.episodeId"}
    assert err["message"] == nope["message"]

    # -- Kent CC, XA-A's responsible LA, reads its child's risk profile: XA-B, who went missing with
    # her and carries a county-lines flag West Midlands raised, appears in summary form (Kent CC
    # has no basis to read XA-B), never dropped, never named
    risk = ok(ag.q("kcc", RISK, {"id": "XA-A"}), "riskProfile")
    b_pseudonym = risk["peers"][0]["summary"]["pseudonym"]
    assert risk["peers"] == [{
        "child": None, "activeFlags": None, "episodeCount": 2,
        "summary": {"pseudonym": "P-XA-B", "ageBand": "15-17", "responsibleAuthority": None,
                    "activeFlags": [{"type": "cce_county_lines", "raisedBy": WMP}]},
        # the evidence: XA-B's episode naming XA-A (dated, its id withheld) and the reverse link on
        # Kent CC's own child's episode
        "episodes": [{"episodeId": None}, {"episodeId": e1}]}]
    links = ok(ag.q("kcc", CO_MISSING, {"id": "XA-A"}), "coMissing")["nodes"]
    assert [(n["toChild"], n["toSummary"]["pseudonym"], n["toSummary"]["activeFlags"]) for n in links] == [
        (None, b_pseudonym, [{"type": "cce_county_lines", "raisedBy": WMP}])]
    # XA-B's own episode stays closed to Kent CC: its id never appears in the evidence
    assert ep_b["episodeId"] not in str(links)
    # West Midlands, which may now read both (it found XA-A), sees XA-B in full
    wm_links = ok(ag.q("wmp", CO_MISSING, {"id": "XA-A"}), "coMissing")["nodes"]
    assert [n["toChild"] for n in wm_links] == [{"id": "XA-B"}]

    # -- agencies with no basis read XA-A exactly like a child that does not exist
    for who in ("haringey", "gmp"):
        for query, field in ((CHILD, "child"), (LOCATE, "locateProfile")):
            assert ok(ag.q(who, query, {"id": "XA-A"}), field) is None
            assert ok(ag.q(who, query, {"id": "XA-NO-SUCH"}), field) is None

    # -- audit: West Midlands' reads on the locate basis are logged with its purpose
    events = await case.read(
        "MATCH (e:AuditEvent {subject: 'xa-wmp', action: 'consultation'}) "
        "RETURN e.operation AS op, e.recordIds AS ids, e.purpose AS purpose, e.agencyId AS agency ORDER BY e.at, e.seq")
    assert events[0] == {"op": "searchChildren.locate", "ids": ["XA-A"], "purpose": PURPOSE, "agency": WMP}
    assert events[1] == {"op": "locateProfile", "ids": sorted(["XA-A", e1]), "purpose": PURPOSE, "agency": WMP}
    assert [e["op"] for e in events] == ["searchChildren.locate", "locateProfile", "locateProfile", "child",
                                         "child.episodes", "episode", "coMissing"]
    # Kent CC's view of XA-B in summary form is a disclosure to Kent CC, naming XA-B in the trail
    kent = await case.read(
        "MATCH (e:AuditEvent {subject: 'xa-kcc'}) WHERE e.operation IN ['riskProfile.summary', 'coMissing.summary'] "
        "RETURN e.action AS action, e.operation AS op, e.recordIds AS ids, e.recipients AS to ORDER BY e.at, e.seq")
    assert kent == [{"action": "disclosure", "op": "riskProfile.summary", "ids": ["XA-B"], "to": [KCC]},
                    {"action": "disclosure", "op": "coMissing.summary", "ids": ["XA-B"], "to": [KCC]}]
    assert events[2]["ids"] == sorted(["XA-A", e1])
    summaries = await case.read(
        "MATCH (e:AuditEvent {subject: 'xa-wmp', action: 'disclosure'}) RETURN e.operation AS op, "
        "e.recordIds AS ids, e.recipients AS to ORDER BY e.at, e.seq")
    # the summary shown to West Midlands, and the finding notified to Kent CC (notification, episode, child)
    assert [(e["op"], len(e["ids"]), e["to"]) for e in summaries] == [
        ("searchChildren.summary", 1, [WMP]), ("recordFound", 3, [KCC])]


async def test_home_la_sees_its_resident_child_and_owes_the_return_interview(live_server, case) -> None:  # type: ignore[no-untyped-def]
    ag = Agencies(live_server)
    # Birmingham (XA-B's home LA) reads the child and its episodes, wherever they were reported
    ep = ok(ag.m("wmp", REPORT, {
        "childId": "XA-B", "reporterType": "parent", "reportedAt": "2026-04-01T21:00:00Z",
        "missingFromPlace": {"name": "XA-B street", "kind": "public_place", "latitude": 52.45, "longitude": -1.93,
                             "laCode": BIRMINGHAM, "forceCode": WMP},
        "riskAssessment": {"scheme": "2017", "grade": "low"}}), "reportMissing")
    assert ep["ruleArea"] == "national"  # Birmingham, the home LA, keeps the national rules
    child = ok(ag.q("bham", CHILD, {"id": "XA-B"}), "child")
    assert child["givenName"] == "Ben" and ep["episodeId"] in [n["id"] for n in child["episodes"]["nodes"]]
    ret = ok(ag.m("wmp", RETURN, {"episodeId": ep["episodeId"], "returnedAt": "2026-04-02T08:00:00Z"}),
             "recordReturn")
    assert ret["ruleArea"] == "national"
    duties = ok(ag.q("bham", DUTIES, {"kind": "RHI_OVERDUE", "area": BIRMINGHAM}), "duties")["nodes"]
    assert [(d["kind"], d["childId"], d["dutyHolder"], d["recipient"]) for d in duties
            if d["episodeId"] == ep["episodeId"]] == [("RHI_OVERDUE", "XA-B", BIRMINGHAM, None)]
    # the LA's in-house interviewer records it
    done = ok(ag.m("bham-rhi", RHI, {"episodeId": ep["episodeId"], "status": "completed",
                                 "offeredAt": "2026-04-02T10:00:00Z", "completedAt": "2026-04-03T10:00:00Z"}),
              "recordReturnInterview")
    assert done == {"episodeId": ep["episodeId"], "status": "completed", "providerAgencyId": BIRMINGHAM}
    duties = ok(ag.q("bham", DUTIES, {"kind": "RHI_OVERDUE", "area": BIRMINGHAM}), "duties")["nodes"]
    assert [d for d in duties if d["episodeId"] == ep["episodeId"]] == []
    # Stoke and Haringey have no basis for the child
    assert ok(ag.q("stoke", CHILD, {"id": "XA-B"}), "child") is None
    assert ok(ag.q("haringey", CHILD, {"id": "XA-B"}), "child") is None


async def test_adult_known_to_another_force_is_linked_not_duplicated(live_server, case) -> None:  # type: ignore[no-untyped-def]
    ag = Agencies(live_server)
    # Staffordshire finds the adult by name (known to the Met, not to Staffordshire yet) ...
    hits = ok(ag.q("staffs", SEARCH_PERSONS, {"name": "Adult Known to Met"}), "searchPersons")["nodes"]
    assert hits == [{"id": "XA-ADULT", "name": "Adult Known-to-Met", "role": "adult_of_concern",
                     "knownToYou": False, "linkedChildren": 1,
                     "linkedChildrenByForce": [{"forceCode": MET, "children": 1}]}]
    # ... and links that person rather than recording a second one
    linked = ok(ag.m("staffs", LINK, {"childId": "XA-A", "personId": "XA-ADULT", "kind": "adult_of_concern",
                                      "since": "2026-03-01"}), "linkAssociate")
    assert linked == {"childId": "XA-A", "personId": "XA-ADULT", "kind": "adult_of_concern", "linked": True}
    row = await case.read_one("MATCH (p:Person {name: 'Adult Known-to-Met'}) RETURN count(p) AS n, "
                              "[(p)<-[:ASSOCIATES_WITH]-(c:Child) | c.id] AS children")
    assert row["n"] == 1 and sorted(row["children"]) == ["XA-A", "XA-M"]
    hits = ok(ag.q("staffs", SEARCH_PERSONS, {"name": "Adult Known to Met"}), "searchPersons")["nodes"]
    assert [(h["knownToYou"], h["linkedChildren"], h["linkedChildrenByForce"]) for h in hits] == [
        (True, 2, [{"forceCode": MET, "children": 1}, {"forceCode": STAFFS, "children": 1}])]
    # West Midlands links the same adult to its XA-B: the adult now reaches children in three forces
    ok(ag.m("wmp", LINK, {"childId": "XA-B", "personId": "XA-ADULT", "kind": "adult_of_concern"}), "linkAssociate")

    # each of the three forces sees the adult's whole reach, with only its own children named
    def reach(who: str) -> tuple[Any, ...]:
        (adult,) = [n for n in ok(ag.q(who, SHARED), "sharedAssociates")["nodes"] if n["person"]["id"] == "XA-ADULT"]
        named = sorted(c["child"]["id"] for c in adult["children"] if c["child"])
        return (adult["childCount"], adult["forceCount"],
                sorted((f["force"], f["children"]) for f in adult["childrenByForce"]), named,
                len([c for c in adult["children"] if c["child"] is None]))

    three = sorted([(MET, 1), (STAFFS, 1), (WMP, 1)])
    assert reach("staffs") == (3, 3, three, ["XA-A"], 2)
    assert reach("met") == (3, 3, three, ["XA-M"], 2)
    assert reach("wmp") == (3, 3, three, ["XA-A", "XA-B"], 1)  # West Midlands found XA-A: it reads her too
    # a force none of whose records link the adult sees nothing of it
    assert [n for n in ok(ag.q("gmp", SHARED), "sharedAssociates")["nodes"] if n["person"]["id"] == "XA-ADULT"] == []
