"""National hot spots' step 1 kept per force, so the first request after a write recomputes the
part of the country the write touched instead of all of it (issue 10, round 3).

Why: nationally step 1 reads a year and its previous year of buckets (~280k on `national`), folds
them per cell and clusters ~50k cells: seconds, redone whole by the round-2 cache whenever any
stamp of the kind in the window's months changed, i.e. after any write anywhere in the country.
But a write renews only the stamps of its own forces (HotspotStamp per kind, force and UTC month),
and both halves of step 1 are local:

- Folding. A cell's stats are those of its buckets, and a bucket belongs to one force. So each
  force's buckets are folded apart (`force_stats`) and a cell's stats are the merge of its forces'
  parts (`merge_stats`: the same distinct children and multi-place episodes; an episode with
  places of the kind in one cell under two forces is in both parts' `multi`, so it is counted once,
  exactly as the national fold counts an episode in two buckets of one cell).
- Clustering. Greedy clustering (`cluster_cells`) only ever gives a peak cells among its 8
  neighbours, so its result on a connected component of active cells (neighbours, in either
  direction, both active) depends only on that component's cells, taken in the global order. The
  entry keeps the counted hot spots per component (`units`); a change re-clusters the components
  that held a changed cell before or hold one now, and every other component's hot spots stand
  (a component without a changed cell has the same cells, the same stats and the same neighbours).

So after a write in Kent, the next national request re-reads Kent's buckets (the force query,
one index seek), finds the cells whose stats changed (usually one or two), and re-clusters their
components: milliseconds of Python instead of seconds. The answer is the one the whole computation
gives (tests/integration/test_hotspot_buckets.py compares them after writes in one and in several
forces, and with the exact scan).

Versions as in mpdb/intel/hotspot_cache.py, per force: the stamps are read before any bucket, and an
entry records, per force, the stamps it folded that force's buckets under. A force whose stamps
differ (new, renewed or gone) is re-read; a new `generation` (rebuild, reset, offline import), the
force '' (places without a force), or more than `FULL_REBUILD_SHARE` of the forces changed, and the
whole entry is rebuilt. Forces are read at slightly different moments, like the statements of one
request: each force's part is exactly what its buckets held at or after the stamps read.

Entries are never modified once made (updates copy the maps they change), so a request that still
holds the previous entry keeps a consistent one. The reverse-neighbour index is shared between
an entry and its successors and only ever grows (facts about the fixed grid, filtered by activity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from mpdb.graph.repositories.intel_areas import IntelAreaRepository
from mpdb.intel.hotspot_cache import StepOneCache, Versions
from mpdb.intel.hotspots import (
    CellStats,
    Cluster,
    ClusterCounts,
    _neighbours,
    cluster_cells,
    cluster_counts,
    fold_bucket_columns,
)

# Above this share of the entry's forces changed, one national read beats a read per force.
FULL_REBUILD_SHARE = 0.25
NO_FORCE = ""

Counted = tuple[Cluster, ClusterCounts]


@dataclass(frozen=True, slots=True)
class NationalStepOne:
    generation: str
    force_versions: Mapping[str, tuple[str, ...]]  # force -> its 'stamp id=version', sorted
    force_stats: Mapping[str, Mapping[str, CellStats]]  # force -> cell -> that force's buckets folded
    stats: Mapping[str, CellStats]  # cell -> all forces' parts merged (the national fold)
    cell_forces: Mapping[str, tuple[str, ...]]  # cell -> forces with buckets in it
    unit_of: Mapping[str, int]  # active cell -> its component
    units: Mapping[int, tuple[tuple[str, ...], tuple[Counted, ...]]]  # component -> cells, counted hot spots
    next_unit: int
    rev: dict[str, list[str]]  # cell -> cells that list it among their neighbours (shared, grows only)
    counted: tuple[Counted, ...]
    forces_read: int = 0  # how many forces this entry re-read (all of them when built whole)


def versions_by_force(stamps: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """'kind|force|month=version' strings (BUCKET_VERSIONS) grouped by force, each group sorted."""
    out: dict[str, list[str]] = {}
    for s in stamps:
        stamp_id = s.partition("=")[0]
        force = stamp_id.split("|")[1]
        out.setdefault(force, []).append(s)
    return {f: tuple(sorted(v)) for f, v in out.items()}


def merge_stats(parts: list[CellStats]) -> CellStats:
    """One cell's stats from its forces' parts, as one fold over all its buckets would give."""
    if len(parts) == 1:
        return parts[0]
    out = CellStats()
    multi_seen = 0
    prev_multi_seen = 0
    for p in parts:
        out.children |= p.children
        out.episodes += p.episodes
        out.multi |= p.multi
        multi_seen += len(p.multi)
        out.prev_children |= p.prev_children
        out.prev_episodes += p.prev_episodes
        out.prev_multi |= p.prev_multi
        prev_multi_seen += len(p.prev_multi)
    # each part counted a shared multi-place episode once; the country counts it once
    out.episodes -= multi_seen - len(out.multi)
    out.prev_episodes -= prev_multi_seen - len(out.prev_multi)
    return out


def _register(rev: dict[str, list[str]], cells: Iterable[str]) -> None:
    # Lists, not sets: a cell made active again is listed twice, which the search's `seen` absorbs.
    for c in cells:
        for n in _neighbours(c):
            found = rev.get(n)
            if found is None:
                rev[n] = [c]
            else:
                found.append(c)


def build(generation: str, force_versions: Mapping[str, tuple[str, ...]],
          force_stats: Mapping[str, Mapping[str, CellStats]]) -> NationalStepOne:
    empty = NationalStepOne(generation, {}, {}, {}, {}, {}, {}, 0, {}, ())
    return update(empty, generation, force_versions, force_stats)


def update(old: NationalStepOne, generation: str, force_versions: Mapping[str, tuple[str, ...]],
           changed: Mapping[str, Mapping[str, CellStats]]) -> NationalStepOne:
    """The entry with `changed` forces' parts replaced (an empty part: the force has no buckets in
    the window any more), re-clustering only the components a changed cell was or is in."""
    force_stats = dict(old.force_stats)
    dirty: set[str] = set()
    now_in: dict[str, list[str]] = {}  # dirty cell -> changed forces with buckets in it now
    for f, part in changed.items():
        before = old.force_stats.get(f, {})
        if not before:
            dirty.update(part)
        else:
            dirty.update(c for c, s in part.items() if before.get(c) != s)
            dirty.update(c for c in before if c not in part)
        for c in part:
            found = now_in.get(c)
            if found is None:
                now_in[c] = [f]
            else:
                found.append(f)
        if part:
            force_stats[f] = part
        else:
            force_stats.pop(f, None)

    stats = dict(old.stats)
    cell_forces = dict(old.cell_forces)
    added = []
    for c in dirty:
        fs = tuple(sorted([f for f in old.cell_forces.get(c, ()) if f not in changed] + now_in.get(c, [])))
        if fs:
            if c not in old.stats:
                added.append(c)
            cell_forces[c] = fs
            stats[c] = merge_stats([force_stats[f][c] for f in fs])
        else:
            cell_forces.pop(c, None)
            stats.pop(c, None)
    rev = old.rev
    _register(rev, added)

    unit_of = dict(old.unit_of)
    units = dict(old.units)
    todo: set[str] = set()

    def dissolve(u: int) -> None:
        cells, _ = units.pop(u)
        for x in cells:
            del unit_of[x]
            if x in stats:
                todo.add(x)

    for c in dirty:
        u = unit_of.get(c)
        if u is not None and u in units:
            dissolve(u)
        if c in stats:
            todo.add(c)

    next_unit = old.next_unit
    seen: set[str] = set()
    while todo:
        start = todo.pop()
        if start in seen:
            continue
        seen.add(start)
        comp = [start]
        stack = [start]
        while stack:
            c = stack.pop()
            for n in chain(_neighbours(c), rev.get(c, ())):
                if n in seen or n not in stats:
                    continue
                u = unit_of.get(n)
                if u is not None:  # an intact component the change now reaches: cluster it again too
                    dissolve(u)
                seen.add(n)
                comp.append(n)
                stack.append(n)
        sub = {c: stats[c] for c in comp}
        counted = []
        for cluster in cluster_cells(sub):
            counts = cluster_counts(cluster, sub)
            if counts.children:
                counted.append((cluster, counts))
        units[next_unit] = (tuple(comp), tuple(counted))
        for c in comp:
            unit_of[c] = next_unit
        next_unit += 1

    return NationalStepOne(
        generation=generation, force_versions=dict(force_versions), force_stats=force_stats, stats=stats,
        cell_forces=cell_forces, unit_of=unit_of, units=units, next_unit=next_unit, rev=rev,
        counted=tuple(chain.from_iterable(u[1] for u in units.values())), forces_read=len(changed),
    )


async def national_step_one(
    repo: IntelAreaRepository, cache: StepOneCache, versions: Versions, k: str,
    prev_from: datetime, from_: datetime, to: datetime,
) -> tuple[Counted, ...]:
    """Step 1 for the whole country: from the cache when no stamp changed, re-reading only the
    changed forces when few did, whole otherwise."""
    if versions.generation is None:
        raise ValueError("the national step 1 is kept only under a generation stamp (migration 0009)")
    key: Any = (k, "national-by-force", prev_from, from_, to)
    old = cache.latest(key)
    now = versions_by_force(versions.stamps)
    entry: NationalStepOne | None = old if isinstance(old, NationalStepOne) else None
    if entry is not None and entry.generation == versions.generation:
        changed = {f for f in now.keys() | entry.force_versions.keys()
                   if now.get(f) != entry.force_versions.get(f)}
        if not changed:
            cache.count(hit=True)
            return entry.counted
        cache.count(hit=False)
        forces = set(entry.force_stats) | set(now)
        if NO_FORCE not in changed and len(changed) <= max(1, FULL_REBUILD_SHARE * len(forces)):
            parts = {}
            for f in sorted(changed):
                cols = await repo.hotspot_buckets("force", k, area=f, prev_from=prev_from, from_=from_, to=to)
                parts[f] = fold_bucket_columns(cols)
            entry = update(entry, versions.generation, now, parts)
            cache.store(key, entry)
            return entry.counted
    else:
        cache.count(hit=False)
    entry = await _whole(repo, k, prev_from, from_, to, versions.generation, now)
    cache.store(key, entry)
    return entry.counted


async def _whole(repo: IntelAreaRepository, k: str, prev_from: datetime, from_: datetime, to: datetime,
                 generation: str, now: Mapping[str, tuple[str, ...]]) -> NationalStepOne:
    by_force = await repo.hotspot_buckets_by_force(k, prev_from=prev_from, from_=from_, to=to)
    return build(generation, now, {f: fold_bucket_columns(cols) for f, cols in by_force.items()})
