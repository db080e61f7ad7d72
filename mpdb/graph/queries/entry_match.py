"""Likely existing records of a child at entry (registerChild, reportMissing with newChild,
imports), fetched through indexes with the blocking keys of the Splink model
(mpdb/resolution/models/child-v1.json) and scored in Python (mpdb/services/entry_match.py).

Blocks, each a bounded index seek, their union deduplicated per candidate:
- the same LA reference (lacRefLa + lacChildRef, composite index child_lac_ref);
- the same unique pupil number (child_upn), when one is given;
- the date of birth, or the same date with day and month swapped (child_dob);
- the names (full-text index child_names): every word of the family name AND of the given name
  must match, each within its edit distance or as a nickname variant (the Lucene query is built
  by mpdb.services.entry_match.name_query), so a date of birth typed wrong still finds the child;
- the family name (same full-text match, the given name only ranking) in the same year of birth,
  so a given name recorded differently still does.
These are the model's prediction blocking rules (mpdb/resolution/splink_settings.py) with the
equalities widened to index-friendly supersets (fuzzy names, the whole date-of-birth block).

The reads cross every agency (a duplicate is most likely exactly where the caller cannot see
it). Each candidate's comparable fields go to the service for scoring only; what reaches the
caller is decided there from `visible` (CHILD_VISIBLE) and `summary` (the summary form).
"""

from typing import Final, LiteralString

from mpdb.graph.queries.access import CHILD_VISIBLE
from mpdb.graph.queries.summary import child_summary

# Per block: a cap, so a common date of birth or a common name cannot make the scoring unbounded.
_REF_BLOCKS: Final[LiteralString] = """
  MATCH (c:Child {lacRefLa: r.lacRefLa, lacChildRef: r.lacChildRef})
  RETURN c, 'lacReference' AS block
  UNION
  MATCH (c:Child {upn: r.upn})
  RETURN c, 'upn' AS block
"""

_NAME_DOB_BLOCKS: Final[LiteralString] = """
  MATCH (c:Child) WHERE c.dateOfBirth IN r.dobs
  WITH c LIMIT $perBlock
  RETURN c, 'dateOfBirth' AS block
  UNION
  WITH r WHERE r.lucene IS NOT NULL
  CALL db.index.fulltext.queryNodes('child_names', r.lucene, {limit: $perBlock}) YIELD node
  WITH node AS c WHERE c:Child
  RETURN c, 'names' AS block
  UNION
  WITH r WHERE r.luceneFamily IS NOT NULL AND r.year IS NOT NULL
  CALL db.index.fulltext.queryNodes('child_names', r.luceneFamily, {limit: $perBlock}) YIELD node
  WITH r, node AS c WHERE c:Child AND c.dateOfBirth.year = r.year
  RETURN c, 'familyNameAndYear' AS block
"""

_BLOCKS: Final[LiteralString] = _REF_BLOCKS + "  UNION\n" + _NAME_DOB_BLOCKS

# The police area(s) of the agency `c.recordedBy`, as the batch maps it (READ_AGENCY_AREAS in
# mpdb/graph/queries/resolution.py, read there once for every agency): a territorial force its own
# code, an LA the forces it lies in (IN_FORCE), any other agency (BTP, providers, the national unit)
# none. Kept in step with READ_AGENCY_AREAS by tests/integration/test_resolution.py.
_AGENCY_FORCES: Final[LiteralString] = """
COLLECT {
  MATCH (f:Force {code: c.recordedBy}) WHERE f.code <> 'BTP'
  RETURN f.code AS force
  UNION
  MATCH (:LocalAuthority {code: c.recordedBy})-[:IN_FORCE]->(f:Force)
  RETURN f.code AS force
}
"""

