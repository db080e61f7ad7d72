"""The episode-lifecycle mutations over real HTTP and a real Neo4j: every mutation's stored values
read back, every rule allowed and refused, idempotent retries, concurrent duplicate reports, and
no partial writes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mpdb.auth.dev_idp import mint_dev_token
from mpdb.domain.geo import cell_id, haversine_km
from mpdb.graph.queries.access import REFRESH_ACCESS

pytestmark = pytest.mark.integration

KENT_POLICE, STAFFS_POLICE, GMP, MET = "E23000032", "E23000015", "E23000005", "E23000001"
KENT_CC, STOKE, OLDHAM, HARINGEY = "E10000016", "E06000021", "E08000004", "E09000014"
RHI_KENT = "RHI-KENT-01"
HOME = (51.2802, 1.0789)  # Canterbury, Kent

SCENARIO = """
MATCH (kent:Force {code: $kentPolice}), (staffs:Force {code: $staffsPolice}), (gmp:Force {code: $gmp}),
      (met:Force {code: $met}), (kcc:LocalAuthority {code: $kentCc}), (stoke:LocalAuthority {code: $stoke}),
      (oldham:LocalAuthority {code: $oldham}), (haringey:LocalAuthority {code: $haringey})
MERGE (rhi:Agency {id: $rhi}) ON CREATE SET rhi.kind = 'rhi_provider', rhi.name = 'Kent RHI (test)'
CREATE (home:Location {id: 'T3-L-HOME', name: 'T3 home', kind: 'residence', laCode: $kentCc, forceCode: $kentPolice,
        point: point({latitude: $homeLat, longitude: $homeLon})})-[:IN_LA]->(kcc)
CREATE (home)-[:IN_FORCE]->(kent)
CREATE (ploc:Location {id: 'T3-L-P1', name: 'T3 home in Kent', kind: 'childrens_home', laCode: $kentCc,
        forceCode: $kentPolice, point: point({latitude: 51.3, longitude: 0.9})})-[:IN_LA]->(kcc)
CREATE (ploc)-[:IN_FORCE]->(kent)
WITH *
UNWIND ['T3-A', 'T3-B', 'T3-D', 'T3-R', 'T3-N', 'T3-F'] AS cid
CREATE (c:Child {id: cid, pseudonym: 'P-' + cid, givenName: 'Test', familyName: cid, sex: 'F', lookedAfter: true,
                 dateOfBirth: date('2011-01-01'), recordedBy: $kentCc, recordedAt: datetime('2026-01-01T00:00:00Z'),
                 sourceSystem: 'test', author: 't3'})
CREATE (c)-[:LOOKED_AFTER_BY]->(kcc), (c)-[:HOME_AT]->(home)
CREATE (c)-[:PLACED_IN]->(p:Placement {id: 'T3-P-' + cid, startDate: date('2026-01-02'), placementType: 'K2',
        outOfArea: false, crossForce: false})-[:AT_LOCATION]->(ploc)
CREATE (p)-[:PLACED_BY]->(kcc), (p)-[:HOSTED_BY]->(kcc), (p)-[:IN_FORCE_AREA]->(kent)
WITH DISTINCT kent, staffs, gmp, met, kcc, oldham, haringey, home
MATCH (b:Child {id: 'T3-B'})
CREATE (b)-[:HAS_FLAG]->(:Flag {id: 'T3-FLAG-CSE', type: 'cse', status: 'active',
        raisedAt: datetime('2026-01-05T00:00:00Z')})-[:RAISED_BY]->(kcc)
CREATE (s:Child {id: 'T3-S', pseudonym: 'P-T3-S', sex: 'M', lookedAfter: false, recordedBy: $staffsPolice,
        recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})
