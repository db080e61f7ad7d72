"""The link queries on a hand-built scenario with known answers (all ids prefixed T4L-).

Everything happens in 2019 (asOf 2019-12-31), so the answers do not depend on data other tests
write at today's date; the module fixture also clears non-reference data first, because
linkedChildren's anchors are not time-bound.

    A (Kent CC looks after; placed in Haringey, Met area)   B (Haringey looks after; placed in Medway, Kent)
    A-B  found together twice (explicit, both forces' records; the 2nd also same found-at place)
    B-G  G's episode names B (explicit)                       G (Medway looks after)
    B-C  overlapping windows, both FOUND_AT Chatham station (inferred)
    H-X  H's Essex episode names X; X is known to Surrey Police only (invisible to Essex). H is looked
         after by Southend, X by Surrey CC; X carries an active CSE flag raised by Surrey Police
    J-K  overlapping windows in one cell: J (Essex) found at Southend pier, K (Surrey) went to a
         private address in the pier's cell (one inferred incident: no group)
    M    adult named in episodes of A (Met), B (Kent), E (Essex) + recorded association with F (Kent)
    N    adult named in episodes of A (Met) and C (Kent)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

import strawberry

from mpdb.api.types.intel_links import (
    ChildSummary,
    CoMissingLink,
    EvidenceEpisode,
    FlagSummary,
    LinkKind,
    LinkPlace,
    PeerEpisode,
    RiskPeer,
    risk_profile_from,
)
from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.domain.errors import Forbidden, InvalidInput
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.intel import associates, co_missing, linked_children, risk_profile
from mpdb.intel.co_missing import Evidence, strength
from mpdb.services.context import ServiceContext

pytestmark = pytest.mark.integration

MET, KENT, ESSEX, SURREY = "E23000001", "E23000032", "E23000028", "E23000031"
KCC, HARINGEY, MEDWAY, SOUTHEND, SURREY_CC = "E10000016", "E09000014", "E06000035", "E06000033", "E10000030"
NATIONAL_UNIT = "NCA-MPU"
AS_OF = datetime(2019, 12, 31, tzinfo=UTC)
SINCE = datetime(2019, 1, 1, tzinfo=UTC)
CHILDREN = ["T4L-A", "T4L-B", "T4L-C", "T4L-E", "T4L-F", "T4L-G", "T4L-H", "T4L-X", "T4L-J", "T4L-K"]

CLEAR = """
MATCH (n) WHERE NOT (n:SchemaMigration OR n:Agency OR n:AuditEvent OR n:AuditHead OR n:DatasetInfo)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
"""

SCENARIO = """
MERGE (met:Force:Agency {code: $met}) ON CREATE SET met.id = $met, met.kind = 'police_force', met.name = 'Met'
MERGE (kent:Force:Agency {code: $kent}) ON CREATE SET kent.id = $kent, kent.kind = 'police_force', kent.name = 'Kent'
MERGE (essex:Force:Agency {code: $essex}) ON CREATE SET essex.id = $essex, essex.kind = 'police_force', essex.name = 'Essex'
MERGE (surrey:Force:Agency {code: $surrey}) ON CREATE SET surrey.id = $surrey, surrey.kind = 'police_force', surrey.name = 'Surrey'
MERGE (kcc:LocalAuthority:Agency {code: $kcc}) ON CREATE SET kcc.id = $kcc, kcc.kind = 'local_authority', kcc.name = 'Kent'
MERGE (har:LocalAuthority:Agency {code: $haringey}) ON CREATE SET har.id = $haringey, har.kind = 'local_authority', har.name = 'Haringey'
MERGE (med:LocalAuthority:Agency {code: $medway}) ON CREATE SET med.id = $medway, med.kind = 'local_authority', med.name = 'Medway'
MERGE (sos:LocalAuthority:Agency {code: $southend}) ON CREATE SET sos.id = $southend, sos.kind = 'local_authority', sos.name = 'Southend'
MERGE (scc:LocalAuthority:Agency {code: $surreyCc}) ON CREATE SET scc.id = $surreyCc, scc.kind = 'local_authority', scc.name = 'Surrey'

CREATE (stn:Location {id: 'T4L-L-CHATHAM-STN', name: 'Chatham station', kind: 'transport_hub', laCode: $medway, forceCode: $kent, cell: 'g500:t4l:1', point: point({latitude: 51.380, longitude: 0.521})})
CREATE (park:Location {id: 'T4L-L-CHATHAM-PARK', name: 'Chatham park', kind: 'park', laCode: $medway, forceCode: $kent, cell: 'g500:t4l:1', point: point({latitude: 51.381, longitude: 0.522})})
CREATE (shop:Location {id: 'T4L-L-HARINGEY-SHOP', name: 'Wood Green shops', kind: 'retail', laCode: $haringey, forceCode: $met, cell: 'g500:t4l:2', point: point({latitude: 51.597, longitude: -0.109})})
CREATE (mai:Location {id: 'T4L-L-MAIDSTONE', name: 'Maidstone centre', kind: 'public_place', laCode: $kcc, forceCode: $kent, cell: 'g500:t4l:3', point: point({latitude: 51.272, longitude: 0.522})})
CREATE (pier:Location {id: 'T4L-L-SOUTHEND-PIER', name: 'Southend pier', kind: 'public_place', laCode: $southend, forceCode: $essex, cell: 'g500:t4l:4', point: point({latitude: 51.530, longitude: 0.717})})
CREATE (mhome:Location {id: 'T4L-L-MEDWAY-HOME', name: 'Medway address', kind: 'address', laCode: $medway, forceCode: $kent, cell: 'g500:t4l:5', point: point({latitude: 51.390, longitude: 0.540})})
CREATE (fhome:Location {id: 'T4L-L-F-HOME', name: 'F address', kind: 'address', laCode: $kcc, forceCode: $kent, cell: 'g500:t4l:6', point: point({latitude: 51.100, longitude: 1.100})})
CREATE (sur:Location {id: 'T4L-L-GUILDFORD', name: 'Guildford', kind: 'public_place', laCode: $surreyCc, forceCode: $surrey, cell: 'g500:t4l:7', point: point({latitude: 51.236, longitude: -0.570})})
CREATE (hhome:Location {id: 'T4L-L-HARINGEY-HOME', name: 'Haringey home', kind: 'childrens_home', laCode: $haringey, forceCode: $met, cell: 'g500:t4l:8', point: point({latitude: 51.590, longitude: -0.100})})
CREATE (khome:Location {id: 'T4L-L-K-HOME', name: 'K family address', kind: 'residence', laCode: $southend, forceCode: $essex, cell: 'g500:t4l:4', point: point({latitude: 51.531, longitude: 0.716})})
WITH *
UNWIND [stn, park, shop, mai, pier, mhome, fhome, sur, hhome, khome] AS l
MATCH (la:LocalAuthority {code: l.laCode}), (f:Force {code: l.forceCode})
MERGE (l)-[:IN_LA]->(la)
MERGE (l)-[:IN_FORCE]->(f)
WITH DISTINCT met, kent, essex, surrey, kcc, har, med, sos, scc, stn, park, shop, mai, pier, mhome, fhome, sur, hhome, khome

