"""Cypher for `mpdb db fingerprint` (mpdb/graph/fingerprint.py): every node and relationship, read
once, in no particular order (the fingerprint sorts)."""

from typing import Final, LiteralString

ALL_NODES: Final[LiteralString] = "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"

# A node is named by its label(s) and its key property (id; SchemaMigration: version;
# IdempotencyKey: key; AuditEvent: seq), never by its internal id, which differs between stores.
ALL_RELATIONSHIPS: Final[LiteralString] = """
MATCH (a)-[r]->(b)
RETURN type(r) AS type,
       labels(a) AS startLabels, coalesce(a.id, a.key, toString(a.version), toString(a.seq)) AS startKey,
       labels(b) AS endLabels, coalesce(b.id, b.key, toString(b.version), toString(b.seq)) AS endKey,
       properties(r) AS props
"""
