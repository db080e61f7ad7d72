"""Scoped name searches (queries in mpdb/graph/queries/search.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from mpdb.auth.access import AccessScope
from mpdb.graph.db import Graph
from mpdb.graph.queries import search as q

# Full-text candidates read per search before scoping and ranking: enough for any one name
# nationally with its typos and variants, and a bound on what one search can touch.
CANDIDATES = 500


class SearchRepository:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def children(
        self, scope: AccessScope, *, lucene: str | None, ref: str | None, dob: date | None,
        dob_swapped: date | None, area: str | None, limit: int, after: tuple[float, str] | None,
    ) -> list[dict[str, Any]]:
        """Hits best first: `child` (full) when the scope may read the child, else `summary`."""
        if lucene is not None:
            text = q.SEARCH_CHILDREN_BY_NAME
        elif ref is not None:
            text = q.SEARCH_CHILDREN_BY_REFERENCE
        else:
            text = q.SEARCH_CHILDREN_BY_DOB
        rows = await self.graph.read(text, {
            "lucene": lucene, "ref": ref, "dob": dob, "dobSwapped": dob_swapped,
            "dobs": [d for d in (dob, dob_swapped) if d is not None], "area": area,
            "candidates": CANDIDATES, "limit": limit,
            "afterScore": after[0] if after else None, "afterKey": after[1] if after else None,
            **scope.named_record_params(),
        })
        return [r["hit"] for r in rows]

    async def persons(
        self, scope: AccessScope, *, lucene: str, dob: date | None, dob_swapped: date | None, limit: int,
        after: tuple[float, str] | None,
    ) -> list[dict[str, Any]]:
        rows = await self.graph.read(q.SEARCH_PERSONS, {
            "lucene": lucene, "dob": dob, "dobSwapped": dob_swapped, "candidates": CANDIDATES, "limit": limit,
            "afterScore": after[0] if after else None, "afterKey": after[1] if after else None,
            **scope.named_record_params(),
        })
        return [r["hit"] for r in rows]
