// The audit trail becomes 64 hash chains (shards), each with its own head, so concurrent audited
// reads no longer queue on one head (mpdb/audit/trail.py). The original single chain (head
// {id: 'head'}, events without a `shard` property) is kept exactly as written and frozen: nothing
// appends to it after this migration, and `mpdb audit verify` still checks it first.
// Every shard starts from the original chain's last hash (or '' on an empty trail), which binds
// the old chain to the new ones: removing the old chain's tail AND its head is still detected.
// Stop every API process of the previous version before applying this: they would keep
// appending to the original chain.
// Sequence numbers are now per shard: unique per (shard, seq). The original chain's events have
// no shard, so the composite constraint does not cover them; a plain range index keeps them
// readable in order.
DROP CONSTRAINT audit_event_seq IF EXISTS;
CREATE CONSTRAINT audit_event_shard_seq IF NOT EXISTS FOR (n:AuditEvent) REQUIRE (n.shard, n.seq) IS UNIQUE;
CREATE INDEX audit_event_seq IF NOT EXISTS FOR (n:AuditEvent) ON (n.seq);
OPTIONAL MATCH (legacy:AuditHead {id: 'head'})
WITH coalesce(legacy.hash, '') AS genesis
UNWIND range(0, 63) AS shard
MERGE (h:AuditHead {id: 'shard-' + toString(shard)})
  ON CREATE SET h.shard = shard, h.seq = 0, h.hash = genesis;