CREATE (a:Child {id: 'T4L-A', pseudonym: 'PT4L-A', givenName: 'Ava', familyName: 'Synthtest', sex: 'F', dateOfBirth: date('2004-02-01'), lookedAfter: true})
CREATE (b:Child {id: 'T4L-B', pseudonym: 'PT4L-B', givenName: 'Ben', familyName: 'Synthtest', sex: 'M', dateOfBirth: date('2003-05-01'), lookedAfter: true})
CREATE (c:Child {id: 'T4L-C', pseudonym: 'PT4L-C', givenName: 'Cal', familyName: 'Synthtest', sex: 'M', dateOfBirth: date('2006-01-10'), lookedAfter: false})
CREATE (e:Child {id: 'T4L-E', pseudonym: 'PT4L-E', givenName: 'Eve', familyName: 'Synthtest', sex: 'F', dateOfBirth: date('2005-01-10'), lookedAfter: false})
CREATE (f:Child {id: 'T4L-F', pseudonym: 'PT4L-F', givenName: 'Fay', familyName: 'Synthtest', sex: 'F', dateOfBirth: date('2004-07-10'), lookedAfter: false})
CREATE (g:Child {id: 'T4L-G', pseudonym: 'PT4L-G', givenName: 'Gus', familyName: 'Synthtest', sex: 'M', dateOfBirth: date('2009-03-01'), lookedAfter: true})
CREATE (h:Child {id: 'T4L-H', pseudonym: 'PT4L-H', givenName: 'Hal', familyName: 'Synthtest', sex: 'M', dateOfBirth: date('2004-03-01'), lookedAfter: true})
CREATE (x:Child {id: 'T4L-X', pseudonym: 'PT4L-X', givenName: 'Xan', familyName: 'Synthtest', sex: 'U', dateOfBirth: date('2004-04-01'), lookedAfter: true})
CREATE (j:Child {id: 'T4L-J', pseudonym: 'PT4L-J', givenName: 'Jo', familyName: 'Synthtest', sex: 'F', dateOfBirth: date('2005-06-01'), lookedAfter: false})
CREATE (k:Child {id: 'T4L-K', pseudonym: 'PT4L-K', givenName: 'Kit', familyName: 'Synthtest', sex: 'M', dateOfBirth: date('2005-08-01'), lookedAfter: false})
CREATE (a)-[:LOOKED_AFTER_BY]->(kcc), (b)-[:LOOKED_AFTER_BY]->(har), (g)-[:LOOKED_AFTER_BY]->(med)
CREATE (h)-[:LOOKED_AFTER_BY]->(sos), (x)-[:LOOKED_AFTER_BY]->(scc)

CREATE (est:Establishment {id: 'T4L-EST-1', name: 'Haringey Lodge', kind: 'childrens_home'})-[:AT_LOCATION]->(hhome)
CREATE (a)-[:PLACED_IN]->(pa0:Placement {id: 'T4L-P-A0', startDate: date('2017-01-01'), endDate: date('2018-05-31'), placementType: 'U1', outOfArea: false, crossForce: false, dcsApproved: true})
CREATE (pa0)-[:PLACED_BY]->(kcc), (pa0)-[:HOSTED_BY]->(kcc), (pa0)-[:IN_FORCE_AREA]->(kent)
CREATE (a)-[:PLACED_IN]->(pa:Placement {id: 'T4L-P-A', startDate: date('2018-06-01'), placementType: 'K2', distanceKm: 62.5, outOfArea: true, crossForce: true, dcsApproved: true})
CREATE (pa)-[:PLACED_BY]->(kcc), (pa)-[:HOSTED_BY]->(har), (pa)-[:IN_FORCE_AREA]->(met), (pa)-[:AT]->(est), (pa)-[:AT_LOCATION]->(hhome)
CREATE (b)-[:PLACED_IN]->(pb:Placement {id: 'T4L-P-B', startDate: date('2018-09-01'), placementType: 'H5', distanceKm: 55.0, outOfArea: true, crossForce: true, dcsApproved: false})
CREATE (pb)-[:PLACED_BY]->(har), (pb)-[:HOSTED_BY]->(med), (pb)-[:IN_FORCE_AREA]->(kent), (pb)-[:AT_LOCATION]->(mhome)
CREATE (g)-[:PLACED_IN]->(pg:Placement {id: 'T4L-P-G', startDate: date('2019-01-01'), placementType: 'U4', outOfArea: false, crossForce: false})
CREATE (pg)-[:PLACED_BY]->(med), (pg)-[:HOSTED_BY]->(med), (pg)-[:IN_FORCE_AREA]->(kent)

CREATE (a)-[:HAS_FLAG]->(fl1:Flag {id: 'T4L-FL-1', type: 'cse', status: 'active', raisedAt: datetime('2019-03-05T10:00:00Z'), note: 'older males, Chatham'})-[:RAISED_BY]->(kent)
CREATE (a)-[:HAS_FLAG]->(fl2:Flag {id: 'T4L-FL-2', type: 'mental_health', status: 'expired', raisedAt: datetime('2018-01-05T10:00:00Z'), expiredAt: datetime('2018-12-01T10:00:00Z')})-[:RAISED_BY]->(kcc)
CREATE (b)-[:HAS_FLAG]->(fl3:Flag {id: 'T4L-FL-3', type: 'cce_county_lines', status: 'active', raisedAt: datetime('2019-02-01T10:00:00Z')})-[:RAISED_BY]->(med)
CREATE (x)-[:HAS_FLAG]->(fl4:Flag {id: 'T4L-FL-4', type: 'cse', status: 'active', raisedAt: datetime('2019-04-20T10:00:00Z'), note: 'T4L-X-FLAG-NOTE'})-[:RAISED_BY]->(surrey)

CREATE (m:Person {id: 'T4L-P-M', name: 'Mal Adult', role: 'adult_of_concern'})
CREATE (n:Person {id: 'T4L-P-N', name: 'Nat Adult', role: 'adult_of_concern'})

