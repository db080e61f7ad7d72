// Versions of the hot-spot pre-aggregates (issue 10, round 2), so an API process may keep a folded
// step 1 in memory and still answer exactly what the buckets hold now (mpdb/intel/hotspot_cache.py).
// One HotspotStamp per (kind, forceCode, UTC month) of buckets: every transaction that refreshes a
// bucket sets its stamp's `version` to a new random value, in the same transaction (so two writes
// of one force and month queue on the stamp, not the whole country). The stamp
// {id: 'generation'} stands for the store as a whole: `mpdb hotspots rebuild`, a reset and an
// offline import (which runs the migrations on its new store) give it a new version. A process
// caches nothing while it is missing.
CREATE CONSTRAINT hotspot_stamp_id IF NOT EXISTS FOR (n:HotspotStamp) REQUIRE n.id IS UNIQUE;
// The validation read: one kind's stamps over the window's months.
CREATE INDEX hotspot_stamp_kind_month IF NOT EXISTS FOR (n:HotspotStamp) ON (n.kind, n.month);
MERGE (g:HotspotStamp {id: 'generation'}) ON CREATE SET g.version = randomUUID();
