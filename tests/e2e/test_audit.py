"""Audit (DPA 2018 Part 3 s.62): every consultation is logged before data leaves, the log is
hash-chained, and a read is refused when its event cannot be written."""

from __future__ import annotations

import pytest

from mpdb.audit.trail import verify_chain
from mpdb.graph.queries.access import REFRESH_ACCESS

pytestmark = pytest.mark.integration

KENT_POLICE, KENT_CC = "E23000032", "E10000016"

SCENARIO = """
MATCH (kent:Force {code: $kentPolice}), (kcc:LocalAuthority {code: $kentCc})
CREATE (a:Child {id: 'AU-A', pseudonym: 'P-AU-A', givenName: 'Audita', familyName: 'Synthchild', sex: 'F'})
CREATE (a)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (a)-[:HAD]->(:Episode {id: 'AU-E1', status: 'closed', reportedAt: datetime('2026-02-01T20:00:00Z')})-[:REPORTED_TO]->(kent)
CREATE (a)-[:HAD]->(:Episode {id: 'AU-E2', status: 'closed', reportedAt: datetime('2026-03-01T20:00:00Z')})-[:REPORTED_TO]->(kent)
"""

QUERY = 'query { child(id: "AU-A") { id episodes { nodes { id } } } }'
EVENTS = """query($rid: String) { auditEvents(recordId: $rid, first: 10) {
  nodes { seq action operation subject clientId agencyId role purpose recordIds hash prevHash } } }"""


@pytest.fixture(scope="module")
async def scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write(SCENARIO, {"kentPolice": KENT_POLICE, "kentCc": KENT_CC})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["AU-A"]})
    return reference_graph


def test_each_resolver_leaves_one_event_with_exactly_its_ids(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KENT_POLICE, "investigator", subject="officer-1234")
    body = live_server.graphql(QUERY, token=token, purpose="locate child reported missing tonight").json()
    assert body["data"]["child"]["id"] == "AU-A"
    auditor = live_server.token(KENT_POLICE, "auditor")
    events = live_server.graphql(EVENTS, {"rid": "AU-A"}, token=auditor).json()["data"]["auditEvents"]["nodes"]
    mine = [e for e in events if e["subject"] == "officer-1234"]
    # child() logs the child; child.episodes logs exactly the two episodes it returned.
    assert sorted((e["operation"], tuple(e["recordIds"])) for e in mine) == [("child", ("AU-A",))]
    episode_events = live_server.graphql(EVENTS, {"rid": "AU-E1"}, token=auditor).json()["data"]["auditEvents"]["nodes"]
    ep = [e for e in episode_events if e["subject"] == "officer-1234"]
    assert len(ep) == 1 and ep[0]["recordIds"] == ["AU-E1", "AU-E2"] and ep[0]["operation"] == "child.episodes"
    for e in mine + ep:
        assert e["action"] == "consultation"
        assert (e["agencyId"], e["role"], e["clientId"]) == (KENT_POLICE, "investigator", "kent-police")
        assert e["purpose"] == "locate child reported missing tonight"


