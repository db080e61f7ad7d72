"""Cypher for reviewing possible duplicates and for identities (graph_schema/MODEL.md, "Identities").

A candidate pair is `(low:Child)-[:POSSIBLY_SAME_AS {id, status, ...}]->(high:Child)` (written by
`mpdb resolve` and at entry, mpdb/graph/queries/resolution.py); a confirmed pair also has
`(low)-[:SAME_AS {candidateId, ...}]->(high)`. An identity is the component over SAME_AS.

Disclosure (docs/ACCESS.md, "Possible duplicates"): a pair is listed to a caller who may read at
least one of its records (the national unit: all); each side comes back in full only when the
caller may read it (`lowVisible`/`highVisible`), else in summary form; the service drops reasons
and the decision note unless both sides are readable. Every statement takes `$agencyId`/`$national`.
"""

from typing import Final, LiteralString

from mpdb.graph.queries.intel_links import child_visible
from mpdb.graph.queries.records import CHILD_PROJECTION
from mpdb.graph.queries.summary import child_summary


def _side(var: LiteralString) -> LiteralString:
    """One side of a pair: the full record (CHILD_PROJECTION) only when visible, always the summary."""
    return (
        "{visible: " + var + "Visible, child: CASE WHEN " + var + "Visible THEN "
        + CHILD_PROJECTION.replace("c {", var + " {").replace("(c)", "(" + var + ")")
        + " END, summary: " + child_summary(var) + ", id: " + var + ".id}"
    )


_PAIR: Final[LiteralString] = (
    "r {.id, .status, .matchProbability, .matchWeight, .modelVersion, .reasons, .proposedAt, .proposedBy,"
    " .decidedAt, .decidedBy, .decidedByAgency, .decisionNote}"
)

_PAGE_TAIL: Final[LiteralString] = (
    """
WITH low, r, high, """
    + child_visible("low")
    + """ AS lowVisible, """
    + child_visible("high")
    + """ AS highVisible
WHERE (lowVisible OR highVisible)
  AND ($afterP IS NULL OR r.matchProbability < $afterP
       OR (r.matchProbability = $afterP AND r.id > $afterId))
WITH low, r, high, lowVisible, highVisible
ORDER BY r.matchProbability DESC, r.id
LIMIT $limit
RETURN """
    + _PAIR
    + """ AS pair, """
    + _side("low")
    + """ AS low, """
    + _side("high")
    + """ AS high
"""
)

# The review queue: pairs with `$status` (null: any), best first. Seeks the status index.
CANDIDATES: Final[LiteralString] = (
    """
MATCH (low:Child)-[r:POSSIBLY_SAME_AS]->(high:Child)
WHERE ($status IS NULL OR r.status = $status)"""
    + _PAGE_TAIL
)

# The pairs one child is part of (either side).
CANDIDATES_OF_CHILD: Final[LiteralString] = (
    """
MATCH (x:Child {id: $childId})-[r:POSSIBLY_SAME_AS]-(:Child)
WHERE ($national OR $agencyId IN x.accessAgencies) AND ($status IS NULL OR r.status = $status)
MATCH (low:Child)-[r]->(high:Child)"""
    + _PAGE_TAIL
)

CANDIDATE_BY_ID: Final[LiteralString] = (
    """
MATCH (low:Child)-[r:POSSIBLY_SAME_AS {id: $candidateId}]->(high:Child)
WITH low, r, high, """
    + child_visible("low")
    + """ AS lowVisible, """
    + child_visible("high")
    + """ AS highVisible
WHERE lowVisible OR highVisible
RETURN """
    + _PAIR
    + """ AS pair, """
    + _side("low")
    + """ AS low, """
    + _side("high")
    + """ AS high
"""
)

