"""Alert delivery (queries in mpdb/graph/queries/delivery.py): which alerts a recipient may receive
now, the dispatcher lease, webhooks and their deliveries. Reads of alerts take the recipient's
AccessScope; webhook management is always within the caller's own agency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from neo4j.exceptions import ConstraintError

from mpdb.auth.access import AccessScope
from mpdb.graph.db import Graph
from mpdb.graph.queries import delivery as q


async def deliverable_ids(graph: Graph, scope: AccessScope, events: Iterable[dict[str, Any]]) -> set[str]:
    """The ids of `events` (outbox rows) the scope's agency may receive now (access re-checked)."""
    rows = [{"id": e["id"], "childId": e.get("childId"), "episodeId": e.get("episodeId")} for e in events]
    if not rows:
        return set()
    if scope.aggregates_only:
        return set()  # analysts and inspectorates never receive an alert about a child
    found = await graph.read(q.DELIVERABLE_ALERTS, {**scope.cypher_params(), "events": rows})
    return {r["id"] for r in found}


async def recent_events_of_recipient(graph: Graph, scope: AccessScope, before: int | None,
                                     limit: int) -> list[dict[str, Any]]:
    """The scope's agency's newest alerts (seq < `before`), newest first, unfiltered: the caller
    keeps those `deliverable_ids` allows."""
    rows = await graph.read(q.RECENT_EVENTS_OF_RECIPIENT, {"recipient": scope.agency_id,
                                                           "before": before if before is not None else 2**62,
                                                           "limit": limit})
    return [r["event"] for r in rows]


# --- the lease ------------------------------------------------------------------------------


async def take_lease(graph: Graph, name: str, holder: str, ttl_s: float) -> bool:
    try:
        row = await graph.write(q.TAKE_LEASE, {"name": name, "holder": holder, "ttlMs": int(ttl_s * 1000)})
    except ConstraintError:  # another process created the lease node at the same moment
        return False
    return bool(row and row[0]["held"])


async def release_lease(graph: Graph, name: str, holder: str) -> None:
    await graph.write(q.RELEASE_LEASE, {"name": name, "holder": holder})


# --- webhooks -------------------------------------------------------------------------------


class WebhookRepository:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def create(self, scope: AccessScope, *, webhook_id: str, url: str, description: str | None,
                     secret: str) -> dict[str, Any] | None:
        """None when the agency already has a webhook for `url`."""
        p = scope.principal
        row = await self.graph.write(q.CREATE_WEBHOOK, {
            "id": webhook_id, "agency": p.agency_id, "agencyKind": str(p.agency_kind), "role": str(p.role),
            "url": url, "description": description, "secret": secret, "subject": p.subject})
        return row[0]["webhook"] if row else None

    async def rotate(self, scope: AccessScope, webhook_id: str, secret: str, grace_s: int) -> dict[str, Any] | None:
        row = await self.graph.write(q.ROTATE_WEBHOOK_SECRET, {"id": webhook_id, "agency": scope.agency_id,
                                                               "secret": secret, "graceSeconds": grace_s})
        return row[0]["webhook"] if row else None

    async def delete(self, scope: AccessScope, webhook_id: str) -> bool:
        return bool(await self.graph.write(q.DELETE_WEBHOOK, {"id": webhook_id, "agency": scope.agency_id}))

    async def of_agency(self, scope: AccessScope) -> list[dict[str, Any]]:
        return [r["webhook"] for r in await self.graph.read(q.WEBHOOKS_OF_AGENCY, {"agency": scope.agency_id})]

    async def get(self, scope: AccessScope, webhook_id: str) -> dict[str, Any] | None:
        row = await self.graph.read_one(q.WEBHOOK_OF_AGENCY, {"id": webhook_id, "agency": scope.agency_id})
        return None if row is None else row["webhook"]

    async def dead_letters(self, webhook_ids: list[str], limit: int) -> list[dict[str, Any]]:
        """Callers pass only ids `of_agency`/`get` returned for the caller's agency."""
        if not webhook_ids:
            return []
        rows = await self.graph.read(q.DEAD_LETTERS, {"webhookIds": webhook_ids, "limit": limit})
        return [r["delivery"] for r in rows]

    async def replay(self, scope: AccessScope, webhook_id: str, from_seq: int) -> int | None:
        row = await self.graph.write(q.REPLAY_WEBHOOK, {"id": webhook_id, "agency": scope.agency_id,
                                                        "fromSeq": from_seq})
        return int(row[0]["requeued"]) if row else None

    async def status_counts(self, webhook_id: str) -> dict[str, int]:
        rows = await self.graph.read(q.DELIVERY_STATUS_COUNTS, {"id": webhook_id})
        return {r["status"]: int(r["n"]) for r in rows}

    # -- the dispatcher (the lease holder only) -------------------------------------------------

    async def queue_new_alerts(self, limit: int = 500) -> int:
        row = await self.graph.write(q.QUEUE_NEW_ALERTS, {"limit": limit})
        return int(row[0]["queued"]) if row else 0

    async def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        return await self.graph.read(q.DUE_DELIVERIES, {"now": now.isoformat(), "limit": limit})

    async def record_attempts(self, outcomes: list[dict[str, Any]]) -> int:
        if not outcomes:
            return 0
        row = await self.graph.write(q.RECORD_ATTEMPTS, {"outcomes": outcomes})
        return int(row[0]["recorded"]) if row else 0