CREATE (s)-[:HAD]->(:Episode {id: 'T3-S-E1', status: 'closed', reportedAt: datetime('2026-02-01T00:00:00Z')})-[:REPORTED_TO]->(staffs)
CREATE (pl:Child {id: 'T3-PL', pseudonym: 'P-T3-PL', sex: 'F', lookedAfter: true, recordedBy: $kentCc,
        recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (pl)-[:HOME_AT]->(home)
CREATE (pl2:Child {id: 'T3-PL2', pseudonym: 'P-T3-PL2', sex: 'M', lookedAfter: true, recordedBy: $kentCc,
        recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (pl2)-[:HOME_AT]->(home)
CREATE (pl3:Child {id: 'T3-PL3', pseudonym: 'P-T3-PL3', sex: 'F', lookedAfter: true, recordedBy: $kentCc,
        recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (pl3)-[:HOME_AT]->(home)
// persons: one seen by Kent through an episode it can read; two only Staffordshire's children reach
CREATE (v:Child {id: 'T3-V', pseudonym: 'P-T3-V', sex: 'F', lookedAfter: false, recordedBy: $kentPolice,
        recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})
CREATE (v)-[:HAD]->(ve:Episode {id: 'T3-V-E1', status: 'closed', reportedAt: datetime('2026-03-01T00:00:00Z')})-[:REPORTED_TO]->(kent)
CREATE (ve)-[:WITH_PERSON {source: 'reported'}]->(:Person {id: 'T3-PERSON-EPV', name: 'Seen by Kent', role: 'peer'})
WITH kent, staffs, gmp, met, kcc, oldham, haringey
MATCH (s:Child {id: 'T3-S'})-[:HAD]->(se:Episode {id: 'T3-S-E1'})
CREATE (s)-[:ASSOCIATES_WITH {kind: 'adult_of_concern'}]->(:Person {id: 'T3-PERSON-HID', name: 'Hidden', role: 'adult_of_concern'})
CREATE (se)-[:WITH_PERSON {source: 'reported'}]->(:Person {id: 'T3-PERSON-HID2', name: 'Hidden 2', role: 'peer'})
WITH kent, staffs, gmp, met, kcc, oldham, haringey
UNWIND [['T3-O4', oldham, gmp, 3], ['T3-O3', oldham, gmp, 2], ['T3-H3', haringey, met, 2]] AS spec
WITH spec[0] AS cid, spec[1] AS la, spec[2] AS force, spec[3] AS prior
CREATE (c:Child {id: cid, pseudonym: 'P-' + cid, sex: 'M', lookedAfter: true, recordedBy: la.code,
        recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(la)
WITH c, force, prior
UNWIND range(1, prior) AS i
CREATE (c)-[:HAD]->(:Episode {id: c.id + '-E' + i, status: 'closed',
        reportedAt: datetime('2026-10-01T00:00:00Z') - duration({days: 20 * i})})-[:REPORTED_TO]->(force)
"""

ALL_CHILDREN = ["T3-A", "T3-B", "T3-D", "T3-R", "T3-N", "T3-F", "T3-S", "T3-PL", "T3-PL2", "T3-PL3", "T3-V", "T3-O4",
                "T3-O3", "T3-H3"]

REPORT = """
mutation($input: ReportMissingInput!, $key: String!) {
  reportMissing(input: $input, idempotencyKey: $key) {
    episodeId childId childCreated riskAssessmentId category reportedTo ruleArea strategyMeetingDueAt
    triggers { id description rule count fired area }
  }
}
"""
UPDATE = """
mutation($input: UpdateEpisodeInput!, $key: String!) {
  updateEpisode(input: $input, idempotencyKey: $key) {
    episodeId riskAssessmentId riskGrade gradeScheme wentToLocationIds withChildIds withPersonIds
  }
}
"""
FOUND = """
mutation($input: RecordFoundInput!, $key: String!) {
  recordFound(input: $input, idempotencyKey: $key) { episodeId foundBy foundAtLocationId notificationId notifiedAgency }
}
"""
RETURN = """
mutation($input: RecordReturnInput!, $key: String!) {
  recordReturn(input: $input, idempotencyKey: $key) {
    episodeId status returnedAt returnInterviewId returnInterviewDueAt ruleArea returnInterviewRule
  }
}
"""
RHI = """
mutation($input: RecordReturnInterviewInput!, $key: String!) {
  recordReturnInterview(input: $input, idempotencyKey: $key) {
    episodeId returnInterviewId status providerAgencyId dueAt timeliness
  }
}
"""
START = """
mutation($input: StartPlacementInput!, $key: String!) {
  startPlacement(input: $input, idempotencyKey: $key) {
    placementId childId placingLa hostLa hostForce locationId distanceKm distanceFrom outOfArea crossForce
    notifications { id kind to sent }
  }
}
"""
END = """
mutation($input: EndPlacementInput!, $key: String!) {
  endPlacement(input: $input, idempotencyKey: $key) { placementId childId endDate notifications { id kind to sent } }
}
"""
SENT = """
mutation($input: MarkNotificationSentInput!, $key: String!) {
  markNotificationSent(input: $input, idempotencyKey: $key) { notificationId sentAt recipient alreadySent }
}
"""
RECORDS = """
MATCH (r:EpisodeRecord)-[:RECORD_OF]->(:Episode {id: $id})
RETURN r {.agencyId, .sourceSystem, .sourceRef, .startAt, .endAt, .missingType, .recordedBy} AS r
"""
ACK = """
mutation($input: AcknowledgeNotificationInput!, $key: String!) {
  acknowledgeNotification(input: $input, idempotencyKey: $key) { notificationId acknowledgedAt alreadyAcknowledged }
}
"""
RAISE = """
mutation($input: RaiseFlagInput!, $key: String!) {
  raiseFlag(input: $input, idempotencyKey: $key) { flagId childId type status }
}
"""
REVIEW = """
mutation($input: ReviewFlagInput!, $key: String!) {
  reviewFlag(input: $input, idempotencyKey: $key) { flagId status reviewedAt reviewDue }
}
"""
EXPIRE = """
mutation($input: ExpireFlagInput!, $key: String!) {
  expireFlag(input: $input, idempotencyKey: $key) { flagId status expiredAt }
}
"""
LINK = """
mutation($input: LinkAssociateInput!, $key: String!) {
  linkAssociate(input: $input, idempotencyKey: $key) { childId personId kind linked }
}
"""
EPISODE = """
query($id: ID!) {
  episode(id: $id) {
    id childId status reportedAt lastSeenAt foundAt returnedAt whereaboutsKnown consent reporterType category
    riskGrade gradeScheme reportedTo foundBy missingFromPlacement
    places { role at location { id laCode forceCode latitude longitude } }
    gradeHistory { grade scheme author recordedBy reason }
    provenance { recordedBy sourceSystem }
  }
}
"""

COUNT_NODES = "MATCH (n) WHERE NOT n:AuditEvent AND NOT n:AuditHead RETURN count(n) AS n"


def key() -> str:
    return f"t3-{uuid.uuid4()}"


def ago(**kw: float) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


def ok(resp: httpx.Response, field: str) -> dict:
    body = resp.json()
    assert "errors" not in body, body
    return body["data"][field]


def error(resp: httpx.Response) -> dict:
    body = resp.json()
    assert body.get("errors"), body
    assert body.get("data") is None, body
    return body["errors"][0]


@pytest.fixture(scope="module")
async def scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write(SCENARIO, {
        "kentPolice": KENT_POLICE, "staffsPolice": STAFFS_POLICE, "gmp": GMP, "met": MET, "kentCc": KENT_CC,
        "stoke": STOKE, "oldham": OLDHAM, "haringey": HARINGEY, "rhi": RHI_KENT, "homeLat": HOME[0],
        "homeLon": HOME[1]})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ALL_CHILDREN})
    return reference_graph


@pytest.fixture(scope="module")
def tokens(live_server):  # type: ignore[no-untyped-def]
    s = live_server.settings
    return {
        "kent_handler": live_server.token(KENT_POLICE, "call_handler"),
        "kent_inv": live_server.token(KENT_POLICE, "investigator"),
        "staffs_inv": live_server.token(STAFFS_POLICE, "investigator"),
        "nca": live_server.token("NCA-MPU", "investigator"),
        "kcc_lead": live_server.token(KENT_CC, "la_missing_lead"),
        "kcc_rhi": live_server.token(KENT_CC, "rhi_practitioner"),
        "stoke_lead": live_server.token(STOKE, "la_missing_lead"),
        "haringey_lead": live_server.token(HARINGEY, "la_missing_lead"),
        "rhi": mint_dev_token(s, RHI_KENT, "rhi_practitioner"),
    }


def report_input(child_id: str, **over: object) -> dict:
    base: dict = {
        "childId": child_id, "reporterType": "childrens_home", "reportedAt": ago(hours=2),
        "lastSeenAt": ago(hours=3), "missingFromPlacementId": f"T3-P-{child_id}",
        "riskAssessment": {"scheme": "2017", "grade": "medium", "reason": "first report"},
    }
    base.update(over)
    return base


def report(live_server, token, inp, k=None):  # type: ignore[no-untyped-def]
    return live_server.graphql(REPORT, {"input": inp, "key": k or key()}, token=token)


# --- reportMissing ---------------------------------------------------------------------------

async def test_report_missing_stores_exactly_what_was_reported(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    reported, last_seen = ago(hours=2), ago(hours=5)
    inp = report_input(
        "T3-A", reportedAt=reported, lastSeenAt=last_seen, whereaboutsKnown=False, consent=False,
        lastSeenPlace={"name": "Canterbury West station", "kind": "transport_hub", "latitude": 51.2845,
                       "longitude": 1.0752, "postcode": "CT2 8"},
        companions={"childIds": ["T3-N"], "newPersons": [{"id": "T3-PERSON-1", "name": "Adult One",
                                                          "role": "adult_of_concern"}]})
    k = key()
    p = ok(report(live_server, tokens["kent_handler"], inp, k), "reportMissing")
    assert p["childId"] == "T3-A" and p["childCreated"] is False
    assert p["category"] == "missing" and p["reportedTo"] == KENT_POLICE and p["ruleArea"] == KENT_CC
    assert p["triggers"] == []
    assert datetime.fromisoformat(p["strategyMeetingDueAt"]) == datetime.fromisoformat(reported) + timedelta(days=14)

    ep = ok(live_server.graphql(EPISODE, {"id": p["episodeId"]}, token=tokens["kent_inv"]), "episode")
    assert ep["status"] == "open" and ep["childId"] == "T3-A" and ep["reporterType"] == "childrens_home"
    assert datetime.fromisoformat(ep["reportedAt"]) == datetime.fromisoformat(reported)
    assert datetime.fromisoformat(ep["lastSeenAt"]) == datetime.fromisoformat(last_seen)
    assert (ep["whereaboutsKnown"], ep["consent"], ep["category"]) == (False, False, "missing")
    assert (ep["riskGrade"], ep["gradeScheme"], ep["reportedTo"]) == ("medium", "2017", KENT_POLICE)
    assert ep["missingFromPlacement"] == "T3-P-T3-A"
    assert ep["provenance"] == {"recordedBy": KENT_POLICE, "sourceSystem": "mpdb-api"}
    assert len(ep["gradeHistory"]) == 1
    g = ep["gradeHistory"][0]
    assert (g["grade"], g["scheme"], g["recordedBy"], g["reason"]) == ("medium", "2017", KENT_POLICE, "first report")
    assert g["author"]
    [place] = ep["places"]
    assert place["role"] == "LAST_SEEN_AT"
    assert datetime.fromisoformat(place["at"]) == datetime.fromisoformat(last_seen)
    assert place["location"]["laCode"] == KENT_CC and place["location"]["forceCode"] == KENT_POLICE
    assert (place["location"]["latitude"], place["location"]["longitude"]) == (51.2845, 1.0752)

    row = await scenario.read_one(
        """MATCH (ch:Child {id: 'T3-A'}), (e:Episode {id: $id})-[:LAST_SEEN_AT]->(l:Location)
           RETURN l.cell AS cell, l.postcode AS postcode, l.kind AS kind, e.author AS author,
                  [(e)-[w:WITH_CHILD]->(c) | [c.id, w.source]] AS kids,
                  [(e)-[w:WITH_PERSON]->(p) | [p.id, p.name, p.role, p.recordedBy, w.source]] AS persons,
                  [(l)-[:IN_LA]->(la) | la.code] AS inLa, [(l)-[:IN_FORCE]->(f) | f.code] AS inForce,
                  'E23000032' IN ch.accessAgencies AS kentSees""",
        {"id": p["episodeId"]})
    assert row["cell"] == cell_id(51.2845, 1.0752) and row["postcode"] == "CT2 8" and row["kind"] == "transport_hub"
    assert row["kids"] == [["T3-N", "reported"]]
    assert row["persons"] == [["T3-PERSON-1", "Adult One", "adult_of_concern", KENT_POLICE, "reported"]]
    assert row["inLa"] == [KENT_CC] and row["inForce"] == [KENT_POLICE] and row["kentSees"] is True
    audit = await scenario.read_one(
        "MATCH (a:AuditEvent) WHERE $id IN a.recordIds AND a.operation = 'reportMissing' "
        "RETURN a.action AS action, a.agencyId AS agency, a.recordIds AS ids", {"id": p["episodeId"]})
    assert audit["action"] == "collection" and audit["agency"] == KENT_POLICE
    assert {p["episodeId"], p["riskAssessmentId"], "T3-A", "T3-PERSON-1"} <= set(audit["ids"])
    idem = await scenario.read_one("MATCH (k:IdempotencyKey {key: $k}) RETURN k.operation AS op, k.agencyId AS a",
                                   {"k": f"{KENT_POLICE}|{k}"})
    assert idem == {"op": "reportMissing", "a": KENT_POLICE}
    # the reporting force's own record of the episode, for reconciliation
    rec = await scenario.read(RECORDS, {"id": p["episodeId"]})
    assert rec == [{"r": {"agencyId": KENT_POLICE, "sourceSystem": "mpdb-api", "sourceRef": p["episodeId"],
                          "startAt": datetime.fromisoformat(reported), "endAt": None, "missingType": None,
                          "recordedBy": KENT_POLICE}}]


async def test_idempotent_retry_returns_the_first_result_and_writes_once(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    inp = report_input("T3-R")
    k = key()
    first = ok(report(live_server, tokens["kent_handler"], inp, k), "reportMissing")
    before = (await scenario.read_one(COUNT_NODES))["n"]
    second = ok(report(live_server, tokens["kent_handler"], inp, k), "reportMissing")
    assert second == first
    assert (await scenario.read_one(COUNT_NODES))["n"] == before
    n = await scenario.read_one("MATCH (:Child {id: 'T3-R'})-[:HAD]->(e:Episode) RETURN count(e) AS n")
    assert n["n"] == 1
    err = error(report(live_server, tokens["kent_handler"], {**inp, "consent": True}, k))
    assert err["extensions"]["code"] == "CONFLICT" and err["extensions"]["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert err["extensions"]["field"] == "idempotencyKey"


def test_second_open_episode_is_a_conflict_naming_the_open_one(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    first = ok(report(live_server, tokens["kent_handler"], report_input("T3-F")), "reportMissing")
    err = error(report(live_server, tokens["kent_handler"], report_input("T3-F")))
    assert err["extensions"]["code"] == "CONFLICT"
    assert err["extensions"]["openEpisodeId"] == first["episodeId"]
    assert err["extensions"]["field"] == "input.childId"


@pytest.mark.parametrize("scheme,grade", [("2017", "no_apparent_risk"), ("2013", "absent")])
def test_flagged_child_cannot_be_graded_no_risk(live_server, scenario, tokens, scheme, grade) -> None:  # type: ignore[no-untyped-def]
    inp = report_input("T3-B", riskAssessment={"scheme": scheme, "grade": grade})
    err = error(report(live_server, tokens["kent_handler"], inp))
    ext = err["extensions"]
    assert ext["code"] == "RULE_VIOLATION" and ext["field"] == "input.riskAssessment.grade"
    assert ext["flagId"] == "T3-FLAG-CSE" and ext["flagType"] == "cse"
    assert "cse" in err["message"] and "T3-FLAG-CSE" in err["message"]


def test_grade_must_belong_to_its_scheme(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    err = error(report(live_server, tokens["kent_handler"],
                       report_input("T3-B", riskAssessment={"scheme": "2017", "grade": "absent"})))
    assert err["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.riskAssessment.grade"}
    err = error(report(live_server, tokens["kent_handler"], report_input("T3-B", reportedAt="2026-01-01T00:00:00")))
    assert err["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.reportedAt"}


def test_last_seen_must_not_be_after_the_report(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    err = error(report(live_server, tokens["kent_handler"],
                       report_input("T3-B", reportedAt=ago(hours=3), lastSeenAt=ago(hours=1))))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["field"] == "input.lastSeenAt"


def test_invisible_child_is_not_found_like_a_missing_one(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    hidden = error(report(live_server, tokens["kent_handler"], report_input("T3-S", missingFromPlacementId=None,
                          missingFromPlace={"laCode": KENT_CC, "forceCode": KENT_POLICE})))
    absent = error(report(live_server, tokens["kent_handler"], report_input("T3-NOPE", missingFromPlacementId=None,
                          missingFromPlace={"laCode": KENT_CC, "forceCode": KENT_POLICE})))
    assert hidden["extensions"] == absent["extensions"] == {"code": "NOT_FOUND", "field": "input.childId"}
    assert hidden["message"] == absent["message"]


def test_writes_need_the_scope(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    # A social worker keeps placements up to date but does not record episodes (auth/policy.toml).
    err = error(report(live_server, live_server.token(KENT_CC, "social_worker"), report_input("T3-B")))
    assert err["extensions"]["code"] == "FORBIDDEN"
    err = error(report(live_server, tokens["kent_handler"], report_input("T3-B", reportingForce=STAFFS_POLICE)))
    assert err["extensions"] == {"code": "FORBIDDEN", "field": "input.reportingForce"}


async def test_new_child_by_lac_reference_and_national_caller_names_the_force(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    async def live_records(eid: str) -> list[dict]:
        return [row["r"] for row in await scenario.read(RECORDS, {"id": eid})]

    inp = {"newChild": {"lacRefLa": STOKE, "lacChildRef": "T3-LAC-77", "givenName": "New", "sex": "F",
                        "lookedAfterBy": STOKE, "dateOfBirth": "2012-02-02"},
           "reporterType": "carer", "reportedAt": ago(hours=1),
           "missingFromPlace": {"latitude": 53.0027, "longitude": -2.1794, "kind": "foster_home"},
           "riskAssessment": {"scheme": "2013", "grade": "high"}}
    err = error(report(live_server, tokens["nca"], inp))
    assert err["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.reportingForce"}
    p = ok(report(live_server, tokens["nca"], {**inp, "reportingForce": STAFFS_POLICE}), "reportMissing")
    # Stoke has no local rules, so the national default applies.
    assert p["childCreated"] is True and p["reportedTo"] == STAFFS_POLICE and p["ruleArea"] == "national"
    # the national unit records on behalf of the force the report was made to
    [rec] = await live_records(p["episodeId"])
    assert (rec["agencyId"], rec["missingType"], rec["recordedBy"], rec["endAt"]) == (STAFFS_POLICE, None, "NCA-MPU", None)
    child = ok(live_server.graphql("query($id: ID!) { child(id: $id) { id givenName responsibleAuthority lookedAfter dateOfBirth } }",
                                   {"id": p["childId"]}, token=tokens["staffs_inv"]), "child")
    assert child == {"id": p["childId"], "givenName": "New", "responsibleAuthority": STOKE, "lookedAfter": True,
                     "dateOfBirth": "2012-02-02"}


def test_repeat_missing_triggers_fire_per_area(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    def trig(child: str, force: str) -> list[dict]:
        inp = report_input(child, reportingForce=force, missingFromPlacementId=None,
                           missingFromPlace={"laCode": OLDHAM if child.startswith("T3-O") else HARINGEY, "forceCode": force})
        return ok(report(live_server, tokens["nca"], inp), "reportMissing")["triggers"]

    assert trig("T3-O4", GMP) == [{"id": "oldham_monthly_review", "rule": "episodes > 3 in 365 days", "count": 4,
                                   "fired": True, "area": OLDHAM,
                                   "description": "More than 3 episodes in 12 months: Oldham monthly missing-from-home meeting"}]
    [o3] = trig("T3-O3", GMP)
    assert (o3["count"], o3["fired"]) == (3, False)
    [h3] = trig("T3-H3", MET)
    assert (h3["id"], h3["count"], h3["fired"], h3["area"]) == ("haringey_early_help", 3, True, HARINGEY)


async def test_concurrent_reports_for_one_child_open_one_episode(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    inp = report_input("T3-D")
    headers = {"Authorization": f"Bearer {tokens['kent_handler']}", "X-MPDB-Purpose": "test"}
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as client:
        resps = await asyncio.gather(*[
            client.post("/graphql", json={"query": REPORT, "variables": {"input": inp, "key": key()}}, headers=headers)
            for _ in range(5)])
    bodies = [r.json() for r in resps]
    okays = [b for b in bodies if not b.get("errors")]
    codes = sorted(b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors"))
    assert len(okays) == 1 and codes == ["CONFLICT"] * 4
    n = await scenario.read_one("MATCH (:Child {id: 'T3-D'})-[:HAD]->(e:Episode {status: 'open'}) RETURN count(e) AS n")
    assert n["n"] == 1


async def test_concurrent_first_reports_of_a_new_child_create_one_child(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    inp = {"newChild": {"lacRefLa": KENT_CC, "lacChildRef": "T3-RACE-1", "lookedAfterBy": KENT_CC},
           "reporterType": "carer", "reportedAt": ago(hours=1),
           "missingFromPlace": {"laCode": KENT_CC, "forceCode": KENT_POLICE},
           "riskAssessment": {"scheme": "2017", "grade": "low"}}
    headers = {"Authorization": f"Bearer {tokens['kent_handler']}", "X-MPDB-Purpose": "test"}
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as client:
        resps = await asyncio.gather(*[
            client.post("/graphql", json={"query": REPORT, "variables": {"input": inp, "key": key()}}, headers=headers)
            for _ in range(4)])
    bodies = [r.json() for r in resps]
    assert sum(1 for b in bodies if not b.get("errors")) == 1
    assert sorted(b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors")) == ["CONFLICT"] * 3
    n = await scenario.read_one("MATCH (c:Child {lacRefLa: $la, lacChildRef: 'T3-RACE-1'}) "
                                "RETURN count(c) AS n, sum(COUNT { (c)-[:HAD]->() }) AS e", {"la": KENT_CC})
    assert n == {"n": 1, "e": 1}


async def test_a_failing_mutation_writes_nothing(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    before = (await scenario.read_one("MATCH (n) RETURN count(n) AS n"))["n"]
    # Locations and the new person are created before the unknown companion child is found.
    inp = report_input("T3-B", lastSeenPlace={"latitude": 51.3, "longitude": 1.0},
                       companions={"newPersons": [{"id": "T3-PERSON-X", "name": "X", "role": "peer"}],
                                   "childIds": ["T3-N", "T3-UNKNOWN"]})
    err = error(report(live_server, tokens["kent_handler"], inp))
    assert err["extensions"] == {"code": "NOT_FOUND", "field": "input.companions.childIds[1]"}
    assert (await scenario.read_one("MATCH (n) RETURN count(n) AS n"))["n"] == before


# --- the rest of the lifecycle ---------------------------------------------------------------

async def test_update_found_return_and_interview(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    inv = tokens["kent_inv"]
    reported = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)
    p = ok(report(live_server, inv, report_input("T3-N", reportedAt=reported.isoformat(),
                                                 lastSeenAt=(reported - timedelta(hours=1)).isoformat())), "reportMissing")
    eid = p["episodeId"]
    # re-grading: refused below last seen, allowed otherwise; every grade kept
    err = error(live_server.graphql(UPDATE, {"input": {"episodeId": eid, "wentTo": [
        {"at": (reported - timedelta(hours=2)).isoformat(), "place": {"laCode": KENT_CC, "forceCode": KENT_POLICE}}]},
        "key": key()}, token=inv))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["field"] == "input.wentTo[0].at"
    sighted = reported + timedelta(hours=3)
    u = ok(live_server.graphql(UPDATE, {"input": {
        "episodeId": eid, "riskAssessment": {"scheme": "2017", "grade": "high", "reason": "seen with adult"},
        "wentTo": [{"at": sighted.isoformat(), "place": {"name": "Park", "kind": "park", "latitude": 51.28, "longitude": 1.09}}],
        "companions": {"personIds": ["T3-PERSON-1"]}}, "key": key()}, token=inv), "updateEpisode")
    assert (u["riskGrade"], u["gradeScheme"], u["withPersonIds"]) == ("high", "2017", ["T3-PERSON-1"])
    ep = ok(live_server.graphql(EPISODE, {"id": eid}, token=inv), "episode")
    assert [(g["grade"], g["reason"]) for g in ep["gradeHistory"]] == [("medium", "first report"), ("high", "seen with adult")]
    assert ep["riskGrade"] == "high"
    went = [pl for pl in ep["places"] if pl["role"] == "WENT_TO"]
    assert len(went) == 1 and datetime.fromisoformat(went[0]["at"]) == sighted
    assert went[0]["location"]["id"] == u["wentToLocationIds"][0]

    # found: not before the report; then stored, with the notification to the responsible LA
    err = error(live_server.graphql(FOUND, {"input": {"episodeId": eid, "foundAt": (reported - timedelta(minutes=1)).isoformat(),
                                                      "foundPlace": {"laCode": KENT_CC, "forceCode": KENT_POLICE}}, "key": key()}, token=inv))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["field"] == "input.foundAt"
    found = reported + timedelta(hours=18)
    f = ok(live_server.graphql(FOUND, {"input": {"episodeId": eid, "foundAt": found.isoformat(),
                                                 "foundPlace": {"latitude": 51.2802, "longitude": 1.08}}, "key": key()}, token=inv), "recordFound")
    assert f["foundBy"] == KENT_POLICE and f["notifiedAgency"] == KENT_CC
    assert [(r["r"]["agencyId"], r["r"]["startAt"], r["r"]["endAt"]) for r in await scenario.read(RECORDS, {"id": eid})] == [
        (KENT_POLICE, reported, found)]
    n = await scenario.read_one(
        """MATCH (n:Notification {id: $id})-[:ABOUT]->(e:Episode), (n)-[:FROM]->(a), (n)-[:TO]->(b)
           RETURN n.kind AS kind, e.id AS about, a.id AS src, b.id AS dst, n.sentAt IS NOT NULL AS sent,
                  n.acknowledgedAt AS ack, n.dueAt = n.sentAt + duration({hours: 72}) AS due72""", {"id": f["notificationId"]})
    assert n == {"kind": "found_to_responsible_la", "about": eid, "src": KENT_POLICE, "dst": KENT_CC, "sent": True,
                 "ack": None, "due72": True}
    err = error(live_server.graphql(ACK, {"input": {"notificationId": f["notificationId"]}, "key": key()}, token=tokens["stoke_lead"]))
    assert err["extensions"] == {"code": "NOT_FOUND", "field": "input.notificationId"}
    a = ok(live_server.graphql(ACK, {"input": {"notificationId": f["notificationId"]}, "key": key()}, token=tokens["kcc_lead"]), "acknowledgeNotification")
    assert a["alreadyAcknowledged"] is False
    a2 = ok(live_server.graphql(ACK, {"input": {"notificationId": f["notificationId"]}, "key": key()}, token=tokens["kcc_lead"]), "acknowledgeNotification")
    assert a2["alreadyAcknowledged"] is True and a2["acknowledgedAt"] == a["acknowledgedAt"]

    # interview before return is refused
    err = error(live_server.graphql(RHI, {"input": {"episodeId": eid, "status": "offered", "offeredAt": ago(hours=1),
                                                    "providerAgencyId": RHI_KENT}, "key": key()}, token=tokens["kcc_rhi"]))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["field"] == "input.episodeId"

    # return on Friday 20 Nov 2026 15:00 UTC (GMT): Kent's 3 working days -> Wednesday 25 Nov 15:00
    returned = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    r = ok(live_server.graphql(RETURN, {"input": {"episodeId": eid, "returnedAt": returned.isoformat(),
                                                  "returnedToPlacementId": "T3-P-T3-N"}, "key": key()}, token=inv), "recordReturn")
    assert r["status"] == "closed" and r["ruleArea"] == KENT_CC and r["returnInterviewRule"] == "3 working days"
    assert [(r_["r"]["agencyId"], r_["r"]["endAt"]) for r_ in await scenario.read(RECORDS, {"id": eid})] == [
        (KENT_POLICE, returned)]
    assert datetime.fromisoformat(r["returnInterviewDueAt"]) == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    ep = ok(live_server.graphql(EPISODE, {"id": eid}, token=inv), "episode")
    assert ep["status"] == "closed" and datetime.fromisoformat(ep["returnedAt"]) == returned
    assert datetime.fromisoformat(ep["foundAt"]) == found and ep["foundBy"] == KENT_POLICE
    err = error(live_server.graphql(UPDATE, {"input": {"episodeId": eid, "whereaboutsKnown": True}, "key": key()}, token=inv))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["rule"] == "EPISODE_CLOSED"
    ok(report(live_server, inv, report_input("T3-N", reportedAt=ago(hours=1), lastSeenAt=ago(hours=2))), "reportMissing")

    # the LA offers with its commissioned provider; the provider then completes it
    offered = returned + timedelta(hours=2)
    i1 = ok(live_server.graphql(RHI, {"input": {"episodeId": eid, "status": "offered", "offeredAt": offered.isoformat(),
                                                "providerAgencyId": RHI_KENT}, "key": key()}, token=tokens["kcc_rhi"]), "recordReturnInterview")
    assert (i1["status"], i1["providerAgencyId"], i1["returnInterviewId"]) == ("offered", RHI_KENT, r["returnInterviewId"])
    completed = returned + timedelta(days=2)
    i2 = ok(live_server.graphql(RHI, {"input": {
        "episodeId": eid, "status": "completed", "offeredAt": offered.isoformat(), "completedAt": completed.isoformat(),
        "confidentialAccount": "What the child said, in confidence.", "summaryPlaces": ["Canterbury bus station"],
        "summaryPeople": ["older male"], "summaryWith": ["T3-A"], "summaryRiskTypes": ["cse"]}, "key": key()},
        token=tokens["rhi"]), "recordReturnInterview")
    assert (i2["status"], i2["timeliness"], i2["providerAgencyId"]) == ("completed", "completed", RHI_KENT)
    ri = await scenario.read_one(
        """MATCH (:Episode {id: $id})-[:FOLLOWED_BY]->(ri:ReturnInterview)-[:BY]->(a)
           RETURN ri.status AS status, ri.confidentialAccount AS account, ri.summaryPlaces AS places,
                  ri.summaryPeople AS people, ri.summaryWith AS with, ri.summaryRiskTypes AS risks,
                  ri.completedAt = datetime($completed) AS atOk, ri.dueAt = datetime($due) AS dueOk,
                  collect(a.id) AS by, ri.recordedBy AS recordedBy""",
        {"id": eid, "completed": completed.isoformat(), "due": r["returnInterviewDueAt"]})
    assert ri == {"status": "completed", "account": "What the child said, in confidence.",
                  "places": ["Canterbury bus station"], "people": ["older male"], "with": ["T3-A"], "risks": ["cse"],
                  "atOk": True, "dueOk": True, "by": [RHI_KENT], "recordedBy": RHI_KENT}
    err = error(live_server.graphql(RHI, {"input": {"episodeId": eid, "status": "declined", "offeredAt": offered.isoformat(),
                                                    "declinedAt": completed.isoformat()}, "key": key()}, token=tokens["rhi"]))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["field"] == "input.status"


def test_return_interview_due_72_hours_outside_kent(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    reported = datetime.now(UTC) - timedelta(hours=30)
    inp = report_input("T3-O3", reportingForce=GMP, reportedAt=reported.isoformat(), lastSeenAt=None,
                       missingFromPlacementId=None, missingFromPlace={"laCode": OLDHAM, "forceCode": GMP})
    # T3-O3 may already have an open episode from the trigger test: close it first if so.
    p = live_server.graphql(REPORT, {"input": inp, "key": key()}, token=tokens["nca"]).json()
    eid = p["data"]["reportMissing"]["episodeId"] if not p.get("errors") else p["errors"][0]["extensions"]["openEpisodeId"]
    returned = datetime.now(UTC) - timedelta(hours=1)
    r = ok(live_server.graphql(RETURN, {"input": {"episodeId": eid, "returnedAt": returned.isoformat()}, "key": key()},
                               token=tokens["nca"]), "recordReturn")
    assert r["ruleArea"] == OLDHAM and r["returnInterviewRule"] == "72 hours"
    assert datetime.fromisoformat(r["returnInterviewDueAt"]) == returned + timedelta(hours=72)


async def test_placements_flags_and_associates(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    lead = tokens["kcc_lead"]
    stoke_place = {"name": "Hilltop House", "kind": "childrens_home", "latitude": 53.0027, "longitude": -2.1794}
    start = {"placementId": "T3-PL-1", "childId": "T3-PL", "startDate": "2026-11-01", "placementType": "K2",
             "place": stoke_place, "establishment": {"id": "T3-EST-1", "name": "Hilltop House", "kind": "childrens_home",
                                                     "urn": "SC123456"}, "dcsApproved": True, "notifySent": True}
    err = error(live_server.graphql(START, {"input": {**start, "placingLa": STOKE}, "key": key()}, token=lead))
    assert err["extensions"] == {"code": "FORBIDDEN", "field": "input.placingLa"}
    s = ok(live_server.graphql(START, {"input": start, "key": key()}, token=lead), "startPlacement")
    expected_km = round(haversine_km(HOME[0], HOME[1], 53.0027, -2.1794), 3)
    assert (s["placingLa"], s["hostLa"], s["hostForce"]) == (KENT_CC, STOKE, STAFFS_POLICE)
    assert (s["distanceKm"], s["distanceFrom"], s["outOfArea"], s["crossForce"]) == (expected_km, "home", True, True)
    # the LA's notifications are sent now; the children's home's own notice to the host LA is not
    assert sorted((n["kind"], n["to"], n["sent"]) for n in s["notifications"]) == [
        ("home_to_host_la", STOKE, False), ("placement_to_host_force", STAFFS_POLICE, True),
        ("placement_to_host_la", STOKE, True)]
    row = await scenario.read_one(
        """MATCH (c:Child {id: 'T3-PL'})-[:PLACED_IN]->(p:Placement {id: 'T3-PL-1'})-[:AT]->(est:Establishment)
           RETURN p.placementType AS type, p.distanceKm AS km, p.outOfArea AS ooa, p.crossForce AS xf,
                  p.dcsApproved AS dcs, p.startDate = date('2026-11-01') AS startOk, est.urn AS urn,
                  p.recordedBy AS by, $stoke IN c.accessAgencies AS stokeSees,
                  [(p)-[:HOSTED_BY]->(h) | h.code] AS host, [(p)-[:IN_FORCE_AREA]->(f) | f.code] AS force""",
        {"stoke": STOKE})
    assert row == {"type": "K2", "km": expected_km, "ooa": True, "xf": True, "dcs": True, "startOk": True,
                   "urn": "SC123456", "by": KENT_CC, "stokeSees": True, "host": [STOKE], "force": [STAFFS_POLICE]}
    err = error(live_server.graphql(START, {"input": {**start, "placementId": "T3-PL-2"}, "key": key()}, token=lead))
    assert err["extensions"]["code"] == "CONFLICT" and err["extensions"]["reason"] == "OPEN_PLACEMENT_EXISTS"
    host_la_note = next(n["id"] for n in s["notifications"] if n["kind"] == "placement_to_host_la")
    err = error(live_server.graphql(ACK, {"input": {"notificationId": host_la_note}, "key": key()}, token=lead))
    assert err["extensions"]["code"] == "NOT_FOUND"
    ok(live_server.graphql(ACK, {"input": {"notificationId": host_la_note}, "key": key()}, token=tokens["stoke_lead"]),
       "acknowledgeNotification")
    err = error(live_server.graphql(END, {"input": {"placementId": "T3-PL-1", "endDate": "2026-10-01"}, "key": key()}, token=lead))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["field"] == "input.endDate"
    e = ok(live_server.graphql(END, {"input": {"placementId": "T3-PL-1", "endDate": "2026-11-20"}, "key": key()}, token=lead), "endPlacement")
    [discharge] = e.pop("notifications")
    assert e == {"placementId": "T3-PL-1", "childId": "T3-PL", "endDate": "2026-11-20"}
    assert (discharge["kind"], discharge["to"], discharge["sent"]) == ("home_to_host_la", STOKE, False)
    err = error(live_server.graphql(END, {"input": {"placementId": "T3-PL-1", "endDate": "2026-11-21"}, "key": key()}, token=lead))
    assert err["extensions"]["reason"] == "PLACEMENT_ENDED"

    # flags: raise -> no-risk grade refused; review; expire -> allowed again
    inv = tokens["kent_inv"]
    raised = ok(live_server.graphql(RAISE, {"input": {"flagId": "T3-FLAG-MH", "childId": "T3-A", "type": "mental_health",
                                                      "raisedAt": ago(days=1), "reviewDue": "2027-01-01", "note": "t3"},
                                            "key": key()}, token=inv), "raiseFlag")
    assert raised == {"flagId": "T3-FLAG-MH", "childId": "T3-A", "type": "mental_health", "status": "active"}
    eid = (await scenario.read_one("MATCH (:Child {id: 'T3-A'})-[:HAD]->(e:Episode {status: 'open'}) RETURN e.id AS id"))["id"]
    nar = {"episodeId": eid, "riskAssessment": {"scheme": "2017", "grade": "no_apparent_risk"}}
    err = error(live_server.graphql(UPDATE, {"input": nar, "key": key()}, token=inv))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["flagId"] == "T3-FLAG-MH"
    rv = ok(live_server.graphql(REVIEW, {"input": {"flagId": "T3-FLAG-MH", "reviewedAt": ago(hours=1),
                                                   "nextReviewDue": "2027-02-01"}, "key": key()}, token=inv), "reviewFlag")
    assert rv["status"] == "active" and rv["reviewDue"] == "2027-02-01"
    err = error(live_server.graphql(EXPIRE, {"input": {"flagId": "T3-FLAG-MH", "expiredAt": ago(days=3)}, "key": key()}, token=inv))
    assert err["extensions"]["code"] == "RULE_VIOLATION" and err["extensions"]["field"] == "input.expiredAt"
    ex = ok(live_server.graphql(EXPIRE, {"input": {"flagId": "T3-FLAG-MH", "expiredAt": ago(minutes=30)}, "key": key()}, token=inv), "expireFlag")
    assert ex["status"] == "expired"
    err = error(live_server.graphql(REVIEW, {"input": {"flagId": "T3-FLAG-MH", "reviewedAt": ago(minutes=1)}, "key": key()}, token=inv))
    assert err["extensions"]["rule"] == "FLAG_NOT_ACTIVE"
    u = ok(live_server.graphql(UPDATE, {"input": nar, "key": key()}, token=inv), "updateEpisode")
    assert u["riskGrade"] == "no_apparent_risk"
    flag = await scenario.read_one("MATCH (f:Flag {id: 'T3-FLAG-MH'})-[:RAISED_BY]->(a) RETURN f.status AS s, a.id AS by, "
                                   "f.reviewDue = date('2027-02-01') AS due, f.expiredBy AS exp")
    assert flag == {"s": "expired", "by": KENT_POLICE, "due": True, "exp": KENT_POLICE}

    # associates
    l1 = ok(live_server.graphql(LINK, {"input": {"childId": "T3-A", "newPerson": {"id": "T3-PERSON-2", "name": "Adult Two",
                                                                                "role": "adult_of_concern"},
                                                 "kind": "adult_of_concern", "since": "2026-06-01"}, "key": key()}, token=inv), "linkAssociate")
    assert l1 == {"childId": "T3-A", "personId": "T3-PERSON-2", "kind": "adult_of_concern", "linked": True}
    l2 = ok(live_server.graphql(LINK, {"input": {"childId": "T3-A", "personId": "T3-PERSON-2", "kind": "adult_of_concern"},
                                       "key": key()}, token=inv), "linkAssociate")
    assert l2["linked"] is False
    err = error(live_server.graphql(LINK, {"input": {"childId": "T3-S", "personId": "T3-PERSON-2", "kind": "peer"},
                                           "key": key()}, token=inv))
    assert err["extensions"] == {"code": "NOT_FOUND", "field": "input.childId"}
    link = await scenario.read_one("MATCH (:Child {id: 'T3-A'})-[r:ASSOCIATES_WITH]->(:Person {id: 'T3-PERSON-2'}) "
                                   "RETURN count(r) AS n, r.recordedBy AS by, r.since = date('2026-06-01') AS since")
    assert link == {"n": 1, "by": KENT_POLICE, "since": True}


# --- children's home notifications, marking sent, who ends a placement -----------------------

async def test_childrens_home_notices_mark_sent_and_who_ends_a_placement(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    lead = tokens["kcc_lead"]
    start = {"placementId": "T3-PL2-1", "childId": "T3-PL2", "startDate": "2026-11-02", "placementType": "K2",
             "place": {"name": "Moorside", "kind": "childrens_home", "latitude": 53.01, "longitude": -2.18},
             "establishment": {"id": "T3-EST-2", "name": "Moorside", "kind": "childrens_home"}}
    s = ok(live_server.graphql(START, {"input": start, "key": key()}, token=lead), "startPlacement")
    assert sorted((n["kind"], n["to"], n["sent"]) for n in s["notifications"]) == [
        ("home_to_host_la", STOKE, False), ("placement_to_host_force", STAFFS_POLICE, False),
        ("placement_to_host_la", STOKE, False)]
    home_note = next(n["id"] for n in s["notifications"] if n["kind"] == "home_to_host_la")
    row = await scenario.read_one(
        """MATCH (n:Notification {id: $id})-[:ABOUT]->(p:Placement)-[:AT]->(est:Establishment), (n)-[:FROM]->(a),
                 (n)-[:TO]->(b)
           RETURN n.occasion AS occasion, p.id AS about, est.id AS est, a.id AS src, b.id AS dst,
                  n.sentAt AS sentAt, n.recordedBy AS by""", {"id": home_note})
    assert row == {"occasion": "placement", "about": "T3-PL2-1", "est": "T3-EST-2", "src": KENT_CC, "dst": STOKE,
                   "sentAt": None, "by": KENT_CC}

    # marking sent: only the sender; the recipient knows it exists (FORBIDDEN), anyone else does not
    def mark(token: str, nid: str, at: str, k: str | None = None) -> httpx.Response:
        return live_server.graphql(SENT, {"input": {"notificationId": nid, "sentAt": at}, "key": k or key()}, token=token)

    sent_at = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    err = error(mark(tokens["stoke_lead"], home_note, sent_at.isoformat()))
    assert err["extensions"] == {"code": "FORBIDDEN", "field": "input.notificationId"}
    hidden = error(mark(tokens["haringey_lead"], home_note, sent_at.isoformat()))
    absent = error(mark(lead, "NOT-T3-nope", sent_at.isoformat()))
    assert hidden["extensions"] == absent["extensions"] == {"code": "NOT_FOUND", "field": "input.notificationId"}
    assert hidden["message"] == absent["message"]
    err = error(mark(lead, home_note, ago(hours=-1)))
    assert err["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.sentAt"}
    err = error(mark(tokens["kcc_rhi"], home_note, sent_at.isoformat()))  # no notification:write
    assert err["extensions"]["code"] == "FORBIDDEN"
    m = ok(mark(lead, home_note, sent_at.isoformat()), "markNotificationSent")
    assert m == {"notificationId": home_note, "sentAt": m["sentAt"], "recipient": STOKE, "alreadySent": False}
    assert datetime.fromisoformat(m["sentAt"]) == sent_at
    stored = await scenario.read_one("MATCH (n:Notification {id: $id}) RETURN n.sentAt AS at, n.sentBy IS NOT NULL AS by",
                                     {"id": home_note})
    assert stored == {"at": sent_at, "by": True}
    audit = await scenario.read(
        "MATCH (a:AuditEvent {operation: 'markNotificationSent'}) WHERE $id IN a.recordIds "
        "RETURN a.action AS action, a.agencyId AS agency, a.recipients AS recipients, a.recordIds AS ids "
        "ORDER BY a.seq", {"id": home_note})
    assert [(a["action"], a["agency"], a["recipients"]) for a in audit] == [
        ("alteration", KENT_CC, []), ("disclosure", KENT_CC, [STOKE])]
    assert set(audit[1]["ids"]) == {home_note, "T3-PL2-1", "T3-PL2"}
    # the same time again changes and discloses nothing; another time is a conflict
    again = ok(mark(lead, home_note, sent_at.isoformat()), "markNotificationSent")
    assert again == {**m, "alreadySent": True}
    n_audit = await scenario.read_one("MATCH (a:AuditEvent {operation: 'markNotificationSent'}) WHERE $id IN a.recordIds "
                                      "RETURN count(a) AS n", {"id": home_note})
    assert n_audit == {"n": 2}
    err = error(mark(lead, home_note, (sent_at - timedelta(minutes=5)).isoformat()))
    assert err["extensions"]["code"] == "CONFLICT" and err["extensions"]["reason"] == "ALREADY_SENT"
    assert err["extensions"]["field"] == "input.sentAt"
    assert datetime.fromisoformat(err["extensions"]["sentAt"]) == sent_at
    # a found_to_responsible_la notice is the finding force's: the LA it goes to cannot mark it
    police_note = (await scenario.read_one(
        "MATCH (n:Notification {kind: 'found_to_responsible_la'})-[:TO]->(:Agency {id: $kcc}) RETURN n.id AS id LIMIT 1",
        {"kcc": KENT_CC}))
    if police_note is not None:
        err = error(mark(lead, police_note["id"], sent_at.isoformat()))
        assert err["extensions"] == {"code": "FORBIDDEN", "field": "input.notificationId"}

    # ending: the host LA sees the child but did not place it; Haringey cannot see it at all
    end = {"placementId": "T3-PL2-1", "endDate": "2026-11-10"}
    err = error(live_server.graphql(END, {"input": end, "key": key()}, token=tokens["stoke_lead"]))
    assert err["extensions"] == {"code": "FORBIDDEN", "field": "input.placementId"}
    hidden = error(live_server.graphql(END, {"input": end, "key": key()}, token=tokens["haringey_lead"]))
    absent = error(live_server.graphql(END, {"input": {**end, "placementId": "T3-PL-nope"}, "key": key()}, token=lead))
    assert hidden["extensions"] == absent["extensions"] == {"code": "NOT_FOUND", "field": "input.placementId"}
    assert hidden["message"] == absent["message"]
    e = ok(live_server.graphql(END, {"input": end, "key": key()}, token=lead), "endPlacement")
    [discharge] = e["notifications"]
    assert (discharge["kind"], discharge["to"], discharge["sent"]) == ("home_to_host_la", STOKE, False)
    row = await scenario.read_one(
        """MATCH (n:Notification {kind: 'home_to_host_la'})-[:ABOUT]->(:Placement {id: 'T3-PL2-1'})
           RETURN collect(n.occasion) AS occasions, count(n) AS n""")
    assert sorted(row["occasions"]) == ["discharge", "placement"] and row["n"] == 2
    assert (await scenario.read_one("MATCH (p:Placement {id: 'T3-PL2-1'}) RETURN p.endDate = date('2026-11-10') AS ok")) == {"ok": True}


async def test_in_area_childrens_home_owes_no_host_notice(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    lead = tokens["kcc_lead"]
    start = {"placementId": "T3-PL3-1", "childId": "T3-PL3", "startDate": "2026-11-02", "placementType": "K2",
             "place": {"locationId": "T3-L-P1"}, "establishment": {"id": "T3-EST-3", "name": "Kent home",
                                                                    "kind": "childrens_home"}}
    s = ok(live_server.graphql(START, {"input": start, "key": key()}, token=lead), "startPlacement")
    assert (s["outOfArea"], s["notifications"]) == (False, [])
    e = ok(live_server.graphql(END, {"input": {"placementId": "T3-PL3-1", "endDate": "2026-11-03"}, "key": key()},
                               token=lead), "endPlacement")
    assert e["notifications"] == []
    n = await scenario.read_one("MATCH (n:Notification)-[:ABOUT]->(:Placement {id: 'T3-PL3-1'}) RETURN count(n) AS n")
    assert n == {"n": 0}


# --- persons: attach only someone reachable through a child the caller sees ------------------

async def test_existing_persons_are_scoped_through_visible_children(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    inv = tokens["kent_inv"]

    def link(token: str, child: str, **person: object) -> httpx.Response:
        return live_server.graphql(LINK, {"input": {"childId": child, "kind": "peer", **person}, "key": key()}, token=token)

    # Kent reaches T3-PERSON-EPV through T3-V's episode in Kent; the others only through Staffordshire's child
    assert ok(link(inv, "T3-A", personId="T3-PERSON-EPV"), "linkAssociate")["linked"] is True
    nope = error(link(inv, "T3-A", personId="T3-PERSON-NOPE"))
    # Staffordshire's child's peer stays private to the agencies that see that child
    err = error(link(inv, "T3-A", personId="T3-PERSON-HID2"))
    assert err["extensions"] == nope["extensions"] == {"code": "NOT_FOUND", "field": "input.personId"}
    assert err["message"] == nope["message"]
    # a "new" person may not take over someone else's associate's id
    err = error(link(inv, "T3-A", newPerson={"id": "T3-PERSON-HID", "name": "Takeover", "role": "peer"}))
    assert err["extensions"] == {"code": "CONFLICT", "field": "input.newPerson.id", "reason": "ID_TAKEN"}
    row = await scenario.read_one("MATCH (p:Person {id: 'T3-PERSON-HID'}) RETURN p.name AS name, "
                                  "COUNT { (p)<-[:ASSOCIATES_WITH]-(:Child {id: 'T3-A'}) } AS kent")
    assert row == {"name": "Hidden", "kent": 0}
    # ... but an adult of concern known to Staffordshire is linked by Kent as that same person
    # (docs/ACCESS.md, adults of concern), not recorded a second time
    linked = ok(link(inv, "T3-A", personId="T3-PERSON-HID"), "linkAssociate")
    assert linked == {"childId": "T3-A", "personId": "T3-PERSON-HID", "kind": "peer", "linked": True}
    row = await scenario.read_one("MATCH (p:Person {id: 'T3-PERSON-HID'}) RETURN p.name AS name, "
                                  "COUNT { (p)<-[:ASSOCIATES_WITH]-(:Child) } AS children")
    assert row == {"name": "Hidden", "children": 2}
    # the force that sees Staffordshire's child may link its associates; the national unit may link anyone
    assert ok(link(tokens["staffs_inv"], "T3-S", personId="T3-PERSON-HID2"), "linkAssociate")["linked"] is True
    assert ok(link(tokens["nca"], "T3-S", personId="T3-PERSON-EPV"), "linkAssociate")["linked"] is True

    # the same rule for companions of a report
    base = {"childId": "T3-V", "reporterType": "parent", "reportedAt": ago(hours=1),
            "missingFromPlace": {"laCode": KENT_CC, "forceCode": KENT_POLICE},
            "riskAssessment": {"scheme": "2017", "grade": "low"}}
    err = error(report(live_server, inv, {**base, "companions": {"personIds": ["T3-PERSON-EPV", "T3-PERSON-HID2"]}}))
    assert err["extensions"] == {"code": "NOT_FOUND", "field": "input.companions.personIds[1]"}
    err = error(report(live_server, inv, {**base, "companions": {"newPersons": [
        {"id": "T3-PERSON-NEW-9", "name": "New", "role": "peer"}, {"id": "T3-PERSON-HID2", "name": "X", "role": "peer"}]}}))
    assert err["extensions"] == {"code": "CONFLICT", "field": "input.companions.newPersons[1].id", "reason": "ID_TAKEN"}
    assert await scenario.read_one("MATCH (p:Person {id: 'T3-PERSON-NEW-9'}) RETURN p") is None
    p = ok(report(live_server, inv, {**base, "companions": {"personIds": ["T3-PERSON-EPV"], "newPersons": [
        {"id": "T3-PERSON-NEW-9", "name": "New", "role": "peer"}]}}), "reportMissing")
    row = await scenario.read_one("MATCH (e:Episode {id: $id}) RETURN [(e)-[:WITH_PERSON]->(x) | x.id] AS persons",
                                  {"id": p["episodeId"]})
    assert sorted(row["persons"]) == ["T3-PERSON-EPV", "T3-PERSON-NEW-9"]
