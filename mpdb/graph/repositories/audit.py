"""Reading the audit trail (appending lives in mpdb/audit/trail.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mpdb.auth.access import AccessScope
from mpdb.graph.db import Graph
from mpdb.graph.queries import audit as q


# The upper bound of the first page: `at <= $upTo` lets the planner walk the `at` index in order.
END_OF_TIME = "9999-12-31T23:59:59.999999+00:00"


class AuditRepository:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def search(
        self,
        scope: AccessScope,
        *,
        record_id: str | None,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Newest first by (at, id); `before`: the (at, id) of the last event of the previous page."""
        # An agency's auditor reads its own agency's events; national bodies read all of them.
        rows = await self.graph.read(
            q.SEARCH_EVENTS,
            {
                "agencyFilter": None if scope.national else scope.agency_id,
                "recordId": record_id,
                "action": action,
                "from": since.isoformat() if since else None,
                "to": until.isoformat() if until else None,
                "upTo": before[0].isoformat() if before else END_OF_TIME,
                "beforeId": before[1] if before else None,
                "limit": limit,
            },
        )
        return [r["event"] for r in rows]
