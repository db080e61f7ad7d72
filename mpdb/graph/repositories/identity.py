"""Possible duplicates and identities: scoped reads, and the decisions (in the caller's
transaction). The intelligence statements expand a child to its identity themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.auth.access import AccessScope
from mpdb.graph.db import Graph, run
from mpdb.graph.queries import identity as q


class IdentityRepository:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def candidates(self, scope: AccessScope, status: str | None, child_id: str | None, limit: int,
                         after: tuple[float, str] | None) -> list[dict[str, Any]]:
        params = {"status": status, "childId": child_id, "limit": limit,
                  "afterP": after[0] if after else None, "afterId": after[1] if after else None,
                  **scope.named_record_params()}
        text = q.CANDIDATES_OF_CHILD if child_id is not None else q.CANDIDATES
        return await self.graph.read(text, params)

    async def candidate(self, scope: AccessScope, candidate_id: str) -> dict[str, Any] | None:
        return await self.graph.read_one(q.CANDIDATE_BY_ID, {"candidateId": candidate_id,
                                                             **scope.named_record_params()})

    async def members(self, scope: AccessScope, child_id: str) -> list[dict[str, Any]]:
        rows = await self.graph.read(q.IDENTITY_MEMBERS, {"childId": child_id, **scope.named_record_params()})
        return [r["member"] for r in rows]


class IdentityWriteRepository:
    """The decision statements, inside the mutation's transaction (mpdb/services/writes.py _mutate)."""

    def __init__(self, tx: AsyncManagedTransaction, scope: AccessScope) -> None:
        self.tx = tx
        self.scope = scope

    async def lock_candidate(self, candidate_id: str) -> dict[str, Any] | None:
        rows = await run(self.tx, q.LOCK_CANDIDATE, {"candidateId": candidate_id,
                                                      **self.scope.named_record_params()})
        return rows[0] if rows else None

    async def decide(self, decision: str, candidate_id: str, now: datetime, subject: str, note: str | None) -> str:
        text = {"confirm": q.CONFIRM, "reject": q.REJECT, "unmerge": q.UNMERGE, "reopen": q.REOPEN}[decision]
        rows = await run(self.tx, text, {"candidateId": candidate_id, "now": now, "subject": subject,
                                         "agencyId": self.scope.agency_id, "note": note})
        return str(rows[0]["status"])
