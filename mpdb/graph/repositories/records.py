"""Scoped reads of children and episodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mpdb.auth.access import AccessScope
from mpdb.graph.db import Graph
from mpdb.graph.queries import records as q


class RecordRepository:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def child(self, scope: AccessScope, child_id: str) -> dict[str, Any] | None:
        row = await self.graph.read_one(q.CHILD_BY_ID, {"childId": child_id, **scope.named_record_params()})
        return row["child"] if row else None

    async def locate_profile(self, scope: AccessScope, child_id: str) -> dict[str, Any] | None:
        row = await self.graph.read_one(q.LOCATE_PROFILE, {"childId": child_id, **scope.named_record_params()})
        return row["profile"] if row else None

    async def episodes_of_child(
        self,
        scope: AccessScope,
        child_id: str,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[dict[str, Any]]:
        rows = await self.graph.read(
            q.EPISODES_OF_CHILD,
            {
                "childId": child_id,
                "limit": limit,
                "afterReportedAt": after[0].isoformat() if after else None,
                "afterId": after[1] if after else None,
                **scope.named_record_params(),
            },
        )
        return [r["episode"] for r in rows]

    async def episode(self, scope: AccessScope, episode_id: str) -> dict[str, Any] | None:
        row = await self.graph.read_one(q.EPISODE_BY_ID, {"episodeId": episode_id, **scope.named_record_params()})
        return row["episode"] if row else None

    async def return_interviews(
        self, scope: AccessScope, episode_id: str, want_confidential: bool
    ) -> list[dict[str, Any]]:
        """Interviews of a visible episode; `confidentialAccount` is null unless wanted and the
        scope's agency is entitled (decided in the Cypher). `confidentialRead` says it was returned."""
        rows = await self.graph.read(
            q.RETURN_INTERVIEWS_OF_EPISODE,
            {"episodeId": episode_id, "wantConfidential": want_confidential, **scope.return_interview_params()},
        )
        return [r["interview"] for r in rows]


class ReferenceRepository:
    """Police forces and local authorities: public reference data, not personal data."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def agency_kinds(self) -> dict[str, str]:
        """Every registered agency id with its kind (the token registry)."""
        return {r["id"]: r["kind"] for r in await self.graph.read(q.AGENCY_REGISTRY)}

    async def forces(self) -> list[dict[str, Any]]:
        return [r["force"] for r in await self.graph.read(q.FORCES)]

    async def local_authorities(self, force_code: str | None = None) -> list[dict[str, Any]]:
        return [r["la"] for r in await self.graph.read(q.LOCAL_AUTHORITIES, {"forceCode": force_code})]
