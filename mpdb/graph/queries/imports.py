"""Cypher for bulk import (mpdb/ingest/importer.py). Each write takes a batch of rows (`$rows`)
and runs in the batch's single transaction; every row was validated before it got here.

Ids are deterministic (derived from agency, source system and source reference) and every write
is a MERGE, so re-running a file writes the same nodes. Rows whose content hash (`importHash`)
is unchanged are never sent here, so a re-run writes nothing at all.

Single-valued relationships (an episode's reporting force, a placement's host LA, ...) are
deleted and re-created when a changed row is written, so a corrected file replaces them rather
than adding a second one. Risk assessments are never deleted: a new grade adds to the history.

Lookups that resolve a reference given as an mpdb id (`mpdb_child_id`, `mpdb_episode_id`) apply
the caller's visibility (`$agencyId`/`$national`): an importer may only attach records to a child
it can see. Records named by the importing agency's own references are its own by construction.
"""

from typing import Final, LiteralString

from mpdb.graph.queries.access import CHILD_VISIBLE, EPISODE_VISIBLE

AGENCY: Final[LiteralString] = """
MATCH (a:Agency {id: $agencyId})
RETURN a.id AS id, a.kind AS kind, a.name AS name
"""

REFERENCE_CODES: Final[LiteralString] = """
CALL () {
  MATCH (la:LocalAuthority)
  RETURN collect({code: la.code,
                  forces: [(la)-[r:IN_FORCE]->(f:Force) | {code: f.code, share: r.share}]}) AS las
}
CALL () { MATCH (f:Force) RETURN collect(f.code) AS forces }
CALL () { MATCH (a:Agency) RETURN collect({id: a.id, kind: a.kind}) AS agencies }
RETURN las, forces, agencies
"""

# --- what is already there -------------------------------------------------------------------

EXISTING_CHILDREN: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (n:Child {id: id})
RETURN n.id AS id, n.importHash AS hash
"""

EXISTING_EPISODES: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (n:Episode {id: id})
RETURN n.id AS id, n.importHash AS hash
"""

EXISTING_PLACEMENTS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (n:Placement {id: id})
RETURN n.id AS id, n.importHash AS hash
"""

EXISTING_FLAGS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (n:Flag {id: id})
RETURN n.id AS id, n.importHash AS hash
"""

EXISTING_RETURN_INTERVIEWS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (n:ReturnInterview {id: id})
RETURN n.id AS id, n.importHash AS hash
"""

# The children a batch names, with what the episode rules need: active flags and open episodes.
CHILDREN_FOR_ROWS: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (c:Child {id: id})
WHERE id IN $ownIds OR """
    + CHILD_VISIBLE
    + """
RETURN c.id AS id,
       [(c)-[:HAS_FLAG]->(f:Flag {status: 'active'}) | {id: f.id, type: f.type}] AS activeFlags,
       [(c)-[:HAD]->(e:Episode {status: 'open'}) | e.id] AS openEpisodes,
       [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0] AS responsibleLa,
       c.dateOfBirth AS dateOfBirth
"""
)

PLACEMENTS_FOR_ROWS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (c:Child)-[:PLACED_IN]->(p:Placement {id: id})
RETURN p.id AS id, c.id AS childId
"""

EPISODES_FOR_ROWS: Final[LiteralString] = (
    """
UNWIND $ids AS id
MATCH (c:Child)-[:HAD]->(e:Episode {id: id})
WHERE id IN $ownIds OR """
    + EPISODE_VISIBLE
    + """