# The other records of a child's identity, with the SAME_AS that joins each to its neighbour on
# the path (the confirmation it came from). Only for a child the caller may read; members are
# visible to the same callers (access follows identity), but each is checked again.
IDENTITY_MEMBERS: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})
WHERE ($national OR $agencyId IN c.accessAgencies)
MATCH p = (c)-[:SAME_AS*1..]-(m:Child)
WHERE m <> c
WITH c, m, min(length(p)) AS hops
WITH m, hops, """
    + child_visible("m")
    + """ AS mVisible
RETURN {hops: hops,
        links: [(m)-[s:SAME_AS]-(n:Child) | s {.candidateId, .confirmedAt, .confirmedBy, .confirmedByAgency,
                                               otherId: n.id}],
        member: """
    + _side("m")
    + """} AS member
ORDER BY hops, m.id
"""
)

# --- decisions (inside the mutation's transaction) ----------------------------------------------

# Locks the pair (a write on the relationship) and reads what the decision rules need.
LOCK_CANDIDATE: Final[LiteralString] = (
    """
MATCH (low:Child)-[r:POSSIBLY_SAME_AS {id: $candidateId}]->(high:Child)
SET r.status = r.status
RETURN r.status AS status, low.id AS lowId, high.id AS highId,
       """
    + child_visible("low")
    + """ AS lowVisible, """
    + child_visible("high")
    + """ AS highVisible,
       r {.decidedAt, .decidedBy, .decidedByAgency, .decisionNote} AS decision,
       EXISTS { (low)-[:SAME_AS*1..]-(high) } AS sameIdentity
"""
)

# Confirm = merge: the pair's status and a SAME_AS from low to high. Nothing else is touched.
CONFIRM: Final[LiteralString] = """
MATCH (low:Child)-[r:POSSIBLY_SAME_AS {id: $candidateId}]->(high:Child)
WHERE r.status = 'proposed'
SET r.status = 'confirmed', r.decidedAt = $now, r.decidedBy = $subject, r.decidedByAgency = $agencyId,
    r.decisionNote = $note
MERGE (low)-[s:SAME_AS {candidateId: r.id}]->(high)
  ON CREATE SET s.confirmedAt = $now, s.confirmedBy = $subject, s.confirmedByAgency = $agencyId
RETURN r.status AS status
"""

REJECT: Final[LiteralString] = """
MATCH (:Child)-[r:POSSIBLY_SAME_AS {id: $candidateId}]->(:Child)
WHERE r.status = 'proposed'
SET r.status = 'rejected', r.decidedAt = $now, r.decidedBy = $subject, r.decidedByAgency = $agencyId,
    r.decisionNote = $note
RETURN r.status AS status
"""

# Unmerge: the SAME_AS the confirmation created goes; the pair stays, 'unmerged', so it is never
# proposed again (UPSERT_PROPOSALS leaves decided pairs alone). The confirmation's own fields are
# replaced by the unmerge's (the audit trail keeps both decisions).
UNMERGE: Final[LiteralString] = """
MATCH (low:Child)-[r:POSSIBLY_SAME_AS {id: $candidateId}]->(high:Child)
WHERE r.status = 'confirmed'
OPTIONAL MATCH (low)-[s:SAME_AS {candidateId: r.id}]->(high)
DELETE s
SET r.status = 'unmerged', r.decidedAt = $now, r.decidedBy = $subject, r.decidedByAgency = $agencyId,
    r.decisionNote = $note
RETURN r.status AS status
"""

# Reopen: a rejected or unmerged pair is proposed again (back in the queue), the reopening being
# the pair's latest decision (who, when, why). A merge is never restored by reopening: an unmerged
# pair has no SAME_AS, and confirming it again is a decision of its own.
REOPEN: Final[LiteralString] = """
MATCH (:Child)-[r:POSSIBLY_SAME_AS {id: $candidateId}]->(:Child)
WHERE r.status IN ['rejected', 'unmerged']
SET r.status = 'proposed', r.decidedAt = $now, r.decidedBy = $subject, r.decidedByAgency = $agencyId,
    r.decisionNote = $note, r.reopenedAt = $now
RETURN r.status AS status
"""