def test_auditors_see_only_their_agencys_events(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    live_server.graphql(QUERY, token=live_server.token(KENT_CC, "la_missing_lead", subject="sw-1"))
    kent_police_auditor = live_server.token(KENT_POLICE, "auditor")
    events = live_server.graphql(EVENTS, {"rid": "AU-A"}, token=kent_police_auditor).json()["data"]["auditEvents"]["nodes"]
    assert events and {e["agencyId"] for e in events} == {KENT_POLICE}
    investigator = live_server.token(KENT_POLICE, "investigator")
    denied = live_server.graphql(EVENTS, {"rid": "AU-A"}, token=investigator).json()
    assert denied["data"] is None and denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_chain_verifies_and_detects_tampering(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    live_server.graphql(QUERY, token=live_server.token(KENT_POLICE, "investigator"))
    check = await verify_chain(scenario)
    assert check.ok and check.checked >= 1
    newest = await scenario.read_one("MATCH (e:AuditEvent) RETURN e.id AS id, e.shard AS shard, e.seq AS seq, "
                                     "e.purpose AS p ORDER BY e.at DESC, e.id DESC LIMIT 1")
    # Simulate someone editing the stored log directly in the database.
    await scenario.write("MATCH (e:AuditEvent {id: $id}) SET e.purpose = 'edited later'", {"id": newest["id"]})
    try:
        broken = await verify_chain(scenario)
        assert not broken.ok and (broken.chain, broken.first_bad_seq, broken.reason) == (
            f"shard {newest['shard']}", newest["seq"], "content does not match its hash")
    finally:
        await scenario.write("MATCH (e:AuditEvent {id: $id}) SET e.purpose = $p", newest)
    assert (await verify_chain(scenario)).ok


def _refused(body: dict) -> None:
    assert body["data"] == {"child": None}
    assert body["errors"][0]["message"] == "Unexpected error."
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "AU-A" not in str(body) and "Synthchild" not in str(body)


async def test_read_is_refused_when_its_audit_event_cannot_be_written(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    # Occupy the next sequence number of every shard: the unique (shard, seq) constraint makes the
    # append fail, whichever shard the read's transaction lands on.
    await scenario.write("MATCH (h:AuditHead) WHERE h.shard IS NOT NULL "
                         "CREATE (:AuditEvent {shard: h.shard, seq: h.seq + 1, id: 'blocker'})")
    try:
        _refused(live_server.graphql(QUERY, token=live_server.token(KENT_POLICE, "investigator")).json())
    finally:
        await scenario.write("MATCH (e:AuditEvent {id: 'blocker'}) DELETE e")
    assert (await verify_chain(scenario)).ok


async def test_read_is_refused_when_its_shards_head_is_gone(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    """A deleted head is tampering: the append fails (and the read with it) rather than quietly
    starting a new chain the verifier would take for the whole shard."""
    count = "MATCH (e:AuditEvent) RETURN count(e) AS n"
    before = await scenario.read_one(count)
    await scenario.write("MATCH (h:AuditHead) WHERE h.shard IS NOT NULL SET h:AuditHeadAway REMOVE h:AuditHead")
    try:
        _refused(live_server.graphql(QUERY, token=live_server.token(KENT_POLICE, "investigator")).json())
        assert await scenario.read_one(count) == before
    finally:
        await scenario.write("MATCH (h:AuditHeadAway) SET h:AuditHead REMOVE h:AuditHeadAway")
    assert (await verify_chain(scenario)).ok


PAGE = """query($rid: String, $after: String) { auditEvents(recordId: $rid, first: 2, after: $after) {
  nodes { shard seq id at operation } pageInfo { hasNextPage endCursor } } }"""


def test_pages_follow_one_global_order_and_cursors_stay_put_as_events_arrive(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    officer = live_server.token(KENT_POLICE, "investigator", subject="officer-paging")
    auditor = live_server.token(KENT_POLICE, "auditor")
    for _ in range(5):
        live_server.graphql(QUERY, token=officer, purpose="paging test")
    seen, after = [], None
    while True:
        page = live_server.graphql(PAGE, {"rid": "AU-E1", "after": after}, token=auditor).json()["data"]["auditEvents"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        live_server.graphql(QUERY, token=officer, purpose="paging test")  # newer events do not shift older pages
    keys = [(e["at"], e["id"]) for e in seen]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys) >= 5
    assert all(e["shard"] is not None and e["seq"] >= 1 for e in seen)
    # The events of the first walk are all there, in the same order, on a second walk.
    everything = live_server.graphql(
        'query { auditEvents(recordId: "AU-E1", first: 100) { nodes { id } } }', token=auditor).json()
    ids = [e["id"] for e in everything["data"]["auditEvents"]["nodes"]]
    assert [i for i in ids if i in {e["id"] for e in seen}] == [e["id"] for e in seen]


def test_a_malformed_audit_cursor_is_a_clear_error(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    import base64
    import json

    from mpdb.api.pagination import encode_cursor

    auditor = live_server.token(KENT_POLICE, "auditor")
    unsigned = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00+00:00", "x"]).encode()).decode()
    cases = [("not-a-cursor", "malformed cursor"), (unsigned, "malformed cursor"),
             (unsigned + ".AAAAAAAAAAAAAAAAAAAAAA", "invalid cursor: not one this API issued")]
    # Signed with the server's own key but holding the wrong values: refused by type, not by signature.
    cases += [(encode_cursor(*values), "malformed cursor")
              for values in ([7], ["yesterday", "x"], ["2026-01-01T00:00:00", "x"], [1, 2])]
    for bad, message in cases:
        body = live_server.graphql(PAGE, {"after": bad}, token=auditor).json()
        assert body["data"] is None or body["data"].get("auditEvents") is None
        err = body["errors"][0]
        assert (err["message"], err["extensions"]) == (message, {"code": "BAD_USER_INPUT", "field": "after"}), err
