"""Cypher for the area intelligence queries: hot spots, missed duties, police-vs-LA reconciliation.

Hot spots are computed in two steps (see mpdb/intel/hotspots.py):

1. `HOTSPOT_CELLS_*`: per ~500 m grid cell (`Location.cell`) and period (current / previous), the
   distinct children and the episode count, over [$prevFrom, $to), packed into ONE row (`cells`). These are aggregates: the child
   ids only let the service count distinct children across merged cells and never leave it, so
   they take no caller scope. One variant per (kind, area): national starts from the
   `Episode.reportedAt` range index, force/LA start from the `Location.forceCode`/`laCode`
   indexes, and `HOTSPOT_CELLS_IN_CELLS_*` read given cells (the ring around an area, so a hot spot straddling
   the boundary counts children on both sides) through the `Location.cell` index.
   Since issue 10 the service reads step 1 from the pre-aggregates (`HOTSPOT_CELLS_FROM_BUCKETS_*`,
   one index seek per area type on HotspotBucket); the scans above stay as `HOTSPOT_CELLS_SCAN`, the
   exact computation the buckets are compared with.
2. `HOTSPOT_DETAIL_*`: for the hot spots on the requested page only, one entry per (location,
   episode) in the current period (packed into one row, `rows`), with the caller's visibility of each episode, so evidence is
   limited to what the caller may see.
"""

from typing import Final, LiteralString

from mpdb.graph.queries.access import CHILD_VISIBLE, EPISODE_VISIBLE
from mpdb.graph.queries.intel_links import episode_visible
from mpdb.graph.queries.summary import child_summary

# --- hot spots ------------------------------------------------------------------------------

# Episode -> location for each kind (episode-first shape), binding `l`.
_e_to_l_missing_from: Final[LiteralString] = """
CALL (e) {
  MATCH (e)-[:MISSING_FROM_LOCATION]->(l:Location) RETURN l
  UNION
  MATCH (e)-[:MISSING_FROM]->(:Placement)-[:AT_LOCATION]->(l:Location) RETURN l
}
"""
_e_to_l_last_seen: Final[LiteralString] = "MATCH (e)-[:LAST_SEEN_AT]->(l:Location)\n"
_e_to_l_went_to: Final[LiteralString] = "MATCH (e)-[:WENT_TO]->(l:Location)\n"
_e_to_l_found_at: Final[LiteralString] = "MATCH (e)-[:FOUND_AT]->(l:Location)\n"

# Location -> episode for each kind (location-first shape), binding `e`.
_l_to_e_missing_from: Final[LiteralString] = """
CALL (l) {
  MATCH (l)<-[:MISSING_FROM_LOCATION]-(e:Episode) RETURN e
  UNION
  MATCH (l)<-[:AT_LOCATION]-(:Placement)<-[:MISSING_FROM]-(e:Episode) RETURN e
}
"""
_l_to_e_last_seen: Final[LiteralString] = "MATCH (l)<-[:LAST_SEEN_AT]-(e:Episode)\n"
_l_to_e_went_to: Final[LiteralString] = "MATCH (l)<-[:WENT_TO]-(e:Episode)\n"
_l_to_e_found_at: Final[LiteralString] = "MATCH (l)<-[:FOUND_AT]-(e:Episode)\n"

# How many places of this kind the episode has: above 1 the episode may sit in two cells of one
# hot spot, and the service must not count it twice. Degree lookups, no expansion.
_multi_missing_from: Final[LiteralString] = "COUNT { (e)-[:MISSING_FROM_LOCATION|MISSING_FROM]->() } > 1"
_multi_last_seen: Final[LiteralString] = "COUNT { (e)-[:LAST_SEEN_AT]->() } > 1"
_multi_went_to: Final[LiteralString] = "COUNT { (e)-[:WENT_TO]->() } > 1"
_multi_found_at: Final[LiteralString] = "COUNT { (e)-[:FOUND_AT]->() } > 1"

_cell_aggregate_head: Final[LiteralString] = """
WITH l, e WHERE e.reportedAt >= $prevFrom AND e.reportedAt < $to
MATCH (c:Child)-[:HAD]->(e)
WITH l.cell AS cell, e.reportedAt >= $from AS current, e, c.id AS child, """

# One packed row: nationally there are thousands of (cell, period) groups, and streaming them as
# records costs a driver message each (most of the query's wall time on the async driver).
_cell_aggregate_tail: Final[LiteralString] = """ AS multi
WITH cell, current, collect(DISTINCT child) AS children, count(DISTINCT e) AS episodes,
     collect(DISTINCT CASE WHEN multi THEN e.id END) AS multi
RETURN collect({cell: cell, current: current, children: children, episodes: episodes, multi: multi}) AS cells
"""

_national_start: Final[LiteralString] = """
MATCH (e:Episode) WHERE e.reportedAt >= $prevFrom AND e.reportedAt < $to
"""
_force_start: Final[LiteralString] = "MATCH (l:Location {forceCode: $area})\n"
_la_start: Final[LiteralString] = "MATCH (l:Location {laCode: $area})\n"
# The given cells, minus the area's own locations (already counted by the area query).
_cells_start: Final[LiteralString] = """
UNWIND $cells AS cellId
MATCH (l:Location {cell: cellId})
WHERE ($excludeForce IS NULL OR l.forceCode <> $excludeForce)
  AND ($excludeLa IS NULL OR l.laCode <> $excludeLa)
"""

