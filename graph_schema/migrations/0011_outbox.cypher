// The alert outbox (issue 13; graph_schema/MODEL.md "Alerts", mpdb/alerts/).
//
// Every write that can raise an alert appends OutboxEvent nodes in its own transaction, one per
// (alert, recipient agency); the scheduler appends time-based ones (overdue duties). `key` names
// the alert for that recipient, so an alert fires once however often a write or the scheduler is
// retried; `seq` is gap-free and in commit order (taken under the OutboxHead lock), so a process
// that has delivered up to seq N resumes at N + 1 after a restart; `id` is the alert's public id
// (the Standard Webhooks `webhook-id`, the subscription's event id).
CREATE CONSTRAINT outbox_event_key IF NOT EXISTS FOR (n:OutboxEvent) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT outbox_event_seq IF NOT EXISTS FOR (n:OutboxEvent) REQUIRE n.seq IS UNIQUE;
CREATE CONSTRAINT outbox_event_id IF NOT EXISTS FOR (n:OutboxEvent) REQUIRE n.id IS UNIQUE;
// An agency's alerts in order (its live list, replay from an event id).
CREATE INDEX outbox_event_recipient_seq IF NOT EXISTS FOR (n:OutboxEvent) ON (n.recipient, n.seq);
MERGE (h:OutboxHead {id: 'outbox'}) ON CREATE SET h.seq = 0;
