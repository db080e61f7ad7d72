"""Finding a child or an adult by name, date of birth, agency reference and area
(searchChildren, searchPersons; rules in mpdb/services/search.py).

Every statement takes the caller's scope. Candidates come from one start (the `child_names` /
`person_names` full-text index, the agency-reference indexes, or the date-of-birth index), are
filtered, scored and paged by keyset in Cypher, so a page of summaries never brings more of
anyone's record into the service than it shows.

Score = name score (the Lucene score over the best Lucene score among all candidates, 0..1; 0
without a name) + date-of-birth agreement (1.0 exact, 0.6 day and month swapped). Ties by
pseudonym (children) or id (persons): keys a caller already sees, so a cursor names nobody new.
"""

from typing import Final, LiteralString

from mpdb.graph.queries.access import CHILD_LOCATABLE, CHILD_VISIBLE, EPISODE_VISIBLE, PERSON_LINKABLE
from mpdb.graph.queries.intel_links import child_visible, episode_visible
from mpdb.graph.queries.records import CHILD_PROJECTION
from mpdb.graph.queries.summary import child_summary

# --- children -------------------------------------------------------------------------------

_by_name: Final[LiteralString] = """
CALL db.index.fulltext.queryNodes('child_names', $lucene, {limit: $candidates}) YIELD node, score
WITH node AS c, score
"""

# Agency references: the LA's SSDA903 CHILD id, the unique pupil number, an importer's own reference.
_by_reference: Final[LiteralString] = """
CALL () {
  MATCH (c:Child {lacChildRef: $ref}) RETURN c
  UNION
  MATCH (c:Child {upn: $ref}) RETURN c
  UNION
  MATCH (c:Child {sourceRef: $ref}) RETURN c
}
WITH c, 0.0 AS score LIMIT $candidates
"""

_by_dob: Final[LiteralString] = """
MATCH (c:Child) WHERE c.dateOfBirth IN $dobs
WITH c, 0.0 AS score LIMIT $candidates
"""

# `area` (docs in mpdb/api/queries/search.py): for a child the caller reads in full, any link to
# the area it could read itself; for any other child only the responsible LA (or its force), which
# its summary shows anyway, so filtering by area never discloses more than the summary.
_AREA_MATCH: Final[LiteralString] = (
    """
  $area IS NULL
  OR EXISTS { MATCH (c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority)
              WHERE la.code = $area OR EXISTS { (la)-[:IN_FORCE]->(:Force {code: $area}) } }
  OR (visible AND (
       EXISTS { MATCH (c)-[:HOME_AT]->(h:Location) WHERE h.laCode = $area OR h.forceCode = $area }
    OR EXISTS { MATCH (c)-[:PLACED_IN]->(:Placement)-[:PLACED_BY|HOSTED_BY|IN_FORCE_AREA]->(a)
                WHERE a.code = $area }
    OR EXISTS { MATCH (c)-[:HAD]->(e:Episode)
                WHERE """
    + EPISODE_VISIBLE
    + """
                  AND ($area IN e.areaAgencies
                       OR EXISTS { MATCH (e)-[:MISSING_FROM_LOCATION|LAST_SEEN_AT|WENT_TO|FOUND_AT]->(l:Location)
                                   WHERE l.laCode = $area OR l.forceCode = $area }) }
  ))
"""
)

_DOB_MATCH: Final[LiteralString] = """
CASE WHEN $dob IS NULL THEN null
     WHEN {var}.dateOfBirth IS NULL THEN 'UNKNOWN'
     WHEN {var}.dateOfBirth = $dob THEN 'EXACT'
     WHEN {var}.dateOfBirth = $dobSwapped THEN 'DAY_MONTH_SWAPPED'
     ELSE 'DIFFERENT' END
"""

_DOB_POINTS: Final[LiteralString] = "CASE dobMatch WHEN 'EXACT' THEN 1.0 WHEN 'DAY_MONTH_SWAPPED' THEN 0.6 ELSE 0.0 END"