HOTSPOT_CELLS_NATIONAL_MISSING_FROM: Final[LiteralString] = (
    _national_start + _e_to_l_missing_from + _cell_aggregate_head + _multi_missing_from + _cell_aggregate_tail)
HOTSPOT_CELLS_NATIONAL_LAST_SEEN: Final[LiteralString] = (
    _national_start + _e_to_l_last_seen + _cell_aggregate_head + _multi_last_seen + _cell_aggregate_tail)
HOTSPOT_CELLS_NATIONAL_WENT_TO: Final[LiteralString] = (
    _national_start + _e_to_l_went_to + _cell_aggregate_head + _multi_went_to + _cell_aggregate_tail)
HOTSPOT_CELLS_NATIONAL_FOUND_AT: Final[LiteralString] = (
    _national_start + _e_to_l_found_at + _cell_aggregate_head + _multi_found_at + _cell_aggregate_tail)

HOTSPOT_CELLS_FORCE_MISSING_FROM: Final[LiteralString] = (
    _force_start + _l_to_e_missing_from + _cell_aggregate_head + _multi_missing_from + _cell_aggregate_tail)
HOTSPOT_CELLS_FORCE_LAST_SEEN: Final[LiteralString] = (
    _force_start + _l_to_e_last_seen + _cell_aggregate_head + _multi_last_seen + _cell_aggregate_tail)
HOTSPOT_CELLS_FORCE_WENT_TO: Final[LiteralString] = (
    _force_start + _l_to_e_went_to + _cell_aggregate_head + _multi_went_to + _cell_aggregate_tail)
HOTSPOT_CELLS_FORCE_FOUND_AT: Final[LiteralString] = (
    _force_start + _l_to_e_found_at + _cell_aggregate_head + _multi_found_at + _cell_aggregate_tail)

HOTSPOT_CELLS_LA_MISSING_FROM: Final[LiteralString] = (
    _la_start + _l_to_e_missing_from + _cell_aggregate_head + _multi_missing_from + _cell_aggregate_tail)
HOTSPOT_CELLS_LA_LAST_SEEN: Final[LiteralString] = (
    _la_start + _l_to_e_last_seen + _cell_aggregate_head + _multi_last_seen + _cell_aggregate_tail)
HOTSPOT_CELLS_LA_WENT_TO: Final[LiteralString] = (
    _la_start + _l_to_e_went_to + _cell_aggregate_head + _multi_went_to + _cell_aggregate_tail)
HOTSPOT_CELLS_LA_FOUND_AT: Final[LiteralString] = (
    _la_start + _l_to_e_found_at + _cell_aggregate_head + _multi_found_at + _cell_aggregate_tail)

HOTSPOT_CELLS_IN_CELLS_MISSING_FROM: Final[LiteralString] = (
    _cells_start + _l_to_e_missing_from + _cell_aggregate_head + _multi_missing_from + _cell_aggregate_tail)
HOTSPOT_CELLS_IN_CELLS_LAST_SEEN: Final[LiteralString] = (
    _cells_start + _l_to_e_last_seen + _cell_aggregate_head + _multi_last_seen + _cell_aggregate_tail)
HOTSPOT_CELLS_IN_CELLS_WENT_TO: Final[LiteralString] = (
    _cells_start + _l_to_e_went_to + _cell_aggregate_head + _multi_went_to + _cell_aggregate_tail)
HOTSPOT_CELLS_IN_CELLS_FOUND_AT: Final[LiteralString] = (
    _cells_start + _l_to_e_found_at + _cell_aggregate_head + _multi_found_at + _cell_aggregate_tail)

# A private place (`$privateKinds`: homes, foster homes, addresses, semi-independent flats) is
# named and placed exactly only for a caller who may read an episode there, of any kind and any
# date, i.e. who could already read that place on the episode itself (records.py shows the places
# of visible episodes); everyone else gets its grid cell (mpdb/intel/hotspots.py). Decided once per
# location, before its episodes are expanded, and only for private kinds; never for an
# aggregates-only caller, who is never shown a private place (`$aggregatesOnly`: always closed).
_place_open: Final[LiteralString] = (
    """
WITH i, l, CASE WHEN NOT l.kind IN $privateKinds THEN true
  WHEN $aggregatesOnly THEN false
  ELSE $national
    OR EXISTS { MATCH (c:Child)-[:HAD]->(e:Episode)-[:MISSING_FROM_LOCATION|LAST_SEEN_AT|WENT_TO|FOUND_AT]->(l)
                WHERE """
    + EPISODE_VISIBLE
    + """ }
    OR EXISTS { MATCH (c:Child)-[:HAD]->(e:Episode)-[:MISSING_FROM]->(:Placement)-[:AT_LOCATION]->(l)
                WHERE """
    + EPISODE_VISIBLE
    + """ }
  END AS placeOpen
"""
)

