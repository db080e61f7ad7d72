"""A hand-built graph with known answers for hotspots, duties and reconciliation (ids `T4A-`).

Geography (Kent Police / Sussex Police, Kent CC / East Sussex):
- L1 (Kent) and L2 (Sussex) are 150 m apart in two touching grid cells: hot spot H1 straddles
  the force boundary. L3 (Kent, ~10 km north): emerging hot spot H2. L4 (Kent): H3, one child.
  L5 (Sussex, far): H4. LS (a Sussex home), LH (Haringey).

Current window [2026-07-01, 2026-10-01), previous [2026-03-31, 2026-07-01), FOUND_AT:
- H1: K1 (x2: K1a high, K1b), K2 (K2a) at L1; S1 (S1a high), S2, S3 at L2 -> 5 children,
  6 episodes, 2 high; S1-S3 live in Sussex -> 3 of 5 from outside Kent. Previous: K1, K2, S1, S4.
- H2: K3a, K4a, K5a, K6a at L3 -> 4 children; previous: K3 -> emerging.
- H3: K5b at L4 -> 1 child. H4: X1a, X2a at L5 (Sussex).

WENT_TO (private places): S2a and S3a (Sussex Police's episodes) went to LF, a foster home in
Sussex; CH1c (the Met's episode of Haringey's child) went to LR, a flat in Kent: a private place in
Kent Police's own area that Kent Police may not read any episode at.

Duties as of 2026-10-15T12:00Z: RI1 (K1a) offered, due 3 days before; RI2 completed; RI3 due
tomorrow. P1 (K3, Kent CC -> East Sussex, from 2026-09-01) never notified to the host LA; N1
(P1 -> Sussex Police) never sent, due 2026-09-10; N2 (P2, K4) sent, never acknowledged, due
2026-08-08. K2a found by Kent Police 2026-08-20T10:00, no found notification; K1a's was sent.
CH1 (Haringey) has 3 episodes, the third on 2026-07-01T12:00Z: Haringey's ">= 3" trigger.

Reconciliation, Kent CC, [2026-07-01, 2026-10-01): K3a dates disagree (48 h), K1b police only,
K4a LA only; K1a, K2a, K5a, K6a, K5b agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mpdb.domain.geo import cell_centre, cell_id, offset_point
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.hotspot_buckets import rebuild as rebuild_hotspot_buckets

KF, SF, MET = "E23000032", "E23000033", "E23000001"
KLA, ESLA, HAR = "E10000016", "E10000011", "E09000014"
AS_OF = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)


def _points() -> dict[str, tuple[float, float]]:
    c_lat, c_lon = cell_centre(cell_id(51.13, 0.26))
    p1 = offset_point(c_lat, c_lon, 0.0, 0.17)
    p2 = offset_point(c_lat, c_lon, 0.0, 0.32)
    return {
        "T4A-L1": p1, "T4A-L2": p2, "T4A-L3": (51.22, 0.26), "T4A-L4": (51.30, 0.50),
        "T4A-L5": (50.90, 0.00), "T4A-LS": (50.95, 0.10), "T4A-LH": (51.59, -0.11),
        "T4A-LF": (50.9712, 0.0534), "T4A-LR": (51.2811, 0.5213),
    }


LOCATIONS = {  # id: (name, kind, laCode, forceCode)
    "T4A-L1": ("Station car park (Kent side)", "transport_hub", KLA, KF),
    "T4A-L2": ("Retail park (Sussex side)", "retail", ESLA, SF),
    "T4A-L3": ("Town park", "park", KLA, KF),
    "T4A-L4": ("High street", "public_place", KLA, KF),
    "T4A-L5": ("Seafront", "public_place", ESLA, SF),
    "T4A-LS": ("A home", "residence", ESLA, SF),
    "T4A-LH": ("A children's home", "childrens_home", HAR, MET),
    "T4A-LF": ("A foster home", "foster_home", ESLA, SF),
    "T4A-LR": ("A flat", "residence", KLA, KF),
}

# id: (looked after by, home location)
CHILDREN = {
    **{f"T4A-K{i}": (KLA, None) for i in range(1, 7)},
    **{f"T4A-S{i}": (None, "T4A-LS") for i in range(1, 5)},
    "T4A-X1": (None, "T4A-LS"), "T4A-X2": (None, "T4A-LS"),
    "T4A-CH1": (HAR, None),
}


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


# id: child, reportedAt, found location, grade, reported to, found by, foundAt
EPISODES = [
    ("T4A-E-K1a", "T4A-K1", "2026-07-10T10:00", "T4A-L1", "high", KF, KF, "2026-07-10T20:00"),
    ("T4A-E-K1b", "T4A-K1", "2026-08-05T10:00", "T4A-L1", "medium", KF, None, None),
    ("T4A-E-K2a", "T4A-K2", "2026-08-20T08:00", "T4A-L1", "low", KF, KF, "2026-08-20T10:00"),
    ("T4A-E-S1a", "T4A-S1", "2026-07-15T10:00", "T4A-L2", "high", SF, None, None),
    ("T4A-E-S2a", "T4A-S2", "2026-08-15T10:00", "T4A-L2", "low", SF, None, None),
    ("T4A-E-S3a", "T4A-S3", "2026-09-15T10:00", "T4A-L2", "medium", SF, None, None),
    ("T4A-E-K3a", "T4A-K3", "2026-08-01T10:00", "T4A-L3", "medium", KF, None, None),
    ("T4A-E-K4a", "T4A-K4", "2026-08-10T10:00", "T4A-L3", "low", None, None, None),
    ("T4A-E-K5a", "T4A-K5", "2026-09-01T10:00", "T4A-L3", "low", KF, None, None),
    ("T4A-E-K6a", "T4A-K6", "2026-09-10T10:00", "T4A-L3", "medium", KF, None, None),
    ("T4A-E-K5b", "T4A-K5", "2026-09-20T10:00", "T4A-L4", "low", KF, None, None),
    ("T4A-E-X1a", "T4A-X1", "2026-08-01T10:00", "T4A-L5", "low", SF, None, None),
    ("T4A-E-X2a", "T4A-X2", "2026-08-02T10:00", "T4A-L5", "low", SF, None, None),
    # previous period
    ("T4A-E-K1p", "T4A-K1", "2026-05-01T10:00", "T4A-L1", "low", KF, None, None),
    ("T4A-E-K2p", "T4A-K2", "2026-05-02T10:00", "T4A-L1", "low", KF, None, None),
    ("T4A-E-S1p", "T4A-S1", "2026-05-03T10:00", "T4A-L2", "low", SF, None, None),
    ("T4A-E-S4p", "T4A-S4", "2026-05-04T10:00", "T4A-L2", "low", SF, None, None),
    ("T4A-E-K3p", "T4A-K3", "2026-05-10T10:00", "T4A-L3", "low", KF, None, None),
    # Haringey repeat child: no found place (kept out of the hot spots)
    ("T4A-E-CH1a", "T4A-CH1", "2026-05-01T12:00", None, "low", MET, None, None),
    ("T4A-E-CH1b", "T4A-CH1", "2026-06-01T12:00", None, "low", MET, None, None),
    ("T4A-E-CH1c", "T4A-CH1", "2026-07-01T12:00", None, "low", MET, None, None),
]

# episode: [(record id, agency, startAt, endAt)]
RECORDS = {
    "T4A-E-K1a": [("T4A-R-K1a-p", KF, "2026-07-10T10:00", "2026-07-10T20:00"),
                  ("T4A-R-K1a-l", KLA, "2026-07-10T12:00", "2026-07-10T21:00")],
    "T4A-E-K1b": [("T4A-R-K1b-p", KF, "2026-08-05T10:00", "2026-08-06T10:00")],
    "T4A-E-K2a": [("T4A-R-K2a-p", KF, "2026-08-20T08:00", "2026-08-20T10:00"),
                  ("T4A-R-K2a-l", KLA, "2026-08-20T08:00", "2026-08-20T10:00")],
    "T4A-E-K3a": [("T4A-R-K3a-p", KF, "2026-08-01T10:00", None),
                  ("T4A-R-K3a-l", KLA, "2026-08-03T10:00", None)],
    "T4A-E-K4a": [("T4A-R-K4a-l", KLA, "2026-08-10T10:00", "2026-08-10T22:00")],
    **{e: [(f"T4A-R-{e[6:]}-p", KF, s, None), (f"T4A-R-{e[6:]}-l", KLA, s, None)]
       for e, s in (("T4A-E-K5a", "2026-09-01T10:00"), ("T4A-E-K6a", "2026-09-10T10:00"),
                    ("T4A-E-K5b", "2026-09-20T10:00"))},
}

SCENARIO = """
UNWIND $locations AS l
MATCH (la:LocalAuthority {code: l.laCode}), (f:Force {code: l.forceCode})
CREATE (loc:Location {id: l.id, name: l.name, kind: l.kind, laCode: l.laCode, forceCode: l.forceCode,
                      cell: l.cell, point: point({latitude: l.lat, longitude: l.lon}),
                      recordedBy: 'MPDB', sourceSystem: 'test'})