CREATE (a)-[:HAD]->(ea1:Episode {id: 'T4L-E-A1', status: 'closed', reportedAt: datetime('2019-03-01T18:00:00Z'), foundAt: datetime('2019-03-02T10:00:00Z'), returnedAt: datetime('2019-03-02T12:00:00Z')})
CREATE (ea1)-[:REPORTED_TO]->(met), (ea1)-[:FOUND_BY]->(kent), (ea1)-[:FOUND_AT]->(stn), (ea1)-[:WITH_CHILD {source: 'found'}]->(b), (ea1)-[:MISSING_FROM]->(pa)
CREATE (ea1)-[:FOLLOWED_BY]->(ri:ReturnInterview {id: 'T4L-RI-1', status: 'completed', offeredAt: datetime('2019-03-03T09:00:00Z'), completedAt: datetime('2019-03-04T09:00:00Z'), dueAt: datetime('2019-03-05T12:00:00Z'), confidentialAccount: 'T4L-CONFIDENTIAL-ACCOUNT', summaryPlaces: ['Chatham station'], summaryPeople: ['older male'], summaryWith: ['Ben'], summaryRiskTypes: ['cse']})-[:BY]->(kcc)
CREATE (b)-[:HAD]->(eb1:Episode {id: 'T4L-E-B1', status: 'closed', reportedAt: datetime('2019-03-01T19:00:00Z'), foundAt: datetime('2019-03-02T10:00:00Z')})
CREATE (eb1)-[:REPORTED_TO]->(kent), (eb1)-[:FOUND_BY]->(kent), (eb1)-[:FOUND_AT]->(stn), (eb1)-[:WITH_CHILD {source: 'found'}]->(a)
CREATE (a)-[:HAD]->(ea2:Episode {id: 'T4L-E-A2', status: 'closed', reportedAt: datetime('2019-06-10T20:00:00Z'), foundAt: datetime('2019-06-11T09:00:00Z')})
CREATE (ea2)-[:REPORTED_TO]->(met), (ea2)-[:FOUND_BY]->(met), (ea2)-[:FOUND_AT]->(shop), (ea2)-[:WITH_CHILD {source: 'found'}]->(b), (ea2)-[:WITH_PERSON {source: 'rhi'}]->(n)
CREATE (b)-[:HAD]->(eb2:Episode {id: 'T4L-E-B2', status: 'closed', reportedAt: datetime('2019-06-10T21:00:00Z'), foundAt: datetime('2019-06-11T09:00:00Z')})
CREATE (eb2)-[:REPORTED_TO]->(kent), (eb2)-[:FOUND_BY]->(met), (eb2)-[:FOUND_AT]->(shop)
CREATE (g)-[:HAD]->(eg1:Episode {id: 'T4L-E-G1', status: 'closed', reportedAt: datetime('2019-07-01T20:00:00Z'), foundAt: datetime('2019-07-02T08:00:00Z')})
CREATE (eg1)-[:REPORTED_TO]->(kent), (eg1)-[:FOUND_BY]->(kent), (eg1)-[:FOUND_AT]->(mai), (eg1)-[:WITH_CHILD {source: 'reported'}]->(b)
CREATE (c)-[:HAD]->(ec1:Episode {id: 'T4L-E-C1', status: 'closed', reportedAt: datetime('2019-08-01T12:00:00Z'), foundAt: datetime('2019-08-03T12:00:00Z')})
CREATE (ec1)-[:REPORTED_TO]->(kent), (ec1)-[:FOUND_BY]->(kent), (ec1)-[:FOUND_AT]->(stn), (ec1)-[:WITH_PERSON {source: 'reported'}]->(n)
CREATE (b)-[:HAD]->(eb3:Episode {id: 'T4L-E-B3', status: 'closed', reportedAt: datetime('2019-08-02T12:00:00Z'), foundAt: datetime('2019-08-03T11:00:00Z')})
CREATE (eb3)-[:REPORTED_TO]->(kent), (eb3)-[:FOUND_BY]->(kent), (eb3)-[:FOUND_AT]->(stn)
CREATE (a)-[:HAD]->(ea3:Episode {id: 'T4L-E-A3', status: 'closed', reportedAt: datetime('2019-09-01T12:00:00Z'), foundAt: datetime('2019-09-02T12:00:00Z')})
CREATE (ea3)-[:REPORTED_TO]->(met), (ea3)-[:FOUND_BY]->(kent), (ea3)-[:FOUND_AT]->(stn), (ea3)-[:WITH_PERSON {source: 'reported'}]->(m)
CREATE (b)-[:HAD]->(eb4:Episode {id: 'T4L-E-B4', status: 'closed', reportedAt: datetime('2019-09-20T12:00:00Z'), foundAt: datetime('2019-09-21T12:00:00Z')})
CREATE (eb4)-[:REPORTED_TO]->(kent), (eb4)-[:FOUND_BY]->(kent), (eb4)-[:FOUND_AT]->(mhome), (eb4)-[:WITH_PERSON {source: 'found'}]->(m)
CREATE (e)-[:HAD]->(ee1:Episode {id: 'T4L-E-E1', status: 'closed', reportedAt: datetime('2019-10-01T12:00:00Z'), foundAt: datetime('2019-10-02T12:00:00Z')})
CREATE (ee1)-[:REPORTED_TO]->(essex), (ee1)-[:FOUND_BY]->(essex), (ee1)-[:FOUND_AT]->(pier), (ee1)-[:WITH_PERSON {source: 'found'}]->(m)
CREATE (f)-[:ASSOCIATES_WITH {kind: 'boyfriend', since: date('2019-04-01'), recordedBy: $kent, recordedAt: datetime('2019-05-01T09:00:00Z')}]->(m)
CREATE (f)-[:HAD]->(ef1:Episode {id: 'T4L-E-F1', status: 'closed', reportedAt: datetime('2019-05-01T12:00:00Z'), foundAt: datetime('2019-05-02T12:00:00Z')})
CREATE (ef1)-[:REPORTED_TO]->(kent), (ef1)-[:FOUND_BY]->(kent), (ef1)-[:FOUND_AT]->(fhome)
CREATE (a)-[:HAD]->(ea4:Episode {id: 'T4L-E-A4', status: 'open', reportedAt: datetime('2019-12-01T12:00:00Z')})
CREATE (ea4)-[:REPORTED_TO]->(met), (ea4)-[:MISSING_FROM]->(pa)
CREATE (h)-[:HAD]->(eh1:Episode {id: 'T4L-E-H1', status: 'closed', reportedAt: datetime('2019-05-05T12:00:00Z'), foundAt: datetime('2019-05-06T12:00:00Z')})
CREATE (eh1)-[:REPORTED_TO]->(essex), (eh1)-[:FOUND_BY]->(essex), (eh1)-[:FOUND_AT]->(pier), (eh1)-[:WITH_CHILD {source: 'reported'}]->(x)
CREATE (x)-[:HAD]->(ex1:Episode {id: 'T4L-E-X1', status: 'closed', reportedAt: datetime('2019-05-05T13:00:00Z'), foundAt: datetime('2019-05-06T10:00:00Z')})
CREATE (ex1)-[:REPORTED_TO]->(surrey), (ex1)-[:FOUND_BY]->(surrey), (ex1)-[:FOUND_AT]->(sur)
CREATE (j)-[:HAD]->(ej1:Episode {id: 'T4L-E-J1', status: 'closed', reportedAt: datetime('2019-04-10T12:00:00Z'), foundAt: datetime('2019-04-11T12:00:00Z')})
CREATE (ej1)-[:REPORTED_TO]->(essex), (ej1)-[:FOUND_BY]->(essex), (ej1)-[:FOUND_AT]->(pier)
CREATE (k)-[:HAD]->(ek1:Episode {id: 'T4L-E-K1', status: 'closed', reportedAt: datetime('2019-04-10T15:00:00Z'), foundAt: datetime('2019-04-11T10:00:00Z')})
CREATE (ek1)-[:REPORTED_TO]->(surrey), (ek1)-[:FOUND_BY]->(surrey), (ek1)-[:FOUND_AT]->(sur), (ek1)-[:WENT_TO]->(khome)
"""

PARAMS = {"met": MET, "kent": KENT, "essex": ESSEX, "surrey": SURREY, "kcc": KCC, "haringey": HARINGEY,
          "medway": MEDWAY, "southend": SOUTHEND, "surreyCc": SURREY_CC}


@pytest.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    await graph.auto_commit(CLEAR)
    await graph.write(SCENARIO, PARAMS)
    await graph.write(REFRESH_ACCESS, {"childIds": CHILDREN})
    return graph


def principal(agency: str, kind: AgencyKind, role: Role = Role.INVESTIGATOR,
              scopes: tuple[Scope, ...] = (Scope.INTEL_READ, Scope.CHILD_READ)) -> Principal:
    return Principal(subject=f"t4l-{agency}", client_id="t4l-tests", agency_id=agency, agency_kind=kind,
                     role=role, scopes=frozenset(scopes))


def ctx_for(graph, neo4j_settings, p: Principal) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ServiceContext(graph=graph, settings=neo4j_settings, principal=p, purpose="t4l: test",
                          request_id=str(uuid.uuid4()))


@pytest.fixture
def national(scenario, neo4j_settings) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(scenario, neo4j_settings, principal(NATIONAL_UNIT, AgencyKind.NATIONAL_UNIT))


def force_ctx(scenario, neo4j_settings, force: str) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(scenario, neo4j_settings, principal(force, AgencyKind.POLICE_FORCE))


def dt(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def expected_strength(*incidents: tuple[float, str]) -> float:
    remaining = 1.0
    for w, latest in incidents:
        remaining *= 1 - w * 0.5 ** ((AS_OF - dt(latest)).total_seconds() / 86400 / 365)
    return round(1 - remaining, 4)


def evidence_summary(link) -> list[tuple[str, str | None, tuple[str, ...], tuple[str, ...]]]:  # type: ignore[no-untyped-def]
    return sorted((ev.kind, ev.source, tuple(sorted(ev.episode_ids)), tuple(sorted(p["id"] for p in ev.places)))
                  for ev in link.evidence)


async def consulted_events(graph, request_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return await graph.read(
        "MATCH (a:AuditEvent {requestId: $rid}) RETURN a.operation AS operation, a.recordIds AS ids ORDER BY a.at, a.id",
        {"rid": request_id})


# --- coMissing ----------------------------------------------------------------------------------


async def test_found_together_twice_across_forces_is_one_explicit_link_with_two_incidents(national) -> None:
    res = await co_missing.co_missing(national, "T4L-A", SINCE, 1, AS_OF, 20, None)
    assert res is not None and [(lk.from_child["id"], lk.to_child["id"], lk.hop) for lk in res.links] == [
        ("T4L-A", "T4L-B", 1)]
    link = res.links[0]
    assert link.explicit
    assert evidence_summary(link) == [
        ("EXPLICIT", "found", ("T4L-E-A1",), ()),
        ("EXPLICIT", "found", ("T4L-E-A2",), ()),
        ("EXPLICIT", "found", ("T4L-E-B1",), ()),
        ("SAME_PLACE", "FOUND_AT/FOUND_AT", ("T4L-E-A1", "T4L-E-B1"), ("T4L-L-CHATHAM-STN",)),
        ("SAME_PLACE", "FOUND_AT/FOUND_AT", ("T4L-E-A2", "T4L-E-B2"), ("T4L-L-HARINGEY-SHOP",)),
    ]
    # Two incidents (March at Chatham, June in Wood Green), each explicit: both forces' records of
    # the March incident and the same-place inference do not count again.
    assert link.strength == expected_strength((0.8, "2019-03-01T19:00:00Z"), (0.8, "2019-06-10T21:00:00Z"))
    forces = {e["reportedTo"] for ev in link.evidence for e in ev.episodes}
    assert forces == {MET, KENT}


async def test_overlapping_windows_at_the_same_found_at_place_is_an_inferred_link(national) -> None:
    res = await co_missing.co_missing(national, "T4L-C", SINCE, 1, AS_OF, 20, None)
    assert res is not None and [(lk.to_child["id"], lk.explicit) for lk in res.links] == [("T4L-B", False)]
    link = res.links[0]
    assert evidence_summary(link) == [
        ("SAME_PLACE", "FOUND_AT/FOUND_AT", ("T4L-E-B3", "T4L-E-C1"), ("T4L-L-CHATHAM-STN",))]
    assert link.strength == expected_strength((0.4, "2019-08-02T12:00:00Z"))


async def test_two_hops_follow_the_chain_and_audit_exactly_what_is_returned(national, scenario) -> None:
    one = await co_missing.co_missing(national, "T4L-A", SINCE, 1, AS_OF, 20, None)
    two = await co_missing.co_missing(national, "T4L-A", SINCE, 2, AS_OF, 20, None)
    assert one is not None and two is not None
    assert [(lk.from_child["id"], lk.to_child["id"], lk.hop) for lk in two.links] == [
        ("T4L-A", "T4L-B", 1), ("T4L-B", "T4L-G", 2), ("T4L-B", "T4L-C", 2)]
    g, c = two.links[1], two.links[2]
    assert evidence_summary(g) == [("EXPLICIT", "reported", ("T4L-E-G1",), ())]
    assert g.strength == expected_strength((0.8, "2019-07-01T20:00:00Z"))
    assert evidence_summary(c) == [
        ("SAME_PLACE", "FOUND_AT/FOUND_AT", ("T4L-E-B3", "T4L-E-C1"), ("T4L-L-CHATHAM-STN",))]
    events = await consulted_events(scenario, national.request_id)
    assert [e["operation"] for e in events] == ["coMissing", "coMissing"]
    assert events[1]["ids"] == sorted({"T4L-A", "T4L-B", "T4L-C", "T4L-G", "T4L-E-A1", "T4L-E-A2", "T4L-E-B1",
                                       "T4L-E-B2", "T4L-E-B3", "T4L-E-C1", "T4L-E-G1"})


async def test_co_missing_pages_with_a_cursor(national) -> None:
    first = await co_missing.co_missing(national, "T4L-A", SINCE, 2, AS_OF, 2, None)
    assert first is not None and first.has_more and first.total == 3
    rest = await co_missing.co_missing(national, "T4L-A", SINCE, 2, AS_OF, 2, list(co_missing.link_key(first.links[-1])))
    assert rest is not None and not rest.has_more
    assert [lk.to_child["id"] for lk in first.links + rest.links] == ["T4L-B", "T4L-G", "T4L-C"]


async def test_a_child_the_caller_cannot_read_appears_in_summary_form_never_dropped(scenario, neo4j_settings,
                                                                                   national) -> None:
    nat = await co_missing.co_missing(national, "T4L-H", SINCE, 2, AS_OF, 20, None)
    assert nat is not None and [(lk.to_child["id"], lk.summary_only) for lk in nat.links] == [("T4L-X", False)]
    essex = force_ctx(scenario, neo4j_settings, ESSEX)
    res = await co_missing.co_missing(essex, "T4L-H", SINCE, 2, AS_OF, 20, None)
    # X is Surrey's: Essex gets the link its own record makes, with X in summary form, and does not
    # follow X's own links to a second hop.
    assert res is not None and res.total == 1
    [link] = res.links
    assert (link.to_child["id"], link.summary_only, link.hop) == ("T4L-X", True, 1)
    assert evidence_summary(link) == [("EXPLICIT", "reported", ("T4L-E-H1",), ())]
    view = CoMissingLink.from_link(link, AS_OF)
    assert view.to_child is None and view.to_summary == X_SUMMARY
    assert "Xan" not in repr(view) and "'T4L-X" not in repr(view)
    profile = await risk_profile.risk_profile(essex, "T4L-H", AS_OF)
    assert profile is not None and [(p["child"]["id"], p["child"]["visible"]) for p in profile["peers"]] == [
        ("T4L-X", False)]
    assert "T4L-E-X1" not in repr(profile) and "Xan" not in repr(profile)
    groups = await co_missing.co_missing_groups(essex, None, SINCE, 2, AS_OF, 50, None)
    assert "T4L-X" not in repr(groups.groups)
    # Surrey reads X but not H: H's Essex record naming X is the link; Surrey gets H in summary
    # form with that record's date and force, not its id.
    surrey = force_ctx(scenario, neo4j_settings, SURREY)
    res = await co_missing.co_missing(surrey, "T4L-X", SINCE, 1, AS_OF, 20, None)
    assert res is not None
    [link] = res.links
    assert (link.to_child["id"], link.summary_only) == ("T4L-H", True)
    [ev] = CoMissingLink.from_link(link, AS_OF).evidence
    assert ev.episodes == [EvidenceEpisode(id=None, child_id=None, reported_at=dt("2019-05-05T12:00:00Z"),
                                           ended_at=dt("2019-05-06T12:00:00Z"), status="closed", reported_to=ESSEX,
                                           found_by=ESSEX)]
    assert await co_missing.co_missing(essex, "T4L-X", SINCE, 1, AS_OF, 20, None) is None


X_SUMMARY = ChildSummary(pseudonym="PT4L-X", age_band="15-17", responsible_authority=SURREY_CC,
                         active_flags=[FlagSummary(type="cse", raised_by=SURREY, raised_at=dt("2019-04-20T10:00:00Z"))])


async def test_la_risk_profile_shows_the_co_missing_peer_of_another_force_in_summary_form(scenario,
                                                                                          neo4j_settings) -> None:
    """Issue 8: Southend looks after H; H went missing with X, a Surrey CC child known to Surrey
    Police only, with an active CSE flag Surrey Police raised. Southend cannot read X, and must
    still see X's risk."""
    southend = ctx_for(scenario, neo4j_settings, principal(SOUTHEND, AgencyKind.LOCAL_AUTHORITY,
                                                           Role.LA_MISSING_LEAD))
    p = await risk_profile.risk_profile(southend, "T4L-H", AS_OF)
    assert p is not None
    view = risk_profile_from(p)
    assert view.peers == [RiskPeer(
        child=None, summary=X_SUMMARY, episode_count=1, last_together=dt("2019-05-05T12:00:00Z"),
        strength=expected_strength((0.8, "2019-05-05T12:00:00Z")), active_flags=None,
        episodes=[PeerEpisode(episode_id=strawberry.ID("T4L-E-H1"), episode_of=strawberry.ID("T4L-H"),
                              source="reported", at=dt("2019-05-05T12:00:00Z"), force=ESSEX)])]
    text = repr(view.peers)
    assert "Xan" not in text and "'T4L-X" not in text and "2004" not in text and "Guildford" not in text
    events = await consulted_events(scenario, southend.request_id)
    assert events == [{"operation": "riskProfile", "ids": ["T4L-E-H1", "T4L-H"]},
                      {"operation": "riskProfile.summary", "ids": ["T4L-X"]}]
    res = await co_missing.co_missing(southend, "T4L-H", SINCE, 1, AS_OF, 20, None)
    assert res is not None
    [link] = [CoMissingLink.from_link(lk, AS_OF) for lk in res.links]
    assert link.to_child is None and link.to_summary == X_SUMMARY and link.explicit
    assert link.strength == expected_strength((0.8, "2019-05-05T12:00:00Z"))
    assert [(ev.kind, ev.date, [e.id for e in ev.episodes]) for ev in link.evidence] == [
        (LinkKind.EXPLICIT, dt("2019-05-05T12:00:00Z"), ["T4L-E-H1"])]


