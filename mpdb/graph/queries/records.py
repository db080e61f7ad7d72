"""Reads of children and episodes. Every query here takes `$agencyId`/`$national` (the caller's
AccessScope) and applies the visibility predicates from `access.py`: a record the caller may not
see is simply not matched, exactly as if it did not exist."""

from typing import Final, LiteralString

from mpdb.graph.queries.access import (
    CHILD_LOCATABLE,
    CHILD_VISIBLE,
    EPISODE_VISIBLE,
    RHI_CONFIDENTIAL_VISIBLE,
)

_EPISODE_PROJECTION: Final[LiteralString] = """
e {
  .id, .status, .reportedAt, .lastSeenAt, .foundAt, .returnedAt, .whereaboutsKnown, .consent,
  .reporterType, .category, .riskGrade, .gradeScheme, .recordedBy, .recordedAt, .sourceSystem,
  childId: c.id,
  reportedTo: [(e)-[:REPORTED_TO]->(f:Force) | f.code][0],
  foundBy: [(e)-[:FOUND_BY]->(f:Force) | f.code][0],
  missingFromPlacement: [(e)-[:MISSING_FROM]->(p:Placement) | p.id][0],
  places: [(e)-[r:MISSING_FROM_LOCATION|LAST_SEEN_AT|WENT_TO|FOUND_AT]->(l:Location) |
           {role: type(r), at: r.at, location: l {.id, .name, .kind, .laCode, .forceCode,
            latitude: l.point.latitude, longitude: l.point.longitude}}],
  gradeHistory: [(e)-[:ASSESSED_IN]->(ra:RiskAssessment) |
           ra {.id, .grade, .scheme, .assessedAt, .author, .recordedBy, .reason}]
}
"""

# A child in full (what `Child.from_row` reads), for a child `c` the caller may see.
CHILD_PROJECTION: Final[LiteralString] = """
c {
  .id, .pseudonym, .givenName, .familyName, .dateOfBirth, .sex, .ethnicity, .lookedAfter,
  .unaccompanied, .recordedBy, .recordedAt, .sourceSystem,
  responsibleAuthority: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0]
}
"""

CHILD_BY_ID: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})
WHERE """
    + CHILD_VISIBLE
    + """
RETURN """
    + CHILD_PROJECTION
    + """ AS child
"""
)

# A child's locate profile (docs/ACCESS.md, locate basis): what a force needs to find a missing
# child, for a caller who may read the child in full or, while the child is missing, any force.
# `foundBefore`: where the child was found in earlier episodes, newest first ("where to look").
_LOCATE_PLACE: Final[LiteralString] = (
    "{id: l.id, name: l.name, kind: l.kind, laCode: l.laCode, forceCode: l.forceCode,"
    " latitude: l.point.latitude, longitude: l.point.longitude}"
)
# The episodes a profile draws on: while the child is missing (the locate basis) all of them, as
# "where to look" needs the whole cross-force history; otherwise only those the caller may open
# (a recording agency or a provider reads the record, not the episodes elsewhere).
_LOCATE_EPISODE: Final[LiteralString] = "(" + CHILD_LOCATABLE + " OR " + EPISODE_VISIBLE + ")"
LOCATE_PROFILE: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})
WHERE """
    + CHILD_VISIBLE
    + " OR "
    + CHILD_LOCATABLE
    + """
RETURN c {
  .id, .pseudonym, .givenName, .familyName, .dateOfBirth, .sex, .lookedAfter, .unaccompanied,
  basis: CASE WHEN """
    + CHILD_VISIBLE
    + """ THEN 'record' ELSE 'locate' END,
  responsibleAuthority: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la {.code, .name}][0],
  homeAuthority: [(c)-[:HOME_AT]->(h:Location)-[:IN_LA]->(la:LocalAuthority) | la {.code, .name}][0],
  activeFlags: [(c)-[:HAS_FLAG]->(f:Flag {status: 'active'})-[:RAISED_BY]->(a:Agency) |
                {type: f.type, raisedBy: a.id, raisedAt: f.raisedAt}],
  openEpisodes: [(c)-[:HAD]->(e:Episode {status: 'open'}) WHERE """
    + _LOCATE_EPISODE
    + """ |
    e {.id, .reportedAt, .lastSeenAt, .riskGrade, .gradeScheme, .category, .whereaboutsKnown,
       reportedTo: [(e)-[:REPORTED_TO]->(f:Force) | f.code][0],
       lastSeenPlace: [(e)-[:LAST_SEEN_AT]->(l:Location) | """
    + _LOCATE_PLACE
    + """][0],
       missingFromPlace: [(e)-[:MISSING_FROM_LOCATION]->(l:Location) | """
    + _LOCATE_PLACE
    + """][0],
       sightings: [(e)-[w:WENT_TO]->(l:Location) | {at: w.at, place: """
    + _LOCATE_PLACE
    + """}]}],
  foundBefore: COLLECT {
    MATCH (c)-[:HAD]->(e:Episode)-[:FOUND_AT]->(l:Location)
    WHERE e.foundAt IS NOT NULL AND """
    + _LOCATE_EPISODE
    + """
    RETURN {episodeId: e.id, foundAt: e.foundAt, foundBy: [(e)-[:FOUND_BY]->(f:Force) | f.code][0],
            place: """
    + _LOCATE_PLACE
    + """} AS found
    ORDER BY e.foundAt DESC LIMIT 20
  }
} AS profile
"""
)

