"""Cypher that maintains and applies the derived access lists (rules in mpdb/auth/access.py).

Visibility is decided from three lists the data layer keeps current after every write that
touches a child (and in bulk after seeding and imports):

- `Episode.areaAgencies`: forces whose area the episode touched (reported to, found by, missing
  from, last seen or found in) and providers commissioned for its return interview.
- `Child.accessAgencies`: agencies that may read the child's record: the responsible LA, the LA
  the child lives in (its `HOME_AT` place's LA: residence), every placing and host LA, every force whose area holds one of the child's placements or episodes,
  commissioned providers, and the agency that recorded the child (`recordedBy`), so a child a
  force imports before any episode or placement is known is not invisible to that force. The
  recording agency gets the record only, not the child's episodes elsewhere.
- `Child.historyAgencies`: agencies that may read every episode of the child wherever it
  happened: the LAs above, and forces that currently hold an open episode for the child.
- `Child.openEpisodeForces`: forces an open episode of the child is reported to. Non-empty means
  the child is missing now: the locate basis (CHILD_LOCATABLE) opens for every force.

Access follows identity: the records of one child joined by confirmed `SAME_AS` (an identity)
each carry the union of their members' own three lists, so whoever may read one record of the
child may read them all (episodes still by EPISODE_VISIBLE: the history agencies of the identity
read every member's episodes, an area-basis agency only the episodes in its area).

The rules, with their lawful basis and purpose, are tabled in docs/ACCESS.md.
"""

from typing import Final, LiteralString

# Identities (graph_schema/MODEL.md): the records of one child joined by confirmed SAME_AS share
# their lists. The refresh therefore works on whole identities: every given child is expanded to
# its component over SAME_AS (one index lookup and no hop for a child without one), each member's
# OWN lists are computed from its own relationships as below, and then every member of an identity
# with more than one record gets the union of its members' own lists. Nothing else stores the
# merge, so removing a SAME_AS and refreshing both sides restores each record's own lists exactly.
REFRESH_ACCESS: Final[LiteralString] = """
UNWIND $childIds AS childId
MATCH (:Child {id: childId})-[:SAME_AS*0..]-(c:Child)
WITH DISTINCT c
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
        MATCH (c)-[:HOME_AT]->(home:Location) WHERE home.laCode IS NOT NULL RETURN home.laCode AS a
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
WITH collect(c) AS refreshed
CALL (refreshed) {
  UNWIND refreshed AS c
  WITH c WHERE EXISTS { (c)-[:SAME_AS]-(:Child) }
  MATCH (c)-[:SAME_AS*0..]-(m:Child)
  WITH c, collect(DISTINCT m) AS members
  // Computed for every member before any is written (a union read after a neighbour's write
  // would be the same set, but this keeps it obviously so).
  WITH collect({c: c,
                access: COLLECT { UNWIND members AS m UNWIND m.accessAgencies AS a RETURN DISTINCT a },
                history: COLLECT { UNWIND members AS m UNWIND m.historyAgencies AS a RETURN DISTINCT a },
                open: COLLECT { UNWIND members AS m UNWIND m.openEpisodeForces AS a RETURN DISTINCT a }}) AS shared
  UNWIND shared AS s
  WITH s, s.c AS c
  SET c.accessAgencies = s.access, c.historyAgencies = s.history, c.openEpisodeForces = s.open
}
RETURN size(refreshed) AS refreshed
"""

# Predicates spliced (as literal Cypher, never input) into scoped reads. `c` is a Child, `e` an
# Episode of that child; `$agencyId`, `$national` and `$police` come from AccessScope.cypher_params().
CHILD_VISIBLE: Final[LiteralString] = "($national OR $agencyId IN c.accessAgencies)"
EPISODE_VISIBLE: Final[LiteralString] = (
    "($national OR $agencyId IN c.historyAgencies OR $agencyId IN e.areaAgencies)"
)

# Locate basis (docs/ACCESS.md): while a child is missing (an open episode reported to a force),
# every police force may read the child's locate profile, and may record a sighting, the finding
# and the return on the open episode. Not the full record: CHILD_VISIBLE still decides that. Once
# the episode closes the basis ends; a force that recorded the finding keeps the episode and the
# record through FOUND_BY (areaAgencies), as any force with an episode in its area does.
CHILD_LOCATABLE: Final[LiteralString] = (
    "($national OR ($police AND size(coalesce(c.openEpisodeForces, [])) > 0))"
)
EPISODE_LOCATABLE: Final[LiteralString] = (
    "($national OR ($police AND e.status = 'open' AND EXISTS { (e)-[:REPORTED_TO]->(:Force) }))"
)
# An episode the caller may write to: in full (EPISODE_VISIBLE) or on the locate basis.
EPISODE_WRITABLE: Final[LiteralString] = "(" + EPISODE_VISIBLE + " OR " + EPISODE_LOCATABLE + ")"

# A person (`p`) the caller may name in a link or companion list by id: one it already sees through a
# child or episode it may read, or any adult of concern (docs/ACCESS.md, adults of concern): an
# adult known to one force must be linkable by the next instead of being recorded twice. Peers and
# family members stay private to the agencies that see their children.
# PERSON_VISIBLE: seen through a child or episode the caller may read (a "new" person with that id
# simply reuses it); PERSON_LINKABLE: may also be named by id (`personId`, `companions.personIds`).
PERSON_VISIBLE: Final[LiteralString] = (
    "($national"
    " OR EXISTS { MATCH (c:Child)-[:ASSOCIATES_WITH]->(p) WHERE " + CHILD_VISIBLE + " }"
    " OR EXISTS { MATCH (c:Child)-[:HAD]->(e:Episode)-[:WITH_PERSON]->(p) WHERE " + EPISODE_VISIBLE + " })"
)
PERSON_LINKABLE: Final[LiteralString] = "(p.role = 'adult_of_concern' OR " + PERSON_VISIBLE + ")"

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