# The fields the model compares, as the batch reads them (READ_CHILDREN_PAGE: postcode and point of
# the HOME_AT place, the recording agency's police areas; mpdb.resolution.records.child_row).
_RECORD: Final[LiteralString] = (
    """
c {.id, .givenName, .familyName, .dateOfBirth, .sex, .ethnicity, .upn, .lacRefLa, .lacChildRef,
   .recordedBy,
   postcode: [(c)-[:HOME_AT]->(h:Location) | h.postcode][0],
   homeLat: [(c)-[:HOME_AT]->(h:Location) | h.point.latitude][0],
   homeLon: [(c)-[:HOME_AT]->(h:Location) | h.point.longitude][0],
   agencyForces: """
    + _AGENCY_FORCES
    + """,
   responsibleLa: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0]}
"""
)

# The police area(s) of the agency recording a new child (`$agencyId`, the caller's): the same
# mapping as a candidate's `agencyForces` (the same fragment over a map holding `recordedBy`).
AGENCY_FORCES: Final[LiteralString] = (
    """
WITH {recordedBy: $agencyId} AS c
RETURN """
    + _AGENCY_FORCES
    + """ AS forces
"""
)

# One record being registered: `$record` = mpdb.services.entry_match.block_keys(...).
ENTRY_CANDIDATES: Final[LiteralString] = (
    """
WITH $record AS r
CALL (r) {
"""
    + _BLOCKS
    + """
}
WITH r, c, collect(block) AS blocks
WHERE c.id <> coalesce(r.id, '')
RETURN c.id AS id, 'lacReference' IN blocks AS sameRef, """
    + _RECORD
    + """ AS record, """
    + CHILD_VISIBLE
    + """ AS visible, """
    + child_summary("c")
    + """ AS summary
ORDER BY c.recordedAt, c.id
LIMIT $limit
"""
)

# The children an import batch has just written, as blocking keys (`$keys`, same shape plus `k`:
# by reference one per row, by names and date of birth one per DISTINCT key, looked up once),
# against every other agency's children and the children of this import run (`$runIds`: this file,
# earlier batches included). The importing agency's other children are its own, keyed by its own
# references, except one holding the same LA reference (registered through the API under another
# id). Ids only: IMPORT_CANDIDATE_FIELDS reads each distinct candidate once. The names are
# matched exactly here (as the model's own blocking rules do), the fuzzy variants being for entry.
_IMPORT_TAIL: Final[LiteralString] = """
}
WITH r, c, collect(block) AS blocks
WHERE c.recordedBy <> $agencyId OR c.id IN $runIds OR 'lacReference' IN blocks
WITH r, c, blocks ORDER BY c.id
WITH r, collect({id: c.id, sameRef: 'lacReference' IN blocks})[..$limit] AS candidates
RETURN r.k AS k, candidates
"""

# By reference, one key per row (`k`: the row's child id).
IMPORT_CANDIDATE_IDS_BY_REF: Final[LiteralString] = """
UNWIND $keys AS r
CALL (r) {
""" + _REF_BLOCKS + _IMPORT_TAIL

# By date of birth and names, one key per distinct (dobs, year, names) of the batch.
IMPORT_CANDIDATE_IDS_BY_NAME: Final[LiteralString] = """
UNWIND $keys AS r
CALL (r) {
""" + _NAME_DOB_BLOCKS + _IMPORT_TAIL

# An import batch's distinct candidates, read once: the fields the model compares, to be scored in
# the process only (nothing of them reaches the caller as such).
IMPORT_CANDIDATE_FIELDS: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (c:Child {id: id})
RETURN c.id AS id, """
    + _RECORD
    + """ AS record
"""
)

# The candidates kept after scoring (a handful per batch, most batches none), with the importer's
# scope: `visible` decides the full record, otherwise the summary form. Read after scoring because
# the visibility predicate and the summary cost more than the scoring of every candidate.
IMPORT_CANDIDATE_ACCESS: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (c:Child {id: id})
RETURN c.id AS id, """
    + CHILD_VISIBLE
    + """ AS visible, """
    + child_summary("c")
    + """ AS summary
"""
)