_detail_start: Final[LiteralString] = (
    """
UNWIND range(0, size($clusters) - 1) AS i
UNWIND $clusters[i] AS cellId
MATCH (l:Location {cell: cellId})
"""
    + _place_open
)

# One entry per (location, episode) in `rows`, but each location's and each child's fields only once
# (`locations`, `children`): nationally a page's hot spots hold thousands of episodes at a
# thousand-odd places, and projecting a place and walking a child's LA and home once per episode
# was most of this query's work. IntelAreaRepository.hotspot_detail joins them back.
_detail_tail: Final[LiteralString] = (
    """
WITH i, l, placeOpen, e WHERE e.reportedAt >= $from AND e.reportedAt < $to
MATCH (c:Child)-[:HAD]->(e)
WITH i, l, placeOpen, e, c, """
    + EPISODE_VISIBLE
    + """ AS visible
WITH collect({cluster: i, locationId: l.id, episodeId: e.id, reportedAt: e.reportedAt, high: e.riskGrade = 'high',
              childId: c.id, visible: visible}) AS rows,
     collect(DISTINCT [l, placeOpen]) AS places, collect(DISTINCT c) AS children
RETURN rows,
       [p IN places | {id: p[0].id, name: p[0].name, kind: p[0].kind, laCode: p[0].laCode,
                       forceCode: p[0].forceCode, cell: p[0].cell, open: p[1],
                       latitude: p[0].point.latitude, longitude: p[0].point.longitude}] AS locations,
       [c IN children | {childId: c.id,
         responsibleLa: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0],
         responsibleForces: [(c)-[:LOOKED_AFTER_BY]->(:LocalAuthority)-[:IN_FORCE]->(f:Force) | f.code],
         homeLa: [(c)-[:HOME_AT]->(h:Location) | h.laCode][0],
         homeForce: [(c)-[:HOME_AT]->(h:Location) | h.forceCode][0]}] AS children
"""
)

HOTSPOT_DETAIL_MISSING_FROM: Final[LiteralString] = _detail_start + _l_to_e_missing_from + _detail_tail
HOTSPOT_DETAIL_LAST_SEEN: Final[LiteralString] = _detail_start + _l_to_e_last_seen + _detail_tail
HOTSPOT_DETAIL_WENT_TO: Final[LiteralString] = _detail_start + _l_to_e_went_to + _detail_tail
HOTSPOT_DETAIL_FOUND_AT: Final[LiteralString] = _detail_start + _l_to_e_found_at + _detail_tail

# The exact scan over episodes (what HOTSPOT_CELLS_FROM_BUCKETS_* answer from the pre-aggregates):
# kept for the comparison test (tests/integration/test_hotspot_buckets.py) and the benchmark.
HOTSPOT_CELLS_SCAN: Final[dict[tuple[str, str], LiteralString]] = {
    ("national", "missing_from"): HOTSPOT_CELLS_NATIONAL_MISSING_FROM,
    ("national", "last_seen"): HOTSPOT_CELLS_NATIONAL_LAST_SEEN,
    ("national", "went_to"): HOTSPOT_CELLS_NATIONAL_WENT_TO,
    ("national", "found_at"): HOTSPOT_CELLS_NATIONAL_FOUND_AT,
    ("force", "missing_from"): HOTSPOT_CELLS_FORCE_MISSING_FROM,
    ("force", "last_seen"): HOTSPOT_CELLS_FORCE_LAST_SEEN,
    ("force", "went_to"): HOTSPOT_CELLS_FORCE_WENT_TO,
    ("force", "found_at"): HOTSPOT_CELLS_FORCE_FOUND_AT,
    ("la", "missing_from"): HOTSPOT_CELLS_LA_MISSING_FROM,
    ("la", "last_seen"): HOTSPOT_CELLS_LA_LAST_SEEN,
    ("la", "went_to"): HOTSPOT_CELLS_LA_WENT_TO,
    ("la", "found_at"): HOTSPOT_CELLS_LA_FOUND_AT,
    ("cells", "missing_from"): HOTSPOT_CELLS_IN_CELLS_MISSING_FROM,
    ("cells", "last_seen"): HOTSPOT_CELLS_IN_CELLS_LAST_SEEN,
    ("cells", "went_to"): HOTSPOT_CELLS_IN_CELLS_WENT_TO,
    ("cells", "found_at"): HOTSPOT_CELLS_IN_CELLS_FOUND_AT,
}

# --- step 1 from the pre-aggregates (HotspotBucket, mpdb/graph/queries/hotspot_buckets.py) ---------
# The buckets of the window, one per (kind, cell, LA, force, UTC day), as five parallel columns: the
# repository folds them per (cell, period) into the scan's rows (IntelAreaRepository.hotspot_cells).
# Folding in Python beats grouping here: nationally a year's window is ~280k buckets in ~66k
# (cell, period) groups, and collecting and flattening their child lists in Cypher cost more than
# shipping them (bench/RESULTS.md). Days are UTC dates: the window's bounds are UTC midnights.
_bucket_columns: Final[LiteralString] = """
RETURN collect(b.cell) AS cell, collect(b.day >= $fromDay) AS current, collect(b.children) AS children,
       collect(b.episodes) AS episodes, collect(b.multi) AS multi
"""

