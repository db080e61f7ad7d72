"""Review and merge of possible duplicates over real HTTP and a real Neo4j: who is shown which pair
in which form, who may decide, the decisions' rules and idempotency, access following the merge,
the audit, and an unmerge that restores the graph exactly (content fingerprint).

Scenario (one child recorded twice, and an unrelated third record):
  ID-A  Kent CC's looked-after child, one closed episode reported to Kent Police (Oct 2026).
  ID-B  the same child as recorded by Staffordshire Police (recordedBy), one closed episode reported
        to Staffordshire (Sep 2026). Nobody but Staffordshire and the national unit reads it.
  ID-C  Haringey's child, one Met episode.
Pairs: ID-A/ID-B proposed (p 0.998), ID-A/ID-C proposed (p 0.61).
"""

from __future__ import annotations

import json
import uuid

import pytest

from mpdb.graph.fingerprint import fingerprint
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.resolution import Proposal, upsert_proposals
from mpdb.resolution.records import pair_id

pytestmark = pytest.mark.integration

KP, SP, MET = "E23000032", "E23000015", "E23000001"
KCC, HARINGEY, NCA = "E10000016", "E09000014", "NCA-MPU"

SCENARIO = """
MATCH (kp:Force {code: $kp}), (sp:Force {code: $sp}), (met:Force {code: $met}),
      (kcc:LocalAuthority {code: $kcc}), (har:LocalAuthority {code: $har})
CREATE (a:Child {id: 'ID-A', pseudonym: 'P-ID-A', givenName: 'Jayden', familyName: 'Okafor', sex: 'M',
        dateOfBirth: date('2011-05-04'), lookedAfter: true, recordedBy: $kcc, sourceSystem: 'test'})
CREATE (a)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (a)-[:HAD]->(:Episode {id: 'ID-A-E1', status: 'closed', reportedAt: datetime('2026-10-01T20:00:00Z'),
        foundAt: datetime('2026-10-02T08:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (b:Child {id: 'ID-B', pseudonym: 'P-ID-B', givenName: 'Jaden', familyName: 'Okafor', sex: 'M',
        dateOfBirth: date('2011-04-05'), lookedAfter: false, recordedBy: $sp, sourceSystem: 'test'})
CREATE (b)-[:HAD]->(:Episode {id: 'ID-B-E1', status: 'closed', reportedAt: datetime('2026-09-01T20:00:00Z'),
        foundAt: datetime('2026-09-02T08:00:00Z')})-[:REPORTED_TO]->(sp)
CREATE (c:Child {id: 'ID-C', pseudonym: 'P-ID-C', givenName: 'Jay', familyName: 'Oka', sex: 'M',
        dateOfBirth: date('2012-05-04'), lookedAfter: true, recordedBy: $har, sourceSystem: 'test'})
CREATE (c)-[:LOOKED_AFTER_BY]->(har)
CREATE (c)-[:HAD]->(:Episode {id: 'ID-C-E1', status: 'closed', reportedAt: datetime('2026-08-01T20:00:00Z')})-[:REPORTED_TO]->(met)
"""


REASONS = [{"comparison": "family_name", "level": "exact", "matchWeight": 6.5},
           {"comparison": "given_name", "level": "Jaro-Winkler >= 0.92", "matchWeight": 3.1},
           {"comparison": "date_of_birth", "level": "day/month swapped", "matchWeight": 2.4},
           {"comparison": "postcode", "level": "else", "matchWeight": -0.9}]


AB, AC = pair_id("ID-A", "ID-B"), pair_id("ID-A", "ID-C")

LIST = """
query($status: IdentityCandidateStatus, $childId: ID, $first: Int, $after: String) {
  identityCandidates(status: $status, childId: $childId, first: $first, after: $after) {
    nodes { id status matchProbability matchWeight modelVersion proposedBy decidedByAgency decisionNote
            reasons { comparison level matchWeight }
            low { child { id givenName } summary { pseudonym ageBand responsibleAuthority } }
            high { child { id givenName } summary { pseudonym ageBand responsibleAuthority } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CONFIRM = """