_CHILDREN_TAIL: Final[LiteralString] = (
    """
WITH c, score
WHERE c:Child AND ($ref IS NULL OR $ref IN [c.lacChildRef, c.upn, c.sourceRef])
WITH c, score, """
    + CHILD_VISIBLE
    + """ AS visible
WHERE """
    + _AREA_MATCH
    + """
WITH collect({c: c, score: score, visible: visible}) AS hits, max(score) AS top
UNWIND hits AS h
WITH h.c AS c, h.visible AS visible,
     CASE WHEN $lucene IS NULL THEN null WHEN top > 0 THEN round(h.score / top, 6) ELSE 0.0 END AS nameScore,
     """
    + _DOB_MATCH.replace("{var}", "h.c")
    + """ AS dobMatch
WITH c, visible, nameScore, dobMatch, round(coalesce(nameScore, 0.0) + """
    + _DOB_POINTS
    + """, 6) AS score
WHERE $afterScore IS NULL OR score < $afterScore OR (score = $afterScore AND c.pseudonym > $afterKey)
WITH c, visible, nameScore, dobMatch, score ORDER BY score DESC, c.pseudonym LIMIT $limit
RETURN {score: score, nameScore: nameScore, dateOfBirthMatch: dobMatch, referenceMatch: $ref IS NOT NULL,
        visible: visible, key: c.pseudonym,
        locateId: CASE WHEN NOT visible AND """
    + CHILD_LOCATABLE
    + """ THEN c.id END,
        child: CASE WHEN visible THEN """
    + CHILD_PROJECTION
    + """ END,
        summary: CASE WHEN visible THEN null ELSE """
    + child_summary("c")
    + """ END,
        auditId: c.id} AS hit
"""
)

SEARCH_CHILDREN_BY_NAME: Final[LiteralString] = _by_name + _CHILDREN_TAIL
SEARCH_CHILDREN_BY_REFERENCE: Final[LiteralString] = _by_reference + _CHILDREN_TAIL
SEARCH_CHILDREN_BY_DOB: Final[LiteralString] = _by_dob + _CHILDREN_TAIL

# --- persons --------------------------------------------------------------------------------

# A person's linked children: ASSOCIATES_WITH, or WITH_PERSON on an episode. Each link's force is
# the force its episode was reported to, else the force that recorded the association (as in
# sharedAssociates). `seen`: the caller may read the child (and, for WITH_PERSON, that episode).
_PERSON_LINKS: Final[LiteralString] = (
    """
CALL (p) {
  MATCH (p)<-[:WITH_PERSON]-(e:Episode)<-[:HAD]-(lc:Child)
  RETURN lc, [(e)-[:REPORTED_TO]->(f:Force) | f.code][0] AS force,
         """
    + child_visible("lc")
    + " AND "
    + episode_visible("lc", "e")
    + """ AS seen
  UNION
  MATCH (p)<-[a:ASSOCIATES_WITH]-(lc:Child)
  RETURN lc, COLLECT { MATCH (f:Force {code: a.recordedBy}) RETURN f.code }[0] AS force,
         """
    + child_visible("lc")
    + """ AS seen
}
"""
)

SEARCH_PERSONS: Final[LiteralString] = (
    """
CALL db.index.fulltext.queryNodes('person_names', $lucene, {limit: $candidates}) YIELD node, score
WITH node AS p, score WHERE p:Person AND """
    + PERSON_LINKABLE
    + """
WITH collect({p: p, score: score}) AS hits, max(score) AS top
UNWIND hits AS h
WITH h.p AS p, CASE WHEN top > 0 THEN round(h.score / top, 6) ELSE 0.0 END AS nameScore,
     """
    + _DOB_MATCH.replace("{var}", "h.p")
    + """ AS dobMatch
WITH p, nameScore, dobMatch, round(nameScore + """
    + _DOB_POINTS
    + """, 6) AS score
WHERE $afterScore IS NULL OR score < $afterScore OR (score = $afterScore AND p.id > $afterKey)
WITH p, nameScore, dobMatch, score ORDER BY score DESC, p.id LIMIT $limit
OPTIONAL """
    + _PERSON_LINKS.lstrip()
    + """
WITH p, nameScore, dobMatch, score, lc, force, seen
WITH p, nameScore, dobMatch, score,
     collect(DISTINCT CASE WHEN seen OR $national THEN lc END) AS yours,
     collect(DISTINCT lc.id) AS linked,
     collect(DISTINCT CASE WHEN force IS NOT NULL THEN [force, lc.id] END) AS forceChildren
WITH p, nameScore, dobMatch, score, yours, linked, $national OR size(yours) > 0 AS known,
     COLLECT { UNWIND forceChildren AS fc WITH fc[0] AS force, count(DISTINCT fc[1]) AS children
               RETURN {forceCode: force, children: children} AS x ORDER BY x.forceCode } AS byForce
RETURN {score: score, nameScore: nameScore, dateOfBirthMatch: dobMatch, known: known, key: p.id,
        person: p {.id, .name, .role, dateOfBirth: CASE WHEN known THEN p.dateOfBirth END},
        linkedChildren: size(linked), byForce: byForce,
        yourChildren: [lc IN yours | lc {.id, .pseudonym, .givenName, .familyName, .sex, .dateOfBirth,
                                        .lookedAfter,
                                        responsibleAuthority: [(lc)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0]}]
       } AS hit
ORDER BY hit.score DESC, hit.key
"""
)