HOTSPOT_CELLS_FROM_BUCKETS_NATIONAL: Final[LiteralString] = (
    """
MATCH (b:HotspotBucket) WHERE b.kind = $kind AND b.day >= $prevFromDay AND b.day < $toDay
"""
    + _bucket_columns
)
HOTSPOT_CELLS_FROM_BUCKETS_FORCE: Final[LiteralString] = (
    """
MATCH (b:HotspotBucket) WHERE b.kind = $kind AND b.forceCode = $area AND b.day >= $prevFromDay AND b.day < $toDay
"""
    + _bucket_columns
)
HOTSPOT_CELLS_FROM_BUCKETS_LA: Final[LiteralString] = (
    """
MATCH (b:HotspotBucket) WHERE b.kind = $kind AND b.laCode = $area AND b.day >= $prevFromDay AND b.day < $toDay
"""
    + _bucket_columns
)
# National, with each bucket's force (missing: ''), for the national step 1 kept per force
# (mpdb/intel/hotspot_national.py): it folds each force's buckets apart so a later write
# re-reads only its own force (HOTSPOT_CELLS_FROM_BUCKETS_FORCE).
HOTSPOT_CELLS_FROM_BUCKETS_NATIONAL_BY_FORCE: Final[LiteralString] = (
    """
MATCH (b:HotspotBucket) WHERE b.kind = $kind AND b.day >= $prevFromDay AND b.day < $toDay
RETURN collect(coalesce(b.forceCode, '')) AS forceCode, collect(b.cell) AS cell, collect(b.day >= $fromDay) AS current,
       collect(b.children) AS children, collect(b.episodes) AS episodes, collect(b.multi) AS multi
"""
)
# As the scan's `l.forceCode <> $excludeForce`: a place with no force (bucket forceCode '') is
# excluded too, since that comparison is null for it.
HOTSPOT_CELLS_FROM_BUCKETS_IN_CELLS: Final[LiteralString] = (
    """
UNWIND $cells AS cellId
MATCH (b:HotspotBucket) WHERE b.kind = $kind AND b.cell = cellId AND b.day >= $prevFromDay AND b.day < $toDay
  AND ($excludeForce IS NULL OR (b.forceCode <> '' AND b.forceCode <> $excludeForce))
  AND ($excludeLa IS NULL OR (b.laCode <> '' AND b.laCode <> $excludeLa))
"""
    + _bucket_columns
)

HOTSPOT_CELLS: Final[dict[str, LiteralString]] = {
    "national": HOTSPOT_CELLS_FROM_BUCKETS_NATIONAL,
    "force": HOTSPOT_CELLS_FROM_BUCKETS_FORCE,
    "la": HOTSPOT_CELLS_FROM_BUCKETS_LA,
    "cells": HOTSPOT_CELLS_FROM_BUCKETS_IN_CELLS,
}

HOTSPOT_DETAIL: Final[dict[str, LiteralString]] = {
    "missing_from": HOTSPOT_DETAIL_MISSING_FROM,
    "last_seen": HOTSPOT_DETAIL_LAST_SEEN,
    "went_to": HOTSPOT_DETAIL_WENT_TO,
    "found_at": HOTSPOT_DETAIL_FOUND_AT,
}

# An area is a force or a local authority (reference data, not personal).
AREA_KIND: Final[LiteralString] = """
OPTIONAL MATCH (f:Force {code: $area})
OPTIONAL MATCH (la:LocalAuthority {code: $area})
RETURN CASE WHEN f IS NOT NULL THEN 'force' WHEN la IS NOT NULL THEN 'la' END AS kind,
       coalesce(f.name, la.name) AS name,
       [(la)-[:IN_FORCE]->(lf:Force) | lf.code] AS forceCodes
"""

# --- duties ---------------------------------------------------------------------------------
# Each duty query yields rows with the same columns, ordered most overdue first (dueAt, then id)
# and paged by keyset ($afterDue, $afterId). `$areaMode` is 'national', 'force' or 'la'.

# The due-date window [$dueFrom, $dueTo) (either may be null) narrows pages and counts alike, so a
# work queue can ask for this quarter's duties without paging past years of old ones. Where a
# query's anchor carries the due date itself (return interviews), `$dueFloor` (dueFrom, or the
# earliest datetime) bounds the index range scan too.
_due_window: Final[LiteralString] = """
WITH item WHERE ($dueFrom IS NULL OR item.dueAt >= $dueFrom) AND ($dueTo IS NULL OR item.dueAt < $dueTo)
"""
_keyset_page: Final[LiteralString] = (
    _due_window
    + """WITH item WHERE $afterDue IS NULL OR item.dueAt > $afterDue
             OR (item.dueAt = $afterDue AND item.id > $afterId)
RETURN item ORDER BY item.dueAt, item.id LIMIT $limit
"""
)
_count: Final[LiteralString] = _due_window + "RETURN count(item) AS total\n"