CREATE (loc)-[:IN_LA]->(la), (loc)-[:IN_FORCE]->(f)
WITH count(*) AS _
UNWIND $children AS ch
CREATE (c:Child {id: ch.id, pseudonym: ch.id + '-P', lookedAfter: ch.la IS NOT NULL, sourceSystem: 'test'})
WITH c, ch
CALL (c, ch) { MATCH (la:LocalAuthority {code: ch.la}) CREATE (c)-[:LOOKED_AFTER_BY]->(la) }
CALL (c, ch) { MATCH (h:Location {id: ch.home}) CREATE (c)-[:HOME_AT]->(h) }
WITH count(*) AS _
UNWIND $episodes AS ep
MATCH (c:Child {id: ep.child})
CREATE (c)-[:HAD]->(e:Episode {id: ep.id, status: 'closed', reportedAt: datetime(ep.reportedAt),
                               foundAt: CASE WHEN ep.foundAt IS NULL THEN null ELSE datetime(ep.foundAt) END,
                               riskGrade: ep.grade, gradeScheme: '2017', sourceSystem: 'test'})
WITH e, ep
CALL (e, ep) { MATCH (l:Location {id: ep.found}) CREATE (e)-[:FOUND_AT]->(l) }
CALL (e, ep) { MATCH (f:Force {code: ep.reportedTo}) CREATE (e)-[:REPORTED_TO]->(f) }
CALL (e, ep) { MATCH (f:Force {code: ep.foundBy}) CREATE (e)-[:FOUND_BY]->(f) }
WITH count(*) AS _
UNWIND $records AS r
MATCH (e:Episode {id: r.episode})
CREATE (:EpisodeRecord {id: r.id, agencyId: r.agency, sourceSystem: 'test', sourceRef: r.id,
                        startAt: datetime(r.startAt),
                        endAt: CASE WHEN r.endAt IS NULL THEN null ELSE datetime(r.endAt) END})-[:RECORD_OF]->(e)
