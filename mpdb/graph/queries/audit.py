"""Audit trail Cypher. Events are only ever CREATEd: no query in mpdb updates or deletes one
(tests/unit/test_cypher_hygiene.py scans every query constant to keep it so)."""

from typing import Final, LiteralString

# Appending is ONE statement (one round trip instead of two inside the write transaction: every
# audited read pays for it). Setting a property on the head takes its write lock before its seq
# and hash are read, so concurrent appends serialise here and every event gets the next sequence
# number and its predecessor's hash. The hash is mpdb.audit.trail.event_hash computed in place:
# the canonical JSON array is `[seq, <$body>, prevHash]`, where $body is the JSON of the fields
# between seq and prevHash, serialised by Python exactly as event_hash does; seq is an integer
# and prevHash a hex string (or ''), whose JSON forms are toString(seq) and the quoted string.
# apoc.util.sha256 hashes the UTF-8 bytes of that (ASCII-only) text into lowercase hex, as
# hashlib does; the service re-checks the returned hash and fails the transaction on a mismatch.
APPEND_EVENT: Final[LiteralString] = """
MERGE (h:AuditHead {id: 'head'})
  ON CREATE SET h.seq = 0, h.hash = ''
SET h.lockedAt = datetime()
WITH h, h.seq + 1 AS seq, h.hash AS prevHash
WITH h, seq, prevHash,
     apoc.util.sha256(['[' + toString(seq) + ',' + $body + ','
       + CASE WHEN prevHash IS NULL THEN 'null' ELSE '"' + prevHash + '"' END + ']']) AS hash
CREATE (e:AuditEvent)
SET e = $event, e.at = datetime($event.at), e.seq = seq, e.prevHash = prevHash, e.hash = hash
SET h.seq = seq, h.hash = hash
RETURN seq, prevHash, hash
"""

EVENTS_IN_ORDER: Final[LiteralString] = """
MATCH (e:AuditEvent) WHERE e.seq > $afterSeq
RETURN e {.*, at: toString(e.at)} AS event
ORDER BY e.seq
LIMIT $limit
"""

HEAD: Final[LiteralString] = "MATCH (h:AuditHead {id: 'head'}) RETURN h.seq AS seq, h.hash AS hash"

SEARCH_EVENTS: Final[LiteralString] = """
MATCH (e:AuditEvent)
WHERE ($agencyFilter IS NULL OR e.agencyId = $agencyFilter)
  AND ($recordId IS NULL OR $recordId IN e.recordIds)
  AND ($action IS NULL OR e.action = $action)
  AND ($from IS NULL OR e.at >= datetime($from))
  AND ($to IS NULL OR e.at < datetime($to))
  AND ($beforeSeq IS NULL OR e.seq < $beforeSeq)
RETURN e {.*, at: toString(e.at)} AS event
ORDER BY e.seq DESC
LIMIT $limit
"""
