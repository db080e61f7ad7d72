"""Cypher that keeps the hot-spot pre-aggregates (`HotspotBucket`, see mpdb/intel/hotspots.py) exact.

A bucket holds, for one (kind, cell, laCode, forceCode, UTC day), the sorted distinct ids of the
children who had an episode with a place of that kind in that cell/LA/force on that day, the number
of those episodes, and the sorted ids of the ones with more than one place of that kind. "A place of
that kind" is exactly the episode->location paths of HOTSPOT_CELLS_* in intel_areas.py.

Every write path maintains buckets the same way, inside its own transaction:
1. `BUCKET_KEYS_OF_EPISODES` before the write (only where a write can remove or move a place, change
   a report time or re-parent an episode: the importer) and after it: the keys the changed episodes
   fall in, before and after;
2. `REFRESH_BUCKETS` with the union: it LOCKS every bucket of those keys first (MERGE on the unique
   id, one order), then recomputes each key from the graph, writing the bucket or deleting it when
   empty. The lock comes before the read, so two concurrent writes about one bucket run one after
   the other and the second recounts what the first committed (no lost update).

Recomputing from the location side reads one cell's places of one kind, whatever the number of
days asked for that (kind, cell, LA, force): a batch asking many days of a busy children's home reads
its episodes once.

`REBUILD_DAYS` recomputes every bucket of a day range from the episodes (the reportedAt index),
writes them and deletes the range's buckets that no longer have an episode (`mpdb hotspots rebuild`).
A location without a `cell` is in no bucket: the hot-spot queries never counted it either.

Versions (migration 0009): every bucket write also gives the `HotspotStamp` of its (kind,
forceCode, UTC month) a new random version in the same transaction, and a rebuild or a reset gives
the `generation` stamp one, so a process that cached a folded step 1 can tell, with one small read,
whether the buckets under it are still the ones it folded (mpdb/intel/hotspot_cache.py).
"""

from typing import Final, LiteralString

# The UTC calendar day of a report: `date(e.reportedAt)` would take the day in the value's own
# offset, and reports may be stored with a UK offset.
_UTC_DAY: Final[LiteralString] = "date(datetime({epochMillis: e.reportedAt.epochMillis}))"

_MULTI: Final[LiteralString] = """CASE kind
         WHEN 'missing_from' THEN COUNT { (e)-[:MISSING_FROM_LOCATION|MISSING_FROM]->() }
         WHEN 'last_seen' THEN COUNT { (e)-[:LAST_SEEN_AT]->() }
         WHEN 'went_to' THEN COUNT { (e)-[:WENT_TO]->() }
         ELSE COUNT { (e)-[:FOUND_AT]->() } END > 1"""

_BUCKET_ID: Final[LiteralString] = "kind + '|' + cell + '|' + laCode + '|' + forceCode + '|' + toString(day)"

# Episode -> (kind, location), every kind; UNION: a MISSING_FROM_LOCATION and a MISSING_FROM
# placement at the same location are one place, as in intel_areas._e_to_l_missing_from.
_E_TO_PLACES: Final[LiteralString] = """
CALL (e) {
  MATCH (e)-[:MISSING_FROM_LOCATION]->(l:Location) RETURN 'missing_from' AS kind, l
  UNION
  MATCH (e)-[:MISSING_FROM]->(:Placement)-[:AT_LOCATION]->(l:Location) RETURN 'missing_from' AS kind, l
  UNION
  MATCH (e)-[:LAST_SEEN_AT]->(l:Location) RETURN 'last_seen' AS kind, l
  UNION
  MATCH (e)-[:WENT_TO]->(l:Location) RETURN 'went_to' AS kind, l
  UNION
  MATCH (e)-[:FOUND_AT]->(l:Location) RETURN 'found_at' AS kind, l
}
"""

BUCKET_KEYS_OF_EPISODES: Final[LiteralString] = (
    """
UNWIND $episodeIds AS episodeId
MATCH (e:Episode {id: episodeId}) WHERE e.reportedAt IS NOT NULL
"""
    + _E_TO_PLACES
    + """
WITH kind, l, e WHERE l.cell IS NOT NULL
RETURN DISTINCT kind, l.cell AS cell, coalesce(l.laCode, '') AS laCode, coalesce(l.forceCode, '') AS forceCode,
       """
    + _UTC_DAY
    + """ AS day
"""
)