_rhi_overdue_items: Final[LiteralString] = (
    """
MATCH (ri:ReturnInterview)
WHERE ri.dueAt < $asOf AND ri.dueAt >= $dueFloor AND ri.status IN ['offered', 'not_offered']
MATCH (c:Child)-[:HAD]->(e:Episode)-[:FOLLOWED_BY]->(ri)
WHERE """
    + EPISODE_VISIBLE
    + """
WITH c, e, ri,
     [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0] AS responsibleLa,
     [(c)-[:HOME_AT]->(home:Location) | home.laCode][0] AS homeLa,
     [(e)-[:MISSING_FROM_LOCATION]->(l:Location) | l.laCode][0] AS fromLa,
     [(ri)-[:BY]->(a:Agency) | a.id][0] AS provider
WITH c, e, ri, provider, coalesce(responsibleLa, homeLa, fromLa) AS ruleLa
WHERE $areaMode = 'national'
   OR ($areaMode = 'la' AND (ruleLa = $area OR provider = $area))
   OR ($areaMode = 'force' AND $area IN e.areaAgencies)
WITH {
  id: ri.id, childId: c.id, episodeId: e.id, placementId: null, notificationId: null,
  returnInterviewId: ri.id, dutyHolder: coalesce(provider, ruleLa), recipient: null, dueAt: ri.dueAt,
  evidence: [
    {kind: 'return_interview', id: ri.id, at: ri.offeredAt, detail: 'status ' + ri.status},
    {kind: 'episode', id: e.id, at: e.reportedAt, detail: 'reported'},
    {kind: 'returned', id: e.id, at: coalesce(e.returnedAt, e.foundAt), detail: 'returned or found'}
  ]
} AS item
"""
)

# Notification nodes: `about` is the placement or episode, renamed `e` so the episode visibility
# predicate applies to episode notifications; placement notifications need the child visible.
_notification_head: Final[LiteralString] = """
MATCH (n:Notification)
WHERE """

# For a force or an LA, start from the agency (unique index) and its notifications either way
# instead of scanning every notification and testing the OR'ed area condition on each; the body
# keeps the area condition, so a notification with several senders is judged exactly as before.
_notification_head_area: Final[LiteralString] = """
CALL () {
  MATCH (:Agency {id: $area})<-[:FROM]-(n:Notification) RETURN n
  UNION
  MATCH (:Agency {id: $area})<-[:TO]-(n:Notification) RETURN n
}
WITH n WHERE """

_notification_body: Final[LiteralString] = (
    """
MATCH (n)-[:FROM]->(src:Agency), (n)-[:TO]->(dst:Agency), (n)-[:ABOUT]->(e)
MATCH (c:Child)-[:PLACED_IN|HAD]->(e)
WHERE CASE WHEN e:Episode THEN """
    + EPISODE_VISIBLE
    + " ELSE "
    + CHILD_VISIBLE
    + """ END
  AND ($areaMode = 'national' OR src.id = $area OR dst.id = $area)
WITH n, src, dst, e, c
"""
)

_notification_item: Final[LiteralString] = """
{
  id: n.id, childId: c.id,
  episodeId: CASE WHEN e:Episode THEN e.id END, placementId: CASE WHEN e:Placement THEN e.id END,
  notificationId: n.id, returnInterviewId: null, dutyHolder: src.id, recipient: dst.id,
  dueAt: CASE WHEN n.sentAt IS NOT NULL AND n.ackDueAt IS NOT NULL THEN n.ackDueAt
              ELSE coalesce(n.dueAt, CASE WHEN e:Episode THEN e.reportedAt ELSE datetime({date: e.startDate}) END) END,
  evidence: [
    {kind: 'notification', id: n.id, at: n.sentAt, detail: n.kind + CASE WHEN n.sentAt IS NULL
       THEN ' never sent' ELSE ' sent, not acknowledged' END},
    {kind: CASE WHEN e:Episode THEN 'episode' ELSE 'placement' END, id: e.id,
     at: CASE WHEN e:Episode THEN e.reportedAt ELSE datetime({date: e.startDate}) END,
     detail: CASE WHEN e:Episode THEN 'reported' ELSE 'placement started' END}
  ]
} AS item
"""

# Out-of-area placements with no placement_to_host_la notification at all: the notification is due
# $placementGraceDays days after the placement starts, as a recorded one would be
# (seed/rules/area_rules.toml [notification_due] placement_to_host_la).
_placement_never_notified_area_start: Final[LiteralString] = """
CALL () {
  MATCH (:LocalAuthority {code: $area})<-[:PLACED_BY|HOSTED_BY]-(p:Placement) RETURN p
  UNION
  MATCH (:Force {code: $area})<-[:IN_FORCE_AREA]-(p:Placement) WHERE $areaMode = 'force' RETURN p
}
WITH p WHERE p.outOfArea = true AND p.startDate IS NOT NULL"""

_placement_never_notified_national_start: Final[LiteralString] = """
MATCH (p:Placement {outOfArea: true})
WHERE p.startDate IS NOT NULL"""

