"""The append-only record of who saw and changed what (DPA 2018 Part 3, s.62).

Actions follow s.62(1): collection, alteration, consultation, disclosure, combination, erasure.
Each event names who (subject, client, agency, role), when, what (record ids), why (purpose) and,
for disclosures, the recipients. Events form a hash chain: each event's `hash` covers its own
content and its predecessor's hash, so editing or deleting any event breaks every later link,
and `mpdb audit verify` finds the first broken one.

Consultations are written BEFORE the data is returned; when the event cannot be written the
read fails (no consultation without a log). Alterations are written inside the same
transaction as the change they describe.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.auth.principal import Principal
from mpdb.graph.db import Graph, run
from mpdb.graph.queries import audit as q


class AuditAction(StrEnum):
    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    COMBINATION = "combination"
    ERASURE = "erasure"


# The fields the hash covers, in order. Changing this list invalidates every existing chain.
HASHED_FIELDS = (
    "seq", "id", "at", "action", "operation", "subject", "clientId", "agencyId", "role",
    "purpose", "requestId", "recordIds", "recipients", "prevHash",
)


def event_hash(event: dict[str, Any]) -> str:
    canonical = json.dumps([event.get(f) for f in HASHED_FIELDS], separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditContext:
    principal: Principal
    purpose: str | None
    request_id: str


async def append_in_tx(
    tx: AsyncManagedTransaction,
    ctx: AuditContext,
    action: AuditAction,
    operation: str,
    record_ids: Iterable[str],
    recipients: Iterable[str] = (),
) -> dict[str, Any]:
    p = ctx.principal
    event: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
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
    # The hashed fields between seq and prevHash, serialised exactly as event_hash does; the
    # statement adds seq and prevHash from the locked head and hashes the whole array.
    middle = json.dumps([event[f] for f in HASHED_FIELDS[1:-1]], separators=(",", ":"), default=str)
    row = (await run(tx, q.APPEND_EVENT, {"event": event, "body": middle[1:-1]}))[0]
    event.update(seq=row["seq"], prevHash=row["prevHash"])
    event["hash"] = event_hash(event)
    if event["hash"] != row["hash"]:  # fail closed: never commit an event the verifier would reject
        raise RuntimeError(f"audit event {event['id']}: hash computed in the graph does not match")
    return event


async def append(
    graph: Graph,
    ctx: AuditContext,
    action: AuditAction,
    operation: str,
    record_ids: Iterable[str],
    recipients: Iterable[str] = (),
) -> dict[str, Any]:
    ids = list(record_ids)
    rec = list(recipients)
    return await graph.in_write_tx(lambda tx: append_in_tx(tx, ctx, action, operation, ids, rec))


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


async def verify_chain(graph: Graph, batch: int = 5000) -> ChainCheck:
    """Recompute every hash in sequence order; the first mismatch or gap is reported."""
    prev_hash, expected_seq, checked = "", 1, 0
    while True:
        rows = await graph.read(q.EVENTS_IN_ORDER, {"afterSeq": expected_seq - 1, "limit": batch})
        if not rows:
            break
        for row in rows:
            ev = row["event"]
            ev["at"] = datetime.fromisoformat(ev["at"].replace("Z", "+00:00")).isoformat(timespec="microseconds")
            if ev["seq"] != expected_seq:
                return ChainCheck(False, checked, expected_seq, f"event {expected_seq} is missing")
            if ev.get("prevHash") != prev_hash:
                return ChainCheck(False, checked, ev["seq"], "prevHash does not match the previous event")
            if event_hash(ev) != ev.get("hash"):
                return ChainCheck(False, checked, ev["seq"], "content does not match its hash")
            prev_hash, expected_seq, checked = ev["hash"], expected_seq + 1, checked + 1
    head = await graph.read_one(q.HEAD)
    if head and head["seq"] != checked:
        return ChainCheck(False, checked, checked + 1, f"head says {head['seq']} events, found {checked}")
    return ChainCheck(True, checked)
