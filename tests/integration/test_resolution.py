"""`mpdb resolve` against a real Neo4j: a small graph with known duplicates, twins and siblings.

The batch must propose exactly the three duplicate pairs (probability at or above the review
threshold, reasons per comparison), nothing for twins or siblings, never re-propose a pair a person
decided or two records already one identity, and write nothing on a second run.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from conftest import wipe_data
from mpdb.auth.principal import Principal
from mpdb.resolution.batch import PROPOSED_BY, run_batch
from mpdb.resolution.explain import reasons_from_json
from mpdb.resolution.model import load_child_model
from mpdb.resolution.records import pair_id


pytestmark = pytest.mark.integration

KENT_CC, KENT_POLICE = "E10000016", "E23000032"

# id, given, family, dob, sex, home postcode, recorded by
CHILDREN = [
    ("RS-A1", "Olivia", "Hargreaves", "2011-03-04", "F", "ZZ1 2", KENT_CC),
    ("RS-A2", "Olivia", "Hargreves", "2011-03-04", "F", "ZZ1 2", KENT_POLICE),  # typo
    ("RS-B1", "William", "Pemberton", "2010-05-06", "M", "ZZ3 4", KENT_CC),
    ("RS-B2", "Will", "Pemberton-Ashworth", "2010-06-05", "M", "ZZ3 4", KENT_POLICE),  # nickname, hyphen, swap
    ("RS-C1", "Zoë", "Okonkwo", "2012-08-20", "F", "ZZ5 6", KENT_POLICE),
    ("RS-C2", "Zoe", "Okonkwo", "2012-08-01", "F", "ZZ5 7", KENT_CC),  # diacritic, day unknown, moved
    ("RS-T1", "Amelia", "Fitzgerald", "2013-02-02", "F", "ZZ7 8", KENT_CC),  # twins
    ("RS-T2", "Isla", "Fitzgerald", "2013-02-02", "F", "ZZ7 8", KENT_CC),
    ("RS-S1", "Jacob", "Rowntree", "2009-01-10", "M", "ZZ9 1", KENT_POLICE),  # siblings
    ("RS-S2", "Oscar", "Rowntree", "2009-11-15", "M", "ZZ9 1", KENT_POLICE),
    ("RS-D1", "Harry", "Siddiqui", "2008-09-09", "M", "ZZ2 3", KENT_CC),  # rejected by a reviewer
    ("RS-D2", "Harry", "Siddiqui", "2008-09-09", "M", "ZZ2 3", KENT_POLICE),
    ("RS-E1", "Maisie", "Kaczmarek", "2014-11-30", "F", "ZZ4 5", KENT_CC),  # confirmed: one identity
    ("RS-E2", "Maisie", "Kaczmarek", "2014-11-30", "F", "ZZ4 5", KENT_POLICE),
    ("RS-X1", "Noah", "Greenhalgh", "2007-07-07", "M", "ZZ6 1", KENT_CC),  # nobody's duplicate
    # no home on one side: child-v3 weighs the recording agencies' police area (Kent CC lies in Kent Police's)
    ("RS-N1", "Kacey", "Ramsbottom", "2010-10-21", "F", "ZZ8 2", KENT_CC),
    ("RS-N2", "Kacey", "Ramsbotom", "2010-10-21", "F", None, KENT_POLICE),
]
EXPECTED = {("RS-A1", "RS-A2"), ("RS-B1", "RS-B2"), ("RS-C1", "RS-C2"), ("RS-N1", "RS-N2")}

SCENARIO = """
UNWIND $children AS row
CREATE (c:Child {id: row.id, pseudonym: 'P-' + row.id, givenName: row.given, familyName: row.family,
                 dateOfBirth: date(row.dob), sex: row.sex, recordedBy: row.agency,
                 recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})
FOREACH (postcode IN CASE WHEN row.postcode IS NULL THEN [] ELSE [row.postcode] END |
  MERGE (home:Location {id: 'RS-LOC-' + postcode})
    ON CREATE SET home.postcode = postcode, home.kind = 'residence', home.name = 'test home',
                  home.point = CASE WHEN $points[postcode] IS NULL THEN null
                                    ELSE point({latitude: $points[postcode][0], longitude: $points[postcode][1]}) END
  CREATE (c)-[:HOME_AT]->(home))
