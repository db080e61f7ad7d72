"""Cypher that maintains and applies the derived access lists (rules in mpdb/auth/access.py).

Visibility is decided from three lists the data layer keeps current after every write that
touches a child (and in bulk after seeding and imports):

- `Episode.areaAgencies`: forces whose area the episode touched (reported to, found by, missing
  from, last seen or found in) and providers commissioned for its return interview.
- `Child.accessAgencies`: agencies that may read the child's record: the responsible LA, every
  placing and host LA, every force whose area holds one of the child's placements or episodes,
  commissioned providers, and the agency that recorded the child (`recordedBy`), so a child a
  force imports before any episode or placement is known is not invisible to that force. The
  recording agency gets the record only, not the child's episodes elsewhere.
- `Child.historyAgencies`: agencies that may read every episode of the child wherever it
  happened: the LAs above, and forces that currently hold an open episode for the child.
"""

from typing import Final, LiteralString

REFRESH_ACCESS: Final[LiteralString] = """
UNWIND $childIds AS childId
MATCH (c:Child {id: childId})
CALL (c) {
  OPTIONAL MATCH (c)-[:HAD]->(e:Episode)
  WITH e WHERE e IS NOT NULL
  SET e.areaAgencies = COLLECT {
        MATCH (e)-[:REPORTED_TO|FOUND_BY]->(f:Force) RETURN f.code AS a
        UNION
        MATCH (e)-[:MISSING_FROM_LOCATION|LAST_SEEN_AT|FOUND_AT]->(l:Location) RETURN l.forceCode AS a
        UNION
        MATCH (e)-[:MISSING_FROM]->(:Placement)-[:IN_FORCE_AREA]->(f:Force) RETURN f.code AS a
        UNION
        MATCH (e)-[:FOLLOWED_BY]->(:ReturnInterview)-[:BY]->(p:Agency) RETURN p.id AS a
      }
}
WITH c,
     COLLECT {
        MATCH (c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) RETURN la.code AS a
        UNION
        MATCH (c)-[:PLACED_IN]->(:Placement)-[:PLACED_BY|HOSTED_BY]->(la:LocalAuthority) RETURN la.code AS a
     } AS las,
     COLLECT {
        MATCH (c)-[:HAD]->(e:Episode {status: 'open'})-[:REPORTED_TO]->(f:Force) RETURN f.code AS a
     } AS openForces
WITH c, las, openForces, las + [a IN COLLECT {
        MATCH (c)-[:PLACED_IN]->(:Placement)-[:IN_FORCE_AREA]->(f:Force) RETURN f.code AS a
        UNION
        MATCH (c)-[:HAD]->(e:Episode) UNWIND e.areaAgencies AS a RETURN a
     } WHERE NOT a IN las] AS reach
SET c.historyAgencies = las + [f IN openForces WHERE NOT f IN las],
    c.openEpisodeForces = openForces,
    c.accessAgencies = reach + [a IN COLLECT {
        MATCH (r:Agency {id: c.recordedBy}) RETURN r.id AS a
     } WHERE NOT a IN reach]
RETURN count(c) AS refreshed
"""

# Predicates spliced (as literal Cypher, never input) into scoped reads. `c` is a Child, `e` an
# Episode of that child; `$agencyId` and `$national` come from AccessScope.cypher_params().
CHILD_VISIBLE: Final[LiteralString] = "($national OR $agencyId IN c.accessAgencies)"
EPISODE_VISIBLE: Final[LiteralString] = (
    "($national OR $agencyId IN c.historyAgencies OR $agencyId IN e.areaAgencies)"
)

# The child's own account in a return interview (`ri`, an interview of an episode of child `c`):
# only with rhi:read:confidential (`$canReadConfidential`, AccessScope.return_interview_params) and
# only for an entitled agency: the provider that carried out the interview (BY) or the child's
# responsible local authority. Not national reach: the national unit and the CLI operator read
# the shareable summary like everyone else. Queries project `confidentialAccount` only under this
# predicate (tests/unit/test_rhi_confidential_guard.py), so the text never leaves Neo4j otherwise.
RHI_CONFIDENTIAL_VISIBLE: Final[LiteralString] = (
    "($canReadConfidential AND ($agencyId IN [(ri)-[:BY]->(p:Agency) | p.id]"
    " OR EXISTS { (c)-[:LOOKED_AFTER_BY]->(:LocalAuthority {code: $agencyId}) }))"
)
