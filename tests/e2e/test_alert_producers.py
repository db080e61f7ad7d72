"""Alerts raised by mutations over real HTTP with real tokens (issue 13, producers): across agencies,
exactly which outbox events each write appends (kind, recipient, reason, subject), who gets nothing,
a retried mutation and a rolled-back one append nothing. Events are read from the outbox by seq, so
the test sees exactly what each write appended.

The case (synthetic):
- AL-A, looked after by Kent CC, placed by Kent in a Stoke children's home (host LA Stoke, host force
  Staffordshire). AL-B, not looked after, lives in Birmingham (West Midlands Police) and went
  missing with AL-A last year. AL-C, looked after by Haringey, is associated with AL-ADULT, an adult
  of concern. AL-H, looked after by Haringey, has gone missing twice before (Haringey's rule acts at 3).
- Greater Manchester Police and the Met have no link to AL-A: they get nothing about it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.outbox import events_after, head_seq

pytestmark = pytest.mark.integration

KCC, STOKE, BHAM, HARINGEY = "E10000016", "E06000021", "E08000025", "E09000014"
STAFFS, WMP, GMP, MET = "E23000015", "E23000014", "E23000005", "E23000001"
PURPOSE = "test: alerts"

SCENARIO = """
MATCH (kcc:LocalAuthority {code: $kcc}), (stoke:LocalAuthority {code: $stoke}), (staffs:Force {code: $staffs}),
      (bham:LocalAuthority {code: $bham}), (wmp:Force {code: $wmp}), (har:LocalAuthority {code: $haringey}),
      (met:Force {code: $met})
CREATE (a:Child {id: 'AL-A', pseudonym: 'P-AL-A', givenName: 'Ada', familyName: 'Alertson', sex: 'F',
        dateOfBirth: date('2011-03-04'), lookedAfter: true, recordedBy: $kcc})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (home:Location {id: 'AL-L-HOME', name: 'AL Stoke home', kind: 'childrens_home', laCode: $stoke,
        forceCode: $staffs})
CREATE (a)-[:PLACED_IN]->(p:Placement {id: 'AL-P1', startDate: date('2026-01-10'), outOfArea: true})
CREATE (p)-[:PLACED_BY]->(kcc), (p)-[:HOSTED_BY]->(stoke), (p)-[:IN_FORCE_AREA]->(staffs), (p)-[:AT]->(home)
CREATE (bh:Location {id: 'AL-L-BHOME', name: 'AL-B home', kind: 'residence', laCode: $bham, forceCode: $wmp})
CREATE (b:Child {id: 'AL-B', pseudonym: 'P-AL-B', givenName: 'Bea', familyName: 'Alertson', sex: 'F',
        dateOfBirth: date('2010-05-06'), lookedAfter: false, recordedBy: $wmp})-[:HOME_AT]->(bh)
CREATE (b)-[:HAD]->(be:Episode {id: 'AL-B-E1', status: 'closed', reportedAt: datetime('2025-11-01T20:00:00Z')})
       -[:REPORTED_TO]->(wmp)
CREATE (be)-[:WITH_CHILD {source: 'reported'}]->(a)
CREATE (c:Child {id: 'AL-C', pseudonym: 'P-AL-C', givenName: 'Cal', familyName: 'Alertson', sex: 'M',
        dateOfBirth: date('2010-01-01'), lookedAfter: true, recordedBy: $haringey})-[:LOOKED_AFTER_BY]->(har)
CREATE (c)-[:ASSOCIATES_WITH {kind: 'adult_of_concern', recordedBy: $met}]->
       (:Person {id: 'AL-ADULT', name: 'Adult Alertson', role: 'adult_of_concern', recordedBy: $met})
CREATE (h:Child {id: 'AL-H', pseudonym: 'P-AL-H', givenName: 'Hal', familyName: 'Alertson', sex: 'M',
        dateOfBirth: date('2010-02-02'), lookedAfter: true, recordedBy: $haringey})-[:LOOKED_AFTER_BY]->(har)
CREATE (h)-[:HAD]->(:Episode {id: 'AL-H-E1', status: 'closed', reportedAt: datetime('2026-03-01T20:00:00Z')})
       -[:REPORTED_TO]->(met)
CREATE (h)-[:HAD]->(:Episode {id: 'AL-H-E2', status: 'closed', reportedAt: datetime('2026-04-01T20:00:00Z')})
       -[:REPORTED_TO]->(met)
