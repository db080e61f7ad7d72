"""The append-only record of who saw and changed what (DPA 2018 Part 3, s.62).

Actions follow s.62(1): collection, alteration, consultation, disclosure, combination, erasure.
Each event names who (subject, client, agency, role), when, what (record ids), why (purpose) and,
for disclosures, the recipients.

Tamper evidence: events form AUDIT_SHARDS hash chains ("shards"), each with its own head node.
An event's `hash` covers its own content, its shard, its sequence number in that shard and its
predecessor's hash, so editing, deleting or reordering any event breaks every later link of its
chain, and a head (its shard's last seq and hash) exposes a deleted tail. `mpdb audit verify`
walks every chain and reports the first broken one. The shards exist because one chain needs
one lock: every append took the single head's write lock until its transaction committed, so
concurrent reads queued behind each other. Now an append locks only its shard's head, and each
transaction picks the next shard in a per-process rotation (starting at a random shard), so two
concurrent transactions wait for each other only when they land on the same shard of 64. The
rotation is only about speed: correctness rests on the head lock, so any number of API
processes on a cluster may append at once without knowing of each other.
All appends of one transaction (a consultation and its disclosure, a mutation's events) go to
the same shard, so a transaction holds at most one head lock and appends cannot deadlock.
Consultations are also group-committed (`record`): reads whose events arrive while an earlier
audit transaction commits, or while other reads of the process are still under way (a bounded
wait), share the next one, because a commit costs far more than an event. The group writer stays
on one shard and remembers its head, so it hashes the chain in Python and appends in one
pipelined statement that writes only if the locked head is the one it expects.

The chains are bound together at their start: migration 0008 made every shard begin from the
last hash of the original single chain (events from before sharding, without a `shard`), which
is kept as it was written, frozen, and verified first with its original hash fields.

The global order (for reading the trail) is (at, id): `at` is covered by the hash.

Consultations are committed BEFORE the data is returned; when the event cannot be committed the
read fails (no consultation without a log). Alterations are written inside the same
transaction as the change they describe. Either way the event is committed with its chain link
before anything is returned: there is no unsealed window in which an event could vanish unseen.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import random
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from neo4j import AsyncManagedTransaction

from mpdb.auth.principal import Principal
from mpdb.graph.db import Graph, run
from mpdb.graph.queries import audit as q
from mpdb.observability.metrics import AUDIT_APPEND_SECONDS


class AuditAction(StrEnum):
    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"


# How many chains; graph_schema/migrations/0008_audit_shards.cypher creates exactly these heads.
# Changing it needs a new migration that creates the new heads (never remove one: its chain
# would then look deleted to the verifier).
AUDIT_SHARDS: Final = 64

# The fields the hash of a sharded event covers, in order. Changing this list invalidates every
# existing chain.
HASHED_FIELDS = (
    "shard", "seq", "id", "at", "action", "operation", "subject", "clientId", "agencyId", "role",
    "purpose", "requestId", "recordIds", "recipients", "prevHash",
)
# The original single chain's events (no `shard`) keep the fields they were hashed with.
LEGACY_HASHED_FIELDS = HASHED_FIELDS[1:]


def event_hash(event: dict[str, Any]) -> str:
    fields = LEGACY_HASHED_FIELDS if event.get("shard") is None else HASHED_FIELDS
    canonical = json.dumps([event.get(f) for f in fields], separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def head_id(shard: int) -> str:
    return f"shard-{shard}"


class _ShardRotation:
    """Which shard a transaction appends to: the next one in this process's rotation, the same one
    for every append of one transaction. Only a way to keep concurrent appends apart."""

    def __init__(self, shards: int) -> None:
        self._shards = shards
        self._next = itertools.count(random.randrange(shards))
        self._by_tx: weakref.WeakKeyDictionary[AsyncManagedTransaction, int] = weakref.WeakKeyDictionary()

    def for_tx(self, tx: AsyncManagedTransaction) -> int:
        shard = self._by_tx.get(tx)
        if shard is None:
            shard = self._by_tx[tx] = next(self._next) % self._shards
        return shard


_rotation = _ShardRotation(AUDIT_SHARDS)


class _StrictClock:
    """UTC now, strictly increasing within this process, so the (at, id) order of a process's
    events is the order they were appended in (a consultation before its disclosure)."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)

    def now(self) -> datetime:
        t = datetime.now(UTC)
        if t <= self._last:
            t = self._last + timedelta(microseconds=1)
        self._last = t
        return t


_clock = _StrictClock()