EPISODES_OF_CHILD: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})
WHERE """
    + CHILD_VISIBLE
    + """
MATCH (c)-[:HAD]->(e:Episode)
WHERE """
    + EPISODE_VISIBLE
    + """
  AND ($afterReportedAt IS NULL OR e.reportedAt < datetime($afterReportedAt)
       OR (e.reportedAt = datetime($afterReportedAt) AND e.id < $afterId))
WITH c, e ORDER BY e.reportedAt DESC, e.id DESC LIMIT $limit
RETURN """
    + _EPISODE_PROJECTION
    + """ AS episode
"""
)

EPISODE_BY_ID: Final[LiteralString] = (
    """
MATCH (c:Child)-[:HAD]->(e:Episode {id: $episodeId})
WHERE """
    + EPISODE_VISIBLE
    + """
RETURN """
    + _EPISODE_PROJECTION
    + """ AS episode
"""
)

# Return interviews of one visible episode, oldest first. `confidentialAccount` is projected only
# when the client asked for it ($wantConfidential) AND RHI_CONFIDENTIAL_VISIBLE holds: for every
# other caller it is null here, inside Neo4j. `confidentialRead` tells the service (for the audit
# event) whether the account was actually returned, without it having to look at the text.
RETURN_INTERVIEWS_OF_EPISODE: Final[LiteralString] = (
    """
MATCH (c:Child)-[:HAD]->(e:Episode {id: $episodeId})
WHERE """
    + EPISODE_VISIBLE
    + """
MATCH (e)-[:FOLLOWED_BY]->(ri:ReturnInterview)
WITH c, e, ri, $wantConfidential AND """
    + RHI_CONFIDENTIAL_VISIBLE
    + """ AS confidential
ORDER BY coalesce(ri.offeredAt, ri.dueAt, ri.completedAt, ri.declinedAt), ri.id
RETURN ri {
  .id, .status, .offeredAt, .completedAt, .declinedAt, .dueAt,
  .summaryPlaces, .summaryPeople, .summaryWith, .summaryRiskTypes,
  episodeId: e.id,
  providerAgencyId: [(ri)-[:BY]->(p:Agency) | p.id][0],
  confidentialAccount: CASE WHEN confidential THEN ri.confidentialAccount END,
  confidentialRead: confidential AND ri.confidentialAccount IS NOT NULL
} AS interview
"""
)

# The agency registry tokens are checked against (mpdb/auth/registry.py): public reference data.
AGENCY_REGISTRY: Final[LiteralString] = """
MATCH (a:Agency) WHERE a.kind IS NOT NULL
RETURN a.id AS id, a.kind AS kind
"""

FORCES: Final[LiteralString] = """
MATCH (f:Force)
RETURN f {.code, .name, .shortName, .nation,
          latitude: f.centroid.latitude, longitude: f.centroid.longitude} AS force
ORDER BY f.code
"""

LOCAL_AUTHORITIES: Final[LiteralString] = """
MATCH (la:LocalAuthority)
WHERE $forceCode IS NULL OR EXISTS { (la)-[:IN_FORCE]->(:Force {code: $forceCode}) }
RETURN la {.code, .name, .nation, kind: la.laKind,
           latitude: la.centroid.latitude, longitude: la.centroid.longitude,
           forceCodes: [(la)-[:IN_FORCE]->(f:Force) | f.code]} AS la
ORDER BY la.code
"""