async def test_private_place_of_a_summary_child_is_its_grid_cell_only(scenario, neo4j_settings, national) -> None:
    essex = force_ctx(scenario, neo4j_settings, ESSEX)
    res = await co_missing.co_missing(essex, "T4L-J", SINCE, 1, AS_OF, 20, None)
    assert res is not None
    [view] = [CoMissingLink.from_link(lk, AS_OF) for lk in res.links]
    assert view.to_child is None
    assert view.to_summary == ChildSummary(pseudonym="PT4L-K", age_band="12-14", responsible_authority=None,
                                           active_flags=[])
    assert view.strength == expected_strength((0.25, "2019-04-10T15:00:00Z"))
    [ev] = view.evidence
    assert (ev.kind, ev.source) == (LinkKind.SAME_CELL, "FOUND_AT/WENT_TO")
    assert ev.places == [PIER, LinkPlace(id=None, name=None, kind="residence", la_code=SOUTHEND, force_code=ESSEX,
                                         cell="g500:t4l:4", latitude=None, longitude=None)]
    assert ev.episodes == [
        EvidenceEpisode(id=strawberry.ID("T4L-E-J1"), child_id=strawberry.ID("T4L-J"),
                        reported_at=dt("2019-04-10T12:00:00Z"), ended_at=dt("2019-04-11T12:00:00Z"), status="closed",
                        reported_to=ESSEX, found_by=ESSEX),
        EvidenceEpisode(id=None, child_id=None, reported_at=dt("2019-04-10T15:00:00Z"),
                        ended_at=dt("2019-04-11T10:00:00Z"), status="closed", reported_to=SURREY, found_by=SURREY)]
    assert "K family address" not in repr(view) and "T4L-L-K-HOME" not in repr(view) and "51.531" not in repr(view)
    assert await consulted_events(scenario, essex.request_id) == [
        {"operation": "coMissing", "ids": ["T4L-E-J1", "T4L-J"]}, {"operation": "coMissing.summary", "ids": ["T4L-K"]}]
    # The national unit reads K in full, address included (unchanged).
    nat = await co_missing.co_missing(national, "T4L-J", SINCE, 1, AS_OF, 20, None)
    assert nat is not None
    [full] = [CoMissingLink.from_link(lk, AS_OF) for lk in nat.links]
    assert full.to_child is not None and (full.to_child.id, full.to_child.given_name) == ("T4L-K", "Kit")
    assert full.evidence[0].places == [PIER, LinkPlace(
        id=strawberry.ID("T4L-L-K-HOME"), name="K family address", kind="residence", la_code=SOUTHEND,
        force_code=ESSEX, cell="g500:t4l:4", latitude=51.531, longitude=0.716)]
    assert [e.id for e in full.evidence[0].episodes] == ["T4L-E-J1", "T4L-E-K1"]
    assert await consulted_events(scenario, national.request_id) == [
        {"operation": "coMissing", "ids": ["T4L-E-J1", "T4L-E-K1", "T4L-J", "T4L-K"]}]