mutation($input: ConfirmIdentityCandidateInput!, $key: String!) {
  confirmIdentityCandidate(input: $input, idempotencyKey: $key) { candidateId status childIds decidedAt decidedByAgency }
}
"""
REJECT = """
mutation($input: RejectIdentityCandidateInput!, $key: String!) {
  rejectIdentityCandidate(input: $input, idempotencyKey: $key) { candidateId status childIds decidedAt decidedByAgency }
}
"""
UNMERGE = """
mutation($input: UnmergeIdentityInput!, $key: String!) {
  unmergeIdentity(input: $input, idempotencyKey: $key) { candidateId status childIds decidedAt decidedByAgency }
}
"""
REOPEN = """
mutation($input: ReopenIdentityCandidateInput!, $key: String!) {
  reopenIdentityCandidate(input: $input, idempotencyKey: $key) { candidateId status childIds decidedAt decidedByAgency }
}
"""

CHILD = """
query($id: ID!) {
  child(id: $id) { id episodes { nodes { id } }
    sameAs { hops candidateIds record { child { id } summary { pseudonym } } }
    identityCandidates { nodes { id status } } }
}
"""
AUDIT_OF = """
MATCH (e:AuditEvent) WHERE $id IN e.recordIds
RETURN e.action AS action, e.operation AS operation, e.recordIds AS recordIds, e.recipients AS recipients,
       e.agencyId AS agencyId, e.purpose AS purpose ORDER BY e.at