class AuditAppendFailed(RuntimeError):
    """The event could not be recorded; the transaction (and the read or write) must fail."""


@dataclass(frozen=True, slots=True)
class AuditContext:
    principal: Principal
    purpose: str | None
    request_id: str


def new_event(
    ctx: AuditContext,
    action: AuditAction,
    operation: str,
    record_ids: Iterable[str],
    recipients: Iterable[str] = (),
) -> dict[str, Any]:
    """An event's own content; its shard, seq and hashes come from the chain it is appended to."""
    p = ctx.principal
    return {
        "id": str(uuid.uuid4()),
        "at": _clock.now().isoformat(timespec="microseconds"),
        "action": str(action),
        "operation": operation,
        "subject": p.subject,
        "clientId": p.client_id,
        "agencyId": p.agency_id,
        "role": str(p.role),
        "purpose": ctx.purpose,
        "requestId": ctx.request_id,
        "recordIds": sorted(set(record_ids)),
        "recipients": sorted(set(recipients)),
    }


class _KnownHeads:
    """The (seq, hash) this process last appended to each shard: the head it expects to find
    there next time. A guess only: APPEND_LINKED_EVENTS checks it under the head's lock and
    writes nothing when another transaction (another process, a rolled-back one) moved the head."""

    def __init__(self) -> None:
        self._heads: dict[int, tuple[int, str]] = {}

    def get(self, shard: int) -> tuple[int, str] | None:
        return self._heads.get(shard)

    def set(self, shard: int, seq: int, hash_: str) -> None:
        self._heads[shard] = (seq, hash_)

    def forget(self, shard: int) -> None:
        self._heads.pop(shard, None)


_known_heads = _KnownHeads()


def _link(events: list[dict[str, Any]], shard: int, seq: int, prev_hash: str) -> list[dict[str, Any]]:
    """`events` as they are stored: chained after (seq, prev_hash) of `shard`."""
    linked = []
    for event in events:
        seq += 1
        full = {**event, "shard": shard, "seq": seq, "prevHash": prev_hash}
        full["hash"] = prev_hash = event_hash(full)
        linked.append(full)
    return linked


def _as_stored(event: dict[str, Any]) -> dict[str, Any]:
    # `at` is hashed as its ISO text and stored as a DATETIME (the `at` index orders the trail).
    return {**event, "at": datetime.fromisoformat(event["at"])}


def _body(event: dict[str, Any]) -> str:
    # The hashed fields between seq and prevHash, serialised exactly as event_hash does; the
    # statement adds shard, seq and prevHash from the locked head and hashes the whole array.
    return json.dumps([event[f] for f in HASHED_FIELDS[2:-1]], separators=(",", ":"), default=str)[1:-1]


async def append_events_in_tx(tx: AsyncManagedTransaction, events: list[dict[str, Any]],
                              shard: int | None = None) -> list[dict[str, Any]]:
    """Append `events`, in order, to `shard` (default: this transaction's shard of the rotation):
    one statement, one head lock, the chain built from the locked head."""
    if not events:
        return []
    shard = _rotation.for_tx(tx) if shard is None else shard
    with AUDIT_APPEND_SECONDS.time():
        rows = await run(tx, q.APPEND_EVENTS, {"headId": head_id(shard),
                                               "events": [{"event": e, "body": _body(e)} for e in events]})
    if not rows:  # fail closed: a deleted head is tampering, never a reason to start a new chain
        _known_heads.forget(shard)
        raise AuditAppendFailed(f"audit shard {shard} has no head: run `mpdb audit verify`")
    stored = []
    for event, link in zip(events, rows[0]["chain"], strict=True):
        full = {**event, "shard": rows[0]["shard"], "seq": link["seq"], "prevHash": link["prevHash"]}
        full["hash"] = event_hash(full)
        if full["hash"] != link["hash"]:  # fail closed: never commit an event the verifier would reject
            raise AuditAppendFailed(f"audit event {event['id']}: hash computed in the graph does not match")
        stored.append(full)
    # Where the next append of this process will expect the head (if this transaction rolls back,
    # that append finds the head elsewhere and falls back to this statement).
    _known_heads.set(shard, stored[-1]["seq"], stored[-1]["hash"])
    return stored