PIER = LinkPlace(id=strawberry.ID("T4L-L-SOUTHEND-PIER"), name="Southend pier", kind="public_place",
                 la_code=SOUTHEND, force_code=ESSEX, cell="g500:t4l:4", latitude=51.530, longitude=0.717)


async def test_co_missing_validates_its_arguments(national) -> None:
    with pytest.raises(InvalidInput) as e:
        await co_missing.co_missing(national, "T4L-A", SINCE, 3, AS_OF, 20, None)
    assert e.value.field == "hops"
    with pytest.raises(InvalidInput) as e:
        await co_missing.co_missing(national, "T4L-A", AS_OF + timedelta(days=1), 1, AS_OF, 20, None)
    assert e.value.field == "since"
    with pytest.raises(InvalidInput) as e:
        await co_missing.co_missing(national, "T4L-A", datetime(2019, 1, 1), 1, AS_OF, 20, None)
    assert e.value.field == "since"
    with pytest.raises(InvalidInput) as e:
        await co_missing.co_missing(national, "T4L-A", SINCE, 1, datetime.now(UTC) + timedelta(days=2), 20, None)
    assert e.value.field == "asOf"


async def test_analysts_are_refused(scenario, neo4j_settings) -> None:
    analyst = ctx_for(scenario, neo4j_settings, principal(KENT, AgencyKind.POLICE_FORCE, Role.ANALYST,
                                                          (Scope.INTEL_READ, Scope.ANALYTICS_READ)))
    for call in (
        co_missing.co_missing(analyst, "T4L-A", SINCE, 1, AS_OF, 20, None),
        co_missing.co_missing_groups(analyst, None, SINCE, 3, AS_OF, 20, None),
        risk_profile.risk_profile(analyst, "T4L-A", AS_OF),
        associates.shared_associates(analyst, 2, 1, SINCE, AS_OF, 20, None),
        linked_children.linked_children(analyst, KENT, None, SINCE, AS_OF, 20, None),
    ):
        with pytest.raises(Forbidden):
            await call