_placement_never_notified_body: Final[LiteralString] = (
    """
  AND datetime({date: p.startDate}) + duration({days: $placementGraceDays}) < $asOf
  AND NOT EXISTS { (:Notification {kind: 'placement_to_host_la'})-[:ABOUT]->(p) }
MATCH (c:Child)-[:PLACED_IN]->(p)
WHERE """
    + CHILD_VISIBLE
    + """
MATCH (p)-[:PLACED_BY]->(placing:LocalAuthority), (p)-[:HOSTED_BY]->(host:LocalAuthority)
WHERE $areaMode = 'national' OR placing.code = $area OR host.code = $area
   OR ($areaMode = 'force' AND EXISTS { (p)-[:IN_FORCE_AREA]->(:Force {code: $area}) })
RETURN {
  id: 'placement:' + p.id + ':placement_to_host_la', childId: c.id, episodeId: null,
  placementId: p.id, notificationId: null, returnInterviewId: null, dutyHolder: placing.code,
  recipient: host.code,
  dueAt: datetime({date: p.startDate}) + duration({days: $placementGraceDays}),
  evidence: [
    {kind: 'placement', id: p.id, at: datetime({date: p.startDate}),
     detail: 'out-of-area placement by ' + placing.code + ' in ' + host.code + ', no notification recorded'}
  ]
} AS item
"""
)


def _notification_unsent(head: LiteralString, placement_start: LiteralString) -> LiteralString:
    return (
        """
CALL () {
"""
        + head
        + "n.sentAt IS NULL AND (n.dueAt IS NULL OR n.dueAt < $asOf)"
        + _notification_body
        + "RETURN "
        + _notification_item
        + """
  UNION
"""
        + placement_start
        + _placement_never_notified_body
        + """
}
WITH item
"""
    )


def _notification_unacknowledged(head: LiteralString) -> LiteralString:
    return (
        head
        + "n.sentAt IS NOT NULL AND n.acknowledgedAt IS NULL AND coalesce(n.ackDueAt, n.dueAt) < $asOf"
        + _notification_body
        + "WITH "
        + _notification_item
    )


_notification_unsent_items: Final[LiteralString] = _notification_unsent(
    _notification_head, _placement_never_notified_national_start)
_notification_unsent_items_area: Final[LiteralString] = _notification_unsent(
    _notification_head_area, _placement_never_notified_area_start)
_notification_unacknowledged_items: Final[LiteralString] = _notification_unacknowledged(_notification_head)
_notification_unacknowledged_items_area: Final[LiteralString] = _notification_unacknowledged(
    _notification_head_area)

# Found by police, looked after, and no SENT found_to_responsible_la notification. Due: the
# recorded notification's dueAt, else foundAt + $foundGraceHours.
# One anchor per area type: the force's FOUND_BY episodes, the LA's looked-after children, or
# (national) every found episode.
_found_start_national: Final[LiteralString] = """
MATCH (c:Child)-[:HAD]->(e:Episode)-[:FOUND_BY]->(f:Force)
WHERE e.foundAt IS NOT NULL
  AND """
_found_start_force: Final[LiteralString] = """
MATCH (f:Force {code: $area})<-[:FOUND_BY]-(e:Episode)<-[:HAD]-(c:Child)
WHERE e.foundAt IS NOT NULL
  AND """
_found_start_la: Final[LiteralString] = """
MATCH (:LocalAuthority {code: $area})<-[:LOOKED_AFTER_BY]-(c:Child)-[:HAD]->(e:Episode)-[:FOUND_BY]->(f:Force)
WHERE e.foundAt IS NOT NULL
  AND """

_found_not_notified_body: Final[LiteralString] = (
    EPISODE_VISIBLE
    + """
MATCH (c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority)
WHERE ($areaMode = 'national' OR ($areaMode = 'force' AND f.code = $area) OR ($areaMode = 'la' AND la.code = $area))
  AND NOT EXISTS {
    MATCH (sent:Notification {kind: 'found_to_responsible_la'})-[:ABOUT]->(e) WHERE sent.sentAt IS NOT NULL
  }
WITH c, e, f, la, [(n:Notification {kind: 'found_to_responsible_la'})-[:ABOUT]->(e) | n][0] AS unsent
WITH c, e, f, la, unsent, coalesce(unsent.dueAt, e.foundAt + duration({hours: $foundGraceHours})) AS dueAt
WHERE dueAt < $asOf
WITH {
  id: e.id, childId: c.id, episodeId: e.id, placementId: null, notificationId: unsent.id,
  returnInterviewId: null, dutyHolder: f.code, recipient: la.code, dueAt: dueAt,
  evidence: [
    {kind: 'episode', id: e.id, at: e.foundAt, detail: 'found by ' + f.code},
    {kind: 'responsible_la', id: la.code, at: null, detail: 'looked after by ' + la.code},
    {kind: 'notification', id: unsent.id, at: null,
     detail: CASE WHEN unsent IS NULL THEN 'no found_to_responsible_la notification recorded'
             ELSE 'found_to_responsible_la notification recorded but never sent' END}
  ]
} AS item
"""
)

