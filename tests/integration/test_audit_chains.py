"""The audit trail's hash chains (mpdb/audit/trail.py): concurrent appends, each recorded once in
a gap-free chain; `verify_chain` finding every kind of tampering; the original single chain,
written before sharding, still verifying after migration 0008."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import pytest

from conftest import reset_audit_trail
from mpdb.audit import trail
from mpdb.audit.trail import AUDIT_SHARDS, AuditAction, AuditContext, append_in_tx, verify_chain
from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.graph.migrations import apply_migrations

pytestmark = pytest.mark.integration

KENT_CC = "E10000016"
PRINCIPAL = Principal(subject="t", client_id="t", agency_id=KENT_CC, agency_kind=AgencyKind.LOCAL_AUTHORITY,
                      role=Role.LA_MISSING_LEAD, scopes=frozenset({Scope.CHILD_READ}))


def ctx() -> AuditContext:
    return AuditContext(PRINCIPAL, "test: audit chains", str(uuid.uuid4()))


async def append_tx(graph, i: int, events: int = 1) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """One transaction appending `events` events, as a consultation with its disclosure does."""
    async def work(tx):  # type: ignore[no-untyped-def]
        return [await append_in_tx(tx, ctx(), AuditAction.CONSULTATION, f"op{i}.{j}", [f"AC-R{i}"])
                for j in range(events)]
    return await graph.in_write_tx(work)


@pytest.fixture
async def trail_graph(reference_graph):  # type: ignore[no-untyped-def]
    await reset_audit_trail(reference_graph)
    yield reference_graph
    await reset_audit_trail(reference_graph)


async def chains(graph) -> dict[int, list[int]]:  # type: ignore[no-untyped-def]
    rows = await graph.read("MATCH (e:AuditEvent) RETURN e.shard AS shard, e.seq AS seq ORDER BY shard, seq")
    out: dict[int, list[int]] = {}
    for r in rows:
        out.setdefault(r["shard"], []).append(r["seq"])
    return out


async def event(graph, shard: int, seq: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    row = await graph.read_one("MATCH (e:AuditEvent {shard: $s, seq: $q}) RETURN e {.*} AS e", {"s": shard, "q": seq})
    assert row is not None
    return row["e"]


async def delete(graph, shard: int, seq: int) -> None:  # type: ignore[no-untyped-def]
    await graph.write("MATCH (e:AuditEvent {shard: $s, seq: $q}) DELETE e", {"s": shard, "q": seq})


async def restore(graph, props: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    await graph.write("CREATE (e:AuditEvent) SET e = $p", {"p": props})


# --- concurrency ---------------------------------------------------------------------------------


async def test_concurrent_appends_are_each_recorded_once_in_gap_free_chains(trail_graph, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    graph = trail_graph
    # Half the transactions pile onto ONE shard, as two API processes whose rotations meet would:
    # the head lock must still give each its own seq. The rest spread over the shards.
    class Crowded(trail._ShardRotation):
        turn = itertools.count()

        def for_tx(self, tx):  # type: ignore[no-untyped-def]
            if tx not in self._by_tx:
                self._by_tx[tx] = 5 if next(self.turn) % 2 else next(self._next) % AUDIT_SHARDS
            return self._by_tx[tx]

    monkeypatch.setattr(trail, "_rotation", Crowded(AUDIT_SHARDS))
    written = await asyncio.gather(*(append_tx(graph, i, events=1 + i % 2) for i in range(120)))
    ids = [e["id"] for tx_events in written for e in tx_events]
    assert len(ids) == 180 and len(set(ids)) == 180
    stored = await graph.read("MATCH (e:AuditEvent) RETURN e.id AS id")
    assert sorted(r["id"] for r in stored) == sorted(ids)  # every event exactly once
    for tx_events in written:  # one transaction's events share its shard, in order
        assert len({e["shard"] for e in tx_events}) == 1
        assert [e["seq"] for e in tx_events] == list(range(tx_events[0]["seq"], tx_events[0]["seq"] + len(tx_events)))
    by_shard = await chains(graph)
    heads = {r["shard"]: r["seq"] for r in await graph.read(
        "MATCH (h:AuditHead) WHERE h.shard IS NOT NULL RETURN h.shard AS shard, h.seq AS seq")}
    assert len(heads) == AUDIT_SHARDS
    assert len(by_shard) > 2 and len(by_shard.get(5, [])) >= 60
    for shard, seqs in by_shard.items():
        assert seqs == list(range(1, heads[shard] + 1)), shard  # gap-free, and the head agrees
    assert sum(heads.values()) == 180
    check = await verify_chain(graph)
    assert check.ok and check.checked == 180


async def test_concurrent_reads_share_commits_and_each_reads_events_stay_together(trail_graph) -> None:  # type: ignore[no-untyped-def]
    """Group commit: consultations arriving together are written in a few transactions; a read's
    consultation and disclosure are never split, and each read gets exactly its own events back."""
    graph = trail_graph

    async def read(i: int) -> list[dict[str, Any]]:
        c = ctx()
        return await trail.record(graph, [
            trail.new_event(c, AuditAction.CONSULTATION, f"read{i}", [f"AC-R{i}"]),
            trail.new_event(c, AuditAction.DISCLOSURE, f"read{i}.summary", [f"AC-S{i}"], [KENT_CC])])

    results = await asyncio.gather(*(read(i) for i in range(60)))
    for i, (consultation, disclosure) in enumerate(results):
        assert (consultation["operation"], disclosure["operation"]) == (f"read{i}", f"read{i}.summary")
        assert consultation["shard"] == disclosure["shard"] and disclosure["seq"] == consultation["seq"] + 1
        assert disclosure["prevHash"] == consultation["hash"]
    stored = await graph.read("MATCH (e:AuditEvent) RETURN e.id AS id")
    assert sorted(r["id"] for r in stored) == sorted(e["id"] for pair in results for e in pair)
    # One transaction per read would have used 60 shards of the rotation; shared commits use few.
    assert len({pair[0]["shard"] for pair in results}) < 30
    for shard, seqs in (await chains(graph)).items():
        assert seqs == list(range(1, len(seqs) + 1)), shard
    assert (await verify_chain(graph)).ok


async def test_every_read_of_a_failed_commit_fails(trail_graph) -> None:  # type: ignore[no-untyped-def]
    await trail_graph.write("MATCH (h:AuditHead) WHERE h.shard IS NOT NULL "
                            "CREATE (:AuditEvent {shard: h.shard, seq: h.seq + 1, id: 'blocker'})")
    try:
        outcomes = await asyncio.gather(
            *(trail.record(trail_graph, [trail.new_event(ctx(), AuditAction.CONSULTATION, "r", ["AC-X"])])
              for _ in range(10)), return_exceptions=True)
        assert all(isinstance(o, trail.AuditAppendFailed) for o in outcomes), outcomes
    finally:
        await trail_graph.write("MATCH (e:AuditEvent {id: 'blocker'}) DELETE e")
    assert await trail_graph.read("MATCH (e:AuditEvent) RETURN e.id AS id") == []


async def test_a_process_spreads_its_transactions_over_the_shards(trail_graph) -> None:  # type: ignore[no-untyped-def]
    written = await asyncio.gather(*(append_tx(trail_graph, i) for i in range(16)))
    assert len({tx_events[0]["shard"] for tx_events in written}) == 16


async def test_the_group_writer_relinks_and_moves_off_a_shard_another_process_writes_to(trail_graph, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The group writer sends its events linked after the head it last left, checked under the
    head's lock; when another process appended there meanwhile, nothing is written where it
    expected, the events are chained after the real head instead, and the writer moves on."""
    monkeypatch.setattr(trail, "_known_heads", trail._KnownHeads())  # a process starting now
    writer = trail._GroupCommit(trail_graph)
    writer.shard = 9
    monkeypatch.setattr(trail.random, "randrange", lambda n: 11)

    async def read(i: int) -> list[dict[str, Any]]:
        return await writer.submit([trail.new_event(ctx(), AuditAction.CONSULTATION, f"read{i}", [f"AC-R{i}"])])

    [one] = await read(1)
    [two] = await read(2)
    assert (one["shard"], two["shard"], two["seq"]) == (9, 9, one["seq"] + 1) and writer.shard == 9
    assert trail._known_heads.get(9) == (two["seq"], two["hash"])
    class Fixed:
        def for_tx(self, tx):  # type: ignore[no-untyped-def]
            return 9

    mine = trail._known_heads
    monkeypatch.setattr(trail, "_rotation", Fixed())
    monkeypatch.setattr(trail, "_known_heads", trail._KnownHeads())  # another process appends to shard 9
    await append_tx(trail_graph, 3)
    monkeypatch.setattr(trail, "_known_heads", mine)
    [three] = await read(3)  # re-linked after the other process's event ...
    [theirs] = [e for e in await trail_graph.read("MATCH (e:AuditEvent {shard: 9}) RETURN e {.*} AS e")
                if e["e"]["operation"].startswith("op3")]
    assert (three["shard"], three["seq"], three["prevHash"]) == (9, two["seq"] + 2, theirs["e"]["hash"])
    assert (await chains(trail_graph))[9] == [1, 2, 3, 4]
    assert writer.shard != 9  # ... and the next commits go elsewhere
    [four] = await read(4)
    assert four["shard"] == writer.shard
    assert (await verify_chain(trail_graph)).ok