# --- coMissingGroups ----------------------------------------------------------------------------


async def test_group_spans_two_forces_and_three_las(national) -> None:
    res = await co_missing.co_missing_groups(national, None, SINCE, 3, AS_OF, 20, None)
    assert len(res.groups) == 1 and res.total == 1
    g = res.groups[0]
    assert [m["id"] for m in g.members] == ["T4L-A", "T4L-B", "T4L-G"]
    assert g.forces == sorted([MET, KENT])
    assert g.local_authorities == sorted([KCC, HARINGEY, MEDWAY])
    assert g.episode_ids == {"T4L-E-A1", "T4L-E-A2", "T4L-E-B1", "T4L-E-B2", "T4L-E-G1"}
    assert [(lk.from_child["id"], lk.to_child["id"]) for lk in g.links] == [("T4L-A", "T4L-B"), ("T4L-B", "T4L-G")]
    # B-C (one inferred incident, strength < 0.5) does not join C to the group.
    pairs = await co_missing.co_missing_groups(national, None, SINCE, 2, AS_OF, 20, None)
    assert [[m["id"] for m in grp.members] for grp in pairs.groups] == [
        ["T4L-A", "T4L-B", "T4L-G"], ["T4L-H", "T4L-X"]]


async def test_groups_filter_by_area_and_hide_ids_without_child_read(scenario, neo4j_settings, national) -> None:
    medway = await co_missing.co_missing_groups(national, MEDWAY, SINCE, 2, AS_OF, 20, None)
    assert [[m["pseudonym"] for m in g.members] for g in medway.groups] == [["PT4L-A", "PT4L-B", "PT4L-G"]]
    essex = await co_missing.co_missing_groups(national, ESSEX, SINCE, 2, AS_OF, 20, None)
    assert [([m["pseudonym"] for m in g.members], g.forces) for g in essex.groups] == [(["PT4L-H", "PT4L-X"], [ESSEX])]
    # A group spans the forces of its evidence: H's Essex record names X; X's Surrey episode is not
    # evidence of the link, so the group does not touch Surrey.
    assert (await co_missing.co_missing_groups(national, SURREY, SINCE, 2, AS_OF, 20, None)).groups == []
    with pytest.raises(InvalidInput) as e:
        await co_missing.co_missing_groups(national, "NOWHERE", SINCE, 2, AS_OF, 20, None)
    assert e.value.field == "area"
    with pytest.raises(InvalidInput) as e:
        await co_missing.co_missing_groups(national, None, SINCE, 1, AS_OF, 20, None)
    assert e.value.field == "minSize"
    pseud_only = ctx_for(scenario, neo4j_settings, principal(NATIONAL_UNIT, AgencyKind.NATIONAL_UNIT,
                                                             scopes=(Scope.INTEL_READ,)))
    res = await co_missing.co_missing_groups(pseud_only, None, SINCE, 3, AS_OF, 20, None)
    assert not res.named and len(res.groups) == 1
    assert await consulted_events(scenario, pseud_only.request_id) == []


# --- sharedAssociates ---------------------------------------------------------------------------


async def test_adult_linked_to_four_children_in_three_forces(national, scenario) -> None:
    res = await associates.shared_associates(national, 4, 3, SINCE, AS_OF, 20, None)
    assert [a.person["id"] for a in res.associates] == ["T4L-P-M"]
    m = res.associates[0]
    assert m.forces == sorted([MET, KENT, ESSEX])
    assert [(c["child"]["id"], c["forces"], [(li["kind"], li["episodeId"]) for li in c["links"]]) for c in m.children] == [
        ("T4L-A", [MET], [("WITH_PERSON", "T4L-E-A3")]),
        ("T4L-B", [KENT], [("WITH_PERSON", "T4L-E-B4")]),
        ("T4L-E", [ESSEX], [("WITH_PERSON", "T4L-E-E1")]),
        ("T4L-F", [KENT], [("ASSOCIATES_WITH", None)]),
    ]
    assert (await associates.shared_associates(national, 4, 4, SINCE, AS_OF, 20, None)).associates == []
    events = await consulted_events(scenario, national.request_id)
    assert events[0] == {"operation": "sharedAssociates", "ids": sorted(
        ["T4L-P-M", "T4L-A", "T4L-B", "T4L-E", "T4L-F", "T4L-E-A3", "T4L-E-B4", "T4L-E-E1"])}
    both = await associates.shared_associates(national, 2, 1, SINCE, AS_OF, 20, None)
    assert [(a.person["id"], len(a.children), a.forces) for a in both.associates] == [
        ("T4L-P-M", 4, sorted([MET, KENT, ESSEX])), ("T4L-P-N", 2, sorted([MET, KENT]))]
    later = await associates.shared_associates(national, 2, 1, dt("2019-09-10T00:00:00Z"), AS_OF, 20, None)
    assert [(a.person["id"], [c["child"]["id"] for c in a.children]) for a in later.associates] == [
        ("T4L-P-M", ["T4L-B", "T4L-E"])]


