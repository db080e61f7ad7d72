"""The peer benchmark's statements are mpdb's own (bench/peer/extract.py): recorded from the services
as they run, each one a constant of mpdb/graph/queries, with the parameters the repositories build
(the caller's scope included). If the code changes shape, these fail before the benchmark drifts.
No node modules needed: the peer server itself is not started here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.peer.extract import UnknownStatement, constant_name, extract, peer_request, peer_statement
from bench.queries import QUERIES
from mpdb.graph.queries import intel_links

pytestmark = pytest.mark.integration

AS_OF = datetime(2019, 12, 31, tzinfo=UTC)
REPORTED = datetime(2019, 6, 1, 10, 0, 0, 123456, tzinfo=UTC)

SCENARIO = """
MATCH (kent:Force {code: 'E23000032'})
CREATE (a:Child {id: 'T10P-A', pseudonym: 'MP-T10P-A', accessAgencies: ['E23000032'], historyAgencies: ['E23000032']})
CREATE (b:Child {id: 'T10P-B', pseudonym: 'MP-T10P-B', accessAgencies: ['E23000032'], historyAgencies: ['E23000032']})
CREATE (a)-[:HAD]->(e:Episode {id: 'T10P-E1', status: 'closed', reportedAt: $reported, areaAgencies: ['E23000032']})
CREATE (e)-[:REPORTED_TO]->(kent)
CREATE (e)-[:WITH_CHILD {source: 'reported'}]->(b)
// An adult named in episodes of three other children in two forces: a shared associate.
CREATE (m:Person {id: 'T10P-M', name: 'T10P adult', role: 'adult_of_concern'})
WITH kent, m
MATCH (met:Force {code: 'E23000001'})
UNWIND [['T10P-C', met], ['T10P-D', kent], ['T10P-F', kent]] AS x
WITH m, x[0] AS cid, x[1] AS force
CREATE (c:Child {id: cid, pseudonym: 'MP-' + cid, accessAgencies: [force.code], historyAgencies: [force.code]})
CREATE (c)-[:HAD]->(ce:Episode {id: cid + '-E', status: 'closed', reportedAt: $reported, areaAgencies: [force.code]})
CREATE (ce)-[:REPORTED_TO]->(force)
CREATE (ce)-[:WITH_PERSON {source: 'reported'}]->(m)
"""
CLEAR = "MATCH (n) WHERE n.id STARTS WITH 'T10P-' DETACH DELETE n"


@pytest.fixture
async def scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write(CLEAR)
    await reference_graph.write(SCENARIO, {"reported": REPORTED})
    yield reference_graph
    await reference_graph.write(CLEAR)


def _queries(*names: str) -> list:  # type: ignore[type-arg]
    by_name = {q.name: q for q in QUERIES}
    return [by_name[n] for n in names]


async def test_link_queries_record_exactly_mpdbs_constants_and_parameters(scenario) -> None:  # type: ignore[no-untyped-def]
    params = {"asOf": AS_OF, "childId": "T10P-A", "forceChildId": "T10P-A"}
    risk, one_hop, two_hops = await extract(scenario, _queries("riskProfile", "coMissing 1 hop", "coMissing 2 hops"),
                                            params)
    scope = {"agencyId": "NCA-MPU", "national": True, "police": False}

    (s,) = risk.statements
    assert (s.constant, s.text) == ("intel_links.RISK_PROFILE", intel_links.RISK_PROFILE)
    assert s.params == {"childId": "T10P-A", "asOf": AS_OF, **scope}
    assert s.columns == ["child", "episodes", "flags", "placements", "placeVisits", "peerLinks", "adultLinks",
                         "peers", "returnInterviews", "reach"]
    (row,) = s.rows
    assert row["child"]["id"] == "T10P-A"
    # Temporals keep their microseconds and offset on the wire (as nanoseconds).
    assert [e["reportedAt"] for e in row["episodes"]] == [{"$dt": [2019, 6, 1, 10, 0, 0, 123456000, 0]}]
    assert [(x["childId"], x["episodeId"], x["source"]) for x in row["peerLinks"]] == [("T10P-B", "T10P-E1", "reported")]

    for extracted, hops in ((one_hop, 1), (two_hops, 2)):
        (s,) = extracted.statements
        assert (s.constant, s.text) == ("intel_links.CO_MISSING_FOR_CHILD", intel_links.CO_MISSING_FOR_CHILD)
        assert s.params == {"childId": "T10P-A", "hops": hops, "since": datetime(2018, 12, 31, tzinfo=UTC),
                            "asOf": AS_OF, "unopenedEvidence": False,
                            "privateKinds": ["address", "foster_home", "residence", "semi_independent"], **scope}
        (row,) = s.rows
        assert [(h["other"]["id"], h["kind"]) for h in row["hop1"]] == [("T10P-B", "EXPLICIT")]
        assert extracted.result.total == 1

    # Writes are not served by the peer (no auth, no audit): the only ones a read makes are audit events.
    for extracted in (risk, one_hop, two_hops):
        assert all(w.startswith("audit.") for w in extracted.skipped_writes), extracted.skipped_writes


async def test_shared_associates_records_both_statements_of_its_transaction(scenario) -> None:  # type: ignore[no-untyped-def]
    (shared,) = await extract(scenario, _queries("sharedAssociates national"),
                              {"asOf": AS_OF, "childId": None, "forceChildId": None})
    counts, details = shared.statements
    assert (counts.constant, details.constant) == ("intel_links.SHARED_ASSOCIATE_COUNTS", "intel_links.SHARED_ASSOCIATES")
    scope = {"agencyId": "NCA-MPU", "national": True, "police": False}
    assert counts.params == {"minChildren": 3, "minForces": 2, "since": datetime(2018, 12, 31, tzinfo=UTC),
                             "asOf": AS_OF, **scope}
    # The page's persons come from the counts, in the same transaction (other tests' data may add some).
    assert details.tx == counts.tx
    assert details.params == {**counts.params, "personIds": details.params["personIds"]}
    assert ["T10P-M", 3, 2] in counts.rows[0]["counts"]
    assert "T10P-M" in details.params["personIds"]
    assert all(w.startswith("audit.") for w in shared.skipped_writes)


async def test_the_peer_serves_the_statement_verbatim_with_tagged_parameters(scenario) -> None:  # type: ignore[no-untyped-def]
    (risk,) = await extract(scenario, _queries("riskProfile"), {"asOf": AS_OF, "childId": "T10P-A",
                                                                 "forceChildId": None})
    (s,) = risk.statements
    assert peer_statement(s).startswith("CALL {\n" + intel_links.RISK_PROFILE + "\n}\nRETURN collect({`child`: `child`, ")
    request = peer_request(0, risk)
    assert request["query"] == (
        "query Peer($s0_agencyId: Param, $s0_asOf: Param, $s0_childId: Param, $s0_national: Param, $s0_police: Param)"
        " { q0s0(agencyId: $s0_agencyId, asOf: $s0_asOf, childId: $s0_childId, national: $s0_national,"
        " police: $s0_police) }")
    assert request["variables"] == {"s0_agencyId": "NCA-MPU", "s0_asOf": {"$dt": [2019, 12, 31, 0, 0, 0, 0, 0]},
                                    "s0_childId": "T10P-A", "s0_national": True, "s0_police": False}


def test_a_statement_that_is_not_a_constant_stops_the_extraction() -> None:
    assert constant_name(intel_links.RISK_PROFILE) == "intel_links.RISK_PROFILE"
    with pytest.raises(UnknownStatement):
        constant_name("MATCH (c:Child) RETURN c")
