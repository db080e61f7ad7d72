"""A hand-built graph for the duties and my-area pages (ids `CP-`), dated relative to now so the
pages' default windows ("the last 90 days") have known answers whenever the suite runs.

Kent CC (KCC) looks after K1-K5; East Sussex (ESCC) looks after S1 and S2.
- K1 Amber Quill: episode E-K1 reported to Kent Police 10 days ago, found by Kent Police 10 days
  ago (no found notification: FOUND_NOT_NOTIFIED due 9 days ago); return interview RI-K1 offered,
  due 7 days ago. E-K1 was WITH_CHILD S2 and K5 (they went missing together).
- K2 Basil Thorne: episode 735 days ago, return interview RI-K2 due 730 days ago (an old undone
  duty that must not bury this quarter's: only in the "any date" window).
- K3 Cora Vane, "Jr" (a name with a comma and quotes): placed by KCC in East Sussex (Sussex
  Police's area) 40 days ago, never notified: NOTIFICATION_UNSENT due 35 days ago (midnight UTC).
- K4 Dara Fenn: found by Kent Police 30.5 hours ago, no notification: FOUND_NOT_NOTIFIED due
  6.5 hours ago ("6 hours" overdue).
- K5 "=SUM(A1)" Quill (a formula as a name): episode 25 days ago, RI-K5 due 20 days ago.
- S1 Eli Marsh (ESCC): placed by ESCC in Kent 100 days ago; notification N-S1 sent 99 days ago,
  never acknowledged, due 60 days ago (NOTIFICATION_UNACKNOWLEDGED for both LAs).
- S2 Fay Rook (ESCC): episode reported to Kent Police 10 days ago; KCC may not read her, so she is
  KCC's linked child in summary form (linked to K1, explicit). Kent Police reads K1, K5 and S2:
  one co-missing group of three.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mpdb.graph.queries.access import REFRESH_ACCESS

KP, SP = "E23000032", "E23000033"
KCC, ESCC = "E10000016", "E10000011"

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()

# id: (given, family, date of birth, looked after by)
CHILDREN = {
    "CP-K1": ("Amber", "Quill", "2011-04-02", KCC),
    "CP-K2": ("Basil", "Thorne", "2010-01-15", KCC),
    "CP-K3": ("Cora", 'Vane, "Jr"', "2012-06-30", KCC),
    "CP-K4": ("Dara", "Fenn", "2011-09-09", KCC),
    "CP-K5": ("=SUM(A1)", "Quill", "2012-02-29", KCC),
    "CP-S1": ("Eli", "Marsh", "2010-12-01", ESCC),
    "CP-S2": ("Fay", "Rook", "2011-07-07", ESCC),
}


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


# id: child, reported, found (or None), found by Kent Police
EPISODES = [
    ("CP-E-K1", "CP-K1", ago(days=10, hours=6), ago(days=10), True),
    ("CP-E-K2", "CP-K2", ago(days=735), None, False),
    ("CP-E-K4", "CP-K4", ago(hours=40), ago(hours=30, minutes=30), True),
    ("CP-E-K5", "CP-K5", ago(days=25), None, False),
    ("CP-E-S2", "CP-S2", ago(days=10, hours=6), None, False),
]

SCENARIO = """
UNWIND $children AS ch
MATCH (la:LocalAuthority {code: ch.la})
CREATE (c:Child {id: ch.id, pseudonym: 'P-' + ch.id, givenName: ch.given, familyName: ch.family,
                 dateOfBirth: date(ch.dob), sex: 'F', lookedAfter: true, sourceSystem: 'test'})
CREATE (c)-[:LOOKED_AFTER_BY]->(la)
WITH count(*) AS _
MATCH (kp:Force {code: $kp})
UNWIND $episodes AS ep
MATCH (c:Child {id: ep.child})
CREATE (c)-[:HAD]->(e:Episode {id: ep.id, status: 'closed', reportedAt: ep.reportedAt, foundAt: ep.foundAt,
                               riskGrade: 'medium', gradeScheme: '2017', sourceSystem: 'test'})