async def test_a_commit_waits_for_the_consultations_of_reads_still_under_way(trail_graph, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Group commit lingers while other reads of the process run, so their events share the commit;
    with no read under way it starts at once; and the linger is bounded (a read still running
    does not hold the commit)."""
    commits: list[int] = []
    writer = trail._GroupCommit(trail_graph)
    original = writer._append

    async def counted(events):  # type: ignore[no-untyped-def]
        commits.append(len(events))
        return await original(events)

    monkeypatch.setattr(writer, "_append", counted)

    async def read(i: int) -> list[dict[str, Any]]:
        return await writer.submit([trail.new_event(ctx(), AuditAction.CONSULTATION, f"read{i}", [f"AC-R{i}"])])

    monkeypatch.setattr(trail, "GROUP_COMMIT_LINGER_S", 600)
    monkeypatch.setattr(trail_graph, "reads_in_flight", 1)  # another read of this process is running
    first = asyncio.create_task(read(1))
    await asyncio.sleep(0.01)
    assert commits == [] and not first.done()  # waiting for it
    monkeypatch.setattr(trail_graph, "reads_in_flight", 0)  # it ended, and its consultation arrives
    await asyncio.gather(first, read(2))
    assert commits == [2]

    await asyncio.gather(read(3))  # nothing else under way: a commit of its own, at once
    assert commits == [2, 1]

    monkeypatch.setattr(trail, "GROUP_COMMIT_LINGER_S", 0.01)
    monkeypatch.setattr(trail_graph, "reads_in_flight", 1)  # a read that never ends
    [event] = await read(4)
    assert commits == [2, 1, 1] and event["operation"] == "read4"
    assert (await verify_chain(trail_graph)).ok


# --- verification --------------------------------------------------------------------------------


@pytest.fixture
async def filled(trail_graph, monkeypatch):  # type: ignore[no-untyped-def]
    """Shard 2 with 5 events, shard 3 with 2, written in that order."""
    shards = iter([2] * 5 + [3] * 2)

    class Fixed:
        def for_tx(self, tx):  # type: ignore[no-untyped-def]
            return next(shards)

    monkeypatch.setattr(trail, "_rotation", Fixed())
    for i in range(7):
        await append_tx(trail_graph, i)
    monkeypatch.undo()
    assert await chains(trail_graph) == {2: [1, 2, 3, 4, 5], 3: [1, 2]}
    check = await verify_chain(trail_graph)
    assert check.ok and check.checked == 7
    return trail_graph


async def broken(graph) -> tuple[str | None, int | None, str | None]:  # type: ignore[no-untyped-def]
    check = await verify_chain(graph)
    assert not check.ok
    return check.chain, check.first_bad_seq, check.reason


async def test_verify_finds_an_edited_event(filled) -> None:  # type: ignore[no-untyped-def]
    await filled.write("MATCH (e:AuditEvent {shard: 2, seq: 3}) SET e.recordIds = ['someone-else']")
    assert await broken(filled) == ("shard 2", 3, "content does not match its hash")


async def test_verify_finds_an_event_deleted_in_the_middle(filled) -> None:  # type: ignore[no-untyped-def]
    await delete(filled, 2, 3)
    assert await broken(filled) == ("shard 2", 3, "event 3 is missing")


async def test_verify_finds_an_event_deleted_at_the_end(filled) -> None:  # type: ignore[no-untyped-def]
    await delete(filled, 3, 2)
    assert await broken(filled) == ("shard 3", 2, "event 2 is missing (head says 2)")


async def test_verify_finds_two_events_swapped(filled) -> None:  # type: ignore[no-untyped-def]
    a, b = await event(filled, 2, 2), await event(filled, 2, 3)
    await delete(filled, 2, 2)
    await delete(filled, 2, 3)
    await restore(filled, {**a, "seq": 3})
    await restore(filled, {**b, "seq": 2})
    assert await broken(filled) == ("shard 2", 2, "prevHash does not match the previous event")
    # Swapped whole, links and all, the chain no longer links up either.
    await delete(filled, 2, 2)
    await delete(filled, 2, 3)
    await restore(filled, {**a, "seq": 3, "prevHash": b["prevHash"], "hash": b["hash"]})
    await restore(filled, {**b, "seq": 2, "prevHash": a["prevHash"], "hash": a["hash"]})
    assert (await broken(filled))[:2] == ("shard 2", 2)


async def test_verify_finds_a_deleted_head(filled) -> None:  # type: ignore[no-untyped-def]
    await filled.write("MATCH (h:AuditHead {id: 'shard-3'}) DELETE h")
    assert await broken(filled) == ("shard 3", 1, "the head is missing")
    # ... even with its whole chain gone: the shards are a fixed set.
    await delete(filled, 3, 1)
    await delete(filled, 3, 2)
    assert await broken(filled) == ("shard 3", 1, "the head is missing")
    await filled.write("CREATE (:AuditHead {id: 'shard-3', shard: 3, seq: 0, hash: ''})")  # for the fixture's reset


async def test_verify_finds_a_tail_deleted_with_its_head_rewound_against_a_checkpoint(filled) -> None:  # type: ignore[no-untyped-def]
    kept = (await verify_chain(filled)).checkpoint
    assert kept is not None and kept["shard 2"][0] == 5 and kept["shard 0"] == (0, "")
    last = await event(filled, 2, 5)
    await delete(filled, 2, 5)
    await filled.write("MATCH (h:AuditHead {id: 'shard-2'}) SET h.seq = 4, h.hash = $h", {"h": last["prevHash"]})
    assert (await verify_chain(filled)).ok  # consistent within the database: only the checkpoint can tell
    check = await verify_chain(filled, checkpoint_in=kept)
    assert (check.ok, check.chain, check.first_bad_seq) == (False, "shard 2", 5)
    assert check.reason == "event 5 is missing (the checkpoint saw 5 events)"


async def test_verify_finds_an_event_no_chain_accounts_for(filled) -> None:  # type: ignore[no-untyped-def]
    forged = {**await event(filled, 3, 2), "seq": 3, "id": str(uuid.uuid4())}
    await restore(filled, forged)
    assert await broken(filled) == ("shard 3", 3, "event beyond the head")


# --- the original single chain -------------------------------------------------------------------

# The append statement of migrations 0001-0007 (mpdb/graph/queries/audit.py before sharding), kept
# here to write a chain exactly as older versions did.
LEGACY_APPEND = """
MERGE (h:AuditHead {id: 'head'})
  ON CREATE SET h.seq = 0, h.hash = ''
SET h.lockedAt = datetime()
WITH h, h.seq + 1 AS seq, h.hash AS prevHash
WITH h, seq, prevHash,
     apoc.util.sha256(['[' + toString(seq) + ',' + $body + ','
       + CASE WHEN prevHash IS NULL THEN 'null' ELSE '"' + prevHash + '"' END + ']']) AS hash
CREATE (e:AuditEvent)
SET e = $event, e.at = datetime($event.at), e.seq = seq, e.prevHash = prevHash, e.hash = hash
SET h.seq = seq, h.hash = hash
RETURN seq, prevHash, hash
"""


async def legacy_append(graph, i: int) -> None:  # type: ignore[no-untyped-def]
    import json
    from datetime import UTC, datetime

    ev = {"id": str(uuid.uuid4()), "at": datetime.now(UTC).isoformat(timespec="microseconds"),
          "action": "consultation", "operation": f"legacy{i}", "subject": "t", "clientId": "t", "agencyId": KENT_CC,
          "role": "la_missing_lead", "purpose": "before sharding", "requestId": str(uuid.uuid4()),
          "recordIds": [f"AC-L{i}"], "recipients": []}
    body = json.dumps([ev[f] for f in trail.LEGACY_HASHED_FIELDS[1:-1]], separators=(",", ":"))[1:-1]
    await graph.write(LEGACY_APPEND, {"event": ev, "body": body})


async def test_the_original_chain_still_verifies_after_migration_and_binds_the_shards(trail_graph) -> None:  # type: ignore[no-untyped-def]
    graph = trail_graph
    # The database as migrations 0001-0007 left it: one chain, seq unique, no shard heads.
    await graph.auto_commit("DROP INDEX audit_event_seq IF EXISTS")
    await graph.auto_commit("DROP CONSTRAINT audit_event_shard_seq IF EXISTS")
    await graph.auto_commit("CREATE CONSTRAINT audit_event_seq IF NOT EXISTS FOR (n:AuditEvent) REQUIRE n.seq IS UNIQUE")
    await graph.write("MATCH (h:AuditHead) DELETE h")
    await graph.write("MATCH (m:SchemaMigration {version: 8}) DELETE m")
    for i in range(4):
        await legacy_append(graph, i)
    legacy_head = await graph.read_one("MATCH (h:AuditHead {id: 'head'}) RETURN h.seq AS seq, h.hash AS hash")
    assert legacy_head is not None and legacy_head["seq"] == 4

    assert await apply_migrations(graph.driver, graph.database) == ["0008_audit_shards"]
    heads = await graph.read("MATCH (h:AuditHead) WHERE h.shard IS NOT NULL RETURN h.seq AS seq, h.hash AS hash")
    assert len(heads) == AUDIT_SHARDS and {(h["seq"], h["hash"]) for h in heads} == {(0, legacy_head["hash"])}
    check = await verify_chain(graph)
    assert check.ok and check.checked == 4 and check.checkpoint["original chain"] == (4, legacy_head["hash"])

    new = await append_tx(graph, 99)  # seq 1 of its shard while the original chain has a seq 1 too
    assert new[0]["seq"] == 1 and new[0]["prevHash"] == legacy_head["hash"]
    check = await verify_chain(graph)
    assert check.ok and check.checked == 5

    # Tampering with the original chain is still found, with its own hash fields.
    await graph.write("MATCH (e:AuditEvent {operation: 'legacy2'}) SET e.purpose = 'edited'")
    assert await broken(graph) == ("original chain", 3, "content does not match its hash")
    await graph.write("MATCH (e:AuditEvent {operation: 'legacy2'}) SET e.purpose = 'before sharding'")
    # Removing its last event AND its head leaves a consistent-looking original chain, but the
    # shards start from its old last hash.
    await graph.write("MATCH (e:AuditEvent {operation: 'legacy3'}) DELETE e")
    await graph.write("MATCH (h:AuditHead {id: 'head'}) DELETE h")
    assert await broken(graph) == ("original chain", 4, "the head is missing")
    await graph.write("MATCH (e:AuditEvent) WHERE e.shard IS NULL DELETE e")
    chain, seq, reason = await broken(graph)
    assert (chain, seq) == ("shard 0", 1)
    assert reason in ("its first event does not follow the original chain's last event",
                      "prevHash does not match the previous event")


async def test_the_cli_reports_the_break_and_keeps_a_checkpoint(filled, neo4j_settings, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from mpdb import cli

    monkeypatch.setattr(cli, "get_settings", lambda: neo4j_settings)
    checkpoint = tmp_path / "audit-checkpoint.json"

    async def verify() -> Any:  # the CLI runs its own event loop: keep it off the tests' loop
        return await asyncio.to_thread(CliRunner().invoke, cli.app, ["audit", "verify", "--checkpoint", str(checkpoint)])

    ok = await verify()
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == f"audit chains intact: 7 events in {AUDIT_SHARDS} chains"
    assert '"shard 2": [\n   5,' in checkpoint.read_text()
    last = await event(filled, 2, 5)
    await delete(filled, 2, 5)
    await filled.write("MATCH (h:AuditHead {id: 'shard-2'}) SET h.seq = 4, h.hash = $h", {"h": last["prevHash"]})
    bad = await verify()
    assert bad.exit_code == 1
    assert bad.stderr.strip() == ("audit chain BROKEN: shard 2, event 5: event 5 is missing (the checkpoint saw 5 "
                                  "events) (4 events verified before it)")
    checkpoint.write_text("{}")
    assert (await verify()).exit_code == 2
