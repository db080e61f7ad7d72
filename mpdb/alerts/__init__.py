"""Push alerts (issue 13): the outbox every write path appends to, the alert kinds and who
receives them, the scheduler for time-based alerts, and delivery (subscriptions, webhooks)."""
