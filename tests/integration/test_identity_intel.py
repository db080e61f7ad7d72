"""The intelligence queries and duties follow confirmed identities (issue 12 point 3), with exact
values on a small scenario (ids prefixed IDI-, everything in 2026, asOf 2026-11-30):

    IDI-A  Haringey's looked-after child, one Met episode (Oct), which names IDI-D and IDI-B as companions
    IDI-B  the same child as Staffordshire Police recorded it: one Staffordshire episode (Sep), naming IDI-D
    IDI-C  the same child again (Kent Police's record): one Kent episode (Aug); flag CSE raised by Kent
    IDI-D  a peer, Haringey's too
    IDI-M  an adult of concern named in A's and B's episodes, and recorded as D's associate

Haringey's repeat-missing trigger fires at 3 episodes (seed/rules/area_rules.toml). Merging A-B
makes A's profile two episodes; merging B-C as well makes the identity three, which fires the
trigger once for the identity; unmerging A-B leaves A with its own one episode again.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.domain import identity as rules
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.intel import associates
from mpdb.intel import co_missing as cm
from mpdb.intel.linked_children import linked_children
from mpdb.intel import duties as duties_svc
from mpdb.intel.risk_profile import risk_profile
from mpdb.services import identity as identity_svc
from mpdb.services.context import ServiceContext

pytestmark = pytest.mark.integration

HARINGEY, MET, SP, KP = "E09000014", "E23000001", "E23000015", "E23000032"
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)

SCENARIO = """
MATCH (met:Force {code: $met}), (sp:Force {code: $sp}), (kp:Force {code: $kp}), (har:LocalAuthority {code: $har})
CREATE (a:Child {id: 'IDI-A', pseudonym: 'P-IDI-A', givenName: 'Ade', sex: 'M', lookedAfter: true,
        dateOfBirth: date('2011-02-02')})-[:LOOKED_AFTER_BY]->(har)
CREATE (b:Child {id: 'IDI-B', pseudonym: 'P-IDI-B', givenName: 'Adey', sex: 'M', recordedBy: $sp})
CREATE (c:Child {id: 'IDI-C', pseudonym: 'P-IDI-C', givenName: 'Ady', sex: 'M', recordedBy: $kp})
CREATE (d:Child {id: 'IDI-D', pseudonym: 'P-IDI-D', givenName: 'Dee', sex: 'F', lookedAfter: true,
        dateOfBirth: date('2011-06-06')})-[:LOOKED_AFTER_BY]->(har)
CREATE (a)-[:HAD]->(ea:Episode {id: 'IDI-A-E1', status: 'closed', reportedAt: datetime('2026-10-01T20:00:00Z'),
        foundAt: datetime('2026-10-02T08:00:00Z')})-[:REPORTED_TO]->(met)
CREATE (b)-[:HAD]->(eb:Episode {id: 'IDI-B-E1', status: 'closed', reportedAt: datetime('2026-09-01T20:00:00Z'),
        foundAt: datetime('2026-09-02T08:00:00Z')})-[:REPORTED_TO]->(sp)