RETURN e.id AS id, c.id AS childId, e.returnedAt AS returnedAt, e.status AS status,
       coalesce([(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0],
                [(e)-[:MISSING_FROM]->(:Placement)-[:HOSTED_BY]->(la:LocalAuthority) | la.code][0])
         AS ruleArea
"""
)

# --- writes ------------------------------------------------------------------------------------

_PROVENANCE: Final[LiteralString] = """
    {recordedBy: $agencyId, recordedAt: $now, sourceSystem: $sourceSystem, author: $author}
"""

# Shared by children (home address) and placements (placement address). `loc` is a map
# {id, props, laCode, forceCode}; a location always gets both IN_LA and IN_FORCE.
_LOCATION: Final[LiteralString] = """
  MERGE (l:Location {id: loc.id})
  ON CREATE SET l += loc.props, l += """ + _PROVENANCE + """
  // how its LA was decided (docs/IMPORT.md): also on a location first written before mpdb recorded it
  SET l.geoResolution = loc.props.geoResolution
  WITH l, loc
  CALL (l, loc) {
    MATCH (la:LocalAuthority {code: loc.props.laCode}) MERGE (l)-[:IN_LA]->(la)
  }
  CALL (l, loc) {
    MATCH (f:Force {code: loc.props.forceCode}) MERGE (l)-[:IN_FORCE]->(f)
  }
"""

MERGE_CHILDREN: Final[LiteralString] = (
    """
UNWIND $rows AS row
MERGE (c:Child {id: row.id})
ON CREATE SET c.pseudonym = row.pseudonym
SET c += row.props, c += """
    + _PROVENANCE
    + """
WITH c, row
CALL (c, row) {
  OPTIONAL MATCH (c)-[old:LOOKED_AFTER_BY]->(x:LocalAuthority)
  WHERE x.code <> coalesce(row.responsibleLa, '')
  DELETE old
}
CALL (c, row) {
  OPTIONAL MATCH (la:LocalAuthority {code: row.responsibleLa})
  WITH c, la WHERE la IS NOT NULL
  MERGE (c)-[:LOOKED_AFTER_BY]->(la)
}
CALL (c, row) {
  OPTIONAL MATCH (c)-[old:HOME_AT]->(x:Location)
  WHERE x.id <> coalesce(row.home.id, '')
  DELETE old
}
CALL (c, row) {
  UNWIND CASE WHEN row.home IS NULL THEN [] ELSE [row.home] END AS loc
"""
    + _LOCATION
    + """
  MERGE (c)-[:HOME_AT]->(l)
}
RETURN count(c) AS written
"""
)

MERGE_PLACEMENTS: Final[LiteralString] = (
    """
UNWIND $rows AS row
MATCH (c:Child {id: row.childId})
MERGE (p:Placement {id: row.id})
SET p += row.props, p += """
    + _PROVENANCE
    + """
MERGE (c)-[:PLACED_IN]->(p)
WITH c, p, row
CALL (p) {
  OPTIONAL MATCH (p)-[old:PLACED_BY|HOSTED_BY|IN_FORCE_AREA|AT|AT_LOCATION]->()
  DELETE old
}
CALL (p, row) { MATCH (la:LocalAuthority {code: row.placingLa}) MERGE (p)-[:PLACED_BY]->(la) }
CALL (p, row) { MATCH (la:LocalAuthority {code: row.hostLa}) MERGE (p)-[:HOSTED_BY]->(la) }
CALL (p, row) { MATCH (f:Force {code: row.hostForce}) MERGE (p)-[:IN_FORCE_AREA]->(f) }
CALL (c, row) {
  OPTIONAL MATCH (la:LocalAuthority {code: row.placingLa})
  WHERE NOT EXISTS { (c)-[:LOOKED_AFTER_BY]->(:LocalAuthority) }
  WITH c, la WHERE la IS NOT NULL
  MERGE (c)-[:LOOKED_AFTER_BY]->(la)
}
CALL (p, row) {
  UNWIND CASE WHEN row.location IS NULL THEN [] ELSE [row.location] END AS loc
"""
    + _LOCATION
    + """
  MERGE (p)-[:AT_LOCATION]->(l)
}
CALL (p, row) {
  UNWIND CASE WHEN row.establishment IS NULL THEN [] ELSE [row.establishment] END AS est
  MERGE (x:Establishment {id: est.id})
  ON CREATE SET x += est.props, x += """
    + _PROVENANCE
    + """
  MERGE (p)-[:AT]->(x)
}
RETURN count(p) AS written
"""
)

MERGE_EPISODES: Final[LiteralString] = (
    """
UNWIND $rows AS row
MATCH (c:Child {id: row.childId})
MERGE (e:Episode {id: row.id})
SET e += row.props, e += """
    + _PROVENANCE
    + """
MERGE (c)-[:HAD]->(e)
WITH e, row
CALL (e) {
  OPTIONAL MATCH (e)-[old:REPORTED_TO|FOUND_BY|MISSING_FROM]->()
  DELETE old
}
CALL (e, row) { MATCH (f:Force {code: row.reportedTo}) MERGE (e)-[:REPORTED_TO]->(f) }
CALL (e, row) { MATCH (f:Force {code: row.foundBy}) MERGE (e)-[:FOUND_BY]->(f) }
CALL (e, row) { MATCH (p:Placement {id: row.placementId}) MERGE (e)-[:MISSING_FROM]->(p) }
CALL (e, row) {
  UNWIND CASE WHEN row.assessment IS NULL THEN [] ELSE [row.assessment] END AS ra
  MERGE (a:RiskAssessment {id: ra.id})
  ON CREATE SET a += ra.props, a.recordedBy = $agencyId, a.author = $author,
                a.recordedAt = $now, a.sourceSystem = $sourceSystem
  MERGE (e)-[:ASSESSED_IN]->(a)
}
CALL (e, row) {
  MERGE (r:EpisodeRecord {id: row.record.id})
  SET r += row.record.props, r += """
    + _PROVENANCE
    + """
  MERGE (r)-[:RECORD_OF]->(e)
}
RETURN count(e) AS written
"""
)

MERGE_FLAGS: Final[LiteralString] = (
    """
UNWIND $rows AS row
MATCH (c:Child {id: row.childId})
MERGE (f:Flag {id: row.id})
SET f += row.props, f += """
    + _PROVENANCE
    + """
MERGE (c)-[:HAS_FLAG]->(f)
WITH f
MATCH (a:Agency {id: $agencyId})
MERGE (f)-[:RAISED_BY]->(a)
RETURN count(f) AS written
"""
)

MERGE_RETURN_INTERVIEWS: Final[LiteralString] = (
    """
UNWIND $rows AS row
MATCH (e:Episode {id: row.episodeId})
MERGE (ri:ReturnInterview {id: row.id})
SET ri += row.props, ri += """
    + _PROVENANCE
    + """
MERGE (e)-[:FOLLOWED_BY]->(ri)
WITH ri, row
CALL (ri) {
  OPTIONAL MATCH (ri)-[old:BY]->()
  DELETE old
}
CALL (ri, row) { MATCH (a:Agency {id: row.provider}) MERGE (ri)-[:BY]->(a) }
RETURN count(ri) AS written
"""
)