"""


def key() -> str:
    return f"id-{uuid.uuid4()}"


def ok(resp, field):  # type: ignore[no-untyped-def]
    body = resp.json()
    assert "errors" not in body, body
    return body["data"][field]


def err(resp):  # type: ignore[no-untyped-def]
    body = resp.json()
    assert body.get("errors") and body.get("data") is None, body
    return body["errors"][0]


async def build(graph) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import wipe_data
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await graph.write(SCENARIO, {"kp": KP, "sp": SP, "met": MET, "kcc": KCC, "har": HARINGEY})
    await graph.write(REFRESH_ACCESS, {"childIds": ["ID-A", "ID-B", "ID-C"]})
    # Written as `mpdb resolve` writes them (B's UPSERT_PROPOSALS), ids given in either order.
    proposals = [Proposal("ID-B", "ID-A", 0.998, 11.1, "child-v1", json.dumps(REASONS)),
                 Proposal("ID-A", "ID-C", 0.61, 0.6, "child-v1", json.dumps(REASONS[:1]))]
    counts = await graph.in_write_tx(lambda tx: upsert_proposals(tx, proposals, "mpdb resolve"))
    assert (counts.created, counts.decided) == (2, 0)


@pytest.fixture
async def scenario(graph):  # type: ignore[no-untyped-def]
    await build(graph)
    return graph


@pytest.fixture(scope="module")
def tokens(live_server):  # type: ignore[no-untyped-def]
    t = live_server.token
    return {"kcc": t(KCC, "la_missing_lead"), "kcc_sw": t(KCC, "social_worker"), "kp": t(KP, "investigator"),
            "sp": t(SP, "investigator"), "sp_handler": t(SP, "call_handler"), "met": t(MET, "investigator"),
            "nca": t(NCA, "investigator"), "analyst": t(KP, "analyst")}


def test_review_queue_shows_each_pair_in_the_form_the_caller_may_see(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    nca = ok(live_server.graphql(LIST, token=tokens["nca"]), "identityCandidates")
    assert [n["id"] for n in nca["nodes"]] == [AB, AC]
    first = nca["nodes"][0]
    assert (first["status"], first["matchProbability"], first["matchWeight"], first["modelVersion"],
            first["proposedBy"]) == ("PROPOSED", 0.998, 11.1, "child-v1", "mpdb resolve")
    # Both readable: names and the reasons, largest weight first (the waterfall order).
    assert first["low"]["child"]["givenName"] == "Jayden" and first["high"]["child"]["givenName"] == "Jaden"
    assert [(r["comparison"], r["matchWeight"]) for r in first["reasons"]] == [
        ("family_name", 6.5), ("given_name", 3.1), ("date_of_birth", 2.4), ("postcode", -0.9)]

    # Kent CC reads ID-A only: both pairs listed, the other side in summary form, no reasons.
    kcc = ok(live_server.graphql(LIST, token=tokens["kcc"]), "identityCandidates")
    assert [n["id"] for n in kcc["nodes"]] == [AB, AC]
    n = kcc["nodes"][0]
    assert n["low"]["child"] == {"id": "ID-A", "givenName": "Jayden"}
    assert n["high"] == {"child": None, "summary": {"pseudonym": "P-ID-B", "ageBand": "15-17",
                                                    "responsibleAuthority": None}}
    assert n["reasons"] is None and n["decisionNote"] is None
    # Staffordshire reads ID-B only: the A/B pair; the A/C pair names neither of its records.
    sp = ok(live_server.graphql(LIST, token=tokens["sp"]), "identityCandidates")
    assert [(n["id"], n["low"]["child"], n["high"]["child"]) for n in sp["nodes"]] == [
        (AB, None, {"id": "ID-B", "givenName": "Jaden"})]
    # The Met reads ID-C: only the A/C pair; Kent Police reads ID-A (area): both.
    met = ok(live_server.graphql(LIST, token=tokens["met"]), "identityCandidates")
    assert [n["id"] for n in met["nodes"]] == [AC]
    # Paging: one at a time, in order, with a signed cursor.
    p1 = ok(live_server.graphql(LIST, {"first": 1}, token=tokens["nca"]), "identityCandidates")
    assert [n["id"] for n in p1["nodes"]] == [AB] and p1["pageInfo"]["hasNextPage"] is True
    p2 = ok(live_server.graphql(LIST, {"first": 1, "after": p1["pageInfo"]["endCursor"]}, token=tokens["nca"]),
            "identityCandidates")
    assert [n["id"] for n in p2["nodes"]] == [AC] and p2["pageInfo"]["hasNextPage"] is False
    # By child: only that child's pairs, and only for a child the caller may read.
    by_c = ok(live_server.graphql(LIST, {"childId": "ID-C"}, token=tokens["nca"]), "identityCandidates")
    assert [n["id"] for n in by_c["nodes"]] == [AC]
    hidden = ok(live_server.graphql(LIST, {"childId": "ID-B"}, token=tokens["kcc"]), "identityCandidates")
    assert hidden["nodes"] == []
    # Analysts never get named pairs.
    assert err(live_server.graphql(LIST, token=tokens["analyst"]))["extensions"]["code"] == "FORBIDDEN"


async def test_listing_is_audited_as_consultation_and_disclosure(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    ok(live_server.graphql(LIST, token=tokens["kcc"], purpose="review duplicates"), "identityCandidates")
    events = await scenario.read(AUDIT_OF, {"id": "ID-B"})
    assert [(e["action"], e["operation"], e["recordIds"], e["recipients"], e["agencyId"], e["purpose"])
            for e in events] == [("disclosure", "identityCandidates.summary", ["ID-B", "ID-C"], [KCC], KCC,
                                  "review duplicates")]
    events = await scenario.read(AUDIT_OF, {"id": "ID-A"})
    assert [(e["action"], e["operation"], e["recordIds"]) for e in events] == [
        ("consultation", "identityCandidates", sorted([AB, AC, "ID-A"]))]


async def test_who_may_decide(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    v = {"input": {"candidateId": AB}, "key": key()}
    # Kent CC reads only one record of the pair.
    e = err(live_server.graphql(CONFIRM, v, token=tokens["kcc"]))
    assert (e["extensions"]["code"], e["extensions"]["field"]) == ("FORBIDDEN", "input.candidateId")
    # The Met reads neither: exactly like a pair that does not exist.
    e1 = err(live_server.graphql(CONFIRM, {"input": {"candidateId": AB}, "key": key()}, token=tokens["met"]))
    e2 = err(live_server.graphql(CONFIRM, {"input": {"candidateId": "psa-000000000000000000000000"}, "key": key()},
                                 token=tokens["met"]))
    assert e1["extensions"] == e2["extensions"] == {"code": "NOT_FOUND", "field": "input.candidateId"}
    assert e1["message"] == e2["message"]
    # Roles without identity:review, and a decision without a purpose.
    for role in ("kcc_sw", "sp_handler"):
        assert err(live_server.graphql(CONFIRM, v, token=tokens[role]))["extensions"]["code"] == "FORBIDDEN"
    assert err(live_server.graphql(CONFIRM, v, token=tokens["nca"], purpose=None))["extensions"]["code"] == \
        "PURPOSE_REQUIRED"
    bad = err(live_server.graphql(UNMERGE, {"input": {"candidateId": AB, "reason": "  "}, "key": key()},
                                  token=tokens["nca"]))
    assert (bad["extensions"]["code"], bad["extensions"]["field"]) == ("BAD_USER_INPUT", "input.reason")
    status = await scenario.read("MATCH ()-[r:POSSIBLY_SAME_AS {id: $id}]->() RETURN r.status AS s, "
                                 "EXISTS { ()-[:SAME_AS]->() } AS merged", {"id": AB})
    assert status == [{"s": "proposed", "merged": False}]


async def test_merge_then_unmerge_restores_the_graph_and_access(live_server, scenario, tokens, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    exclude = frozenset({"AuditEvent", "AuditHead", "IdempotencyKey"})
    before = await fingerprint(scenario.driver, scenario.database, exclude=exclude)
    # Before: Kent CC cannot read ID-B at all.
    assert ok(live_server.graphql(CHILD, {"id": "ID-B"}, token=tokens["kcc"]), "child") is None

    v = {"input": {"candidateId": AB, "note": "same child: DOB day/month swapped"}, "key": key()}
    first = ok(live_server.graphql(CONFIRM, v, token=tokens["nca"], purpose="duplicate review"),
               "confirmIdentityCandidate")
    assert (first["candidateId"], first["status"], first["childIds"], first["decidedByAgency"]) == (
        AB, "CONFIRMED", ["ID-A", "ID-B"], NCA)
    # The same key again, and a new key: the same answer, nothing written again.
    assert ok(live_server.graphql(CONFIRM, v, token=tokens["nca"]), "confirmIdentityCandidate") == first
    again = ok(live_server.graphql(CONFIRM, {"input": {"candidateId": AB}, "key": key()}, token=tokens["nca"]),
               "confirmIdentityCandidate")
    assert again == first
    same_as = await scenario.read("MATCH (a)-[s:SAME_AS]->(b) RETURN a.id AS a, b.id AS b, s.candidateId AS c, "
                                  "s.confirmedByAgency AS by")
    assert same_as == [{"a": "ID-A", "b": "ID-B", "c": AB, "by": NCA}]
    # Audited once as a combination of the two records, with the purpose.
    events = [e for e in await scenario.read(AUDIT_OF, {"id": AB}) if e["operation"] == "confirmIdentityCandidate"]
    assert [(e["action"], e["recordIds"], e["agencyId"], e["purpose"]) for e in events] == [
        ("combination", sorted(["ID-A", "ID-B", AB]), NCA, "duplicate review")]

    # Access follows identity: Kent CC (responsible LA of ID-A) now reads ID-B and its whole history.
    kcc_b = ok(live_server.graphql(CHILD, {"id": "ID-B"}, token=tokens["kcc"]), "child")
    assert [e["id"] for e in kcc_b["episodes"]["nodes"]] == ["ID-B-E1"]
    assert [(m["hops"], m["candidateIds"], m["record"]["child"]["id"]) for m in kcc_b["sameAs"]] == [
        (1, [AB], "ID-A")]
    assert kcc_b["identityCandidates"]["nodes"] == [{"id": AB, "status": "CONFIRMED"}]
    # Staffordshire (area basis for ID-B) reads ID-A's record, not ID-A's Kent episode.
    sp_a = ok(live_server.graphql(CHILD, {"id": "ID-A"}, token=tokens["sp"]), "child")
    assert sp_a["id"] == "ID-A" and sp_a["episodes"]["nodes"] == []
    lists = await scenario.read("MATCH (c:Child) WHERE c.id IN ['ID-A', 'ID-B'] RETURN c.id AS id, "
                                "c.accessAgencies AS access, c.historyAgencies AS history ORDER BY id")
    assert [(r["id"], sorted(r["access"]), sorted(r["history"])) for r in lists] == [
        ("ID-A", sorted([KCC, KP, SP]), [KCC]), ("ID-B", sorted([KCC, KP, SP]), [KCC])]

    # A confirmed pair cannot be rejected.
    e = err(live_server.graphql(REJECT, {"input": {"candidateId": AB}, "key": key()}, token=tokens["nca"]))
    assert (e["extensions"]["code"], e["extensions"]["reason"]) == ("CONFLICT", "CANDIDATE_CONFIRMED")

    # Unmerge (Kent CC may: it now reads both records).
    un = ok(live_server.graphql(UNMERGE, {"input": {"candidateId": AB, "reason": "twins, not one child"},
                                          "key": key()}, token=tokens["kcc"]), "unmergeIdentity")
    assert (un["status"], un["decidedByAgency"]) == ("UNMERGED", KCC)
    assert ok(live_server.graphql(CHILD, {"id": "ID-B"}, token=tokens["kcc"]), "child") is None
    e = err(live_server.graphql(CONFIRM, {"input": {"candidateId": AB}, "key": key()}, token=tokens["nca"]))
    assert (e["extensions"]["code"], e["extensions"]["reason"]) == ("CONFLICT", "CANDIDATE_DECIDED")

    # `mpdb resolve` running again leaves the decided pair alone (never proposed again).
    again = await scenario.in_write_tx(lambda tx: upsert_proposals(
        tx, [Proposal("ID-A", "ID-B", 0.999, 12.0, "child-v2", "[]")], "mpdb resolve"))
    assert (again.created, again.refreshed, again.decided) == (0, 0, 1)

    after = await fingerprint(scenario.driver, scenario.database, exclude=exclude)
    # Exactly the original graph, apart from the pair's own status and decision fields.
    assert before.differences(after) == [
        f"relationships POSSIBLY_SAME_AS: 2 ({before.relationships['POSSIBLY_SAME_AS'].hash[:12]}) vs "
        f"2 ({after.relationships['POSSIBLY_SAME_AS'].hash[:12]})"]
    pair = await scenario.read("MATCH ()-[r:POSSIBLY_SAME_AS {id: $id}]->() RETURN r.status AS status, "
                               "r.decidedByAgency AS by, r.decisionNote AS note", {"id": AB})
    assert pair == [{"status": "unmerged", "by": KCC, "note": "twins, not one child"}]
    await scenario.write("MATCH ()-[r:POSSIBLY_SAME_AS]->() SET r.status = 'proposed' "
                         "REMOVE r.decidedAt, r.decidedBy, r.decidedByAgency, r.decisionNote")
    restored = await fingerprint(scenario.driver, scenario.database, exclude=exclude)
    assert before.differences(restored) == []


async def test_reject(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    v = {"input": {"candidateId": AC, "note": "different dates of birth"}, "key": key()}
    r = ok(live_server.graphql(REJECT, v, token=tokens["nca"]), "rejectIdentityCandidate")
    assert (r["status"], r["childIds"]) == ("REJECTED", ["ID-A", "ID-C"])
    assert ok(live_server.graphql(REJECT, {**v, "key": key()}, token=tokens["nca"]), "rejectIdentityCandidate") == r
    e = err(live_server.graphql(UNMERGE, {"input": {"candidateId": AC, "reason": "x"}, "key": key()},
                                token=tokens["nca"]))
    assert (e["extensions"]["code"], e["extensions"]["reason"]) == ("CONFLICT", "NOT_MERGED")
    # The queue (proposed) no longer lists it; status null lists every pair.
    queue = ok(live_server.graphql(LIST, token=tokens["nca"]), "identityCandidates")
    assert [n["id"] for n in queue["nodes"]] == [AB]
    every = ok(live_server.graphql(LIST, {"status": None}, token=tokens["nca"]), "identityCandidates")
    assert [(n["id"], n["status"]) for n in every["nodes"]] == [(AB, "PROPOSED"), (AC, "REJECTED")]
    # The same key with another request is refused.
    e = err(live_server.graphql(CONFIRM, {"input": {"candidateId": AB}, "key": v["key"]}, token=tokens["nca"]))
    assert e["extensions"]["reason"] == "IDEMPOTENCY_KEY_REUSED"


async def test_reopen_a_wrong_rejection_or_unmerge(live_server, scenario, tokens) -> None:  # type: ignore[no-untyped-def]
    nca = tokens["nca"]
    ok(live_server.graphql(REJECT, {"input": {"candidateId": AB}, "key": key()}, token=nca), "rejectIdentityCandidate")
    # A reason is required; Kent CC reads only one record of the pair; the Met reads neither.
    bad = err(live_server.graphql(REOPEN, {"input": {"candidateId": AB, "reason": " "}, "key": key()}, token=nca))
    assert (bad["extensions"]["code"], bad["extensions"]["field"]) == ("BAD_USER_INPUT", "input.reason")
    v = {"input": {"candidateId": AB, "reason": "rejected by mistake: same UPN"}, "key": key()}
    assert err(live_server.graphql(REOPEN, v, token=tokens["kcc"]))["extensions"]["code"] == "FORBIDDEN"
    assert err(live_server.graphql(REOPEN, v, token=tokens["met"]))["extensions"]["code"] == "NOT_FOUND"

    r = ok(live_server.graphql(REOPEN, v, token=nca, purpose="duplicate review"), "reopenIdentityCandidate")
    assert (r["candidateId"], r["status"], r["childIds"], r["decidedByAgency"]) == (AB, "PROPOSED", ["ID-A", "ID-B"], NCA)
    # Retried, or asked again with a new key: nothing changes, the same answer.
    assert ok(live_server.graphql(REOPEN, v, token=nca), "reopenIdentityCandidate") == r
    assert ok(live_server.graphql(REOPEN, {**v, "key": key()}, token=nca), "reopenIdentityCandidate") == r
    # Back in the queue, with the reopening as its latest decision; the resolver refreshes it again.
    queue = ok(live_server.graphql(LIST, token=nca), "identityCandidates")
    assert [(n["id"], n["status"], n["decidedByAgency"], n["decisionNote"]) for n in queue["nodes"]] == [
        (AB, "PROPOSED", NCA, "rejected by mistake: same UPN"), (AC, "PROPOSED", None, None)]
    again = await scenario.in_write_tx(lambda tx: upsert_proposals(
        tx, [Proposal("ID-A", "ID-B", 0.999, 12.0, "child-v2", "[]")], "mpdb resolve"))
    assert (again.created, again.refreshed, again.decided) == (0, 1, 0)
    # Reopening merged nothing; audited once, as an alteration with the purpose.
    assert await scenario.read("MATCH ()-[s:SAME_AS]->() RETURN count(s) AS n") == [{"n": 0}]
    events = [e for e in await scenario.read(AUDIT_OF, {"id": AB}) if e["operation"] == "reopenIdentityCandidate"]
    assert [(e["action"], e["recordIds"], e["agencyId"], e["purpose"]) for e in events] == [
        ("alteration", sorted(["ID-A", "ID-B", AB]), NCA, "duplicate review")]

    # Decided again: confirmed. A confirmed pair cannot be reopened (unmerge it); an unmerged one can.
    ok(live_server.graphql(CONFIRM, {"input": {"candidateId": AB}, "key": key()}, token=nca), "confirmIdentityCandidate")
    e = err(live_server.graphql(REOPEN, {**v, "key": key()}, token=nca))
    assert (e["extensions"]["code"], e["extensions"]["reason"]) == ("CONFLICT", "CANDIDATE_CONFIRMED")
    ok(live_server.graphql(UNMERGE, {"input": {"candidateId": AB, "reason": "twins"}, "key": key()}, token=nca),
       "unmergeIdentity")
    r2 = ok(live_server.graphql(REOPEN, {"input": {"candidateId": AB, "reason": "not twins after all"},
                                         "key": key()}, token=nca), "reopenIdentityCandidate")
    assert r2["status"] == "PROPOSED"
    pair = await scenario.read("MATCH ()-[r:POSSIBLY_SAME_AS {id: $id}]->() RETURN r.status AS status, "
                               "r.decisionNote AS note, EXISTS { ()-[:SAME_AS]->() } AS merged", {"id": AB})
    assert pair == [{"status": "proposed", "note": "not twins after all", "merged": False}]
