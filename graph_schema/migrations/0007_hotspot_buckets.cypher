// Hot-spot pre-aggregates (issue 10): one HotspotBucket per (kind, cell, laCode, forceCode, day)
// with at least one episode (the spec is in the docstring of mpdb/intel/hotspots.py).
// Written by every transactional write path (mpdb/graph/queries/hotspot_buckets.py) and by the
// bulk importer; `mpdb hotspots rebuild` recomputes them all.
//
// The unique id is what every write MERGEs on (and what makes two concurrent writes of one bucket
// run one after the other).
CREATE CONSTRAINT hotspot_bucket_id IF NOT EXISTS FOR (n:HotspotBucket) REQUIRE n.id IS UNIQUE;
// Each HOTSPOT_CELLS_* read is one seek on an equality prefix and a day range: national on
// (kind, day), a force on (kind, forceCode, day), an LA on (kind, laCode, day), the ring of cells
// around an area on (kind, cell, day). `kind` leads because every query asks for one kind, and a
// range index seeks equality on a leading prefix and a range on the next property.
CREATE INDEX hotspot_bucket_kind_day IF NOT EXISTS FOR (n:HotspotBucket) ON (n.kind, n.day);
CREATE INDEX hotspot_bucket_kind_force_day IF NOT EXISTS FOR (n:HotspotBucket) ON (n.kind, n.forceCode, n.day);
CREATE INDEX hotspot_bucket_kind_la_day IF NOT EXISTS FOR (n:HotspotBucket) ON (n.kind, n.laCode, n.day);
CREATE INDEX hotspot_bucket_kind_cell_day IF NOT EXISTS FOR (n:HotspotBucket) ON (n.kind, n.cell, n.day);
// The rebuild walks every day and removes the buckets of days that no longer have any episode.
CREATE INDEX hotspot_bucket_day IF NOT EXISTS FOR (n:HotspotBucket) ON (n.day);