# The episodes that reach a location through a placement: moving a placement moves them.
EPISODES_OF_PLACEMENTS: Final[LiteralString] = """
UNWIND $placementIds AS placementId
MATCH (:Placement {id: placementId})<-[:MISSING_FROM]-(e:Episode)
RETURN DISTINCT e.id AS id
"""

# $stamps: [{id, kind, forceCode, month}], sorted; $groups: [{kind, cell, laCode, forceCode, days: [date, ...]}],
# sorted. The lock order: every stamp, then every bucket, each in id order, so two writes cannot
# lock crosswise. Each stamp of the groups' (kind, forceCode, month) gets a new version
# (mpdb/intel/hotspot_cache.py), even when the recount ends up unchanged: a version names a state
# of the buckets, so a new one can only cost a cache miss, never serve a stale answer.
REFRESH_BUCKETS: Final[LiteralString] = (
    """
CALL () {
  UNWIND $stamps AS st
  MERGE (s:HotspotStamp {id: st.id})
  SET s.kind = st.kind, s.forceCode = st.forceCode, s.month = st.month, s.version = randomUUID()
}
UNWIND $groups AS g
CALL (g) {
  UNWIND g.days AS d
  MERGE (b:HotspotBucket {id: g.kind + '|' + g.cell + '|' + g.laCode + '|' + g.forceCode + '|' + toString(d)})
  SET b._lock = true
  REMOVE b._lock
}
WITH collect(g) AS groups
UNWIND groups AS g
CALL (g) {
  MATCH (l:Location {cell: g.cell})
  WHERE coalesce(l.laCode, '') = g.laCode AND coalesce(l.forceCode, '') = g.forceCode
  CALL (g, l) {
    WITH g, l WHERE g.kind = 'missing_from'
    MATCH (l)<-[:MISSING_FROM_LOCATION]-(e:Episode) RETURN e
    UNION
    WITH g, l WHERE g.kind = 'missing_from'
    MATCH (l)<-[:AT_LOCATION]-(:Placement)<-[:MISSING_FROM]-(e:Episode) RETURN e
    UNION
    WITH g, l WHERE g.kind = 'last_seen'
    MATCH (l)<-[:LAST_SEEN_AT]-(e:Episode) RETURN e
    UNION
    WITH g, l WHERE g.kind = 'went_to'
    MATCH (l)<-[:WENT_TO]-(e:Episode) RETURN e
    UNION
    WITH g, l WHERE g.kind = 'found_at'
    MATCH (l)<-[:FOUND_AT]-(e:Episode) RETURN e
  }
  WITH DISTINCT g, e WHERE e.reportedAt IS NOT NULL
  WITH g, e, """
    + _UTC_DAY
    + """ AS day
  WHERE day IN g.days
  MATCH (c:Child)-[:HAD]->(e)
  WITH g.kind AS kind, day, e, c.id AS child
  WITH day, e, child, """
    + _MULTI
    + """ AS multi
  WITH day, apoc.coll.sort(collect(DISTINCT child)) AS children, count(DISTINCT e) AS episodes,
       apoc.coll.sort(collect(DISTINCT CASE WHEN multi THEN e.id END)) AS multi
  RETURN collect({day: day, children: children, episodes: episodes, multi: multi}) AS found
}
CALL (g, found) {
  UNWIND found AS f
  MATCH (b:HotspotBucket {id: g.kind + '|' + g.cell + '|' + g.laCode + '|' + g.forceCode + '|' + toString(f.day)})
  SET b.kind = g.kind, b.cell = g.cell, b.laCode = g.laCode, b.forceCode = g.forceCode, b.day = f.day,
      b.children = f.children, b.episodes = f.episodes, b.multi = f.multi
}
CALL (g, found) {
  WITH g, [f IN found | f.day] AS foundDays
  UNWIND [d IN g.days WHERE NOT d IN foundDays] AS d
  MATCH (b:HotspotBucket {id: g.kind + '|' + g.cell + '|' + g.laCode + '|' + g.forceCode + '|' + toString(d)})
  DELETE b
}
RETURN sum(size(found)) AS written, sum(size(g.days) - size(found)) AS deleted
"""
)