"""

DUTIES = """
MATCH (kla:Agency {id: $kla}), (esla:LocalAuthority {code: $esla}), (sf:Force {code: $sf}), (kf:Force {code: $kf})
MATCH (k3:Child {id: 'T4A-K3'}), (k4:Child {id: 'T4A-K4'})
MATCH (k1a:Episode {id: 'T4A-E-K1a'}), (k2a:Episode {id: 'T4A-E-K2a'}), (k5a:Episode {id: 'T4A-E-K5a'})
MATCH (l4:Location {id: 'T4A-L5'})
CREATE (k1a)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'T4A-RI1', status: 'offered',
        offeredAt: datetime('2026-07-11T09:00Z'), dueAt: datetime($asOf) - duration({days: 3})})-[:BY]->(kla)
CREATE (k2a)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'T4A-RI2', status: 'completed',
        dueAt: datetime('2026-08-23T10:00Z'), completedAt: datetime('2026-08-22T10:00Z')})-[:BY]->(kla)
CREATE (k5a)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'T4A-RI3', status: 'offered',
        dueAt: datetime($asOf) + duration({days: 1})})-[:BY]->(kla)
CREATE (k3)-[:PLACED_IN]->(p1:Placement {id: 'T4A-P1', startDate: date('2026-09-01'), outOfArea: true,
        crossForce: true, placementType: 'K2'})
