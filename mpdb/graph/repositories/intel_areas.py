"""Reads behind hot spots, duties and reconciliation (queries in mpdb/graph/queries/intel_areas.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction

from mpdb.auth.access import AccessScope
from mpdb.graph.db import Graph
from mpdb.graph.queries import hotspot_buckets as hb
from mpdb.graph.queries import intel_areas as q
from mpdb.graph.repositories.hotspot_buckets import month
from mpdb.observability.queries import observed_query


EARLIEST = datetime(1, 1, 1, tzinfo=UTC)  # no lower bound on a due date, as a value an index can range over


class IntelAreaRepository:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    async def area_kind(self, area: str) -> dict[str, Any]:
        row = await self.graph.read_one(q.AREA_KIND, {"area": area})
        return row or {"kind": None, "name": None, "forceCodes": []}

    # --- hot spots ----------------------------------------------------------------------------

    async def hotspot_cells(
        self, mode: str, kind: str, *, area: str | None, prev_from: datetime, from_: datetime, to: datetime,
        cells: Sequence[str] = (), exclude_force: str | None = None, exclude_la: str | None = None,
    ) -> list[dict[str, Any]]:
        """Per (cell, period) aggregates {cell, current, children, episodes, multi} scanned from the
        episodes: the computation before the pre-aggregates, kept to compare them with (tests,
        bench/hotspots.py). Aggregates only: the child ids never leave the service."""
        values = await self._values(q.HOTSPOT_CELLS_SCAN[(mode, kind)], self._cell_params(
            kind, area, prev_from, from_, to, cells, exclude_force, exclude_la))
        return list(values[0]) if values else []

    async def hotspot_buckets(
        self, mode: str, kind: str, *, area: str | None, prev_from: datetime, from_: datetime, to: datetime,
        cells: Sequence[str] = (), exclude_force: str | None = None, exclude_la: str | None = None,
    ) -> tuple[list[str], list[bool], list[list[str]], list[int], list[list[str]]]:
        """The same aggregates from the pre-aggregates, as the window's HotspotBucket columns (cell,
        current, children, episodes, multi), one entry per bucket; mpdb.intel.hotspots folds them.
        Buckets hold whole UTC days, so the window's bounds must be UTC midnights."""
        for t in (prev_from, from_, to):
            if t.astimezone(UTC).time() != time():
                raise ValueError("hot-spot buckets hold whole UTC days: the window must start and end at UTC midnight")
        values = await self._values(q.HOTSPOT_CELLS[mode], self._cell_params(
            kind, area, prev_from, from_, to, cells, exclude_force, exclude_la))
        if not values:
            return [], [], [], [], []
        cell, current, children, episodes, multi = values
        return cell, current, children, episodes, multi

    async def hotspot_buckets_by_force(
        self, kind: str, *, prev_from: datetime, from_: datetime, to: datetime,
    ) -> dict[str, tuple[list[str], list[bool], list[list[str]], list[int], list[list[str]]]]:
        """The national window's HotspotBucket columns as `hotspot_buckets` gives them, split by the
        buckets' force ('' for a place without one)."""
        for t in (prev_from, from_, to):
            if t.astimezone(UTC).time() != time():
                raise ValueError("hot-spot buckets hold whole UTC days: the window must start and end at UTC midnight")
        values = await self._values(q.HOTSPOT_CELLS_FROM_BUCKETS_NATIONAL_BY_FORCE, self._cell_params(
            kind, None, prev_from, from_, to, (), None, None))
        if not values:
            return {}
        forces, cell, current, children, episodes, multi = values
        rows: dict[str, list[int]] = {}
        for i, force in enumerate(forces):
            found = rows.get(force)
            if found is None:
                rows[force] = [i]
            else:
                found.append(i)
        return {force: ([cell[i] for i in ix], [current[i] for i in ix], [children[i] for i in ix],
                        [episodes[i] for i in ix], [multi[i] for i in ix])
                for force, ix in rows.items()}

    async def bucket_versions(self, kind: str, first_day: date, last_day: date) -> tuple[str | None, tuple[str, ...]]:
        """(generation, sorted 'stamp id=version' of one kind over the months of [first_day, last_day]),
        for mpdb/intel/hotspot_cache.py: read in a transaction of its own, before the buckets."""
        row = await self.graph.read_one(hb.BUCKET_VERSIONS, {
            "kind": kind, "fromMonth": month(first_day), "toMonth": month(last_day)})
        if not row:
            return None, ()
        return row["generation"], tuple(row["stamps"])

    @staticmethod
    def _cell_params(kind: str, area: str | None, prev_from: datetime, from_: datetime, to: datetime,
                     cells: Sequence[str], exclude_force: str | None, exclude_la: str | None) -> dict[str, Any]:
        return {
            "area": area, "kind": kind, "prevFrom": prev_from, "from": from_, "to": to,
            "prevFromDay": prev_from.astimezone(UTC).date(), "fromDay": from_.astimezone(UTC).date(),
            "toDay": to.astimezone(UTC).date(), "cells": list(cells),
            "excludeForce": exclude_force, "excludeLa": exclude_la,
        }

    async def _values(self, text: LiteralString, params: dict[str, Any]) -> list[Any] | None:
        """The single record's values as the driver decoded them: strings, numbers, booleans and
        lists only, so without Record.data() and to_native, which walk every nested value in Python
        (seconds for a national window's ~66k rows)."""
        async def work(tx: AsyncManagedTransaction) -> list[Any] | None:
            with observed_query(text):
                record = await (await tx.run(text, params)).single()
            return None if record is None else list(record.values())

        return await self.graph.in_read_tx(work)

    async def hotspot_detail(
        self, scope: AccessScope, kind: str, clusters: Sequence[Sequence[str]], from_: datetime, to: datetime,
        private_kinds: Sequence[str],
    ) -> list[dict[str, Any]]:
        """One row per (location, episode); `location.open` says whether a private place may be shown
        to this scope exactly (always true for other kinds)."""
        if not clusters:
            return []
        row = await self.graph.read_one(q.HOTSPOT_DETAIL[kind], {
            "clusters": [list(c) for c in clusters], "from": from_, "to": to,
            "privateKinds": sorted(private_kinds), "aggregatesOnly": scope.aggregates_only, **scope.cypher_params(),
        })
        if not row:
            return []
        places = {loc["id"]: loc for loc in row["locations"]}
        children = {c["childId"]: c for c in row["children"]}
        return [{**children[r["childId"]], **r, "location": places[r["locationId"]]} for r in row["rows"]]

    # --- duties -------------------------------------------------------------------------------

    def _duty_params(self, scope: AccessScope, area_mode: str, area: str | None, as_of: datetime,
                     grace: dict[str, int], due: tuple[datetime | None, datetime | None]) -> dict[str, Any]:
        return {"areaMode": area_mode, "area": area, "asOf": as_of, "dueFrom": due[0], "dueTo": due[1],
                "dueFloor": due[0] or EARLIEST, **grace, **scope.cypher_params()}

    async def duty_page(
        self, scope: AccessScope, kind: str, area_mode: str, area: str | None, as_of: datetime,
        grace: dict[str, int], limit: int, after: tuple[datetime, str] | None,
        due: tuple[datetime | None, datetime | None] = (None, None),
    ) -> list[dict[str, Any]]:
        rows = await self.graph.read(q.DUTY_PAGE[(kind, area_mode)], {
            **self._duty_params(scope, area_mode, area, as_of, grace, due), "limit": limit,
            "afterDue": after[0] if after else None, "afterId": after[1] if after else None,
        })
        return [r["item"] for r in rows]

    async def duty_count(
        self, scope: AccessScope, kind: str, area_mode: str, area: str | None, as_of: datetime,
        grace: dict[str, int], due: tuple[datetime | None, datetime | None] = (None, None),
    ) -> int:
        row = await self.graph.read_one(q.DUTY_COUNT[(kind, area_mode)],
                                        self._duty_params(scope, area_mode, area, as_of, grace, due))
        return int(row["total"]) if row else 0

    async def duty_children(self, scope: AccessScope, child_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Child id -> {child: names only when visible, summary}; ids of children that do not exist are absent."""
        if not child_ids:
            return {}
        rows = await self.graph.read(q.DUTY_CHILDREN, {"childIds": list(child_ids), **scope.cypher_params()})
        return {r["id"]: {"child": r["child"], "summary": r["summary"]} for r in rows}

    async def repeat_trigger_candidates(
        self, scope: AccessScope, rule_areas: Sequence[str], area_mode: str, area: str | None, as_of: datetime
    ) -> list[dict[str, Any]]:
        if not rule_areas:
            return []
        return await self.graph.read(q.REPEAT_TRIGGER_CANDIDATES, {
            "ruleAreas": list(rule_areas), "areaMode": area_mode, "area": area, "asOf": as_of,
            **scope.cypher_params(),
        })

    # --- reconciliation -------------------------------------------------------------------------

    async def reconciliation_episodes(
        self, scope: AccessScope, la: str, from_: datetime, to: datetime
    ) -> list[dict[str, Any]]:
        return await self.graph.read(q.RECONCILIATION_EPISODES, {
            "la": la, "from": from_, "to": to, **scope.cypher_params(),
        })