async def test_a_force_sees_the_adults_cross_force_reach_with_only_its_own_children_named(scenario,
                                                                                            neo4j_settings) -> None:
    """Issue 8: M is linked to children in the Met, Kent and Essex areas. Essex can open only E's
    record naming M, and still gets M with the whole reach: counts per force, E named, the rest in
    summary form (B's Kent episode without its id)."""
    essex = force_ctx(scenario, neo4j_settings, ESSEX)
    res = await associates.shared_associates(essex, 4, 3, SINCE, AS_OF, 20, None)
    assert res.total == 1
    [m] = res.associates
    assert m.person["id"] == "T4L-P-M" and m.forces == sorted([MET, KENT, ESSEX])
    assert m.children_by_force == [{"force": KENT, "children": 2}, {"force": MET, "children": 1},
                                   {"force": ESSEX, "children": 1}]
    assert [(c["child"]["id"], c["child"]["visible"], c["child"]["givenName"], c["forces"],
             [(li["kind"], li["episodeId"], li["visible"], li["force"]) for li in c["links"]]) for c in m.children] == [
        ("T4L-A", False, None, [MET], [("WITH_PERSON", "T4L-E-A3", False, MET)]),
        ("T4L-B", False, None, [KENT], [("WITH_PERSON", "T4L-E-B4", False, KENT)]),
        ("T4L-E", True, "Eve", [ESSEX], [("WITH_PERSON", "T4L-E-E1", True, ESSEX)]),
        ("T4L-F", False, None, [KENT], [("ASSOCIATES_WITH", None, False, KENT)]),
    ]
    assert [a["activeFlags"] for a in (c["child"] for c in m.children)] == [
        [{"type": "cse", "raisedBy": KENT, "raisedAt": dt("2019-03-05T10:00:00Z")}],
        [{"type": "cce_county_lines", "raisedBy": MEDWAY, "raisedAt": dt("2019-02-01T10:00:00Z")}], [], []]
    assert await consulted_events(scenario, essex.request_id) == [
        {"operation": "sharedAssociates", "ids": ["T4L-E", "T4L-E-E1", "T4L-P-M"]},
        {"operation": "sharedAssociates.summary", "ids": ["T4L-A", "T4L-B", "T4L-F"]}]
    # The Met can open A's records naming M and N: both adults, with B named too (the Met reads B,
    # whose June episode it found) but B's Kent episode naming M without its id.
    met = force_ctx(scenario, neo4j_settings, MET)
    both = await associates.shared_associates(met, 2, 1, SINCE, AS_OF, 20, None)
    assert [(a.person["id"], [(c["child"]["id"], c["child"]["visible"]) for c in a.children]) for a in both.associates] == [
        ("T4L-P-M", [("T4L-A", True), ("T4L-B", True), ("T4L-E", False), ("T4L-F", False)]),
        ("T4L-P-N", [("T4L-A", True), ("T4L-C", False)])]
    assert both.associates[0].episode_ids == {"T4L-E-A3"}
    # Surrey opens no record naming either adult: it gets neither.
    surrey = force_ctx(scenario, neo4j_settings, SURREY)
    assert (await associates.shared_associates(surrey, 2, 1, SINCE, AS_OF, 20, None)).associates == []
    # riskProfile's adults: the same reach for Essex, nothing for an agency that cannot see M.
    kids = await associates.adult_children(essex, "T4L-P-M", AS_OF)
    assert [(c["child"]["id"], c["child"]["visible"]) for c in kids] == [
        ("T4L-A", False), ("T4L-B", False), ("T4L-E", True), ("T4L-F", False)]
    assert await associates.adult_children(surrey, "T4L-P-M", AS_OF) == []
    assert await associates.adult_children(surrey, "T4L-NOBODY", AS_OF) == []


# --- riskProfile --------------------------------------------------------------------------------


async def test_risk_profile_explains_every_figure(national, scenario) -> None:
    p = await risk_profile.risk_profile(national, "T4L-A", AS_OF)
    assert p is not None
    prior = p["priorEpisodes"]
    assert (prior["last90Days"], prior["last12Months"], prior["ever"]) == (1, 4, 4)
    assert [(f["forceCode"], f["last90Days"], f["ever"], f["episodeIds"]) for f in prior["byForce"]] == [
        (MET, 1, 4, ["T4L-E-A4", "T4L-E-A3", "T4L-E-A2", "T4L-E-A1"])]
    assert [(f["id"], f["active"], f["raisedBy"]["id"]) for f in p["flags"]] == [
        ("T4L-FL-1", True, KENT), ("T4L-FL-2", False, KCC)]
    assert [(pl["id"], pl["current"], pl["outOfArea"], pl["crossForce"], pl["hostedBy"], pl["forceArea"])
            for pl in p["placements"]] == [("T4L-P-A", True, True, True, HARINGEY, MET),
                                           ("T4L-P-A0", False, False, False, KCC, KENT)]
    assert p["placements"][0]["establishment"]["name"] == "Haringey Lodge"
    assert [(w["place"]["id"], w["timesFound"], w["lastFoundAt"], w["episodeIds"]) for w in p["whereToLook"]] == [
        ("T4L-L-CHATHAM-STN", 2, dt("2019-09-02T12:00:00Z"), ["T4L-E-A1", "T4L-E-A3"]),
        ("T4L-L-HARINGEY-SHOP", 1, dt("2019-06-11T09:00:00Z"), ["T4L-E-A2"])]
    assert len(p["peers"]) == 1
    peer = p["peers"][0]
    assert peer["child"]["id"] == "T4L-B" and peer["episodeCount"] == 3
    assert sorted((e["episodeId"], e["episodeOf"]) for e in peer["episodes"]) == [
        ("T4L-E-A1", "T4L-A"), ("T4L-E-A2", "T4L-A"), ("T4L-E-B1", "T4L-B")]
    assert [(f["id"], f["raisedBy"]["id"]) for f in peer["child"]["flags"]] == [("T4L-FL-3", MEDWAY)]
    assert [(a["person"]["id"], a["otherChildren"], [li["episodeId"] for li in a["links"]]) for a in p["adults"]] == [
        ("T4L-P-M", 3, ["T4L-E-A3"]), ("T4L-P-N", 1, ["T4L-E-A2"])]
    [ri] = p["returnInterviews"]
    assert ri["id"] == "T4L-RI-1" and ri["summaryPlaces"] == ["Chatham station"] and ri["by"]["id"] == KCC
    assert "T4L-CONFIDENTIAL-ACCOUNT" not in repr(p)
    # Kent CC's area rules set no repeat trigger; the national strategy meeting fires for the open
    # episode reported 30 days before asOf.
    assert [(t["rule"], t["area"], t["episodeIds"]) for t in p["triggers"]] == [
        ("strategy_meeting", KCC, ["T4L-E-A4"])]
    events = await consulted_events(scenario, national.request_id)
    assert events == [{"operation": "riskProfile", "ids": sorted(
        ["T4L-A", "T4L-E-A1", "T4L-E-A2", "T4L-E-A3", "T4L-E-A4", "T4L-B", "T4L-E-B1", "T4L-P-M", "T4L-P-N"])}]


