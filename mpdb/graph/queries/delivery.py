"""Cypher for alert delivery (migration 0012; mpdb/alerts/): the access re-check at delivery time,
the dispatcher lease, webhooks and their deliveries.

The access re-check uses the same predicates as every scoped read (queries/access.py): an alert is
delivered only when its recipient may read, NOW, the child (in full, or on the locate basis while
the child is missing) and the episode it names. An access change between the write that raised the
alert and its delivery is therefore respected.
"""

from typing import Final, LiteralString

from mpdb.graph.queries.access import CHILD_LOCATABLE, CHILD_VISIBLE, EPISODE_LOCATABLE, EPISODE_VISIBLE

# $events: [{id, childId, episodeId}]; returns the ids the caller ($agencyId, $national, $police)
# may receive now. A named child or episode that no longer exists withholds the alert too.
DELIVERABLE_ALERTS: Final[LiteralString] = (
    """
UNWIND $events AS ev
WITH ev WHERE ev.childId IS NULL OR EXISTS {
  MATCH (c:Child {id: ev.childId}) WHERE """
    + CHILD_VISIBLE
    + " OR "
    + CHILD_LOCATABLE
    + """ }
WITH ev WHERE ev.episodeId IS NULL OR EXISTS {
  MATCH (c:Child)-[:HAD]->(e:Episode {id: ev.episodeId}) WHERE """
    + EPISODE_VISIBLE
    + " OR "
    + EPISODE_LOCATABLE
    + """ }
RETURN ev.id AS id
"""
)

# The newest alerts of a recipient first (the console's first page); `$before`: a seq, exclusive.
RECENT_EVENTS_OF_RECIPIENT: Final[LiteralString] = """
MATCH (o:OutboxEvent) WHERE o.recipient = $recipient AND o.seq < $before
RETURN o {.seq, .id, .key, .kind, .recipient, .reason, .subjectType, .subjectId, .childId, .episodeId,
          .occurredAt, .recordedAt} AS event
ORDER BY o.seq DESC
LIMIT $limit
"""

# --- the dispatcher lease -----------------------------------------------------------------------
# Setting a property first takes the node's write lock, so the holder and expiry read after it are
# the latest committed ones (as APPEND_EVENTS does with the outbox head): two processes asking at
# once queue on the lock and the second sees the first's lease. MERGE recreates the node after a
# wipe; the uniqueness constraint turns a concurrent create into an error the caller treats as "not
# this time".
TAKE_LEASE: Final[LiteralString] = """
MERGE (l:AlertLease {id: $name})
SET l.lockedAt = datetime()
WITH l, l.holder AS previous, l.holder IS NULL OR l.holder = $holder OR l.expiresAt < datetime() AS free
SET l.holder = CASE WHEN free THEN $holder ELSE previous END,
    l.expiresAt = CASE WHEN free THEN datetime() + duration({milliseconds: $ttlMs}) ELSE l.expiresAt END,
    l.since = CASE WHEN free AND coalesce(previous, '') <> $holder THEN datetime() ELSE l.since END
RETURN l.holder = $holder AS held, l.holder AS holder
"""

RELEASE_LEASE: Final[LiteralString] = """
MATCH (l:AlertLease {id: $name}) WHERE l.holder = $holder
SET l.holder = null, l.expiresAt = null
"""

# --- webhooks -----------------------------------------------------------------------------------
_WEBHOOK_FIELDS: Final[LiteralString] = (
    "w {.id, .agency, .url, .description, .createdAt, .createdBy, .secretRotatedAt, .cursor}"
)

# A new webhook starts at the outbox head: it receives alerts raised from now on (older ones with
# replayWebhook). One per (agency, url): registering a URL twice is refused (CONFLICT).
CREATE_WEBHOOK: Final[LiteralString] = (
    """
OPTIONAL MATCH (h:OutboxHead {id: 'outbox'})
OPTIONAL MATCH (same:Webhook {agency: $agency, url: $url})
WITH h, same WHERE same IS NULL
CREATE (w:Webhook {id: $id, agency: $agency, agencyKind: $agencyKind, role: $role, url: $url,
                   description: $description, secret: $secret, previousSecret: null,
                   previousSecretUntil: null, createdAt: datetime(), createdBy: $subject,
                   secretRotatedAt: datetime(), cursor: coalesce(h.seq, 0)})
RETURN """
    + _WEBHOOK_FIELDS
    + " AS webhook"
)

# Rotation keeps the previous secret valid for $graceSeconds (both signatures are sent meanwhile,
# as the Standard Webhooks spec allows), so a receiver can switch without losing alerts.
ROTATE_WEBHOOK_SECRET: Final[LiteralString] = (
    """
MATCH (w:Webhook {id: $id, agency: $agency})
SET w.previousSecret = w.secret, w.previousSecretUntil = datetime() + duration({seconds: $graceSeconds}),
    w.secret = $secret, w.secretRotatedAt = datetime()
RETURN """
    + _WEBHOOK_FIELDS
    + " AS webhook"
)

