"""Reads and writes of entity resolution, inside the caller's transaction (or over the Graph for
the batch's paged reads)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.graph.db import Graph, run
from mpdb.graph.queries import resolution as q


@dataclass(frozen=True, slots=True)
class Proposal:
    """One POSSIBLY_SAME_AS to write (ids in any order: the row puts them low -> high)."""

    child_a: str
    child_b: str
    match_probability: float
    match_weight: float
    model_version: str
    reasons_json: str

    def row(self) -> dict[str, Any]:
        from mpdb.resolution.records import pair_id

        low, high = sorted((self.child_a, self.child_b))
        return {"id": pair_id(low, high), "lowId": low, "highId": high,
                "matchProbability": float(self.match_probability), "matchWeight": float(self.match_weight),
                "modelVersion": self.model_version, "reasons": self.reasons_json}


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    created: int = 0
    refreshed: int = 0
    unchanged: int = 0
    decided: int = 0  # confirmed/rejected/unmerged: left alone
    same_identity: int = 0  # already one identity over SAME_AS: not proposed
    missing: int = 0  # a child id not in the graph

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (self.created, self.refreshed, self.unchanged, self.decided, self.same_identity, self.missing)


async def upsert_proposals(tx: AsyncManagedTransaction, proposals: Iterable[Proposal], proposed_by: str) -> UpsertCounts:
    """Write candidate pairs (UPSERT_PROPOSALS): idempotent, never touches decided pairs."""
    rows = [p.row() for p in proposals]
    if not rows:
        return UpsertCounts()
    out = await run(tx, q.UPSERT_PROPOSALS, {"pairs": rows, "proposedBy": proposed_by})
    c = Counter(r["outcome"] for r in out)
    return UpsertCounts(c["created"], c["refreshed"], c["unchanged"], c["decided"], c["same_identity"],
                        len(rows) - len(out))


async def child_pages(graph: Graph, page_size: int = 5_000) -> list[tuple[str, str]]:
    """(first id, last id) of every `page_size` children in id order."""
    rows = await graph.read(q.READ_CHILD_PAGES, {"pageSize": page_size})
    return [(r["first"], r["last"]) for r in rows]


async def children_for_resolution(graph: Graph, page_size: int = 5_000,
                                  concurrency: int = 4) -> AsyncIterator[list[dict[str, Any]]]:
    """Every Child with what the model compares, in pages of ids (one read transaction each, up to
    `concurrency` at once; pages come in the order they finish). The pages are fixed at the start:
    a child recorded while they are read is compared by the next run (and at entry meanwhile)."""
    import asyncio

    areas = {r["agency"]: r["forces"] for r in await graph.read(q.READ_AGENCY_AREAS)}
    pages = await child_pages(graph, page_size)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def read(first: str, last: str) -> list[dict[str, Any]]:
        async with gate:
            rows = await graph.read(q.READ_CHILDREN_PAGE, {"first": first, "last": last})
        for row in rows:
            row["agencyForces"] = areas.get(row.get("recordedBy") or "")
        return rows

    for done in asyncio.as_completed([read(first, last) for first, last in pages]):
        yield await done


async def count_children(graph: Graph) -> int:
    row = await graph.read_one(q.COUNT_CHILDREN)
    return int(row["n"]) if row else 0


__all__ = ["Proposal", "UpsertCounts", "child_pages", "children_for_resolution", "count_children", "proposal_ids", "proposed_pairs", "upsert_proposals"]


async def proposed_pairs(graph: Graph, limit: int) -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
    """The `limit` most probable proposed pairs (low id, high id) and the children they name."""
    rows = await graph.read(q.READ_PROPOSED_PAIRS, {"limit": limit})
    pairs = sorted({(r["lowId"], r["highId"]) for r in rows})
    return pairs, {r["child"]["id"]: r["child"] for r in rows}


async def proposal_ids(graph: Graph) -> list[dict[str, Any]]:
    """Every POSSIBLY_SAME_AS as (lowId, highId, matchProbability, status): for measuring, ids only."""
    return await graph.read(q.READ_PROPOSAL_IDS)
