"""Maintenance of the hot-spot pre-aggregates (queries in mpdb/graph/queries/hotspot_buckets.py).

`BucketKeys` is what one write transaction does: note the keys of the episodes it is about to
change (`before`, only where a write can take a place away), then, after the write, `refresh` the
union of those and the episodes' keys now. Everything runs on the caller's transaction, so the
buckets change in the same commit as the episodes, or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.graph.db import Graph, run
from mpdb.graph.queries import hotspot_buckets as q

Key = tuple[str, str, str, str, date]  # kind, cell, laCode, forceCode, day


def _key(row: dict[str, Any]) -> Key:
    return (row["kind"], row["cell"], row["laCode"], row["forceCode"], row["day"])


def groups(keys: Iterable[Key]) -> list[dict[str, Any]]:
    """Keys as REFRESH_BUCKETS groups: one per (kind, cell, laCode, forceCode) with its days, in id
    order (the order the buckets are locked in, so two transactions cannot lock them crosswise)."""
    days: dict[tuple[str, str, str, str], set[date]] = defaultdict(set)
    for kind, cell, la, force, day in keys:
        days[(kind, cell, la, force)].add(day)
    return [{"kind": k[0], "cell": k[1], "laCode": k[2], "forceCode": k[3], "days": sorted(d)}
            for k, d in sorted(days.items())]


def month(day: date) -> str:
    """The UTC month a bucket's day is in, as its HotspotStamp names it."""
    return f"{day.year:04d}-{day.month:02d}"


def stamps(keys: Iterable[Key]) -> list[dict[str, str]]:
    """The HotspotStamp of each (kind, forceCode, month) the keys fall in, in id order (the lock order)."""
    found = {(kind, force, month(day)) for kind, _cell, _la, force, day in keys}
    return [{"id": f"{kind}|{force}|{m}", "kind": kind, "forceCode": force, "month": m}
            for kind, force, m in sorted(found, key=lambda k: f"{k[0]}|{k[1]}|{k[2]}")]


async def keys_of_episodes(tx: AsyncManagedTransaction, episode_ids: Sequence[str]) -> set[Key]:
    if not episode_ids:
        return set()
    return {_key(r) for r in await run(tx, q.BUCKET_KEYS_OF_EPISODES, {"episodeIds": list(episode_ids)})}


async def episodes_of_placements(tx: AsyncManagedTransaction, placement_ids: Sequence[str]) -> list[str]:
    if not placement_ids:
        return []
    return [r["id"] for r in await run(tx, q.EPISODES_OF_PLACEMENTS, {"placementIds": list(placement_ids)})]


async def refresh_keys(tx: AsyncManagedTransaction, keys: Iterable[Key]) -> dict[str, int]:
    keys = set(keys)
    g = groups(keys)
    if not g:
        return {"written": 0, "deleted": 0}
    rows = await run(tx, q.REFRESH_BUCKETS, {"stamps": stamps(keys), "groups": g})
    return {"written": int(rows[0]["written"] or 0), "deleted": int(rows[0]["deleted"] or 0)} if rows else {
        "written": 0, "deleted": 0}


@dataclass
class BucketKeys:
    """The buckets one transaction must recompute before it commits."""
    keys: set[Key] = field(default_factory=set)

    async def before(self, tx: AsyncManagedTransaction, episode_ids: Sequence[str]) -> None:
        """Where the episodes are now: a write that moves or removes a place empties these."""
        self.keys |= await keys_of_episodes(tx, episode_ids)

    async def refresh(self, tx: AsyncManagedTransaction, episode_ids: Sequence[str]) -> dict[str, int]:
        """Recompute the noted buckets and those the episodes fall in after the write."""
        keys = self.keys | await keys_of_episodes(tx, episode_ids)
        self.keys = set()
        return await refresh_keys(tx, keys)


async def refresh_episodes(tx: AsyncManagedTransaction, episode_ids: Sequence[str]) -> dict[str, int]:
    """After a write that only ADDS episodes or places (the API mutations, the synthetic loader):
    the episodes' keys now cover every bucket that changed, including buckets of places the episode
    already had, whose `multi` changes when it gains a second place of the kind."""
    return await BucketKeys().refresh(tx, episode_ids)


# --- rebuild --------------------------------------------------------------------------------

def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


async def rebuild(graph: Graph, days_per_batch: int = 7,
                  progress: Callable[[int, int, dict[str, int]], None] | None = None) -> dict[str, int]:
    """Recompute every bucket from the graph, `days_per_batch` days of reports per transaction,
    and delete the buckets of days without any report. `progress(done_days, total_days, counts)`.
    The generation stamp gets a new version before and after: whatever a process folded before or
    during the rebuild is not served after it."""
    await new_generation(graph)
    try:
        return await _rebuild(graph, days_per_batch, progress)
    finally:
        await new_generation(graph)


async def new_generation(graph: Graph) -> None:
    await graph.write(q.NEW_GENERATION)


async def _rebuild(graph: Graph, days_per_batch: int,
                   progress: Callable[[int, int, dict[str, int]], None] | None) -> dict[str, int]:
    span = await graph.read_one(q.EPISODE_DAY_RANGE)
    totals = {"written": 0, "deleted": 0, "days": 0}
    if not span or span["first"] is None:
        rows = await graph.write(q.DELETE_BUCKETS_OUTSIDE, {"fromDay": date.max, "toDay": date.max})
        totals["deleted"] += int(rows[0]["deleted"]) if rows else 0
        return totals
    first, last = span["first"], span["last"]
    end = last + timedelta(days=1)
    total_days = (end - first).days
    day = first
    while day < end:
        nxt = min(day + timedelta(days=days_per_batch), end)

        async def work(tx: AsyncManagedTransaction, a: date = day, b: date = nxt) -> list[dict[str, Any]]:
            return await run(tx, q.REBUILD_DAYS, {"from": _midnight(a), "to": _midnight(b), "fromDay": a, "toDay": b})

        rows = await graph.in_write_tx(work)
        if rows:
            totals["written"] += int(rows[0]["written"])
            totals["deleted"] += int(rows[0]["deleted"])
        totals["days"] += (nxt - day).days
        day = nxt
        if progress:
            progress(totals["days"], total_days, totals)
    rows = await graph.write(q.DELETE_BUCKETS_OUTSIDE, {"fromDay": first, "toDay": end})
    totals["deleted"] += int(rows[0]["deleted"]) if rows else 0
    return totals


async def all_buckets(graph: Graph, page: int = 5_000) -> list[dict[str, Any]]:
    """Every bucket in id order, read in pages."""
    out: list[dict[str, Any]] = []
    after = ""
    while True:
        rows = [r["bucket"] for r in await graph.read(q.BUCKETS_PAGE, {"after": after, "limit": page})]
        out.extend(rows)
        if len(rows) < page:
            return out
        after = rows[-1]["id"]
