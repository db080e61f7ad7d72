"""The stack end to end: real uvicorn, real tokens from the dev IdP, real Neo4j."""

from __future__ import annotations

import httpx
import pytest

from mpdb.graph.queries.access import REFRESH_ACCESS

pytestmark = pytest.mark.integration

KENT_POLICE, STAFFS_POLICE, KENT_CC, STOKE = "E23000032", "E23000015", "E10000016", "E06000021"

SCENARIO = """
MATCH (kent:Force {code: $kentPolice}), (staffs:Force {code: $staffsPolice}), (kcc:LocalAuthority {code: $kentCc})
CREATE (a:Child {id: 'SK-A', pseudonym: 'P-SK-A', givenName: 'Testa', familyName: 'Synthchild',
                 dateOfBirth: date('2010-03-04'), sex: 'F', lookedAfter: true, recordedBy: $kentCc,
                 recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})
CREATE (a)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (b:Child {id: 'SK-B', pseudonym: 'P-SK-B', givenName: 'Testb', familyName: 'Synthchild',
                 dateOfBirth: date('2011-05-06'), sex: 'M', lookedAfter: false, recordedBy: $staffsPolice,
                 recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})
CREATE (a)-[:HAD]->(e1:Episode {id: 'SK-E1', status: 'closed', reportedAt: datetime('2026-02-01T20:00:00Z'),
        foundAt: datetime('2026-02-02T09:00:00Z'), riskGrade: 'medium', gradeScheme: '2017',
        recordedBy: $kentPolice, recordedAt: datetime('2026-02-01T20:05:00Z'), sourceSystem: 'test'})-[:REPORTED_TO]->(kent)
CREATE (a)-[:HAD]->(e2:Episode {id: 'SK-E2', status: 'closed', reportedAt: datetime('2026-03-01T20:00:00Z'),
        recordedBy: $staffsPolice, recordedAt: datetime('2026-03-01T20:05:00Z'), sourceSystem: 'test'})-[:REPORTED_TO]->(staffs)
CREATE (b)-[:HAD]->(e3:Episode {id: 'SK-E3', status: 'open', reportedAt: datetime('2026-03-05T20:00:00Z'),
        recordedBy: $staffsPolice, recordedAt: datetime('2026-03-05T20:05:00Z'), sourceSystem: 'test'})-[:REPORTED_TO]->(staffs)
CREATE (e1)-[:ASSESSED_IN]->(:RiskAssessment {id: 'SK-R1', grade: 'low', scheme: '2017', assessedAt: datetime('2026-02-01T20:10:00Z')})
CREATE (e1)-[:ASSESSED_IN]->(:RiskAssessment {id: 'SK-R2', grade: 'medium', scheme: '2017', assessedAt: datetime('2026-02-01T23:00:00Z')})
"""

CHILD_QUERY = """
query($id: ID!, $first: Int, $after: String) {
  child(id: $id) {
    id pseudonym givenName dateOfBirth responsibleAuthority
    episodes(first: $first, after: $after) { nodes { id reportedTo gradeHistory { grade } } pageInfo { hasNextPage endCursor } }
  }
}
"""


@pytest.fixture(scope="module")
async def scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write(SCENARIO, {"kentPolice": KENT_POLICE, "staffsPolice": STAFFS_POLICE, "kentCc": KENT_CC})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["SK-A", "SK-B"]})
    return reference_graph


def test_health_and_readiness(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    assert httpx.get(f"{live_server.base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{live_server.base_url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "neo4j": "ok", "schema": "current"}


def test_forces_and_local_authorities(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KENT_POLICE, "investigator")
    body = live_server.graphql("{ forces { code name } }", token=token).json()
    codes = [f["code"] for f in body["data"]["forces"]]
    assert len(codes) == 44 and "BTP" in codes and KENT_POLICE in codes
    body = live_server.graphql(
        "query($f: String) { localAuthorities(forceCode: $f) { code kind forceCodes } }", {"f": KENT_POLICE}, token=token
    ).json()
    assert body["data"]["localAuthorities"] == [  # Medway (unitary) and Kent (county)
        {"code": "E06000035", "kind": "unitary", "forceCodes": [KENT_POLICE]},
        {"code": "E10000016", "kind": "county", "forceCodes": [KENT_POLICE]},
    ]


def test_child_visible_to_a_force_with_an_episode_in_its_area(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KENT_POLICE, "investigator")
    child = live_server.graphql(CHILD_QUERY, {"id": "SK-A"}, token=token).json()["data"]["child"]
    assert child["pseudonym"] == "P-SK-A"
    assert child["dateOfBirth"] == "2010-03-04"
    assert child["responsibleAuthority"] == KENT_CC
    # Kent holds no open episode: it sees only the episode in its own area, not Staffordshire's.
    assert [e["id"] for e in child["episodes"]["nodes"]] == ["SK-E1"]
    assert child["episodes"]["nodes"][0]["gradeHistory"] == [{"grade": "low"}, {"grade": "medium"}]


def test_responsible_la_sees_the_full_history_and_pages_it(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KENT_CC, "la_missing_lead")
    first = live_server.graphql(CHILD_QUERY, {"id": "SK-A", "first": 1}, token=token).json()["data"]["child"]
    assert [e["id"] for e in first["episodes"]["nodes"]] == ["SK-E2"]
    assert first["episodes"]["pageInfo"]["hasNextPage"] is True
    cursor = first["episodes"]["pageInfo"]["endCursor"]
    second = live_server.graphql(CHILD_QUERY, {"id": "SK-A", "first": 1, "after": cursor}, token=token).json()
    assert [e["id"] for e in second["data"]["child"]["episodes"]["nodes"]] == ["SK-E1"]
    assert second["data"]["child"]["episodes"]["pageInfo"] == {"hasNextPage": False, "endCursor": second["data"]["child"]["episodes"]["pageInfo"]["endCursor"]}


def test_invisible_child_is_indistinguishable_from_a_missing_one(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KENT_POLICE, "investigator")
    hidden = live_server.graphql(CHILD_QUERY, {"id": "SK-B"}, token=token).json()
    absent = live_server.graphql(CHILD_QUERY, {"id": "NO-SUCH-CHILD"}, token=token).json()
    assert hidden == absent == {"data": {"child": None}}
    assert live_server.graphql("query { episode(id: \"SK-E3\") { id } }", token=token).json() == {"data": {"episode": None}}


def test_sensitive_fields_need_the_sensitive_scope(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KENT_POLICE, "call_handler")
    child = live_server.graphql(CHILD_QUERY, {"id": "SK-A"}, token=token).json()["data"]["child"]
    assert child["givenName"] == "Testa" and child["dateOfBirth"] is None


def test_purpose_is_required_to_consult_a_record(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KENT_POLICE, "investigator")
    body = live_server.graphql(CHILD_QUERY, {"id": "SK-A"}, token=token, purpose=None).json()
    assert body["data"] == {"child": None}
    assert body["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


def test_no_token_is_401_and_get_is_refused(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    r = live_server.graphql("{ forces { code } }", token=None)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    token = live_server.token(KENT_POLICE, "investigator")
    r = httpx.get(f"{live_server.base_url}/graphql", params={"query": "{ forces { code } }"},
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (400, 405)
    assert "data" not in r.text
