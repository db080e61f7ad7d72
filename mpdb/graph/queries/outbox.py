"""Cypher for the alert outbox (migration 0011; mpdb/alerts/events.py).

APPEND_EVENTS runs inside the transaction of the write that raises the alerts, so an alert exists
exactly when its change committed. It merges the head if it is missing (migration 0011 makes it; a
store wiped by hand may not have it): never an append that silently writes nothing. It locks the OutboxHead first (setting a property takes the
node's write lock before `h.seq` is read), skips events whose key is already in the outbox (an
alert fires once per key: a retried write or a second scheduler pass appends nothing), and numbers
the rest from the head, so seqs are gap-free and in commit order: a transaction holding the lock
commits before the next one can read the head.
"""

from typing import Final, LiteralString

APPEND_EVENTS: Final[LiteralString] = """
MERGE (h:OutboxHead {id: 'outbox'}) ON CREATE SET h.seq = 0
SET h.lockedAt = datetime()
WITH h
UNWIND $events AS ev
OPTIONAL MATCH (old:OutboxEvent {key: ev.key})
WITH h, ev WHERE old IS NULL
WITH h, collect(ev) AS fresh
WITH h, fresh, h.seq AS base
SET h.seq = base + size(fresh)
WITH fresh, base
UNWIND range(0, size(fresh) - 1) AS i
WITH fresh[i] AS ev, base + i + 1 AS seq
CREATE (o:OutboxEvent {
  seq: seq, id: ev.id, key: ev.key, kind: ev.kind, recipient: ev.recipient, reason: ev.reason,
  subjectType: ev.subjectType, subjectId: ev.subjectId, childId: ev.childId, episodeId: ev.episodeId,
  occurredAt: datetime(ev.occurredAt), recordedAt: datetime()
})
RETURN o.seq AS seq, o.key AS key
ORDER BY seq
"""

EVENTS_AFTER: Final[LiteralString] = """
MATCH (o:OutboxEvent) WHERE o.seq > $after
RETURN o {.seq, .id, .key, .kind, .recipient, .reason, .subjectType, .subjectId, .childId, .episodeId,
          .occurredAt, .recordedAt} AS event
ORDER BY o.seq
LIMIT $limit
"""

EVENTS_OF_RECIPIENT_AFTER: Final[LiteralString] = """
MATCH (o:OutboxEvent) WHERE o.recipient = $recipient AND o.seq > $after
RETURN o {.seq, .id, .key, .kind, .recipient, .reason, .subjectType, .subjectId, .childId, .episodeId,
          .occurredAt, .recordedAt} AS event
ORDER BY o.seq
LIMIT $limit
"""

EVENT_BY_ID: Final[LiteralString] = """
MATCH (o:OutboxEvent {id: $id})
RETURN o {.seq, .id, .key, .kind, .recipient, .reason, .subjectType, .subjectId, .childId, .episodeId,
          .occurredAt, .recordedAt} AS event
"""

HEAD_SEQ: Final[LiteralString] = "MATCH (h:OutboxHead {id: 'outbox'}) RETURN h.seq AS seq"