CREATE (p1)-[:PLACED_BY]->(kla), (p1)-[:HOSTED_BY]->(esla), (p1)-[:IN_FORCE_AREA]->(sf), (p1)-[:AT_LOCATION]->(l4)
CREATE (k4)-[:PLACED_IN]->(p2:Placement {id: 'T4A-P2', startDate: date('2026-07-01'), outOfArea: true,
        crossForce: true, placementType: 'U4'})
CREATE (p2)-[:PLACED_BY]->(kla), (p2)-[:HOSTED_BY]->(esla), (p2)-[:IN_FORCE_AREA]->(sf), (p2)-[:AT_LOCATION]->(l4)
CREATE (n1:Notification {id: 'T4A-N1', kind: 'placement_to_host_force', dueAt: datetime('2026-09-10T00:00Z')})
CREATE (n1)-[:ABOUT]->(p1), (n1)-[:FROM]->(kla), (n1)-[:TO]->(sf)
CREATE (n2:Notification {id: 'T4A-N2', kind: 'placement_to_host_la', sentAt: datetime('2026-08-01T09:00Z'),
        dueAt: datetime('2026-08-08T00:00Z')})
CREATE (n2)-[:ABOUT]->(p2), (n2)-[:FROM]->(kla), (n2)-[:TO]->(esla)
CREATE (n3:Notification {id: 'T4A-N3', kind: 'found_to_responsible_la', sentAt: datetime('2026-07-10T21:00Z'),
        acknowledgedAt: datetime('2026-07-11T09:00Z'), dueAt: datetime('2026-07-11T20:00Z')})
CREATE (n3)-[:ABOUT]->(k1a), (n3)-[:FROM]->(kf), (n3)-[:TO]->(kla)
WITH 1 AS _
MATCH (l:Location {id: 'T4A-LH'}), (e:Episode) WHERE e.id STARTS WITH 'T4A-E-CH1'
CREATE (e)-[:MISSING_FROM_LOCATION]->(l)
WITH count(*) AS _
MATCH (lf:Location {id: 'T4A-LF'}), (s2a:Episode {id: 'T4A-E-S2a'}), (s3a:Episode {id: 'T4A-E-S3a'})
CREATE (s2a)-[:WENT_TO {at: datetime('2026-08-15T14:00Z'), source: 'rhi'}]->(lf),
       (s3a)-[:WENT_TO {at: datetime('2026-09-15T14:00Z'), source: 'rhi'}]->(lf)
WITH count(*) AS _
MATCH (lr:Location {id: 'T4A-LR'}), (ch1c:Episode {id: 'T4A-E-CH1c'})
CREATE (ch1c)-[:WENT_TO {at: datetime('2026-07-01T18:00Z'), source: 'found'}]->(lr)
"""


async def build_scenario(graph) -> None:  # type: ignore[no-untyped-def]
    """Expects a graph holding the reference data and nothing with ids starting `T4A-`."""
    points = _points()
    locations = [{"id": i, "name": n, "kind": k, "laCode": la, "forceCode": f, "lat": points[i][0],
                  "lon": points[i][1], "cell": cell_id(*points[i])} for i, (n, k, la, f) in LOCATIONS.items()]
    await graph.write(SCENARIO, {
        "locations": locations,
        "children": [{"id": i, "la": la, "home": home} for i, (la, home) in CHILDREN.items()],
        "episodes": [{"id": i, "child": c, "reportedAt": r + "Z", "found": loc, "grade": g, "reportedTo": rt,
                      "foundBy": fb, "foundAt": fa + "Z" if fa else None}
                     for i, c, r, loc, g, rt, fb, fa in EPISODES],
        "records": [{"episode": e, "id": i, "agency": a, "startAt": s + "Z", "endAt": en + "Z" if en else None}
                    for e, recs in RECORDS.items() for i, a, s, en in recs],
    })
    await graph.write(DUTIES, {"kla": KLA, "esla": ESLA, "sf": SF, "kf": KF, "asOf": AS_OF.isoformat()})
    await graph.write(REFRESH_ACCESS, {"childIds": list(CHILDREN)})
    # Written straight to the graph, like a bulk load: the hot-spot buckets are computed after.
    await rebuild_hotspot_buckets(graph, days_per_batch=366)