async def test_risk_profile_uses_the_area_rules_of_the_responsible_la(national) -> None:
    p = await risk_profile.risk_profile(national, "T4L-B", AS_OF)
    assert p is not None
    assert [(t["rule"], t["area"], t["count"], t["episodeIds"]) for t in p["triggers"]] == [
        ("haringey_early_help", HARINGEY, 4, ["T4L-E-B4", "T4L-E-B3", "T4L-E-B2", "T4L-E-B1"])]
    # Counts are as of the reference time: in mid-March only the first episode existed.
    early = await risk_profile.risk_profile(national, "T4L-B", dt("2019-03-15T00:00:00Z"))
    assert early is not None and early["priorEpisodes"]["ever"] == 1 and early["triggers"] == []


async def test_risk_profile_of_an_invisible_child_is_null(scenario, neo4j_settings) -> None:
    essex = force_ctx(scenario, neo4j_settings, ESSEX)
    assert await risk_profile.risk_profile(essex, "T4L-A", AS_OF) is None
    assert await risk_profile.risk_profile(essex, "T4L-NOPE", AS_OF) is None


# --- linkedChildren -----------------------------------------------------------------------------


async def test_la_view_has_its_children_placed_children_and_summary_only_links(scenario, neo4j_settings) -> None:
    haringey = ctx_for(scenario, neo4j_settings,
                       principal(HARINGEY, AgencyKind.LOCAL_AUTHORITY, Role.LA_MISSING_LEAD))
    res = await linked_children.linked_children(haringey, HARINGEY, None, SINCE, AS_OF, 20, None)
    assert [(e.relation, e.child["id"], e.visible) for e in res.entries] == [
        ("LOOKED_AFTER", "T4L-B", True), ("PLACED_IN", "T4L-A", True),
        ("LINKED", "T4L-G", False), ("LINKED", "T4L-C", False)]
    b, a, g, c = res.entries
    assert [p["id"] for p in b.placements] == ["T4L-P-B"] and [p["id"] for p in a.placements] == ["T4L-P-A"]
    assert [(lk.from_child["id"], evidence_summary(lk)) for lk in g.links] == [
        ("T4L-B", [("EXPLICIT", "reported", ("T4L-E-G1",), ())])]
    # G's episode is not Haringey's to open: the evidence keeps its date, force and place only.
    [ep] = g.links[0].evidence[0].episodes
    assert ep["visible"] is False and ep["reportedTo"] == KENT
    assert g.visible_episode_ids() == set()
    assert [(lk.from_child["id"], evidence_summary(lk)) for lk in c.links] == [
        ("T4L-B", [("SAME_PLACE", "FOUND_AT/FOUND_AT", ("T4L-E-B3", "T4L-E-C1"), ("T4L-L-CHATHAM-STN",)),
                   ("SHARED_HOTSPOT", "FOUND_AT/FOUND_AT", ("T4L-E-B1", "T4L-E-C1"), ("T4L-L-CHATHAM-STN",)),
                   ("SHARED_HOTSPOT", "FOUND_AT/FOUND_AT", ("T4L-E-B3", "T4L-E-C1"), ("T4L-L-CHATHAM-STN",))]),
        ("T4L-A", [("SHARED_HOTSPOT", "FOUND_AT/FOUND_AT", ("T4L-E-A1", "T4L-E-C1"), ("T4L-L-CHATHAM-STN",)),
                   ("SHARED_HOTSPOT", "FOUND_AT/FOUND_AT", ("T4L-E-A3", "T4L-E-C1"), ("T4L-L-CHATHAM-STN",))])]
    events = await consulted_events(scenario, haringey.request_id)
    assert events == [{"operation": "linkedChildren", "ids": sorted(
        ["T4L-A", "T4L-B", "T4L-E-B1", "T4L-E-B3", "T4L-E-A1", "T4L-E-A3"])},
        {"operation": "linkedChildren.summary", "ids": ["T4L-C", "T4L-G"]}]
    # The summary form carries the linked child's active flags (none for G and C).
    assert [ChildSummary.from_row(e.child, AS_OF) for e in (g, c)] == [
        ChildSummary(pseudonym="PT4L-G", age_band="8-11", responsible_authority=MEDWAY, active_flags=[]),
        ChildSummary(pseudonym="PT4L-C", age_band="12-14", responsible_authority=None, active_flags=[])]
    assert ChildSummary.from_row(b.child, AS_OF).active_flags == [
        FlagSummary(type="cce_county_lines", raised_by=MEDWAY, raised_at=dt("2019-02-01T10:00:00Z"))]
    only_linked = await linked_children.linked_children(haringey, HARINGEY, "LINKED", SINCE, AS_OF, 1, None)
    assert [e.child["id"] for e in only_linked.entries] == ["T4L-G"] and only_linked.has_more


async def test_la_view_is_the_las_own_or_national(scenario, neo4j_settings, national) -> None:
    kcc = ctx_for(scenario, neo4j_settings, principal(KCC, AgencyKind.LOCAL_AUTHORITY, Role.LA_MISSING_LEAD))
    with pytest.raises(Forbidden):
        await linked_children.linked_children(kcc, HARINGEY, None, SINCE, AS_OF, 20, None)
    with pytest.raises(InvalidInput) as e:
        await linked_children.linked_children(kcc, "E99999999", None, SINCE, AS_OF, 20, None)
    assert e.value.field == "localAuthority"
    res = await linked_children.linked_children(national, HARINGEY, "LINKED", SINCE, AS_OF, 20, None)
    assert [(e.child["id"], e.visible) for e in res.entries] == [("T4L-G", True), ("T4L-C", True)]


# --- scoring (pure) -----------------------------------------------------------------------------


def test_strength_merges_one_incident_and_ranks_explicit_above_inferred() -> None:
    ep = {"id": "x1", "reportedAt": AS_OF, "endAt": AS_OF}
    ep2 = {"id": "x2", "reportedAt": AS_OF, "endAt": AS_OF}
    explicit = Evidence("EXPLICIT", "found", [ep])
    same_place = Evidence("SAME_PLACE", None, [ep, ep2])
    assert strength([explicit, same_place], AS_OF) == 0.8
    assert strength([Evidence("SAME_CELL", None, [ep2])], AS_OF) == 0.25
    three_inferred = [Evidence("SAME_PLACE", None, [{"id": f"y{i}", "reportedAt": AS_OF - timedelta(days=30 * i),
                                                     "endAt": None}]) for i in range(3)]
    assert 0.4 < strength(three_inferred, AS_OF) < 0.8
    year_old = {"id": "z", "reportedAt": AS_OF - timedelta(days=365), "endAt": None}
    assert strength([Evidence("EXPLICIT", None, [year_old])], AS_OF) == 0.4
