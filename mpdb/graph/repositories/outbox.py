"""The alert outbox (queries in mpdb/graph/queries/outbox.py): appended to on the caller's write
transaction, read by the delivery side in read transactions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.alerts.events import AlertEvent
from mpdb.graph.db import Graph, run
from mpdb.graph.queries import outbox as q


async def append_events(tx: AsyncManagedTransaction, events: Iterable[AlertEvent]) -> list[dict[str, Any]]:
    """Appends the events whose key is new, in key order; returns [{seq, key}] of those appended."""
    unique = {e.key: e for e in events}
    if not unique:
        return []
    return await run(tx, q.APPEND_EVENTS, {"events": [unique[k].as_params() for k in sorted(unique)]})


async def events_after(graph: Graph, after: int, limit: int = 500) -> list[dict[str, Any]]:
    return [r["event"] for r in await graph.read(q.EVENTS_AFTER, {"after": after, "limit": limit})]


async def events_of_recipient_after(graph: Graph, recipient: str, after: int, limit: int = 500) -> list[dict[str, Any]]:
    rows = await graph.read(q.EVENTS_OF_RECIPIENT_AFTER, {"recipient": recipient, "after": after, "limit": limit})
    return [r["event"] for r in rows]


async def event_by_id(graph: Graph, event_id: str) -> dict[str, Any] | None:
    row = await graph.read_one(q.EVENT_BY_ID, {"id": event_id})
    return None if row is None else row["event"]


async def head_seq(graph: Graph) -> int:
    row = await graph.read_one(q.HEAD_SEQ)
    return 0 if row is None else int(row["seq"])
