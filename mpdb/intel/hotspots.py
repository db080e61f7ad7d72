"""Hot spots: the places children go missing from, are last seen at, go to and are found at.

Clustering. Every Location carries `cell`, its ~500 m grid cell (mpdb/domain/geo.py). Cells with
episodes in the window are merged greedily: take the busiest unclaimed cell (most distinct
children in the current period, then episodes, then previous-period children, then cell id) as a
hot spot's *peak*, and give it every still-unclaimed active cell among its 8 neighbours (the
cells holding the points 500 m away N, NE, E, SE, S, SW, W, NW of its centre); repeat. So a hot
spot is at most a 3 x 3 block of cells: every place in it lies within `CLUSTER_RADIUS_KM`
(1.25 km) of its peak cell's centre, typically within ~750 m, and two places in touching cells
end up in one hot spot unless a busier hot spot claimed one of the cells first. Greedy peaks
(rather than connected components) keep a dense city from collapsing into one giant "hot spot".

For a force or an LA, the area's own places seed the clustering and the cells around them are
read too, whatever force or LA they are in: a hot spot straddling the boundary counts the
children on both sides. Hot spots must touch the area (hold at least one of its places).

Emerging. The previous period is the one of the same length just before `from`. A hot spot is
*emerging* when its distinct children rose to at least `EMERGING_MIN_CHILDREN` (3), at least
doubled (`EMERGING_MIN_RATIO`), and rose by at least `EMERGING_MIN_RISE` (2) children; so
0 -> 3 and 1 -> 3 are emerging, 2 -> 3 and 5 -> 9 are not, 5 -> 10 is.

Small numbers. For aggregate-only callers (analysts) every count from 1 to
`small_number_threshold - 1` is replaced by null with `suppressed: true`; a share is withheld
when its denominator is suppressed or when its numerator or its complement is a small number;
no episode or child ids are returned.

Pre-aggregates (issue 10). Step 1 (the per-cell counts that clustering and ranking need) reads
`HotspotBucket` nodes instead of scanning episodes; step 2 (the evidence for the page's hot spots,
with the caller's visibility of each episode and place) still reads the episodes themselves. One
bucket per (kind, cell, laCode, forceCode, UTC day of Episode.reportedAt) that has an episode:

    id "<kind>|<cell>|<laCode>|<forceCode>|<YYYY-MM-DD>" (a missing LA/force code is ''), kind, cell,
    laCode, forceCode, day (DATE), children (sorted distinct Child.id), episodes (distinct count),
    multi (sorted ids of its episodes with MORE than one place of the kind: relationships counted,
    as the `_multi_*` rule of mpdb/graph/queries/intel_areas.py)

where "a place of the kind" is exactly the scan's episode->location path (missing_from: a
MISSING_FROM_LOCATION, or a MISSING_FROM placement's AT_LOCATION; last_seen, went_to, found_at: the
relationship of that name), and a location without a cell is in no bucket (the scan drops it too).
The same spec is computed in Python by the bulk importer. Why this grain: the window's bounds are
UTC midnights (`window`), so [prevFrom, to) is a whole number of days and a day range of buckets is
exactly the scan's time range; LA and force are in the key so the force, LA and ring queries filter
buckets exactly as the scan filters locations (including its `l.forceCode <> $excludeForce`, false
for a place without a force); `multi` lets the service subtract an episode counted in two buckets
of one cell or one hot spot, as it did with the scan. So the answers are identical (tests compare
every field on the demo data: tests/integration/test_demo_scenarios.py).

Buckets are kept exact in the transaction of every write that can change one (the API mutations
that add an episode or a place, the CSV/SSDA903 importer, the synthetic loader batch by batch): the
write recomputes, from the graph, every bucket its episodes were in before (importer: a changed row
can move an episode to another day or placement) and are in after, locking the buckets first so
concurrent writes queue on a shared bucket rather than lose an update
(mpdb/graph/repositories/hotspot_buckets.py). `mpdb hotspots rebuild` recomputes them all, for a
bulk load that did not, or to repair; on exact buckets it changes nothing. `hotspots(..., scan=True)`
keeps the old exact computation for the comparison test and bench/hotspots.py.

Step 1 cached (issue 10, round 2). The grain stays per day: per month would read ~1.7x fewer
buckets nationally (161,701 (cell, LA, force, month) keys against 275,632 day buckets for found_at
over two years on `national`: most cells have an episode on only a few days a year, so a coarser
grain barely aggregates), far from the 6x the 800 ms target needed, at the price of a second kind
of bucket on every write path. Instead each process keeps step 1's result (the window's hot spots
with their counts, before ranking, filtering and paging; aggregates only) for the last
`MPDB_HOTSPOT_CACHE_ENTRIES` (kind, area, window)s, and uses an entry only while the buckets'
versions in Neo4j are still those it was computed under (mpdb/intel/hotspot_cache.py). The first
request after a write that touched the kind in the window's months recomputes it from the buckets:
for a force or an LA whole; nationally (issue 10, round 3) only the written forces' buckets are
read again and only the clusters around the cells that changed are redone, because the national
entry keeps each force's folded cells and its hot spots per connected group of cells
(mpdb/intel/hotspot_national.py), with the same answer as the whole computation.
Step 2 is never cached: it applies the caller's visibility, and reads episode facts (risk grade, a
child's LA and home) that change without any bucket changing.

Private places. A home, a foster home, an address or a semi-independent placement
(`PRIVATE_PLACE_KINDS`) is a place where identifiable children live, not a public hot spot: its id,
name and exact coordinates go only to a caller who may read an episode of some child there (any
kind of place role, any date: the caller could read the place on that episode anyway) or to the
national unit; everyone else, and every analyst, gets the kind, LA, force and the centre of its
~500 m grid cell, without id or name. Children's homes and secure units stay named: they are
registered establishments (Ofsted URN), known to the police and LAs of their area, and "which
homes do children go missing from" is the question hot spots exist for. Semi-independent
accommodation is often one flat or a shared house for 16-17 year olds, registered with Ofsted only
since October 2023 and usually without an establishment record here, so it counts as private.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from mpdb.auth.principal import Scope
from mpdb.domain.errors import Forbidden, InvalidInput
from mpdb.domain.geo import cell_centre, cell_id, offset_point
from mpdb.domain.places import PRIVATE_PLACE_KINDS
from mpdb.graph.repositories.intel_areas import IntelAreaRepository
from mpdb.intel.hotspot_cache import Versions, cache_for
from mpdb.services.context import ServiceContext

CLUSTER_RADIUS_KM = 1.25
NEIGHBOUR_STEP_KM = 0.5
EMERGING_MIN_CHILDREN = 3
EMERGING_MIN_RATIO = 2.0
EMERGING_MIN_RISE = 2
EVIDENCE_EPISODES_CAP = 25
EVIDENCE_LOCATIONS_CAP = 20
MAX_WINDOW_DAYS = 5 * 366


class HotspotKind(StrEnum):
    MISSING_FROM = "missing_from"
    LAST_SEEN = "last_seen"
    WENT_TO = "went_to"
    FOUND_AT = "found_at"


class RankBy(StrEnum):
    CHILDREN = "children"
    EPISODES = "episodes"


# --- areas ------------------------------------------------------------------------------------

NATIONAL = "national"


@dataclass(frozen=True, slots=True)
class Area:
    mode: str  # 'national', 'force' or 'la'
    code: str | None
    name: str | None
    force_codes: tuple[str, ...] = ()  # the forces an LA lies in

    @property
    def label(self) -> str:
        return self.code or NATIONAL


async def resolve_area(ctx: ServiceContext, area: str | None, field: str = "area") -> Area:
    """`national`, or the GSS code of a police force or a local authority."""
    value = (area or "").strip()
    if not value:
        raise InvalidInput("area is required: 'national', a police force code or a local authority code",
                           field=field)
    if value.lower() == NATIONAL:
        return Area(NATIONAL, None, None)
    if len(value) > 20:
        raise InvalidInput("area must be 'national', a police force code or a local authority code", field=field)
    row = await IntelAreaRepository(ctx.graph).area_kind(value)
    if row["kind"] is None:
        raise InvalidInput(f"unknown area {value!r}: use 'national', a police force code (e.g. E23000032) "
                           "or a local authority code (e.g. E10000016)", field=field)
    return Area(row["kind"], value, row["name"], tuple(row.get("forceCodes") or ()))


def window(from_: date, to: date, *, from_field: str = "from", to_field: str = "to") -> tuple[datetime, datetime]:
    """[from, to) as UTC datetimes (midnight at the start of each date)."""
    if to <= from_:
        raise InvalidInput("`to` must be after `from` (the window is [from, to))", field=to_field)
    if (to - from_).days > MAX_WINDOW_DAYS:
        raise InvalidInput(f"the window may span at most {MAX_WINDOW_DAYS} days", field=to_field)
    return datetime.combine(from_, time(), UTC), datetime.combine(to, time(), UTC)


def require_intel_or_analytics(ctx: ServiceContext) -> None:
    p = ctx.principal
    if not (p.has(Scope.INTEL_READ) or p.has(Scope.ANALYTICS_READ)):
        raise Forbidden("Forbidden: needs scope intel:read or analytics:read")


# --- small numbers ------------------------------------------------------------------------------

def is_small(n: int, threshold: int) -> bool:
    return 0 < n < threshold


def suppress(n: int | None, threshold: int, apply: bool) -> int | None:
    if n is None or not apply:
        return n
    return None if is_small(n, threshold) else n


def share(numerator: int, denominator: int, threshold: int, apply: bool) -> float | None:
    if denominator == 0:
        return None
    if apply and (is_small(denominator, threshold) or is_small(numerator, threshold)
                  or is_small(denominator - numerator, threshold)):
        return None
    return round(numerator / denominator, 4)


# --- clustering (pure) --------------------------------------------------------------------------

@dataclass
class CellStats:
    children: set[str] = field(default_factory=set)
    episodes: int = 0
    multi: set[str] = field(default_factory=set)  # episodes with several places of this kind
    prev_children: set[str] = field(default_factory=set)
    prev_episodes: int = 0
    prev_multi: set[str] = field(default_factory=set)


def merge_cell_rows(rows: Iterable[Mapping[str, Any]], into: dict[str, CellStats] | None = None) -> dict[str, CellStats]:
    """Fold HOTSPOT_CELLS_* rows (cell, current, children, episodes, multi) into per-cell stats.
    The same cell may arrive twice (the area's places and the other places in it)."""
    stats = into if into is not None else {}
    for r in rows:
        if r["cell"] is None:
            continue
        s = stats.setdefault(r["cell"], CellStats())
        if r["current"]:
            s.children.update(r["children"])
            s.episodes += int(r["episodes"])
            s.multi.update(r["multi"])
        else:
            s.prev_children.update(r["children"])
            s.prev_episodes += int(r["episodes"])
            s.prev_multi.update(r["multi"])
    return stats


def fold_bucket_columns(
    columns: tuple[Sequence[str], Sequence[bool], Sequence[Sequence[str]], Sequence[int], Sequence[Sequence[str]]],
    into: dict[str, CellStats] | None = None,
) -> dict[str, CellStats]:
    """Fold one query's HotspotBucket columns (IntelAreaRepository.hotspot_buckets) into per-cell
    stats, exactly as `merge_cell_rows` folds that query's scan rows: per (cell, period) the distinct
    children, the distinct episodes (an episode in two buckets of one cell and period has two places
    of the kind, so it is in both buckets' `multi`: the buckets' sum minus those repeats) and the
    multi-place episodes; then added to `into` like a second query's rows. Nationally this is ~280k
    buckets a year, so the loop does the least per bucket: a cell's single bucket is kept as it came
    (its lists are already distinct) and copied only when a second one arrives."""
    stats = into if into is not None else {}
    acc: tuple[dict[str, list[Any]], dict[str, list[Any]]] = ({}, {})  # previous, current
    cells, current, children, episodes, multi = columns
    for cell, cur, ch, n, m in zip(cells, current, children, episodes, multi, strict=True):
        by_cell = acc[cur]
        g = by_cell.get(cell)
        if g is None:
            by_cell[cell] = [ch, n, m, False]
        else:
            if not g[3]:
                g[0], g[2], g[3] = set(g[0]), list(g[2]), True
            g[0].update(ch)
            g[1] += n
            if m:
                g[2].extend(m)
    for cur in (True, False):
        for cell, (ch, n, ms, copied) in acc[cur].items():
            if copied:
                distinct = set(ms)
                n -= len(ms) - len(distinct)
            else:
                distinct = ms
            s = stats.get(cell)
            if s is None:
                s = stats[cell] = CellStats()
            if cur:
                s.children.update(ch)
                s.episodes += n
                s.multi.update(distinct)
            else:
                s.prev_children.update(ch)
                s.prev_episodes += n
                s.prev_multi.update(distinct)
    return stats


def cell_neighbours(cell: str) -> list[str]:
    """The cells holding the points 500 m away from the cell's centre in the 8 compass directions.
    Grid columns are not aligned between rows (their width follows the latitude), so neighbours
    are found geometrically rather than by index arithmetic."""
    return list(_neighbours(cell))


# The grid is fixed, so a cell's neighbours never change: national clustering asks for thousands
# of cells per request, each costing 8 geodesic offsets, and the same busy cells come back every time.
@lru_cache(maxsize=65536)
def _neighbours(cell: str) -> tuple[str, ...]:
    lat, lon = cell_centre(cell)
    out = []
    for north in (-NEIGHBOUR_STEP_KM, 0.0, NEIGHBOUR_STEP_KM):
        for east in (-NEIGHBOUR_STEP_KM, 0.0, NEIGHBOUR_STEP_KM):
            if north == 0.0 and east == 0.0:
                continue
            n = cell_id(*offset_point(lat, lon, north, east))
            if n != cell and n not in out:
                out.append(n)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Cluster:
    peak: str
    cells: tuple[str, ...]


def cluster_cells(stats: Mapping[str, CellStats]) -> list[Cluster]:
    order = sorted(stats, key=lambda c: (-len(stats[c].children), -stats[c].episodes,
                                         -len(stats[c].prev_children), c))
    claimed: set[str] = set()
    clusters = []
    for peak in order:
        if peak in claimed:
            continue
        members = [peak]
        claimed.add(peak)
        for n in _neighbours(peak):
            if n in stats and n not in claimed:
                members.append(n)
                claimed.add(n)
        clusters.append(Cluster(peak, tuple(members)))
    return clusters


@dataclass(frozen=True, slots=True)
class ClusterCounts:
    children: int
    episodes: int
    prev_children: int
    prev_episodes: int


def _episodes(counts: Iterable[int], multis: Iterable[set[str]]) -> int:
    """Sum of per-cell episode counts, minus episodes counted in more than one of the cells."""
    seen: dict[str, int] = defaultdict(int)
    for m in multis:
        for e in m:
            seen[e] += 1
    return sum(counts) - sum(k - 1 for k in seen.values())


def cluster_counts(cluster: Cluster, stats: Mapping[str, CellStats]) -> ClusterCounts:
    cells = [stats[c] for c in cluster.cells]
    if len(cells) == 1:  # most cells nationally stand alone: nothing to de-duplicate across cells
        s = cells[0]
        return ClusterCounts(len(s.children), s.episodes, len(s.prev_children), s.prev_episodes)
    return ClusterCounts(
        children=len(set().union(*(s.children for s in cells))),
        episodes=_episodes((s.episodes for s in cells), (s.multi for s in cells)),
        prev_children=len(set().union(*(s.prev_children for s in cells))),
        prev_episodes=_episodes((s.prev_episodes for s in cells), (s.prev_multi for s in cells)),
    )


def is_emerging(children: int, prev_children: int) -> bool:
    return (children >= EMERGING_MIN_CHILDREN
            and children >= EMERGING_MIN_RATIO * prev_children
            and children - prev_children >= EMERGING_MIN_RISE)


def trend(children: int, prev_children: int) -> str:
    if prev_children == 0:
        return "new"
    if children > prev_children:
        return "rising"
    if children < prev_children:
        return "falling"
    return "steady"


# --- results ------------------------------------------------------------------------------------

@dataclass
class HotspotPlace:
    id: str | None
    name: str | None
    kind: str | None
    la_code: str | None
    force_code: str | None
    latitude: float | None
    longitude: float | None
    episodes: int | None
    children: int | None


@dataclass
class Hotspot:
    id: str  # the peak cell
    rank: int
    cells: list[str]
    place: HotspotPlace
    force_codes: list[str]
    la_codes: list[str]
    children: int | None
    episodes: int | None
    other_area_share: float | None
    high_risk_share: float | None
    previous_children: int | None
    previous_episodes: int | None
    change_ratio: float | None
    trend: str | None
    emerging: bool | None
    suppressed: bool
    episode_ids: list[str]
    episode_ids_truncated: bool
    locations: list[HotspotPlace]


@dataclass
class HotspotResult:
    area: Area
    kind: HotspotKind
    from_: datetime
    to: datetime
    previous_from: datetime
    total: int
    offset: int
    items: list[Hotspot]
    has_next: bool
    suppression_threshold: int | None


def _place(loc: Mapping[str, Any], episodes: int | None, children: int | None, aggregates_only: bool,
           private_kinds: Collection[str] = PRIVATE_PLACE_KINDS) -> HotspotPlace:
    # `open` is decided in Cypher per caller (HOTSPOT_DETAIL_*); a row without it is never opened.
    if loc.get("kind") in private_kinds and (aggregates_only or not loc.get("open", False)):
        lat, lon = cell_centre(loc["cell"]) if loc.get("cell") else (None, None)
        return HotspotPlace(None, None, loc.get("kind"), loc.get("laCode"), loc.get("forceCode"), lat, lon,
                            episodes, children)
    return HotspotPlace(loc["id"], loc.get("name"), loc.get("kind"), loc.get("laCode"), loc.get("forceCode"),
                        loc.get("latitude"), loc.get("longitude"), episodes, children)


def _is_other(row: Mapping[str, Any], mode: str, code: str | None) -> bool:
    """Whether the child comes from outside the reference area: a looked-after child by its
    responsible LA (and the forces that LA lies in), any other child by its home."""
    if code is None:
        return False
    if mode == "la":
        home = row.get("responsibleLa") or row.get("homeLa")
        return home is not None and home != code
    if row.get("responsibleLa"):
        return code not in (row.get("responsibleForces") or [])
    return row.get("homeForce") is not None and row["homeForce"] != code


def build_hotspot(
    rank: int, cluster: Cluster, counts: ClusterCounts, rows: Sequence[Mapping[str, Any]], area: Area,
    aggregates_only: bool, threshold: int, private_kinds: Collection[str] = PRIVATE_PLACE_KINDS,
) -> Hotspot:
    """One hot spot from its counts and its detail rows (one per place and episode, current period)."""
    by_loc: dict[str, dict[str, Any]] = {}
    loc_eps: dict[str, set[str]] = defaultdict(set)
    loc_children: dict[str, set[str]] = defaultdict(set)
    episodes: dict[str, Mapping[str, Any]] = {}
    children: dict[str, Mapping[str, Any]] = {}
    for r in rows:
        loc = r["location"]
        by_loc[loc["id"]] = loc
        loc_eps[loc["id"]].add(r["episodeId"])
        loc_children[loc["id"]].add(r["childId"])
        episodes.setdefault(r["episodeId"], r)
        children.setdefault(r["childId"], r)
    ranked_locs = sorted(by_loc, key=lambda i: (-len(loc_eps[i]), -len(loc_children[i]), i))
    rep = by_loc[ranked_locs[0]] if ranked_locs else {"id": cluster.peak, "cell": cluster.peak}
    ref_mode, ref_code = (area.mode, area.code) if area.mode != NATIONAL else ("force", rep.get("forceCode"))
    other = sum(1 for r in children.values() if _is_other(r, ref_mode, ref_code))
    high = sum(1 for r in episodes.values() if r["high"])
    apply = aggregates_only
    suppressed = apply and any(is_small(n, threshold) for n in (
        counts.children, counts.episodes, counts.prev_children, counts.prev_episodes))
    children_s = suppress(counts.children, threshold, apply)
    prev_s = suppress(counts.prev_children, threshold, apply)
    both_shown = children_s is not None and prev_s is not None
    visible = sorted((r for r in episodes.values() if r["visible"]),
                     key=lambda r: (r["reportedAt"], r["episodeId"]), reverse=True)
    episode_ids = [] if aggregates_only else [r["episodeId"] for r in visible[:EVIDENCE_EPISODES_CAP]]
    place_details_shown = not (apply and suppressed)
    return Hotspot(
        id=cluster.peak,
        rank=rank,
        cells=list(cluster.cells),
        place=_place(rep, suppress(len(loc_eps.get(rep.get("id", ""), ())), threshold, apply),
                     suppress(len(loc_children.get(rep.get("id", ""), ())), threshold, apply),
                     aggregates_only=aggregates_only, private_kinds=private_kinds),
        force_codes=sorted({loc["forceCode"] for loc in by_loc.values() if loc.get("forceCode")}),
        la_codes=sorted({loc["laCode"] for loc in by_loc.values() if loc.get("laCode")}),
        children=children_s,
        episodes=suppress(counts.episodes, threshold, apply),
        other_area_share=share(other, len(children), threshold, apply),
        high_risk_share=share(high, len(episodes), threshold, apply),
        previous_children=prev_s,
        previous_episodes=suppress(counts.prev_episodes, threshold, apply),
        change_ratio=(round((counts.children - counts.prev_children) / counts.prev_children, 4)
                      if counts.prev_children and both_shown else None),
        trend=trend(counts.children, counts.prev_children) if both_shown else None,
        emerging=is_emerging(counts.children, counts.prev_children) if both_shown else None,
        suppressed=suppressed,
        episode_ids=episode_ids,
        episode_ids_truncated=not aggregates_only and len(visible) > EVIDENCE_EPISODES_CAP,
        locations=[_place(by_loc[i], suppress(len(loc_eps[i]), threshold, apply),
                          suppress(len(loc_children[i]), threshold, apply), aggregates_only=aggregates_only,
                          private_kinds=private_kinds)
                   for i in ranked_locs[:EVIDENCE_LOCATIONS_CAP]] if place_details_shown else [],
    )


# --- the service ----------------------------------------------------------------------------------

async def hotspots(
    ctx: ServiceContext, area_arg: str, kind: HotspotKind, from_date: date, to_date: date, *,
    rank_by: RankBy = RankBy.CHILDREN, emerging_only: bool = False, limit: int, offset: int = 0,
    scan: bool = False,
) -> HotspotResult:
    """`scan=True` computes the cell aggregates from the episodes instead of the buckets (the
    pre-aggregate-free computation, kept for the comparison test and the benchmark)."""
    require_intel_or_analytics(ctx)
    from_, to = window(from_date, to_date)
    area = await resolve_area(ctx, area_arg)
    prev_from = from_ - (to - from_)
    repo = IntelAreaRepository(ctx.graph)
    k = kind.value
    if scan:
        counted = await _count_clusters(repo, area, k, prev_from, from_, to, scan=True)
    else:
        cache = cache_for(ctx.settings.hotspot_cache_entries)
        versions = Versions(None, ())
        if cache.entries > 0:
            # Before the buckets, in its own transaction (see mpdb/intel/hotspot_cache.py).
            versions = Versions(*await repo.bucket_versions(k, prev_from.date(), (to - timedelta(days=1)).date()))
        if area.mode == NATIONAL and versions.cacheable and cache.entries > 0:
            from mpdb.intel.hotspot_national import national_step_one  # it builds on this module

            counted = await national_step_one(repo, cache, versions, k, prev_from, from_, to)
        else:
            key = (k, area.mode, area.code, prev_from, from_, to)
            counted = cache.get(key, versions)
            if counted is None:
                counted = await _count_clusters(repo, area, k, prev_from, from_, to, scan=False)
                cache.put(key, versions, counted)
    scored = [(cluster, counts) for cluster, counts in counted
              if not emerging_only or is_emerging(counts.children, counts.prev_children)]
    if rank_by is RankBy.CHILDREN:
        scored.sort(key=lambda x: (-x[1].children, -x[1].episodes, x[0].peak))
    else:
        scored.sort(key=lambda x: (-x[1].episodes, -x[1].children, x[0].peak))
    page = scored[offset:offset + limit]
    private_kinds = ctx.scope.private_place_kinds
    rows = await repo.hotspot_detail(ctx.scope, k, [c.cells for c, _ in page], from_, to, private_kinds)
    by_cluster: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_cluster[int(r["cluster"])].append(r)
    threshold = ctx.settings.small_number_threshold
    aggregates_only = ctx.scope.aggregates_only
    items = [build_hotspot(offset + i + 1, cluster, counts, by_cluster.get(i, []), area, aggregates_only, threshold,
                           private_kinds) for i, (cluster, counts) in enumerate(page)]
    if not aggregates_only:
        await ctx.consulted("hotspots", [e for h in items for e in h.episode_ids])
    return HotspotResult(area=area, kind=kind, from_=from_, to=to, previous_from=prev_from, total=len(scored),
                         offset=offset, items=items, has_next=offset + limit < len(scored),
                         suppression_threshold=threshold if aggregates_only else None)


async def _count_clusters(
    repo: IntelAreaRepository, area: Area, k: str, prev_from: datetime, from_: datetime, to: datetime, *, scan: bool,
) -> tuple[tuple[Cluster, ClusterCounts], ...]:
    """Step 1: the hot spots of the area and window with their counts, in clustering order (those
    with children in the current period and, for a force or an LA, touching it); what the cache keeps."""

    async def cells_into(stats: dict[str, CellStats] | None, mode: str, **kw: Any) -> dict[str, CellStats]:
        if scan:
            return merge_cell_rows(await repo.hotspot_cells(mode, k, prev_from=prev_from, from_=from_, to=to, **kw),
                                   into=stats)
        return fold_bucket_columns(await repo.hotspot_buckets(mode, k, prev_from=prev_from, from_=from_, to=to, **kw),
                                   into=stats)

    if area.mode == NATIONAL:
        stats = await cells_into(None, NATIONAL, area=None)
        seeds: set[str] | None = None
    else:
        stats = await cells_into(None, area.mode, area=area.code)
        seeds = set(stats)
        ring = sorted(seeds.union(*(cell_neighbours(c) for c in seeds))) if seeds else []
        if ring:
            await cells_into(stats, "cells", area=area.code, cells=ring,
                             exclude_force=area.code if area.mode == "force" else None,
                             exclude_la=area.code if area.mode == "la" else None)
    counted = []
    for cluster in cluster_cells(stats):
        if seeds is not None and not seeds.intersection(cluster.cells):
            continue
        counts = cluster_counts(cluster, stats)
        if counts.children == 0:
            continue
        counted.append((cluster, counts))
    return tuple(counted)