"""

REPORT = """
mutation($input: ReportMissingInput!, $key: String!) {
  reportMissing(input: $input, idempotencyKey: $key) { episodeId riskAssessmentId triggers { id fired } }
}
"""
TOGETHER = """
mutation($input: ReportMissingTogetherInput!, $key: String!) {
  reportMissingTogether(input: $input, idempotencyKey: $key) { withChildLinks }
}
"""
FOUND = """
mutation($input: RecordFoundInput!, $key: String!) { recordFound(input: $input, idempotencyKey: $key) { episodeId } }
"""
RETURN = """
mutation($input: RecordReturnInput!, $key: String!) { recordReturn(input: $input, idempotencyKey: $key) { status } }
"""
RAISE = """
mutation($input: RaiseFlagInput!, $key: String!) { raiseFlag(input: $input, idempotencyKey: $key) { flagId } }
"""
UPDATE = """
mutation($input: UpdateEpisodeInput!, $key: String!) {
  updateEpisode(input: $input, idempotencyKey: $key) { riskAssessmentId }
}
"""


@pytest.fixture(scope="module")
async def case(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write("MATCH (n) WHERE n.id STARTS WITH 'AL-' DETACH DELETE n", {})
    await reference_graph.write(SCENARIO, {"kcc": KCC, "stoke": STOKE, "staffs": STAFFS, "bham": BHAM,
                                           "wmp": WMP, "haringey": HARINGEY, "met": MET})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["AL-A", "AL-B", "AL-C", "AL-H"]})
    return reference_graph


def ok(resp: httpx.Response, field: str) -> Any:
    body = resp.json()
    assert resp.status_code == 200 and "errors" not in body, body
    return body["data"][field]


def shape(events: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(e["kind"], e["recipient"], e["reason"], e["subjectType"], e["subjectId"], e["childId"], e["episodeId"])
            for e in events}


class Case:
    def __init__(self, live: Any, graph: Any) -> None:
        self.live, self.graph = live, graph
        self.tokens = {a: live.token(a, role, subject=f"al-{a}") for a, role in (
            (KCC, "la_missing_lead"), (STAFFS, "investigator"), (WMP, "investigator"), (MET, "investigator"))}

    def m(self, agency: str, query: str, input: dict[str, Any], key: str | None = None) -> httpx.Response:
        return self.live.graphql(query, {"input": input, "key": key or str(uuid.uuid4())},
                                 token=self.tokens[agency], purpose=PURPOSE)

    async def appended(self, since: int) -> list[dict[str, Any]]:
        return await events_after(self.graph, since)


def report_a(**extra: Any) -> dict[str, Any]:
    return {"childId": "AL-A", "reporterType": "childrens_home", "reportedAt": "2026-11-30T21:00:00Z",
            "missingFromPlacementId": "AL-P1", "riskAssessment": {"scheme": "2017", "grade": "high"}, **extra}


async def test_alerts_follow_the_case_across_agencies(live_server, case) -> None:  # type: ignore[no-untyped-def]
    t = Case(live_server, case)

    # -- a write that fails after its first report was written rolls back whole: no event
    before = await head_seq(case)
    bad = t.m(STAFFS, TOGETHER, {"children": [report_a(), {**report_a(), "childId": "AL-NOBODY"}]})
    assert bad.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await head_seq(case) == before and await t.appended(before) == []

    # -- Staffordshire (host force) reports AL-A missing from her placement, high risk, with AL-ADULT
    key = str(uuid.uuid4())
    rep = ok(t.m(STAFFS, REPORT, report_a(companions={"personIds": ["AL-ADULT"]}), key), "reportMissing")
    ep, ra = rep["episodeId"], rep["riskAssessmentId"]
    events = await t.appended(before)
    assert shape(events) == {
        # the holders of AL-A; Staffordshire (reporting and host force) made the report: not told
        ("child_reported_missing", KCC, "responsible_la", "Episode", ep, "AL-A", ep),
        ("child_reported_missing", STOKE, "host_la", "Episode", ep, "AL-A", ep),
        ("risk_raised", KCC, "responsible_la", "RiskAssessment", ra, "AL-A", ep),
        ("risk_raised", STOKE, "host_la", "RiskAssessment", ra, "AL-A", ep),
        # AL-B went missing with AL-A: her home LA and home force, about their own child only
        ("linked_child_reported_missing", BHAM, "co_missing:home_la", "Child", "AL-B", "AL-B", None),
        ("linked_child_reported_missing", WMP, "co_missing:home_force", "Child", "AL-B", "AL-B", None),
        # AL-ADULT, linked to Haringey's AL-C, is in the episode: one alert to Haringey, not two
        ("adult_of_concern_in_episode", HARINGEY, "adult_of_concern:responsible_la", "Person", "AL-ADULT",
         "AL-C", None),
    }
    assert len(events) == 7  # one event per (alert, recipient)
    assert [e["seq"] for e in events] == list(range(before + 1, before + 8))  # gap-free, in order
    assert {e["key"] for e in events} >= {f"child_reported_missing|{ep}|{KCC}", f"risk_raised|{ra}|{STOKE}",
                                          f"linked_child_reported_missing|{ep}|AL-B|{WMP}",
                                          f"adult_of_concern_in_episode|{ep}|AL-ADULT|AL-C|{HARINGEY}"}
    assert not {GMP, MET, STAFFS} & {e["recipient"] for e in events}

    # -- the same request again (a client retry with its idempotency key): nothing new
    mid = await head_seq(case)
    assert ok(t.m(STAFFS, REPORT, report_a(companions={"personIds": ["AL-ADULT"]}), key),
              "reportMissing")["episodeId"] == ep
    assert await head_seq(case) == mid

    # -- a regrade to high when already high raises nothing; companions already named raise nothing
    ok(t.m(STAFFS, UPDATE, {"episodeId": ep, "riskAssessment": {"scheme": "2017", "grade": "high"},
                            "companions": {"personIds": ["AL-ADULT"]}}), "updateEpisode")
    assert await head_seq(case) == mid

    # -- West Midlands Police (locate basis) finds her: the holders and the investigating force
    ok(t.m(WMP, FOUND, {"episodeId": ep, "foundAt": "2026-12-01T08:00:00Z",
                        "foundPlace": {"name": "AL Birmingham station", "kind": "transport_hub", "laCode": BHAM,
                                       "forceCode": WMP}}), "recordFound")
    assert shape(await t.appended(mid)) == {
        ("child_found", KCC, "responsible_la", "Episode", ep, "AL-A", ep),
        ("child_found", STOKE, "host_la", "Episode", ep, "AL-A", ep),
        ("child_found", STAFFS, "reporting_force", "Episode", ep, "AL-A", ep),
    }

    # -- the return after a finding is no news; a flag Kent raises goes to the other holders
    mid = await head_seq(case)
    ok(t.m(KCC, RETURN, {"episodeId": ep, "returnedAt": "2026-12-01T10:00:00Z"}), "recordReturn")
    assert await head_seq(case) == mid
    ok(t.m(KCC, RAISE, {"flagId": "AL-FLAG-1", "childId": "AL-A", "type": "cse",
                        "raisedAt": "2026-12-01T11:00:00Z"}), "raiseFlag")
    assert shape(await t.appended(mid)) == {
        ("risk_raised", STOKE, "host_la", "Flag", "AL-FLAG-1", "AL-A", None),
        ("risk_raised", STAFFS, "host_force", "Flag", "AL-FLAG-1", "AL-A", None),
    }


async def test_a_repeat_missing_trigger_alerts_the_rule_area(live_server, case) -> None:  # type: ignore[no-untyped-def]
    t = Case(live_server, case)
    before = await head_seq(case)
    rep = ok(t.m(MET, REPORT, {"childId": "AL-H", "reporterType": "carer", "reportedAt": "2026-11-30T22:00:00Z",
                               "riskAssessment": {"scheme": "2017", "grade": "medium"},
                               "missingFromPlace": {"name": "AL Haringey foster home", "kind": "foster_home",
                                                    "laCode": HARINGEY, "forceCode": MET}}), "reportMissing")
    assert rep["triggers"] == [{"id": "haringey_early_help", "fired": True}]
    ep = rep["episodeId"]
    events = await t.appended(before)
    assert shape(events) == {
        ("child_reported_missing", HARINGEY, "responsible_la", "Episode", ep, "AL-H", ep),
        ("trigger_fired", HARINGEY, "responsible_la", "Episode", ep, "AL-H", ep),
    }
    assert {e["key"] for e in events} == {f"child_reported_missing|{ep}|{HARINGEY}",
                                          f"trigger_fired|{ep}|haringey_early_help|{HARINGEY}"}
