"""Scoped reads behind the link queries (risk profile, co-missing, shared associates, linked
children). Each method is one Cypher round trip; aggregation and scoring happen in mpdb/intel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.auth.access import AccessScope
from mpdb.graph.db import Graph, run, to_native
from mpdb.graph.queries import intel_links as q
from mpdb.observability.queries import observed_query

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _datetime(packed: list[int | None]) -> datetime | None:
    """[epochSeconds, microsecond, offsetSeconds] -> the datetime the driver would have returned
    (the same instant and UTC offset)."""
    seconds, micros, offset = packed
    if seconds is None:
        return None
    at = _EPOCH + timedelta(seconds=seconds, microseconds=micros or 0)
    return at.astimezone(UTC if not offset else timezone(timedelta(seconds=offset)))


class IntelLinkRepository:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def risk_profile(self, scope: AccessScope, child_id: str, as_of: datetime) -> dict[str, Any] | None:
        return await self.graph.read_one(q.RISK_PROFILE, {"childId": child_id, "asOf": as_of, **scope.cypher_params()})

    async def co_missing_rows(
        self, scope: AccessScope, child_ids: list[str], since: datetime, as_of: datetime, *, unopened_evidence: bool
    ) -> list[dict[str, Any]]:
        """Evidence rows from each child in `child_ids`; `unopened_evidence`: also evidence from
        episodes the caller may not open for linked children it may read (CO_MISSING_LINKS)."""
        if not child_ids:
            return []
        return await self.graph.read(q.CO_MISSING_LINKS, {
            "childIds": child_ids, "since": since, "asOf": as_of, "unopenedEvidence": unopened_evidence,
            "privateKinds": list(scope.private_place_kinds), **scope.cypher_params(),
        })

    async def co_missing_for_child(
        self, scope: AccessScope, child_id: str, hops: int, since: datetime, as_of: datetime
    ) -> dict[str, Any] | None:
        """The visible root child with its hop-1 (and, for 2 hops, hop-2) evidence rows; None when
        the child does not exist or the caller may not see it. Names a child: aggregates-only
        callers are refused here too."""
        params = {"childId": child_id, "hops": hops, "since": since, "asOf": as_of, "unopenedEvidence": False,
                  "privateKinds": list(scope.private_place_kinds), **scope.named_record_params()}

        async def work(tx: AsyncManagedTransaction) -> dict[str, Any] | None:
            # The record's values as they come (maps, lists, scalars: no nodes to export), without
            # Record.data()'s per-value walk: thousands of values for a busy child.
            with observed_query(q.CO_MISSING_FOR_CHILD):
                result = await tx.run(q.CO_MISSING_FOR_CHILD, params)
                records = [r async for r in result]
            return {k: to_native(v) for k, v in records[0].items()} if records else None

        found = await self.graph.in_read_tx(work)
        if found is not None:
            flags = dict(found.pop("activeFlags"))
            for row in (*found["hop1"], *found["hop2"]):
                row["other"]["activeFlags"] = flags.get(row["other"]["id"], [])
                for ep in (row["e1"], row["e2"]):
                    if ep is not None:
                        for key in q.EPISODE_TIMES:
                            ep[key] = _datetime(ep[key])
        return found

    async def shared_hotspot_rows(
        self, scope: AccessScope, child_ids: list[str], since: datetime, as_of: datetime
    ) -> list[dict[str, Any]]:
        if not child_ids:
            return []
        return await self.graph.read(q.SHARED_HOTSPOT_LINKS, {
            "childIds": child_ids, "since": since, "asOf": as_of, "privateKinds": list(scope.private_place_kinds),
            **scope.cypher_params(),
        })

    async def group_edge_ids(self, scope: AccessScope, since: datetime, as_of: datetime) -> list[dict[str, Any]]:
        row = await self.graph.read_one(q.GROUP_EDGE_IDS, {"since": since, "asOf": as_of, **scope.cypher_params()})
        return list(row["rows"]) if row else []

    async def same_as_pairs(self) -> list[tuple[str, str]]:
        """Every confirmed SAME_AS pair (ids only; the groups' identity representatives)."""
        row = await self.graph.read_one(q.SAME_AS_PAIRS)
        return [(a, b) for a, b in (row["pairs"] if row else [])]

    async def group_details(
        self, scope: AccessScope, child_ids: list[str], episode_ids: list[str], location_ids: list[str],
        person_ids: list[str],
    ) -> dict[str, list[dict[str, Any]]]:
        row = await self.graph.read_one(q.GROUP_DETAILS, {
            "childIds": child_ids, "episodeIds": episode_ids, "locationIds": location_ids, "personIds": person_ids,
            **scope.cypher_params(),
        })
        return row or {"children": [], "episodes": [], "places": [], "persons": []}

    async def shared_associates(
        self, scope: AccessScope, min_children: int, min_forces: int, since: datetime, as_of: datetime,
        select: Callable[[list[tuple[str, int, int]]], list[str]],
    ) -> tuple[list[tuple[str, int, int]], list[dict[str, Any]]]:
        """Every qualifying person as (id, children, forces), and the detail rows of the persons
        `select` picks from them (the page), read in one transaction."""
        params = {"minChildren": min_children, "minForces": min_forces, "since": since, "asOf": as_of,
                  **scope.cypher_params()}

        async def work(tx: AsyncManagedTransaction) -> tuple[list[tuple[str, int, int]], list[dict[str, Any]]]:
            rows = await run(tx, q.SHARED_ASSOCIATE_COUNTS, params)
            counts = [(pid, nc, nf) for pid, nc, nf in (rows[0]["counts"] if rows else [])]
            person_ids = select(counts)
            details = await run(tx, q.SHARED_ASSOCIATES, {**params, "personIds": person_ids}) if person_ids else []
            return counts, details

        return await self.graph.in_read_tx(work)

    async def adult_links(self, scope: AccessScope, person_id: str, since: datetime,
                          as_of: datetime) -> list[dict[str, Any]]:
        """One person's detail row as SHARED_ASSOCIATES gives it (every linked child, in full or in
        summary form), or [] when there is no such person."""
        return await self.graph.read(q.SHARED_ASSOCIATES, {
            "personIds": [person_id], "since": since, "asOf": as_of, **scope.named_record_params()})

    async def la_anchors(self, scope: AccessScope, la_code: str, as_of: datetime) -> list[dict[str, Any]]:
        return await self.graph.read(q.LA_ANCHORS, {"la": la_code, "asOf": as_of, **scope.cypher_params()})

    async def local_authority_exists(self, la_code: str) -> bool:
        row = await self.graph.read_one(q.LA_EXISTS, {"la": la_code})
        return bool(row and row["found"])

    async def area_kind(self, code: str) -> str | None:
        row = await self.graph.read_one(q.AREA_KIND, {"code": code})
        return row["kind"] if row else None
