"""Audit trail Cypher. Events are only ever CREATEd: no query in mpdb updates or deletes one
(tests/unit/test_cypher_hygiene.py scans every query constant to keep it so).

The trail is AUDIT_SHARDS hash chains (mpdb/audit/trail.py), each with its own head created by
migration 0008, plus the original single chain (head `{id: 'head'}`, events without a `shard`),
frozen by that migration and verified as it was written.
"""

from typing import Final, LiteralString

# Appending: every transaction runs exactly one of the two statements below, one round trip and
# one head lock. Setting a property on the shard's head takes its write lock before its seq and
# hash are read, so appends to the SAME shard serialise there and each event gets the next
# sequence number and its predecessor's hash; appends to other shards do not wait. The head is
# MATCHed, never MERGEd: heads are made by the migration, and a missing head is tampering, so the
# append (and with it the read it records) fails instead of silently starting a new chain.

# Consultations (the group commit, which every audited read waits for): the events arrive already
# linked. The service computed their seq, prevHash and hash (mpdb.audit.trail.event_hash, hashlib)
# after the head it EXPECTS (`$afterSeq`, `$afterHash`: where this process left that shard), and
# they are created, and the head moved to their end, only when the locked head is exactly that
# (`linked`). Otherwise nothing is written and the head as it is comes back (the service then
# appends with APPEND_EVENTS). Correctness rests on that check under the lock, never on what the
# process remembered. Hashing in Python keeps Neo4j's work per event to creating its node
# (bench/audit_cost.py: ~0.2 ms less Neo4j CPU per event than hashing in Cypher).
APPEND_LINKED_EVENTS: Final[LiteralString] = """
MATCH (h:AuditHead {id: $headId})
SET h.lockedAt = datetime()
WITH h, h.seq AS seq, h.hash AS hash
WITH h, seq, hash, seq = $afterSeq AND hash = $afterHash AS linked
FOREACH (event IN CASE WHEN linked THEN $events ELSE [] END | CREATE (e:AuditEvent) SET e = event)
FOREACH (_ IN CASE WHEN linked THEN [1] ELSE [] END | SET h.seq = $lastSeq, h.hash = $lastHash)
RETURN linked, seq, hash
"""

# Any append whose head the process does not know (a write's events, inside its own transaction;
# a consultation after another process moved the head): the chain is built from the locked head
# in the statement. `$events` is a list of {event, body}; the chain of (seq, prevHash, hash) is
# built in order by the reduce, each link hashing its predecessor's hash.
# The hash is mpdb.audit.trail.event_hash computed in place: the canonical JSON array is
# `[shard, seq, <body>, prevHash]`, where body is the JSON of the fields between seq and
# prevHash, serialised by Python exactly as event_hash does; shard and seq are integers and
# prevHash a hex string, whose JSON forms are toString(n) and the quoted string. apoc.util.sha256
# hashes the UTF-8 bytes of that (ASCII-only) text into lowercase hex, as hashlib does; the
# service re-checks every returned hash and fails the transaction on a mismatch.
APPEND_EVENTS: Final[LiteralString] = """
MATCH (h:AuditHead {id: $headId})
SET h.lockedAt = datetime()
WITH h, reduce(chain = [], i IN range(0, size($events) - 1) |
       chain + [{seq: h.seq + i + 1,
                 prevHash: CASE i WHEN 0 THEN h.hash ELSE chain[i - 1].hash END,
                 hash: apoc.util.sha256(['[' + toString(h.shard) + ',' + toString(h.seq + i + 1) + ','
                   + $events[i].body + ',"' + CASE i WHEN 0 THEN h.hash ELSE chain[i - 1].hash END + '"]'])}]
     ) AS chain
UNWIND range(0, size(chain) - 1) AS i
CREATE (e:AuditEvent)
SET e = $events[i].event, e.at = datetime($events[i].event.at), e.shard = h.shard,
    e.seq = chain[i].seq, e.prevHash = chain[i].prevHash, e.hash = chain[i].hash
WITH h, chain, count(e) AS written
SET h.seq = chain[size(chain) - 1].seq, h.hash = chain[size(chain) - 1].hash
RETURN h.shard AS shard, [link IN chain | link {.seq, .prevHash, .hash}] AS chain
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