CREATE (c)-[:HAD]->(:Episode {id: 'IDI-C-E1', status: 'closed', reportedAt: datetime('2026-08-01T20:00:00Z'),
        foundAt: datetime('2026-08-02T08:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (ea)-[:WITH_CHILD {source: 'companion'}]->(d), (ea)-[:WITH_CHILD {source: 'companion'}]->(b)
CREATE (eb)-[:WITH_CHILD {source: 'companion'}]->(d)
CREATE (m:Person {id: 'IDI-M', name: 'Adult M', role: 'adult_of_concern'})
CREATE (ea)-[:WITH_PERSON {source: 'reported'}]->(m), (eb)-[:WITH_PERSON {source: 'reported'}]->(m)
CREATE (d)-[:ASSOCIATES_WITH {kind: 'adult_of_concern', recordedBy: $har,
        recordedAt: datetime('2026-07-01T00:00:00Z')}]->(m)
CREATE (c)-[:HAS_FLAG]->(:Flag {id: 'IDI-C-FLAG', type: 'cse', status: 'active',
        raisedAt: datetime('2026-08-03T10:00:00Z')})-[:RAISED_BY]->(kp)
WITH a, b, c
UNWIND [[a, b], [b, c]] AS pair
WITH pair[0] AS low, pair[1] AS high
CREATE (low)-[:POSSIBLY_SAME_AS {id: 'psa-idi-' + low.id + '-' + high.id, matchProbability: 0.99, matchWeight: 9.0,
        modelVersion: 'child-v1', reasons: '[]', status: 'proposed', proposedAt: datetime('2026-11-01T00:00:00Z'),
        proposedBy: 'mpdb resolve'}]->(high)
"""
CHILDREN = ["IDI-A", "IDI-B", "IDI-C", "IDI-D"]
AB, BC = "psa-idi-IDI-A-IDI-B", "psa-idi-IDI-B-IDI-C"


@pytest.fixture
async def graph_with_scenario(reference_graph):  # type: ignore[no-untyped-def]
    g = reference_graph
    await g.auto_commit("MATCH (n) WHERE n.id STARTS WITH 'IDI-' DETACH DELETE n")
    await g.write(SCENARIO, {"met": MET, "sp": SP, "kp": KP, "har": HARINGEY})
    await g.write(REFRESH_ACCESS, {"childIds": CHILDREN})
    yield g
    await g.auto_commit("MATCH (n) WHERE n.id STARTS WITH 'IDI-' DETACH DELETE n")


def ctx(graph, settings) -> ServiceContext:  # type: ignore[no-untyped-def]
    p = Principal(subject="idi-nca", client_id="idi-tests", agency_id="NCA-MPU", agency_kind=AgencyKind.NATIONAL_UNIT,
                  role=Role.INVESTIGATOR, scopes=frozenset({Scope.CHILD_READ, Scope.INTEL_READ, Scope.IDENTITY_REVIEW}))
    return ServiceContext(graph=graph, settings=settings, principal=p, purpose="idi: test", request_id=str(uuid.uuid4()))


async def decide(c: ServiceContext, decision: str, candidate: str) -> None:
    cmd = {"confirm": rules.ConfirmIdentityCandidate(candidate_id=candidate),
           "unmerge": rules.UnmergeIdentity(candidate_id=candidate, reason="test")}[decision]
    key = "idi-" + hashlib.sha256(f"{decision}{candidate}{uuid.uuid4()}".encode()).hexdigest()[:16]
    await identity_svc.decide(c, decision, cmd, key)  # type: ignore[arg-type]


async def profile(c: ServiceContext, child: str) -> dict:  # type: ignore[type-arg]
    p = await risk_profile(c, child, AS_OF)
    assert p is not None
    return p


async def links(c: ServiceContext, child: str) -> list[tuple[str, int]]:
    res = await cm.co_missing(c, child, SINCE, 1, AS_OF, 50, None)
    assert res is not None
    return sorted((lk.to_child["id"], len(lk.evidence)) for lk in res.links)


async def groups(c: ServiceContext) -> list[list[str]]:
    res = await cm.co_missing_groups(c, HARINGEY, SINCE, 2, AS_OF, 50, None)
    return [sorted(m["id"] for m in g.members) for g in res.groups if any(m["id"].startswith("IDI-") for m in g.members)]


async def adults(c: ServiceContext) -> list[tuple[str, list[tuple[str, int]]]]:
    res = await associates.shared_associates(c, 2, 1, SINCE, AS_OF, 50, None)
    return [(a.person["id"], [(ch["child"]["id"], len(ch["links"])) for ch in a.children])
            for a in res.associates if a.person["id"].startswith("IDI-")]


async def linked(c: ServiceContext) -> list[tuple[str, str]]:
    res = await linked_children(c, HARINGEY, None, SINCE, AS_OF, 500, None)
    return sorted((e.relation, e.child["id"]) for e in res.entries if e.child["id"].startswith("IDI-"))


async def repeat(c: ServiceContext) -> list[tuple[str, str, list[str]]]:
    res = await duties_svc.duties(c, HARINGEY, duties_svc.DutyKind.REPEAT_TRIGGER, as_of=AS_OF, limit=50)
    return [(i.child_id or "", i.id, [e.id for e in i.evidence if e.kind == "episode"]) for i in res.items
            if (i.child_id or "").startswith("IDI-")]


async def test_intelligence_follows_confirmed_identities(graph_with_scenario, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    c = ctx(graph_with_scenario, neo4j_settings)
    # Before any merge: every record is a child of its own.
    a = await profile(c, "IDI-A")
    assert [e["id"] for e in a["episodes"]] == ["IDI-A-E1"] and a["priorEpisodes"]["ever"] == 1
    assert a["flags"] == [] and sorted(p["child"]["id"] for p in a["peers"]) == ["IDI-B", "IDI-D"]
    assert await links(c, "IDI-A") == [("IDI-B", 1), ("IDI-D", 1)]
    assert await groups(c) == [["IDI-A", "IDI-B", "IDI-D"]]
    assert await repeat(c) == []
    assert await adults(c) == [("IDI-M", [("IDI-A", 1), ("IDI-B", 1), ("IDI-D", 1)])]
    assert await linked(c) == [("LINKED", "IDI-B"), ("LOOKED_AFTER", "IDI-A"), ("LOOKED_AFTER", "IDI-D")]

    await decide(c, "confirm", AB)
    a = await profile(c, "IDI-A")
    assert [e["id"] for e in a["episodes"]] == ["IDI-A-E1", "IDI-B-E1"]
    assert (a["priorEpisodes"]["ever"], a["priorEpisodes"]["last90Days"]) == (2, 2)
    assert sorted(f["forceCode"] for f in a["priorEpisodes"]["byForce"]) == [MET, SP]
    # The identity's own record is never its peer; D is one peer, met on both records' episodes.
    assert [(p["child"]["id"], sorted(li["episodeId"] for li in p["episodes"])) for p in a["peers"]] == [
        ("IDI-D", ["IDI-A-E1", "IDI-B-E1"])]
    # B's profile is the same child's.
    b = await profile(c, "IDI-B")
    assert [e["id"] for e in b["episodes"]] == ["IDI-A-E1", "IDI-B-E1"]
    assert await links(c, "IDI-A") == [("IDI-D", 2)]
    assert await links(c, "IDI-B") == [("IDI-D", 2)]
    assert await groups(c) == [["IDI-A", "IDI-D"]]
    assert await repeat(c) == []  # two episodes: Haringey acts at three
    # The adult is linked to two children now (A's identity through both its records' episodes, and D).
    assert await adults(c) == [("IDI-M", [("IDI-A", 2), ("IDI-D", 1)])]
    assert await linked(c) == [("LOOKED_AFTER", "IDI-A"), ("LOOKED_AFTER", "IDI-D")]

    await decide(c, "confirm", BC)
    a = await profile(c, "IDI-A")
    assert [e["id"] for e in a["episodes"]] == ["IDI-A-E1", "IDI-B-E1", "IDI-C-E1"]
    assert [(f["id"], f["active"]) for f in a["flags"]] == [("IDI-C-FLAG", True)]
    assert [(t["rule"], t["count"]) for t in a["triggers"]] == [("haringey_early_help", 3)]
    # One duty for the identity (under its lowest record id), counting all three records' episodes.
    assert await repeat(c) == [("IDI-A", "IDI-A:haringey_early_help", ["IDI-A-E1", "IDI-B-E1", "IDI-C-E1"])]

    await decide(c, "unmerge", AB)
    a = await profile(c, "IDI-A")
    assert [e["id"] for e in a["episodes"]] == ["IDI-A-E1"] and a["priorEpisodes"]["ever"] == 1
    assert a["flags"] == [] and a["triggers"] == []
    b = await profile(c, "IDI-B")
    assert [e["id"] for e in b["episodes"]] == ["IDI-B-E1", "IDI-C-E1"]
    assert await links(c, "IDI-A") == [("IDI-B", 1), ("IDI-D", 1)]
    assert await groups(c) == [["IDI-A", "IDI-B", "IDI-D"]]
    assert await repeat(c) == []
    # B and C are still one identity (named IDI-B), linked to Haringey's A and D.
    assert await adults(c) == [("IDI-M", [("IDI-A", 1), ("IDI-B", 1), ("IDI-D", 1)])]
    assert await linked(c) == [("LINKED", "IDI-B"), ("LOOKED_AFTER", "IDI-A"), ("LOOKED_AFTER", "IDI-D")]