CREATE (e)-[:REPORTED_TO]->(kp)
WITH e, ep, kp
CALL (e, ep, kp) { WITH * WHERE ep.foundByKp CREATE (e)-[:FOUND_BY]->(kp) }
WITH count(*) AS _
MATCH (kcc:Agency {id: $kcc}), (kccLa:LocalAuthority {code: $kcc}), (escc:LocalAuthority {code: $escc}),
      (esccAgency:Agency {id: $escc}), (sp:Force {code: $sp}), (kp:Force {code: $kp})
MATCH (k1:Child {id: 'CP-K1'}), (k3:Child {id: 'CP-K3'}), (k5:Child {id: 'CP-K5'}), (s1:Child {id: 'CP-S1'}),
      (s2:Child {id: 'CP-S2'})
MATCH (ek1:Episode {id: 'CP-E-K1'}), (ek2:Episode {id: 'CP-E-K2'}), (ek5:Episode {id: 'CP-E-K5'})
CREATE (ek1)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'CP-RI-K1', status: 'offered', offeredAt: $riK1Offered,
        dueAt: $riK1Due})-[:BY]->(kcc)
CREATE (ek2)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'CP-RI-K2', status: 'offered', dueAt: $riK2Due})-[:BY]->(kcc)
CREATE (ek5)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'CP-RI-K5', status: 'not_offered', dueAt: $riK5Due})-[:BY]->(kcc)
CREATE (ek1)-[:WITH_CHILD {source: 'reported'}]->(s2), (ek1)-[:WITH_CHILD {source: 'reported'}]->(k5)
CREATE (k3)-[:PLACED_IN]->(p1:Placement {id: 'CP-P1', startDate: $p1Start, outOfArea: true, crossForce: true,
        placementType: 'K2', distanceKm: 61.0})
CREATE (p1)-[:PLACED_BY]->(kccLa), (p1)-[:HOSTED_BY]->(escc), (p1)-[:IN_FORCE_AREA]->(sp)
CREATE (s1)-[:PLACED_IN]->(p2:Placement {id: 'CP-P2', startDate: $p2Start, outOfArea: true, crossForce: true,
        placementType: 'U4', distanceKm: 48.0})
CREATE (p2)-[:PLACED_BY]->(escc), (p2)-[:HOSTED_BY]->(kccLa), (p2)-[:IN_FORCE_AREA]->(kp)
CREATE (n:Notification {id: 'CP-N-S1', kind: 'placement_to_host_la', sentAt: $nSent, dueAt: $nDue})
CREATE (n)-[:ABOUT]->(p2), (n)-[:FROM]->(esccAgency), (n)-[:TO]->(kcc)
"""


def scenario_params() -> dict[str, object]:
    return {
        "kp": KP, "sp": SP, "kcc": KCC, "escc": ESCC,
        "children": [{"id": i, "given": g, "family": f, "dob": d, "la": la} for i, (g, f, d, la) in CHILDREN.items()],
        "episodes": [{"id": i, "child": c, "reportedAt": r, "foundAt": fa, "foundByKp": fb}
                     for i, c, r, fa, fb in EPISODES],
        "riK1Offered": ago(days=9), "riK1Due": ago(days=7), "riK2Due": ago(days=730), "riK5Due": ago(days=20),
        "p1Start": TODAY - timedelta(days=40), "p2Start": TODAY - timedelta(days=100),
        "nSent": ago(days=99), "nDue": ago(days=60),
    }


def p1_due() -> datetime:
    """The never-sent placement notice is due 5 days after the placement's start day (midnight UTC)."""
    start = TODAY - timedelta(days=40) + timedelta(days=5)
    return datetime(start.year, start.month, start.day, tzinfo=UTC)


async def build_pages_scenario(graph) -> None:  # type: ignore[no-untyped-def]
    """Expects a graph holding the reference data and nothing with ids starting `CP-`."""
    await graph.write(SCENARIO, scenario_params())
    await graph.write(REFRESH_ACCESS, {"childIds": list(CHILDREN)})


