"""Cypher for the offline (neo4j-admin) load path (mpdb/graph/offline_import.py).

The importer cannot write an empty string or an empty list (mpdb/ingest/bulk/csvgraph.py), so
those values arrive as a sentinel and are put back here. Labels, types and property names are
checked against `^[A-Za-z_][A-Za-z0-9_]*$` before they are spliced in (they cannot be parameters).
"""

from typing import Final, LiteralString

# Anything at all besides the schema records: the offline import replaces the whole store.
# Migration 0008 creates the audit shard heads at seq 0; a head that never took an event is a
# schema record too (the migrations run again after the import and recreate it), while any event,
# or a head that has advanced, is an audit trail the import would erase. Hot-spot stamps (migration
# 0009) are versions of buckets, not data: the import's new store gets a new generation. The alert
# outbox (migration 0011): its head is a schema record (a wiped graph keeps it, seq and all, so
# running processes' delivery cursors stay valid), and its events are kept like the audit trail;
# the dispatcher's lease (migration 0012) says which process delivers, not what the graph holds.
STORE_STATE: Final[LiteralString] = """
RETURN EXISTS { MATCH (n) WHERE NOT n:SchemaMigration AND NOT n:HotspotStamp AND NOT (n:AuditHead AND n.seq = 0)
                              AND NOT n:OutboxHead AND NOT n:AlertLease }
         AS hasNodes,
       EXISTS { MATCH (n:AuditEvent) } OR EXISTS { MATCH (h:AuditHead) WHERE h.seq > 0 }
         OR EXISTS { MATCH (:OutboxEvent) } AS hasAudit
"""

FIX_NODE_EMPTIES_TEMPLATE: Final[str] = """
MATCH (n:`{label}`) WHERE n.`{prop}` = $sentinel
CALL (n) {{ SET n.`{prop}` = $value }} IN TRANSACTIONS OF 20000 ROWS
"""

FIX_REL_EMPTIES_TEMPLATE: Final[str] = """
MATCH ()-[r:`{rtype}`]->() WHERE r.`{prop}` = $sentinel
CALL (r) {{ SET r.`{prop}` = $value }} IN TRANSACTIONS OF 20000 ROWS
"""

AWAIT_INDEXES: Final[LiteralString] = "CALL db.awaitIndexes($seconds)"