_found_not_notified_items: Final[LiteralString] = _found_start_national + _found_not_notified_body
_found_not_notified_items_force: Final[LiteralString] = _found_start_force + _found_not_notified_body
_found_not_notified_items_la: Final[LiteralString] = _found_start_la + _found_not_notified_body

DUTY_RHI_OVERDUE_PAGE: Final[LiteralString] = _rhi_overdue_items + _keyset_page
DUTY_RHI_OVERDUE_COUNT: Final[LiteralString] = _rhi_overdue_items + _count
DUTY_NOTIFICATION_UNSENT_PAGE: Final[LiteralString] = _notification_unsent_items + _keyset_page
DUTY_NOTIFICATION_UNSENT_COUNT: Final[LiteralString] = _notification_unsent_items + _count
DUTY_NOTIFICATION_UNACKNOWLEDGED_PAGE: Final[LiteralString] = _notification_unacknowledged_items + _keyset_page
DUTY_NOTIFICATION_UNACKNOWLEDGED_COUNT: Final[LiteralString] = _notification_unacknowledged_items + _count
DUTY_FOUND_NOT_NOTIFIED_PAGE: Final[LiteralString] = _found_not_notified_items + _keyset_page
DUTY_FOUND_NOT_NOTIFIED_COUNT: Final[LiteralString] = _found_not_notified_items + _count

DUTY_NOTIFICATION_UNSENT_AREA_PAGE: Final[LiteralString] = _notification_unsent_items_area + _keyset_page
DUTY_NOTIFICATION_UNSENT_AREA_COUNT: Final[LiteralString] = _notification_unsent_items_area + _count
DUTY_NOTIFICATION_UNACKNOWLEDGED_AREA_PAGE: Final[LiteralString] = _notification_unacknowledged_items_area + _keyset_page
DUTY_NOTIFICATION_UNACKNOWLEDGED_AREA_COUNT: Final[LiteralString] = _notification_unacknowledged_items_area + _count
DUTY_FOUND_NOT_NOTIFIED_FORCE_PAGE: Final[LiteralString] = _found_not_notified_items_force + _keyset_page
DUTY_FOUND_NOT_NOTIFIED_FORCE_COUNT: Final[LiteralString] = _found_not_notified_items_force + _count
DUTY_FOUND_NOT_NOTIFIED_LA_PAGE: Final[LiteralString] = _found_not_notified_items_la + _keyset_page
DUTY_FOUND_NOT_NOTIFIED_LA_COUNT: Final[LiteralString] = _found_not_notified_items_la + _count

# (kind, area mode) -> statement: each area type starts from its own index (see the anchors above).
DUTY_PAGE: Final[dict[tuple[str, str], LiteralString]] = {
    ("rhi_overdue", "national"): DUTY_RHI_OVERDUE_PAGE,
    ("rhi_overdue", "force"): DUTY_RHI_OVERDUE_PAGE,
    ("rhi_overdue", "la"): DUTY_RHI_OVERDUE_PAGE,
    ("notification_unsent", "national"): DUTY_NOTIFICATION_UNSENT_PAGE,
    ("notification_unsent", "force"): DUTY_NOTIFICATION_UNSENT_AREA_PAGE,
    ("notification_unsent", "la"): DUTY_NOTIFICATION_UNSENT_AREA_PAGE,
    ("notification_unacknowledged", "national"): DUTY_NOTIFICATION_UNACKNOWLEDGED_PAGE,
    ("notification_unacknowledged", "force"): DUTY_NOTIFICATION_UNACKNOWLEDGED_AREA_PAGE,
    ("notification_unacknowledged", "la"): DUTY_NOTIFICATION_UNACKNOWLEDGED_AREA_PAGE,
    ("found_not_notified", "national"): DUTY_FOUND_NOT_NOTIFIED_PAGE,
    ("found_not_notified", "force"): DUTY_FOUND_NOT_NOTIFIED_FORCE_PAGE,
    ("found_not_notified", "la"): DUTY_FOUND_NOT_NOTIFIED_LA_PAGE,
}
DUTY_COUNT: Final[dict[tuple[str, str], LiteralString]] = {
    ("rhi_overdue", "national"): DUTY_RHI_OVERDUE_COUNT,
    ("rhi_overdue", "force"): DUTY_RHI_OVERDUE_COUNT,
    ("rhi_overdue", "la"): DUTY_RHI_OVERDUE_COUNT,
    ("notification_unsent", "national"): DUTY_NOTIFICATION_UNSENT_COUNT,
    ("notification_unsent", "force"): DUTY_NOTIFICATION_UNSENT_AREA_COUNT,
    ("notification_unsent", "la"): DUTY_NOTIFICATION_UNSENT_AREA_COUNT,
    ("notification_unacknowledged", "national"): DUTY_NOTIFICATION_UNACKNOWLEDGED_COUNT,
    ("notification_unacknowledged", "force"): DUTY_NOTIFICATION_UNACKNOWLEDGED_AREA_COUNT,
    ("notification_unacknowledged", "la"): DUTY_NOTIFICATION_UNACKNOWLEDGED_AREA_COUNT,
    ("found_not_notified", "national"): DUTY_FOUND_NOT_NOTIFIED_COUNT,
    ("found_not_notified", "force"): DUTY_FOUND_NOT_NOTIFIED_FORCE_COUNT,
    ("found_not_notified", "la"): DUTY_FOUND_NOT_NOTIFIED_LA_COUNT,
}

