"""Audit trail Cypher. Events are only ever CREATEd: no query in mpdb updates or deletes one
(tests/unit/test_cypher_hygiene.py scans every query constant to keep it so)."""

from typing import Final, LiteralString

# Setting a property on the head takes its write lock, so concurrent appends serialise here and
# every event gets the next sequence number and its predecessor's hash.
LOCK_HEAD: Final[LiteralString] = """
MERGE (h:AuditHead {id: 'head'})
  ON CREATE SET h.seq = 0, h.hash = ''
SET h.lockedAt = datetime()
RETURN h.seq AS seq, h.hash AS hash
"""

APPEND_EVENT: Final[LiteralString] = """
MATCH (h:AuditHead {id: 'head'})
CREATE (e:AuditEvent)
SET e = $event, e.at = datetime($event.at)
SET h.seq = $event.seq, h.hash = $event.hash
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
