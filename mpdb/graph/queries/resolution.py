"""Cypher for entity resolution (issue 12): reading children for the model, writing proposals.

POSSIBLY_SAME_AS always runs from the lower child id to the higher (string order) and has one id
per unordered pair ('psa-' + 24 hex of sha256("<lowId>|<highId>"), mpdb/resolution/records.py).
"""

from typing import Final, LiteralString

# The children whose ids lie in one page's range (READ_CHILD_PAGES; the unique Child.id index
# serves the range), with what the model compares. Postcode and point are the HOME_AT place's, if
# any; recordedBy is mapped to its police area(s) in the process (READ_AGENCY_AREAS: a few hundred
# agencies, read once, rather than a look-up per child).
READ_CHILDREN_PAGE: Final[LiteralString] = """
MATCH (c:Child)
WHERE $first <= c.id <= $last
OPTIONAL MATCH (c)-[:HOME_AT]->(home:Location)
WITH c, head(collect(home)) AS home
RETURN c.id AS id, c.givenName AS givenName, c.familyName AS familyName, c.dateOfBirth AS dateOfBirth,
       c.sex AS sex, c.upn AS upn, c.lacChildRef AS lacChildRef, c.lacRefLa AS lacRefLa,
       c.ethnicity AS ethnicity, home.postcode AS postcode, home.point.latitude AS homeLat,
       home.point.longitude AS homeLon, c.recordedBy AS recordedBy
"""

# The police area(s) of every agency that has one: a territorial force its own code, an LA the
# forces it lies in (IN_FORCE). British Transport Police (its area is the railway, everywhere) and
# agencies without an area (providers, the national unit) have none.
READ_AGENCY_AREAS: Final[LiteralString] = """
MATCH (f:Force) WHERE f.code <> 'BTP'
RETURN f.code AS agency, [f.code] AS forces
UNION ALL
MATCH (la:LocalAuthority)
RETURN la.code AS agency, [(la)-[:IN_FORCE]->(f:Force) | f.code] AS forces
"""

COUNT_CHILDREN: Final[LiteralString] = "MATCH (c:Child) RETURN count(c) AS n"

# The batch's pages: the first and last id of every `$pageSize` children in id order (the ids alone,
# from the Child.id index), so the pages can be read in parallel read transactions.
READ_CHILD_PAGES: Final[LiteralString] = """
MATCH (c:Child) WHERE c.id IS NOT NULL
WITH c.id AS id ORDER BY id
WITH collect(id) AS ids
UNWIND range(0, size(ids) - 1, $pageSize) AS i
RETURN ids[i] AS first, ids[CASE WHEN i + $pageSize < size(ids) THEN i + $pageSize ELSE size(ids) END - 1] AS last,
       size(ids) AS total
"""

# Create a pair not seen before; refresh the scores of a pair still 'proposed' (only when they
# changed, so a second run over the same data writes nothing); never touch a pair a person has
# decided (confirmed, rejected, unmerged), nor propose two records already in one identity
# (connected over SAME_AS). Returns one row per input pair saying what happened.
UPSERT_PROPOSALS: Final[LiteralString] = """
UNWIND $pairs AS p
MATCH (a:Child {id: p.lowId})
MATCH (b:Child {id: p.highId})
OPTIONAL MATCH (a)-[old:POSSIBLY_SAME_AS]-(b)
WITH a, b, p, old,
     CASE
       WHEN old IS NOT NULL AND old.status <> 'proposed' THEN 'decided'
       WHEN EXISTS { (a)-[:SAME_AS*1..]-(b) } THEN 'same_identity'
       WHEN old IS NULL THEN 'created'
       WHEN old.matchProbability = p.matchProbability AND old.matchWeight = p.matchWeight
            AND old.modelVersion = p.modelVersion AND old.reasons = p.reasons THEN 'unchanged'
       ELSE 'refreshed'
     END AS outcome
CALL (a, b, p, outcome) {
  WITH a, b, p, outcome WHERE outcome IN ['created', 'refreshed']
  MERGE (a)-[r:POSSIBLY_SAME_AS {id: p.id}]->(b)
    ON CREATE SET r.status = 'proposed', r.proposedAt = datetime(), r.proposedBy = $proposedBy
  SET r.matchProbability = p.matchProbability, r.matchWeight = p.matchWeight,
      r.modelVersion = p.modelVersion, r.reasons = p.reasons
}
RETURN p.id AS id, outcome
"""

# The proposed pairs with the highest probability, and what the model compares of both children
# (for `mpdb resolve charts`: an operator's offline explanation of the proposals).
READ_PROPOSED_PAIRS: Final[LiteralString] = """
MATCH (a:Child)-[r:POSSIBLY_SAME_AS {status: 'proposed'}]->(b:Child)
WITH a, b, r ORDER BY r.matchProbability DESC, r.id LIMIT $limit
UNWIND [a, b] AS c
OPTIONAL MATCH (c)-[:HOME_AT]->(home:Location)
WITH r, a, b, c, head(collect(home.postcode)) AS postcode
RETURN r.id AS pairId, a.id AS lowId, b.id AS highId,
       c {.id, .givenName, .familyName, .dateOfBirth, .sex, .upn, .lacChildRef, .lacRefLa, postcode: postcode} AS child
"""

# Every pair the batch (or entry) proposed, ids and probability only: bench/resolution.py --written
# measures the graph's proposals against a synthetic data set's truth.
READ_PROPOSAL_IDS: Final[LiteralString] = """
MATCH (a:Child)-[r:POSSIBLY_SAME_AS]->(b:Child)
RETURN a.id AS lowId, b.id AS highId, r.matchProbability AS matchProbability, r.status AS status
"""