DELETE_WEBHOOK: Final[LiteralString] = """
MATCH (w:Webhook {id: $id, agency: $agency})
OPTIONAL MATCH (d:WebhookDelivery {webhookId: w.id})
WITH w, collect(d) AS deliveries
FOREACH (d IN deliveries | DELETE d)
DETACH DELETE w
RETURN $id AS id
"""

WEBHOOKS_OF_AGENCY: Final[LiteralString] = (
    """
MATCH (w:Webhook {agency: $agency})
RETURN """
    + _WEBHOOK_FIELDS
    + """ AS webhook
ORDER BY w.createdAt, w.id
"""
)

WEBHOOK_OF_AGENCY: Final[LiteralString] = (
    """
MATCH (w:Webhook {id: $id, agency: $agency})
RETURN """
    + _WEBHOOK_FIELDS
    + " AS webhook"
)

_DELIVERY_FIELDS: Final[LiteralString] = (
    "d {.id, .webhookId, .eventId, .seq, .status, .attempts, .nextAttemptAt, .lastAttemptAt, .lastStatus,"
    " .lastError, .deliveredAt}"
)

DEAD_LETTERS: Final[LiteralString] = (
    """
UNWIND $webhookIds AS webhookId
MATCH (d:WebhookDelivery {webhookId: webhookId}) WHERE d.status = 'dead'
WITH d ORDER BY d.seq DESC
RETURN """
    + _DELIVERY_FIELDS
    + """ AS delivery
LIMIT $limit
"""
)

# Replay from an alert: every delivery of the webhook from that alert's seq on goes back to pending
# (a fresh set of attempts: dead letters included), and the cursor goes back so alerts never queued
# for it (raised before it was registered) are queued now. Locks the webhook first, like QUEUE_DUE.
REPLAY_WEBHOOK: Final[LiteralString] = """
MATCH (w:Webhook {id: $id, agency: $agency})
SET w.lockedAt = datetime()
WITH w
CALL (w) {
  MATCH (d:WebhookDelivery {webhookId: w.id}) WHERE d.seq >= $fromSeq
  SET d.status = 'pending', d.attempts = 0, d.nextAttemptAt = datetime(), d.replayedAt = datetime()
  RETURN count(d) AS requeued
}
SET w.cursor = CASE WHEN w.cursor < $fromSeq - 1 THEN w.cursor ELSE $fromSeq - 1 END
RETURN requeued
"""

# The dispatcher: queue each webhook's new alerts (one delivery per alert, MERGE: at most once).
QUEUE_NEW_ALERTS: Final[LiteralString] = """
MATCH (w:Webhook)
SET w.lockedAt = datetime()
WITH w
CALL (w) {
  MATCH (o:OutboxEvent) WHERE o.recipient = w.agency AND o.seq > w.cursor
  WITH o ORDER BY o.seq LIMIT $limit
  MERGE (d:WebhookDelivery {id: w.id + '|' + o.id})
    ON CREATE SET d.webhookId = w.id, d.eventId = o.id, d.seq = o.seq, d.status = 'pending', d.attempts = 0,
                  d.nextAttemptAt = datetime(), d.createdAt = datetime()
  RETURN max(o.seq) AS top, count(o) AS queued
}
WITH w, top, queued WHERE top IS NOT NULL
SET w.cursor = top
RETURN sum(queued) AS queued
"""

DUE_DELIVERIES: Final[LiteralString] = (
    """
MATCH (d:WebhookDelivery) WHERE d.status = 'pending' AND d.nextAttemptAt <= datetime($now)
WITH d ORDER BY d.nextAttemptAt, d.seq LIMIT $limit
MATCH (w:Webhook {id: d.webhookId})
MATCH (o:OutboxEvent {id: d.eventId})
RETURN """
    + _DELIVERY_FIELDS
    + """ AS delivery,
       w {.id, .agency, .agencyKind, .role, .url, .secret, .previousSecret, .previousSecretUntil, .createdBy}
         AS webhook,
       o {.seq, .id, .key, .kind, .recipient, .reason, .subjectType, .subjectId, .childId, .episodeId,
          .occurredAt, .recordedAt} AS event
ORDER BY d.seq
"""
)

# One row per attempt's outcome. Only a delivery still pending at the attempt number it was sent
# with is updated: a replay or a delete in the meantime wins.
RECORD_ATTEMPTS: Final[LiteralString] = """
UNWIND $outcomes AS r
MATCH (d:WebhookDelivery {id: r.id}) WHERE d.status = 'pending' AND d.attempts = r.attemptsBefore
SET d.status = r.status, d.attempts = r.attempts, d.lastAttemptAt = datetime(r.at),
    d.lastStatus = r.httpStatus, d.lastError = r.error,
    d.nextAttemptAt = CASE WHEN r.next IS NULL THEN d.nextAttemptAt ELSE datetime(r.next) END,
    d.deliveredAt = CASE WHEN r.status = 'delivered' THEN datetime(r.at) ELSE d.deliveredAt END
RETURN count(d) AS recorded
"""

DELIVERY_STATUS_COUNTS: Final[LiteralString] = """
MATCH (d:WebhookDelivery {webhookId: $id})
RETURN d.status AS status, count(*) AS n
"""
