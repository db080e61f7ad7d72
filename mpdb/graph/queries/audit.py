"""Audit trail Cypher. Events are only ever CREATEd: no query in mpdb updates or deletes one
(tests/unit/test_cypher_hygiene.py scans every query constant to keep it so).

The trail is AUDIT_SHARDS hash chains (mpdb/audit/trail.py), each with its own head created by
migration 0008, plus the original single chain (head `{id: 'head'}`, events without a `shard`),
frozen by that migration and verified as it was written.
"""

from typing import Final, LiteralString

# Appending is ONE statement for any number of events (one round trip inside the write
# transaction: every audited read pays for it). Setting a property on the shard's head takes its
# write lock before its seq and hash are read, so appends to the SAME shard serialise here; appends
# to other shards do not wait. The events arrive already linked: the service computed their seq,
# prevHash and hash (mpdb.audit.trail.event_hash) from the head it EXPECTS (`$afterSeq`,
# `$afterHash`: what this process last wrote there), and they are created, and the head moved to
# their end, only when the locked head is exactly that (`linked`). Otherwise nothing is written
# and the head as it is comes back, so the service re-links the events after it and appends again
# in the same transaction, where the lock it now holds keeps the head from moving. Correctness
# rests on that check under the lock, never on what the process remembered. Hashing in Python
# (hashlib, one pass) instead of in Cypher is what keeps the Neo4j CPU per event low: an event is
# now a node with its properties, nothing else. The head is MATCHed, never MERGEd: heads are made
# by the migration, and a missing head is tampering, so the append (and with it the read it
# records) fails instead of silently starting a new chain.
APPEND_LINKED_EVENTS: Final[LiteralString] = """
MATCH (h:AuditHead {id: $headId})
SET h.lockedAt = datetime()
WITH h, h.seq AS seq, h.hash AS hash
WITH h, seq, hash, seq = $afterSeq AND hash = $afterHash AS linked
FOREACH (event IN CASE WHEN linked THEN $events ELSE [] END | CREATE (e:AuditEvent) SET e = event)
FOREACH (_ IN CASE WHEN linked THEN [1] ELSE [] END | SET h.seq = $lastSeq, h.hash = $lastHash)
RETURN linked, seq, hash
"""

HEADS: Final[LiteralString] = """
MATCH (h:AuditHead)
RETURN h.id AS id, h.shard AS shard, h.seq AS seq, h.hash AS hash
"""

# One chain's events in order, up to what its head said when verification began (events appended
# while verifying are left for the next run). The composite (shard, seq) constraint's index
# serves the shard chains; the original chain (shard IS NULL) uses the range index on seq.
SHARD_EVENTS_IN_ORDER: Final[LiteralString] = """
MATCH (e:AuditEvent) WHERE e.shard = $shard AND e.seq > $afterSeq AND e.seq <= $upToSeq
RETURN e {.*, at: toString(e.at)} AS event
ORDER BY e.seq
LIMIT $limit
"""

LEGACY_EVENTS_IN_ORDER: Final[LiteralString] = """
MATCH (e:AuditEvent) WHERE e.seq > $afterSeq AND e.shard IS NULL
RETURN e {.*, at: toString(e.at)} AS event
ORDER BY e.seq
LIMIT $limit
"""

# Events no chain accounts for: in a shard that does not exist, or past their shard's head.
STRAY_EVENTS: Final[LiteralString] = """
MATCH (e:AuditEvent) WHERE e.shard IS NOT NULL
OPTIONAL MATCH (h:AuditHead {id: 'shard-' + toString(e.shard)})
WITH e, h WHERE h IS NULL OR e.seq > h.seq
RETURN e.shard AS shard, e.seq AS seq, h IS NULL AS noHead
ORDER BY shard, seq
LIMIT 1
"""

# Newest first in the one global order every chain shares: (at, id). `at` is taken when the
# event is written and covered by its hash; `id` (a UUID) breaks ties. The cursor is the last
# (at, id) seen, so a page never shifts when events are appended meanwhile. `e.at <= $upTo`
# (the cursor's time, or the end of time) lets the planner read the `at` index in order.
SEARCH_EVENTS: Final[LiteralString] = """
MATCH (e:AuditEvent)
WHERE e.at <= datetime($upTo)
  AND ($agencyFilter IS NULL OR e.agencyId = $agencyFilter)
  AND ($recordId IS NULL OR $recordId IN e.recordIds)
  AND ($action IS NULL OR e.action = $action)
  AND ($from IS NULL OR e.at >= datetime($from))
  AND ($to IS NULL OR e.at < datetime($to))
  AND ($beforeId IS NULL OR e.at < datetime($upTo) OR e.id < $beforeId)
RETURN e {.*, at: toString(e.at)} AS event
ORDER BY e.at DESC, e.id DESC
LIMIT $limit
"""