# Every bucket of the days [$fromDay, $toDay), from the episodes reported then.
REBUILD_DAYS: Final[LiteralString] = (
    """
MATCH (e:Episode) WHERE e.reportedAt >= $from AND e.reportedAt < $to
"""
    + _E_TO_PLACES
    + """
WITH kind, l, e WHERE l.cell IS NOT NULL
MATCH (c:Child)-[:HAD]->(e)
WITH kind, l.cell AS cell, coalesce(l.laCode, '') AS laCode, coalesce(l.forceCode, '') AS forceCode,
     """
    + _UTC_DAY
    + """ AS day, e, c.id AS child
WITH kind, cell, laCode, forceCode, day, e, child, """
    + _MULTI
    + """ AS multi
WITH kind, cell, laCode, forceCode, day,
     apoc.coll.sort(collect(DISTINCT child)) AS children, count(DISTINCT e) AS episodes,
     apoc.coll.sort(collect(DISTINCT CASE WHEN multi THEN e.id END)) AS multi
WITH collect({id: """
    + _BUCKET_ID
    + """, props: {kind: kind, cell: cell, laCode: laCode, forceCode: forceCode, day: day,
                     children: children, episodes: episodes, multi: multi}}) AS rows
CALL (rows) {
  UNWIND rows AS r
  MERGE (b:HotspotBucket {id: r.id})
  SET b += r.props
}
WITH rows, apoc.map.fromPairs([r IN rows | [r.id, true]]) AS seen
CALL (seen) {
  MATCH (b:HotspotBucket) WHERE b.day >= $fromDay AND b.day < $toDay AND seen[b.id] IS NULL
  DELETE b
  RETURN count(*) AS deleted
}
RETURN size(rows) AS written, deleted
"""
)

# The days to rebuild, and the buckets outside them (days no episode is reported on any more).
EPISODE_DAY_RANGE: Final[LiteralString] = """
CALL () { MATCH (e:Episode) WHERE e.reportedAt IS NOT NULL RETURN e.reportedAt AS first ORDER BY first LIMIT 1 }
CALL () { MATCH (e:Episode) WHERE e.reportedAt IS NOT NULL RETURN e.reportedAt AS last ORDER BY last DESC LIMIT 1 }
RETURN date(datetime({epochMillis: first.epochMillis})) AS first,
       date(datetime({epochMillis: last.epochMillis})) AS last
"""

DELETE_BUCKETS_OUTSIDE: Final[LiteralString] = """
MATCH (b:HotspotBucket) WHERE b.day IS NULL OR NOT (b.day >= $fromDay AND b.day < $toDay)
DELETE b
RETURN count(*) AS deleted
"""

# Every bucket, for tests and checks (what a rebuild must reproduce), a page at a time in id order
# (the unique index), so no single read runs long on a large graph.
BUCKETS_PAGE: Final[LiteralString] = """
MATCH (b:HotspotBucket) WHERE b.id > $after
RETURN b {.*} AS bucket ORDER BY b.id LIMIT $limit
"""

# --- versions (migration 0009, mpdb/intel/hotspot_cache.py) ------------------------------------

# A new version of the whole store's buckets: after a rebuild or a reset, and so for everything a
# process may have cached from before.
NEW_GENERATION: Final[LiteralString] = """
MERGE (g:HotspotStamp {id: 'generation'})
SET g.version = randomUUID()
"""

# What a cached step 1 of one kind over the months [$fromMonth, $toMonth] was computed from: the
# generation (null: nothing may be cached) and every (forceCode, month) stamp of the kind, sorted.
# Read in its own transaction BEFORE the buckets (Neo4j reads committed data statement by
# statement): a write that lands in between makes the cached entry look older than it is, so it
# is recomputed once more, never served stale.
BUCKET_VERSIONS: Final[LiteralString] = """
OPTIONAL MATCH (g:HotspotStamp {id: 'generation'})
CALL (g) {
  MATCH (s:HotspotStamp) WHERE s.kind = $kind AND s.month >= $fromMonth AND s.month <= $toMonth
  WITH s ORDER BY s.id
  RETURN collect(s.id + '=' + s.version) AS stamps
}
RETURN g.version AS generation, stamps
"""
