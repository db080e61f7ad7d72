"""locateProfile draws on every episode only on the locate basis: a caller that reads the child's
record but may not open its episodes elsewhere (here the agency that recorded the child) sees
neither the open episode nor where the child was found before (docs/ACCESS.md)."""

from __future__ import annotations

import pytest

from mpdb.auth.access import access_scope_for
from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.records import RecordRepository

pytestmark = pytest.mark.integration

KCC, MET, GMP = "E10000016", "E23000001", "E23000005"

SCENARIO = """
MATCH (met:Force {code: $met}), (har:LocalAuthority {code: 'E09000014'})
CREATE (c:Child {id: 'LP-C', pseudonym: 'P-LP-C', givenName: 'Lena', familyName: 'Profile', sex: 'F',
        dateOfBirth: date('2011-05-06'), lookedAfter: false, recordedBy: $kcc})
CREATE (park:Location {id: 'LP-PARK', name: 'LP park', kind: 'park', laCode: 'E09000014', forceCode: $met})
CREATE (c)-[:HAD]->(e1:Episode {id: 'LP-E1', status: 'closed', reportedAt: datetime('2026-01-01T20:00:00Z'),
        foundAt: datetime('2026-01-02T10:00:00Z')})-[:REPORTED_TO]->(met)
CREATE (e1)-[:FOUND_AT]->(park), (e1)-[:FOUND_BY]->(met)
CREATE (c)-[:HAD]->(:Episode {id: 'LP-E2', status: 'open', reportedAt: datetime('2026-03-01T20:00:00Z')})
       -[:REPORTED_TO]->(met)
"""


@pytest.fixture(scope="module")
async def scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write("MATCH (n) WHERE n.id STARTS WITH 'LP-' DETACH DELETE n", {})
    await reference_graph.write(SCENARIO, {"kcc": KCC, "met": MET})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["LP-C"]})
    return reference_graph


async def _profile(graph, agency: str, kind: AgencyKind, role: Role):  # type: ignore[no-untyped-def]
    principal = Principal(subject="lp", client_id="lp", agency_id=agency, agency_kind=kind, role=role,
                          scopes=frozenset({Scope.CHILD_READ}))
    return await RecordRepository(graph).locate_profile(access_scope_for(principal), "LP-C")


async def test_recording_agency_reads_the_record_not_the_episodes_elsewhere(scenario) -> None:  # type: ignore[no-untyped-def]
    p = await _profile(scenario, KCC, AgencyKind.LOCAL_AUTHORITY, Role.LA_MISSING_LEAD)
    assert (p["basis"], p["openEpisodes"], p["foundBefore"]) == ("record", [], [])


async def test_a_force_on_the_locate_basis_sees_where_to_look(scenario) -> None:  # type: ignore[no-untyped-def]
    p = await _profile(scenario, GMP, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR)
    assert p["basis"] == "locate"
    assert [e["id"] for e in p["openEpisodes"]] == ["LP-E2"]
    assert [(f["episodeId"], f["foundBy"], f["place"]["name"]) for f in p["foundBefore"]] == [
        ("LP-E1", MET, "LP park")]
