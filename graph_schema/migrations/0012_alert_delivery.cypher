// Alert delivery (issue 13; docs/ALERTS.md "Delivery", mpdb/alerts/).
//
// Webhook: an agency's registered receiver (its URL, the signing secret, and `cursor`: the outbox
// seq up to which its deliveries have been queued). WebhookDelivery: one per (webhook, alert),
// `id` = webhook id + '|' + alert id, so queueing twice queues once; its status (pending,
// delivered, withheld, dead), attempts and the persisted next-attempt time survive restarts.
// AlertLease: the one dispatcher of the cluster (webhooks, overdue alerts) holds it until it
// expires; another process takes it over when the holder stops renewing.
CREATE CONSTRAINT webhook_id IF NOT EXISTS FOR (n:Webhook) REQUIRE n.id IS UNIQUE;
CREATE INDEX webhook_agency IF NOT EXISTS FOR (n:Webhook) ON (n.agency);
CREATE CONSTRAINT webhook_delivery_id IF NOT EXISTS FOR (n:WebhookDelivery) REQUIRE n.id IS UNIQUE;
// The dispatcher's due list and an agency's dead letters.
CREATE INDEX webhook_delivery_due IF NOT EXISTS FOR (n:WebhookDelivery) ON (n.status, n.nextAttemptAt);
CREATE INDEX webhook_delivery_webhook IF NOT EXISTS FOR (n:WebhookDelivery) ON (n.webhookId, n.seq);
CREATE CONSTRAINT alert_lease_id IF NOT EXISTS FOR (n:AlertLease) REQUIRE n.id IS UNIQUE;
MERGE (:AlertLease {id: 'dispatcher'});