# Children whose rule area (responsible LA, else the LA they went missing from) has repeat-missing
# triggers, with every episode they had up to $asOf that the caller may see. A child is its
# identity (graph_schema/MODEL.md): the episodes of every record joined by confirmed SAME_AS count
# together, once, under the identity's lowest record id; for a record without SAME_AS the
# expansion finds nothing and the child is itself. The triggers are
# evaluated by mpdb/domain/triggers.py in the service.
REPEAT_TRIGGER_CANDIDATES: Final[LiteralString] = (
    """
CALL () {
  MATCH (la:LocalAuthority) WHERE la.code IN $ruleAreas
  MATCH (c:Child)-[:LOOKED_AFTER_BY]->(la) RETURN c
  UNION
  MATCH (l:Location) WHERE l.laCode IN $ruleAreas
  MATCH (l)<-[:MISSING_FROM_LOCATION]-(:Episode)<-[:HAD]-(c:Child) RETURN c
}
CALL (c) {
  OPTIONAL MATCH (c)-[:SAME_AS*1..]-(o:Child)
  WITH c, collect(DISTINCT o) AS others
  RETURN [c] + others AS members,
         reduce(lo = c.id, x IN others | CASE WHEN x.id < lo THEN x.id ELSE lo END) AS childId
}
WITH childId, head(collect(members)) AS members
UNWIND members AS m
MATCH (m)-[:HAD]->(e:Episode)
WHERE e.reportedAt <= $asOf AND """
    + episode_visible("m", "e")
    + """
WITH childId, members, e ORDER BY e.reportedAt, e.id
WITH childId, members, collect(e {.id, .reportedAt}) AS episodes, last(collect(e)) AS latest
WITH childId, episodes,
     coalesce(COLLECT { UNWIND members AS m MATCH (m)-[:LOOKED_AFTER_BY]->(la:LocalAuthority)
                        RETURN la.code ORDER BY m.id }[0],
              [(latest)-[:MISSING_FROM_LOCATION]->(l:Location) | l.laCode][0]) AS ruleLa
WHERE ruleLa IN $ruleAreas
  AND ($areaMode = 'national' OR ($areaMode = 'la' AND ruleLa = $area)
       OR ($areaMode = 'force' AND EXISTS { (:LocalAuthority {code: ruleLa})-[:IN_FORCE]->(:Force {code: $area}) }))
RETURN childId, ruleLa, episodes
"""
)

# The child of each duty item: in full (LinkedChildRef) when the caller may read it, and always in
# summary form. Duty items only come from records the caller may see, so `visible` is in practice
# true; it is still decided here, in the one predicate, rather than assumed.
DUTY_CHILDREN: Final[LiteralString] = (
    """
UNWIND $childIds AS childId
MATCH (c:Child {id: childId})
WITH c, """
    + CHILD_VISIBLE
    + """ AS visible
RETURN c.id AS id,
       c {.id, .pseudonym, .dateOfBirth, .lookedAfter, visible: visible,
          givenName: CASE WHEN visible THEN c.givenName END,
          familyName: CASE WHEN visible THEN c.familyName END,
          sex: CASE WHEN visible THEN c.sex END,
          responsibleAuthority: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0]} AS child,
       """
    + child_summary("c")
    + """ AS summary
"""
)

# --- reconciliation -------------------------------------------------------------------------

# Episodes of the LA's looked-after children in [$from, $to) (by the first date any account gives)
# with every agency record of each, split into police records (agencyId is a force) and the LA's.
RECONCILIATION_EPISODES: Final[LiteralString] = (
    """
MATCH (:LocalAuthority {code: $la})<-[:LOOKED_AFTER_BY]-(c:Child)-[:HAD]->(e:Episode)
WHERE """
    + EPISODE_VISIBLE
    + """
WITH c, e, [(r:EpisodeRecord)-[:RECORD_OF]->(e) |
            r {.id, .agencyId, .sourceSystem, .sourceRef, .startAt, .endAt, .missingType,
               police: EXISTS { (:Force {code: r.agencyId}) }}] AS records
WITH c, e, records,
     coalesce(e.reportedAt, e.lastSeenAt, reduce(m = null, r IN records |
       CASE WHEN m IS NULL OR r.startAt < m THEN r.startAt ELSE m END)) AS at
WHERE at >= $from AND at < $to
RETURN e.id AS episodeId, c.id AS childId, at, EXISTS { (e)-[:REPORTED_TO]->(:Force) } AS reportedToPolice,
       [r IN records WHERE r.police] AS policeRecords,
       [r IN records WHERE r.agencyId = $la] AS laRecords
ORDER BY at, episodeId
"""
)