"""
# The twins' home has a point: the same address is child-v3's strongest home level, so the twins
# score above the threshold on everything but the given name (what the sibling guard is for).
POINTS = {"ZZ7 8": [51.2720, 0.5290]}
DECIDED = """
MATCH (d1:Child {id: 'RS-D1'}), (d2:Child {id: 'RS-D2'}), (e1:Child {id: 'RS-E1'}), (e2:Child {id: 'RS-E2'})
CREATE (d1)-[:POSSIBLY_SAME_AS {id: $rejectedId, status: 'rejected', matchProbability: 0.5, matchWeight: 0.0,
        modelVersion: 'child-v0', reasons: '[]', proposedBy: 'test', decidedBy: 'reviewer'}]->(d2)
CREATE (e1)-[:SAME_AS {candidateId: 'test', confirmedBy: 'reviewer'}]->(e2)
"""
PAIRS = """
MATCH (a:Child)-[r:POSSIBLY_SAME_AS]->(b:Child)
RETURN a.id AS low, b.id AS high, properties(r) AS r ORDER BY low
"""


@pytest.fixture(scope="module")
async def resolution_graph(graph):  # type: ignore[no-untyped-def]
    # The batch reads every child in the graph: start from reference data only, so the counts are
    # this scenario's whatever other modules left in the session's database.
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    reference_graph = graph
    children = [dict(zip(("id", "given", "family", "dob", "sex", "postcode", "agency"), c, strict=True))
                for c in CHILDREN]
    await reference_graph.write(SCENARIO, {"children": children, "points": POINTS})
    await reference_graph.write(DECIDED, {"rejectedId": pair_id("RS-D1", "RS-D2")})
    return reference_graph


async def _events(graph) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = await graph.read("MATCH (e:AuditEvent {operation: 'resolve'}) RETURN properties(e) AS event ORDER BY e.at")
    return [r["event"] for r in rows]


async def test_the_batch_proposes_exactly_the_duplicates_and_never_a_decided_pair(resolution_graph) -> None:  # type: ignore[no-untyped-def]
    model = load_child_model()
    first = await run_batch(resolution_graph, model, Principal.system(subject="cli:test"))
    assert first.children == len(CHILDREN)
    # 7 candidate pairs: the six duplicates and the twins (they share keys); the twins score above
    # the threshold on everything but the given name, and the sibling guard keeps them out. The
    # siblings (same family name and year, different initials) are no candidate pair since child-v2
    # (its family name + year rule also keys on the given name's initial; child-v1 compared them)
    assert (first.candidate_pairs, first.guarded) == (7, 1)
    assert (first.counts.created, first.counts.refreshed, first.counts.decided, first.counts.same_identity) == (4, 0, 1, 1)
    rows = await resolution_graph.read(PAIRS)
    by_pair = {(r["low"], r["high"]): r["r"] for r in rows}
    assert set(by_pair) == EXPECTED | {("RS-D1", "RS-D2")}
    for pair in EXPECTED:
        r = by_pair[pair]
        assert r["id"] == pair_id(*pair)
        assert r["status"] == "proposed"
        assert r["proposedBy"] == PROPOSED_BY
        assert r["modelVersion"] == model.version
        assert model.review_threshold <= r["matchProbability"] <= 1.0
        reasons = reasons_from_json(r["reasons"])
        assert [x.comparison for x in reasons] == ["given_name", "family_name", "dob", "sex", "postcode", "ethnicity",
                                                    "references"]
        assert abs(sum(x.match_weight for x in reasons) - (r["matchWeight"] - _prior_weight(model))) < 0.01
    levels = {x.comparison: x.level for x in reasons_from_json(by_pair[("RS-B1", "RS-B2")]["reasons"])}
    assert levels == {"given_name": "Name variant or nickname", "family_name": "Shares a name part",
                      "dob": "Day and month swapped", "sex": "Exact match", "postcode": "Same postcode or sector",
                      "ethnicity": "ethnicity is NULL", "references": "No shared reference to compare"}
    levels = {x.comparison: x.level for x in reasons_from_json(by_pair[("RS-C1", "RS-C2")]["reasons"])}
    assert (levels["given_name"], levels["dob"], levels["postcode"]) == (
        "Exact match", "Same year and month, one day the 1st", "Same district")
    # the recording agencies' police areas come from the graph (an LA's IN_FORCE, a force's own code)
    levels = {x.comparison: x.level for x in reasons_from_json(by_pair[("RS-N1", "RS-N2")]["reasons"])}
    assert (levels["family_name"], levels["postcode"]) == ("One edit apart", "No home to compare, recorded in one police area")
    # the rejected pair is exactly as the reviewer left it
    assert by_pair[("RS-D1", "RS-D2")]["status"] == "rejected"
    assert by_pair[("RS-D1", "RS-D2")]["modelVersion"] == "child-v0"
    assert by_pair[("RS-D1", "RS-D2")]["matchProbability"] == 0.5
    # one audit event, counts only
    events = await _events(resolution_graph)
    assert len(events) == 1
    e = events[0]
    assert (e["action"], e["recordIds"], e["agencyId"]) == ("combination", [], "MPDB")
    assert "17 children compared" in e["purpose"] and "proposals created 4" in e["purpose"]
    assert not any(name in e["purpose"] for name in ("Olivia", "Hargreaves", "Pemberton", "2011"))

    # a second run over the same graph writes nothing
    second = await run_batch(resolution_graph, model, Principal.system(subject="cli:test"))
    assert (second.counts.created, second.counts.refreshed, second.counts.unchanged) == (0, 0, 4)
    assert {(r["low"], r["high"]): r["r"] for r in await resolution_graph.read(PAIRS)} == by_pair
    assert len(await _events(resolution_graph)) == 2


async def test_a_pair_confirmed_or_rejected_in_review_is_not_proposed_again(resolution_graph) -> None:  # type: ignore[no-untyped-def]
    model = load_child_model()
    await run_batch(resolution_graph, model, Principal.system(subject="cli:test"))
    await resolution_graph.write("MATCH ()-[r:POSSIBLY_SAME_AS {id: $id}]->() SET r.status = 'confirmed'",
                                 {"id": pair_id("RS-A1", "RS-A2")})
    await resolution_graph.write("MATCH ()-[r:POSSIBLY_SAME_AS {id: $id}]->() SET r.status = 'rejected', "
                                 "r.matchProbability = 0.42", {"id": pair_id("RS-C1", "RS-C2")})
    again = await run_batch(resolution_graph, model, Principal.system(subject="cli:test"))
    assert (again.counts.created, again.counts.refreshed, again.counts.unchanged, again.counts.decided) == (0, 0, 2, 3)
    rows = {(r["low"], r["high"]): r["r"] for r in await resolution_graph.read(PAIRS)}
    assert rows[("RS-A1", "RS-A2")]["status"] == "confirmed"
    assert (rows[("RS-C1", "RS-C2")]["status"], rows[("RS-C1", "RS-C2")]["matchProbability"]) == ("rejected", 0.42)
    assert len(rows) == 5


async def test_the_cli_runs_the_batch_and_refuses_bad_options(resolution_graph, neo4j_settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    import mpdb.settings
    from mpdb import cli

    monkeypatch.setattr(mpdb.settings, "get_settings", lambda: neo4j_settings)

    async def invoke(*args: str) -> Any:  # the CLI runs its own event loop: keep it off the tests' loop
        return await asyncio.to_thread(CliRunner().invoke, cli.app, ["resolve", *args])

    dry = await invoke("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.stdout
    assert "Olivia" not in dry.output and "Hargreaves" not in dry.output
    bad = await invoke("run", "--threshold", "1.5")
    assert bad.exit_code == 2
    assert "--threshold" in bad.stderr
    missing = await invoke("run", "--model", "child-v999")
    assert missing.exit_code == 2
    assert "no model 'child-v999'" in missing.stderr
    helped = await invoke("--help")
    assert helped.exit_code == 0 and "train" in helped.stdout and "charts" in helped.stdout


def _prior_weight(model) -> float:  # type: ignore[no-untyped-def]
    import math

    lam = model.settings["probability_two_random_records_match"]
    return math.log2(lam / (1 - lam))


async def test_entry_reads_a_recording_agencys_areas_as_the_batch_does(resolution_graph) -> None:  # type: ignore[no-untyped-def]
    # Entry matching (mpdb/graph/queries/entry_match.py) maps an agency to its police areas in Cypher
    # per record, the batch once for all (READ_AGENCY_AREAS): the two must agree for every agency,
    # so a pair scores the same at entry and in the batch.
    from mpdb.graph.queries.entry_match import AGENCY_FORCES
    from mpdb.graph.queries.resolution import READ_AGENCY_AREAS

    batch = {r["agency"]: sorted(set(r["forces"])) for r in await resolution_graph.read(READ_AGENCY_AREAS)}
    assert batch[KENT_CC] == [KENT_POLICE] and batch[KENT_POLICE] == [KENT_POLICE]
    assert len(batch) > 200  # every force but BTP, every LA
    entry = {}
    for agency in [*batch, "BTP", "NCA-MPU", "unknown"]:
        row = await resolution_graph.read_one(AGENCY_FORCES, {"agencyId": agency})
        entry[agency] = sorted(set(row["forces"]))
    assert {a: f for a, f in entry.items() if a in batch} == batch
    assert [entry[a] for a in ("BTP", "NCA-MPU", "unknown")] == [[], [], []]