async def _append_linked(graph: Graph, shard: int, expected: tuple[int, str],
                         events: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """`events` linked after `expected` and appended in a transaction of their own, in one round
    trip; None, with nothing written, when the head is not there (another process appended)."""
    stored = _link(events, shard, *expected)
    with AUDIT_APPEND_SECONDS.time():
        rows = await graph.write_statement(q.APPEND_LINKED_EVENTS, {
            "headId": head_id(shard), "afterSeq": expected[0], "afterHash": expected[1],
            "events": [_as_stored(e) for e in stored], "lastSeq": stored[-1]["seq"], "lastHash": stored[-1]["hash"]})
    if not rows:  # fail closed, as above
        _known_heads.forget(shard)
        raise AuditAppendFailed(f"audit shard {shard} has no head: run `mpdb audit verify`")
    if not rows[0]["linked"]:
        _known_heads.forget(shard)
        return None
    _known_heads.set(shard, stored[-1]["seq"], stored[-1]["hash"])
    return stored


async def append_in_tx(
    tx: AsyncManagedTransaction,
    ctx: AuditContext,
    action: AuditAction,
    operation: str,
    record_ids: Iterable[str],
    recipients: Iterable[str] = (),
) -> dict[str, Any]:
    """One event inside the caller's transaction (a write and the alteration it records)."""
    return (await append_events_in_tx(tx, [new_event(ctx, action, operation, record_ids, recipients)]))[0]


async def append(
    graph: Graph,
    ctx: AuditContext,
    action: AuditAction,
    operation: str,
    record_ids: Iterable[str],
    recipients: Iterable[str] = (),
) -> dict[str, Any]:
    """One event outside any caller's transaction, committed (group commit) before returning."""
    return (await record(graph, [new_event(ctx, action, operation, record_ids, recipients)]))[0]


# --- consultations: group commit -----------------------------------------------------------------

# Transactions one process keeps appending consultations at once, and the most events one carries.
# One: while it commits, the next reads' events gather for the following one, so under load each
# commit carries many reads (bench/audit_cost.py: a commit costs Neo4j and the driver far more than
# an event does, and 2 or 4 in flight made smaller batches and cost more throughput). Processes
# do not share a writer: several API processes each append to shards of their own at once.
GROUP_COMMIT_IN_FLIGHT: Final = 1
GROUP_COMMIT_MAX_EVENTS: Final = 500
# How long a commit may wait for the consultations of reads still running in this process. A
# commit costs ~6 ms of CPU (driver and Neo4j) and an event ~0.3 ms (bench/audit_cost.py), so the
# events per commit decide what audit costs under load; with no other read under way (one
# client) nothing waits. A read's wait grows by at most this much.
GROUP_COMMIT_LINGER_S: Final = 0.010


@dataclass(slots=True)
class _Waiting:
    events: list[dict[str, Any]]
    done: asyncio.Future[list[dict[str, Any]]]


class _GroupCommit:
    """Consultations that arrive while earlier ones are being written share the next transaction.

    A read's events are only ever written in a transaction of their own or with other reads'
    events, never split; the read waits for that transaction's commit, and fails with it. Under
    load this turns N write transactions (N commits, N log flushes) into a few, which is what
    makes the audit write cheap next to the read; with one client nothing waits."""

    lingers = True  # bench/audit_cost.py measures without

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        # One transaction in flight, so one shard suffices: staying on it means this process
        # always knows its head (one statement per commit). Another process on the same shard
        # (1 in AUDIT_SHARDS per pair) makes the heads move under it: it then moves away.
        self.shard = random.randrange(AUDIT_SHARDS)
        self.waiting: list[_Waiting] = []
        self.in_flight = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.linger: asyncio.TimerHandle | None = None
        self.lingered = False

    def submit(self, events: list[dict[str, Any]]) -> asyncio.Future[list[dict[str, Any]]]:
        entry = _Waiting(events, asyncio.get_running_loop().create_future())
        self.waiting.append(entry)
        self._start()
        return entry.done

    def _linger_over(self) -> None:
        self.linger, self.lingered = None, True
        self._start()

    def _start(self) -> None:
        if (self.lingers and self.waiting and self.in_flight < GROUP_COMMIT_IN_FLIGHT and not self.lingered
                and self.graph.reads_in_flight > 0 and sum(len(w.events) for w in self.waiting) < GROUP_COMMIT_MAX_EVENTS):
            # Other reads of this process are under way: give their events the time to join this
            # commit. Each later submit looks again, and the commit starts once none is left.
            if self.linger is None:
                self.linger = asyncio.get_running_loop().call_later(GROUP_COMMIT_LINGER_S, self._linger_over)
            return
        if self.linger is not None and self.waiting and self.in_flight < GROUP_COMMIT_IN_FLIGHT:
            self.linger.cancel()
            self.linger = None
        while self.waiting and self.in_flight < GROUP_COMMIT_IN_FLIGHT:
            self.lingered = False
            batch, size = [], 0
            while self.waiting and (not batch or size + len(self.waiting[0].events) <= GROUP_COMMIT_MAX_EVENTS):
                entry = self.waiting.pop(0)
                batch.append(entry)
                size += len(entry.events)
            self.in_flight += 1
            task = asyncio.get_running_loop().create_task(self._write(batch))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _append(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        shard, expected = self.shard, _known_heads.get(self.shard)
        if expected is not None:  # the usual case: one statement, its BEGIN pipelined with it
            stored = await _append_linked(self.graph, shard, expected, events)
            if stored is not None:
                return stored
            # Another process appends here too: this once, link from the head in the graph, and
            # move away.
            self.shard = random.randrange(AUDIT_SHARDS)
        return await self.graph.in_write_tx(lambda tx: append_events_in_tx(tx, events, shard))

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            stored = await self._append([e for entry in batch for e in entry.events])
        except BaseException as exc:  # every read in the batch fails with the write, even on cancellation
            for entry in batch:
                if not entry.done.done():
                    failure = AuditAppendFailed(f"audit events not recorded: {type(exc).__name__}")
                    failure.__cause__ = exc
                    entry.done.set_exception(failure)
            if not isinstance(exc, Exception):
                raise
        else:
            at = 0
            for entry in batch:
                if not entry.done.done():  # a cancelled read: its events are recorded all the same
                    entry.done.set_result(stored[at:at + len(entry.events)])
                at += len(entry.events)
        finally:
            self.in_flight -= 1
            self._start()


_group_commits: weakref.WeakKeyDictionary[Any, dict[tuple[int, str], _GroupCommit]] = weakref.WeakKeyDictionary()


async def record(graph: Graph, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Commit `events` (one read's consultation and disclosure) before returning them; raises
    AuditAppendFailed when they could not be recorded, and the read must then fail."""
    if not events:
        return []
    return await record_soon(graph, events)


def record_soon(graph: Graph, events: list[dict[str, Any]]) -> asyncio.Future[list[dict[str, Any]]]:
    """`record`, started now: the commit is queued before this returns, and the future is done once
    the events are committed (or failed with AuditAppendFailed). Whoever holds the answer they
    describe must await it before the answer leaves (mpdb/services/context.py, DEFERRED_AUDIT)."""
    # One writer per driver and event loop: futures belong to the loop that made them.
    per_loop = _group_commits.setdefault(asyncio.get_running_loop(), {})
    writer = per_loop.get((id(graph.driver), graph.database))
    if writer is None or writer.graph.driver is not graph.driver:
        writer = per_loop[(id(graph.driver), graph.database)] = _GroupCommit(graph)
    return writer.submit(events)


# --- verification -------------------------------------------------------------------------------

LEGACY_CHAIN = "original chain"


def chain_name(shard: int | None) -> str:
    return LEGACY_CHAIN if shard is None else f"shard {shard}"


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int  # events verified (in every chain, up to the first broken one)
    first_bad_seq: int | None = None
    reason: str | None = None
    chain: str | None = None  # where the break is: "original chain" or "shard <n>"
    checkpoint: dict[str, tuple[int, str]] | None = None  # chain -> (seq, hash) of its head, when ok


@dataclass
class _Walk:
    ok: bool
    checked: int
    last_hash: str
    bad_seq: int | None = None
    reason: str | None = None


def _normalise(ev: dict[str, Any]) -> dict[str, Any]:
    """`at` back in the form it was hashed in (Neo4j prints a named zone as `...Z[UTC]`); a value
    that is no time at all is left as it is, for the hash check to reject."""
    at = ev.get("at")
    if isinstance(at, str):
        try:
            ev["at"] = (datetime.fromisoformat(at.split("[", 1)[0].replace("Z", "+00:00"))
                        .astimezone(UTC).isoformat(timespec="microseconds"))
        except ValueError:
            pass
    return ev


async def _walk(graph: Graph, shard: int | None, genesis: str, up_to: int | None, batch: int,
                expect: tuple[int, str] | None) -> _Walk:
    """Recompute one chain's hashes in sequence order, from `genesis` (the hash its first event
    must point back to) up to seq `up_to` (its head; None: as far as events go). `expect`: the
    (seq, hash) a checkpoint saw in this chain, which must still be there."""
    prev_hash, expected, checked = genesis, 1, 0
    while True:
        if shard is None:
            rows = await graph.read(q.LEGACY_EVENTS_IN_ORDER, {"afterSeq": expected - 1, "limit": batch})
        else:
            rows = await graph.read(q.SHARD_EVENTS_IN_ORDER, {"shard": shard, "afterSeq": expected - 1,
                                                              "upToSeq": up_to, "limit": batch})
        if not rows:
            break
        for row in rows:
            ev = _normalise(row["event"])
            if ev["seq"] != expected:
                if ev["seq"] < expected:  # only possible where no constraint keeps seqs unique
                    return _Walk(False, checked, prev_hash, ev["seq"], f"event {ev['seq']} appears twice")
                return _Walk(False, checked, prev_hash, expected, f"event {expected} is missing")
            if ev.get("prevHash") != prev_hash:
                return _Walk(False, checked, prev_hash, expected, "prevHash does not match the previous event")
            if event_hash(ev) != ev.get("hash"):
                return _Walk(False, checked, prev_hash, expected, "content does not match its hash")
            if expect and expect[0] == expected and expect[1] != ev["hash"]:
                return _Walk(False, checked, prev_hash, expected, "differs from the checkpoint (chain rewritten)")
            prev_hash, expected, checked = ev["hash"], expected + 1, checked + 1
    if expect and checked < expect[0]:
        return _Walk(False, checked, prev_hash, checked + 1,
                     f"event {checked + 1} is missing (the checkpoint saw {expect[0]} events)")
    if up_to is not None and checked < up_to:  # the tail was deleted
        return _Walk(False, checked, prev_hash, checked + 1, f"event {checked + 1} is missing (head says {up_to})")
    return _Walk(True, checked, prev_hash)


async def verify_chain(graph: Graph, batch: int = 5000,
                       checkpoint_in: dict[str, tuple[int, str]] | None = None) -> ChainCheck:
    """Verify the original chain, then every shard; report the first tampered, missing or
    reordered event, a missing or rewound head, or an event no chain accounts for.

    Heads are read first and each shard is checked up to its head, so verifying while the API
    appends is safe: newer events are left for the next run.

    A chain's head is in the same database as its events, so someone able to delete a chain's
    last events and rewind its head consistently leaves nothing to find. `checkpoint_in` closes
    that: the `checkpoint` of an earlier successful run, kept outside the database (the CLI's
    `--checkpoint FILE`); every event it saw must still be there with the same hash."""
    seen = checkpoint_in or {}
    heads = {h["id"]: h for h in await graph.read(q.HEADS)}
    total = 0
    checkpoint: dict[str, tuple[int, str]] = {}

    # The original chain: its head may be absent only when it never had an event.
    legacy_head = heads.get("head")
    walk = await _walk(graph, None, "", None, batch, seen.get(LEGACY_CHAIN))
    if not walk.ok:
        return ChainCheck(False, walk.checked, walk.bad_seq, walk.reason, LEGACY_CHAIN)
    total += walk.checked
    if legacy_head is None and walk.checked:
        return ChainCheck(False, total, walk.checked + 1, "the head is missing", LEGACY_CHAIN)
    if legacy_head is not None and (legacy_head["seq"], legacy_head["hash"]) != (walk.checked, walk.last_hash):
        return ChainCheck(False, total, min(legacy_head["seq"], walk.checked) + 1,
                          f"head says {legacy_head['seq']} events, found {walk.checked}"
                          if legacy_head["seq"] != walk.checked else "head's hash does not match the last event",
                          LEGACY_CHAIN)
    if walk.checked:
        checkpoint[LEGACY_CHAIN] = (walk.checked, walk.last_hash)
    genesis = walk.last_hash

    for shard in range(AUDIT_SHARDS):
        name = chain_name(shard)
        head = heads.get(head_id(shard))
        if head is None or head.get("shard") != shard:
            return ChainCheck(False, total, 1, "the head is missing", name)
        walk = await _walk(graph, shard, genesis, head["seq"], batch, seen.get(name))
        if not walk.ok:
            return ChainCheck(False, total + walk.checked, walk.bad_seq, walk.reason, name)
        total += walk.checked
        if walk.last_hash != head["hash"]:
            reason = ("its first event does not follow the original chain's last event" if head["seq"] == 0
                      else "head's hash does not match the last event")
            return ChainCheck(False, total, head["seq"] or 1, reason, name)
        checkpoint[name] = (head["seq"], head["hash"])

    stray = await graph.read_one(q.STRAY_EVENTS)
    if stray:
        reason = "no such shard" if stray["noHead"] else "event beyond the head"
        return ChainCheck(False, total, stray["seq"], reason, chain_name(stray["shard"]))
    return ChainCheck(True, total, checkpoint=checkpoint)
