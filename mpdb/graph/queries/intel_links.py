"""Cypher for the link queries of graph intelligence: risk profile, co-missing links and groups,
shared associates, an LA's linked children.

Every query takes `$agencyId`/`$national` (AccessScope) and `$asOf` (a datetime: nothing reported
after it exists for the query, so answers are reproducible). Visibility uses the canonical
predicates from `access.py`, re-targeted at the variable names a query needs (a link query binds
two children and two episodes at once, so the fixed `c`/`e` names cannot all apply).

Co-missing evidence rows all share one shape, so one aggregator (mpdb/intel/co_missing.py) turns
them into links: `fromId`, `other` (the linked child, names only when visible), `kind`, `source`,
`e1` (an episode of the `from` child), `e2` (an episode of the other child), `places`, `person`,
`at` (the evidence date when no episode carries it).
"""

from typing import Final, LiteralString

from mpdb.graph.queries.access import CHILD_VISIBLE, EPISODE_VISIBLE
from mpdb.graph.queries.summary import child_summary


def child_visible(child: LiteralString) -> LiteralString:
    """CHILD_VISIBLE for a child bound to `child` instead of `c`."""
    out = CHILD_VISIBLE.replace("c.", child + ".")
    if "IN " + child + "." not in out:  # access.py changed shape: fail at import, not silently open
        raise RuntimeError("CHILD_VISIBLE no longer names `c.`; update intel_links.child_visible")
    return out


def episode_visible(child: LiteralString, episode: LiteralString) -> LiteralString:
    """EPISODE_VISIBLE for child `child` and its episode `episode` instead of `c` and `e`."""
    out = EPISODE_VISIBLE.replace("IN c.", "IN " + child + ".").replace("IN e.", "IN " + episode + ".")
    if ("IN " + child + "." not in out) or ("IN " + episode + "." not in out):
        raise RuntimeError("EPISODE_VISIBLE no longer names `c.`/`e.`; update intel_links.episode_visible")
    return out


# The `other` child of a link: names and date of birth only when the caller may see the child
# (the summary form needs the date of birth only for an age band, computed in Python and dropped).
# `id` is internal: the API shows it only for a child the caller may see (LinkedChildRef).
def _other(with_flags: bool) -> LiteralString:
    """`with_flags`: plus the summary's active flags, for statements that return one record per
    evidence row (linkedChildren); coMissing sends them once per child (CO_MISSING_FOR_CHILD)."""
    flags: LiteralString = (",\n  activeFlags: " + child_summary("other") + ".activeFlags") if with_flags else ""
    return (
        """
other {
  .id, .pseudonym, .dateOfBirth, .lookedAfter,
  visible: otherVisible,
  givenName: CASE WHEN otherVisible THEN other.givenName END,
  familyName: CASE WHEN otherVisible THEN other.familyName END,
  sex: CASE WHEN otherVisible THEN other.sex END,
  responsibleAuthority: [(other)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0]"""
        + flags
        + """
}"""
    )


_OTHER: Final[LiteralString] = _other(False)
_OTHER_WITH_FLAGS: Final[LiteralString] = _other(True)


def _episode(var: LiteralString, owner: LiteralString, visible: LiteralString, packed: bool = False) -> LiteralString:
    """An episode brief; `packed`: its times as [epochSeconds, microsecond, offsetSeconds] (EPISODE_TIMES),
    which the repository turns back into datetimes: hydrating temporal values is most of what the
    Python driver spends on a busy child's co-missing rows (~70 us each, 8 per row)."""
    def t(expr: LiteralString) -> LiteralString:
        if not packed:
            return expr
        return "[" + expr + ".epochSeconds, " + expr + ".microsecond, " + expr + ".offsetSeconds]"

    return (
        "CASE WHEN " + var + " IS NULL THEN null ELSE " + var + " {"
        " .id, .status, childId: " + owner + ".id,"
        " reportedAt: " + t(var + ".reportedAt") + ", foundAt: " + t(var + ".foundAt") + ","
        " returnedAt: " + t(var + ".returnedAt") + ","
        " endAt: " + t("coalesce(" + var + ".foundAt, " + var + ".returnedAt)") + ","
        " reportedTo: [(" + var + ")-[:REPORTED_TO]->(f:Force) | f.code][0],"
        " foundBy: [(" + var + ")-[:FOUND_BY]->(f:Force) | f.code][0],"
        " placeLas: [(" + var + ")-[:MISSING_FROM_LOCATION|FOUND_AT|WENT_TO]->(l:Location) | l.laCode],"
        " visible: " + visible + "} END"
    )


# The keys `_episode(..., packed=True)` sends as [epochSeconds, microsecond, offsetSeconds].
EPISODE_TIMES: Final = ("reportedAt", "foundAt", "returnedAt", "endAt")


def _place(l: LiteralString) -> LiteralString:
    return (
        "{id: " + l + ".id, name: " + l + ".name, kind: " + l + ".kind, laCode: " + l + ".laCode,"
        " forceCode: " + l + ".forceCode, cell: " + l + ".cell,"
        " latitude: " + l + ".point.latitude, longitude: " + l + ".point.longitude}"
    )


_PLACE: Final[LiteralString] = _place("l")


# The places of an evidence row: `placeNodes` is [l1] (same place) or [l1, l2], l1 reached through
# the root's episode (which the caller may open), l2 through the other child's episode e2. A place
# the caller knows only from an episode it may not open, and which is private (a home, foster home
# or address: $privateKinds), is the other child's private place: it leaves Neo4j as its ~500 m
# grid cell only (no id, name or coordinates), as hot spots show it to analysts.
_EVIDENCE_PLACES: Final[LiteralString] = (
    "[i IN range(0, size(placeNodes) - 1) |"
    " CASE WHEN i = 0 OR e2Visible OR NOT placeNodes[i].kind IN $privateKinds THEN " + _place("placeNodes[i]")
    + " ELSE {id: null, name: null, kind: placeNodes[i].kind, laCode: placeNodes[i].laCode,"
    " forceCode: placeNodes[i].forceCode, cell: placeNodes[i].cell, latitude: null, longitude: null} END]"
)

# Window overlap: [reportedAt, coalesce(foundAt, returnedAt, $asOf)] of e1 and e2 intersect.
_OVERLAP: Final[LiteralString] = (
    "e2.reportedAt <= coalesce(e1.foundAt, e1.returnedAt, $asOf)"
    " AND e1.reportedAt <= coalesce(e2.foundAt, e2.returnedAt, $asOf)"
    " AND e2.reportedAt <= $asOf"
)

# One hop of co-missing links from each child in $childIds (visible roots only; the root's own
# episode, when the evidence has one, must be one the caller may open). A linked child the caller
# may not read comes back flagged `visible: false`, with all its evidence (its episodes flagged
# `visible: false` where the caller may not open them), for the service to show in summary form:
# the link itself is what a safeguarding lead needs to know. A child the caller may read keeps the
# evidence the caller may open only, unless `$unopenedEvidence` (an LA's linkedChildren view,
# which has always shown the dated evidence behind a link).
# The co-missing evidence rows of one bound child `root` (the part after `root` is matched).
# Same place/cell and same adult: the root's episodes are grouped by place (by person) first, so
# each candidate place's (person's) episodes are read once and compared with the root's windows in
# memory; matched pairwise, a busy place or adult was re-expanded for every root episode there
# (national, busiest child: 7,853 + 6,858 candidate rows -> 2,283 + 127). Same rows either way.
_ROOT_LINK_ROWS: Final[LiteralString] = (
    """
CALL (root) {
  MATCH (root)-[:HAD]->(e1:Episode)-[w:WITH_CHILD]->(other:Child)
  WHERE e1.reportedAt >= $since AND e1.reportedAt <= $asOf AND other <> root
  RETURN other, 'EXPLICIT' AS kind, w.source AS source, e1, null AS e2, [] AS placeNodes,
         null AS person, null AS at
  UNION ALL
  MATCH (root)<-[w:WITH_CHILD]-(e2:Episode)<-[:HAD]-(other:Child)
  WHERE e2.reportedAt >= $since AND e2.reportedAt <= $asOf AND other <> root
  RETURN other, 'EXPLICIT' AS kind, w.source AS source, null AS e1, e2, [] AS placeNodes,
         null AS person, null AS at
  UNION ALL
  MATCH (root)-[:HAD]->(e1:Episode)-[r1:FOUND_AT|WENT_TO]->(l1:Location)
  WHERE e1.reportedAt >= $since AND e1.reportedAt <= $asOf
  WITH root, l1, collect({e1: e1, r1: type(r1), from: e1.reportedAt,
                          to: coalesce(e1.foundAt, e1.returnedAt, $asOf)}) AS visits
  CALL (l1) {
    MATCH (l2:Location) WHERE l1.cell IS NOT NULL AND l2.cell = l1.cell RETURN l2
    UNION
    RETURN l1 AS l2
  }
  WITH root, l2, collect({l1: l1, visits: visits}) AS sources
  MATCH (l2)<-[r2:FOUND_AT|WENT_TO]-(e2:Episode)
  WHERE e2.reportedAt <= $asOf
  WITH root, l2, sources, r2, e2, e2.reportedAt AS from2, coalesce(e2.foundAt, e2.returnedAt, $asOf) AS to2
  UNWIND sources AS s
  UNWIND [v IN s.visits WHERE from2 <= v.to AND v.from <= to2] AS v
  WITH root, s.l1 AS l1, l2, v.e1 AS e1, v.r1 AS r1Type, r2, e2
  MATCH (e2)<-[:HAD]-(other:Child)
  WHERE other <> root
  RETURN other, CASE WHEN l1 = l2 THEN 'SAME_PLACE' ELSE 'SAME_CELL' END AS kind,
         r1Type + '/' + type(r2) AS source, e1, e2,
         CASE WHEN l1 = l2 THEN [l1] ELSE [l1, l2] END AS placeNodes, null AS person, null AS at
  UNION ALL
  MATCH (root)-[:HAD]->(e1:Episode)-[w1:WITH_PERSON]->(p:Person)
  WHERE e1.reportedAt >= $since AND e1.reportedAt <= $asOf
  WITH root, p, collect({e1: e1, w1: w1, from: e1.reportedAt,
                         to: coalesce(e1.foundAt, e1.returnedAt, $asOf)}) AS visits
  MATCH (p)<-[w2:WITH_PERSON]-(e2:Episode)
  WHERE e2.reportedAt <= $asOf
  WITH root, p, visits, w2, e2, e2.reportedAt AS from2, coalesce(e2.foundAt, e2.returnedAt, $asOf) AS to2
  UNWIND [v IN visits WHERE v.w1 <> w2 AND from2 <= v.to AND v.from <= to2] AS v
  WITH root, p, v.e1 AS e1, e2
  MATCH (e2)<-[:HAD]-(other:Child)
  WHERE other <> root
  RETURN other, 'SAME_ADULT' AS kind, null AS source, e1, e2, [] AS placeNodes,
         p {.id, .name, .role} AS person, null AS at
  UNION ALL
  MATCH (root)-[a1:ASSOCIATES_WITH]->(p:Person {role: 'adult_of_concern'})<-[a2:ASSOCIATES_WITH]-(other:Child)
  WHERE other <> root AND (a1.recordedAt >= $since OR a2.recordedAt >= $since)
    AND a1.recordedAt <= $asOf AND a2.recordedAt <= $asOf
  RETURN other, 'SHARED_ASSOCIATE' AS kind, coalesce(a1.kind, '') + '/' + coalesce(a2.kind, '') AS source,
         null AS e1, null AS e2, [] AS placeNodes, p {.id, .name, .role} AS person,
         CASE WHEN a1.recordedAt > a2.recordedAt THEN a1.recordedAt ELSE coalesce(a2.recordedAt, a1.recordedAt) END AS at
}
WITH root, other, kind, source, e1, e2, placeNodes, person, at,
     """
    + child_visible("other")
    + """ AS otherVisible,
     e1 IS NULL OR """
    + episode_visible("root", "e1")
    + """ AS e1Visible,
     e2 IS NULL OR """
    + episode_visible("other", "e2")
    + """ AS e2Visible
WHERE e1Visible AND ($unopenedEvidence OR e2Visible OR NOT otherVisible)
WITH root, other, kind, source, e1, e2, person, at, otherVisible, e1Visible, e2Visible,
     """
    + _EVIDENCE_PLACES
    + """ AS places
"""
)

_LINK_ROW_MAP: Final[LiteralString] = (
    """{fromId: root.id, other: """
    + _OTHER
    + """, kind: kind, source: source, places: places, person: person, at: at,
   e1: """
    + _episode("e1", "root", "e1Visible", packed=True)
    + """,
   e2: """
    + _episode("e2", "other", "e2Visible", packed=True)
    + "}"
)

CO_MISSING_LINKS: Final[LiteralString] = (
    """
UNWIND $childIds AS rootId
MATCH (root:Child {id: rootId})
WHERE """
    + child_visible("root")
    + _ROOT_LINK_ROWS
    + """
RETURN root.id AS fromId, """
    + _OTHER_WITH_FLAGS
    + """ AS other, kind, source, places, person, at,
       """
    + _episode("e1", "root", "e1Visible")
    + """ AS e1,
       """
    + _episode("e2", "other", "e2Visible")
    + """ AS e2
"""
)

# coMissing in ONE round trip: the root child (visible, else no row) as its identity (`members`:
# the records joined to it by confirmed SAME_AS, itself alone when none; the service counts them
# as one child and drops links between them), its hop-1 evidence rows and,
# when $hops = 2, the evidence rows of every hop-1 child the caller may read (the caller drops
# links back to known children), plus each linked child's active flags once, as [id, flags], for
# its summary form. Rows as CO_MISSING_LINKS with $unopenedEvidence false, packed into lists,
# episode times packed (see `_episode`).
CO_MISSING_FOR_CHILD: Final[LiteralString] = (
    """
MATCH (r:Child {id: $childId})
WHERE """
    + child_visible("r")
    + """
CALL (r) {
  MATCH (r)-[:SAME_AS*0..]-(m:Child)
  RETURN collect(DISTINCT m) AS members
}
CALL (members) {
  UNWIND members AS root
"""
    + _ROOT_LINK_ROWS
    + """
  RETURN collect("""
    + _LINK_ROW_MAP
    + """) AS hop1
}
CALL (hop1) {
  UNWIND CASE WHEN $hops = 2 THEN hop1 ELSE [] END AS x
  WITH DISTINCT x.other.id AS rootId
  MATCH (root:Child {id: rootId})
  WHERE """
    + child_visible("root")
    + _ROOT_LINK_ROWS
    + """
  RETURN collect("""
    + _LINK_ROW_MAP
    + """) AS hop2
}
RETURN r {.id, .pseudonym, .givenName, .familyName, .dateOfBirth, .sex, .lookedAfter,
          responsibleAuthority: [(r)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0]} AS child,
       [m IN members | m.id] AS memberIds, hop1, hop2,
       COLLECT {
         UNWIND hop1 + hop2 AS x
         WITH DISTINCT x.other.id AS oid
         MATCH (other:Child {id: oid})
         RETURN [oid, """
    + child_summary("other")
    + """.activeFlags]
       } AS activeFlags
"""
)

# The national (or caller-wide) co-missing edge list for groups, in ONE query and ONE packed row,
# ids and times only: explicit links and same-adult-while-missing pairs come back as link entries;
# same-place candidates come back as (location, cell, episode) entries that the caller sweeps for
# overlapping windows in Python, because a pairwise join in Cypher is quadratic in the episodes at
# a busy place. Names, episode details and places are projected afterwards (GROUP_DETAILS) for the
# children in groups only: nationally almost every entry belongs to no group, and hydrating full
# projections (thousands of temporal values) for all of them dominated the query's time.
# Times are [epochSeconds, microsecond] pairs: exact to the microsecond, as the driver's datetimes.
GROUP_EDGE_IDS: Final[LiteralString] = (
    """
CALL () {
  MATCH (e1:Episode)
  WHERE e1.reportedAt >= $since AND e1.reportedAt <= $asOf
  MATCH (root:Child)-[:HAD]->(e1)-[w:WITH_CHILD]->(other:Child)
  WHERE other <> root
  RETURN 'link' AS row, root, other, 'EXPLICIT' AS kind, w.source AS source, e1, null AS e2,
         null AS p, null AS l
  UNION ALL
  MATCH (e1:Episode)
  WHERE e1.reportedAt >= $since AND e1.reportedAt <= $asOf
  MATCH (root:Child)-[:HAD]->(e1)-[:WITH_PERSON]->(p:Person)<-[:WITH_PERSON]-(e2:Episode)<-[:HAD]-(other:Child)
  WHERE other <> root AND e2.reportedAt >= $since AND root.id < other.id AND """
    + _OVERLAP
    + """
  RETURN 'link' AS row, root, other, 'SAME_ADULT' AS kind, null AS source, e1, e2, p, null AS l
  UNION ALL
  MATCH (e1:Episode)
  WHERE e1.reportedAt >= $since AND e1.reportedAt <= $asOf
  MATCH (root:Child)-[:HAD]->(e1)-[r:FOUND_AT|WENT_TO]->(l:Location)
  RETURN 'place' AS row, root, null AS other, type(r) AS kind, null AS source, e1, null AS e2,
         null AS p, l
}
WITH row, root, other, kind, source, e1, e2, p, l
WHERE """
    + child_visible("root")
    + " AND "
    + episode_visible("root", "e1")
    + """
  AND (other IS NULL OR """
    + child_visible("other")
    + """)
  AND (e2 IS NULL OR """
    + episode_visible("other", "e2")
    + """)
WITH row, root, other, kind, source, e1, e2, p, l,
     coalesce(e1.foundAt, e1.returnedAt) AS end1, coalesce(e2.foundAt, e2.returnedAt) AS end2
RETURN collect({row: row, kind: kind, source: source, child: root.id, other: other.id, person: p.id,
  e1: [e1.id, e1.reportedAt.epochSeconds, e1.reportedAt.microsecond, end1.epochSeconds, end1.microsecond],
  e2: CASE WHEN e2 IS NULL THEN null
      ELSE [e2.id, e2.reportedAt.epochSeconds, e2.reportedAt.microsecond, end2.epochSeconds, end2.microsecond] END,
  loc: CASE WHEN l IS NULL THEN null ELSE [l.id, l.cell] END}) AS rows
"""
)

# Every confirmed SAME_AS pair (rare: read through the relationship type index), so the groups
# count the records of one child as one member (mpdb/intel/co_missing.py). Ids only.
SAME_AS_PAIRS: Final[LiteralString] = """
MATCH (a:Child)-[:SAME_AS]->(b:Child)
RETURN collect([a.id, b.id]) AS pairs
"""

# The projections behind the grouped entries of GROUP_EDGE_IDS, by id, under the same scope.
GROUP_DETAILS: Final[LiteralString] = (
    """
RETURN COLLECT {
  UNWIND $childIds AS cid
  MATCH (c:Child {id: cid})
  WHERE """
    + CHILD_VISIBLE
    + """
  RETURN c {.id, .pseudonym, .dateOfBirth, .givenName, .familyName, .sex, .lookedAfter,
            responsibleAuthority: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0],
            activeFlags: """
    + child_summary("c")
    + """.activeFlags}
} AS children,
COLLECT {
  UNWIND $episodeIds AS eid
  MATCH (c:Child)-[:HAD]->(e:Episode {id: eid})
  WHERE """
    + EPISODE_VISIBLE
    + """
  RETURN """
    + _episode("e", "c", "true")
    + """
} AS episodes,
COLLECT {
  UNWIND $locationIds AS lid
  MATCH (l:Location {id: lid})
  RETURN """
    + _PLACE
    + """
} AS places,
COLLECT {
  UNWIND $personIds AS pid
  MATCH (p:Person {id: pid})
  RETURN p {.id, .name, .role}
} AS persons
"""
)

def identity_key(var: LiteralString) -> LiteralString:
    """The id naming the identity of child `var` (graph_schema/MODEL.md): its lowest record id over
    SAME_AS, or its own id (one relationship check) when it has none."""
    return (
        "CASE WHEN EXISTS { (" + var + ")-[:SAME_AS]-(:Child) } THEN COLLECT { MATCH (" + var
        + ")-[:SAME_AS*0..]-(im:Child) RETURN im.id AS iid ORDER BY iid LIMIT 1 }[0] ELSE " + var + ".id END"
    )


# sharedAssociates in two statements (one read transaction): SHARED_ASSOCIATE_COUNTS ranks every
# qualifying person by ids and counts only, then SHARED_ASSOCIATES projects the links and children
# of the page's persons. Nationally ~600 persons qualify with ~12,000 links between them; projecting
# (and hydrating in the driver) every one of those links, to show 20 persons, was most of the time.
# Both read the links through the same branches, so a person's counts are those of its detail row.
#
# Issue 8: an adult is counted over ALL its links (every child, every force), and a caller gets the
# adult when it can see the adult at all: at least one link through a record it may open (an
# episode naming the adult that it may open, or an association of a child it may read; the rule
# of PERSONS_SEEN in writes.py). `seen` marks those links.
_SHARED_ASSOCIATE_LINKS: Final[LiteralString] = (
    """
CALL (p) {
  MATCH (p)<-[w:WITH_PERSON]-(e:Episode)<-[:HAD]-(c:Child)
  WHERE e.reportedAt >= $since AND e.reportedAt <= $asOf
  RETURN c, w, e, null AS a, """
    + episode_visible("c", "e")
    + """ AS seen
  UNION ALL
  MATCH (p)<-[a:ASSOCIATES_WITH]-(c:Child)
  WHERE a.recordedAt >= $since AND a.recordedAt <= $asOf
  RETURN c, null AS w, null AS e, a, """
    + child_visible("c")
    + """ AS seen
}
"""
)

# The force of a link: the force its episode was reported to, or the force that recorded the
# association (null when an LA or another agency recorded it). SHARED_ASSOCIATE_COUNTS spells
# the two halves out per branch; keep them in step.
_LINK_FORCE: Final[LiteralString] = (
    "CASE WHEN e IS NOT NULL THEN [(e)-[:REPORTED_TO]->(f:Force) | f.code][0]"
    " ELSE COLLECT { MATCH (f:Force {code: a.recordedBy}) RETURN f.code }[0] END"
)

# Every person the caller can see with >= $minChildren linked children (identities: the records of
# one child count once) over >= $minForces forces,
# as [id, children, forces] in ONE packed row. A degree pre-filter on the relationship store keeps
# the expansion to candidate persons; forces are looked up only for persons that have enough
# children.
SHARED_ASSOCIATE_COUNTS: Final[LiteralString] = (
    """
MATCH (p:Person)
WHERE COUNT { (p)<-[:WITH_PERSON|ASSOCIATES_WITH]-() } >= $minChildren
"""
    + _SHARED_ASSOCIATE_LINKS
    + """
WITH p, count(DISTINCT """ + identity_key("c") + """) AS children, collect(e) AS es, collect(a) AS assocs,
     count(CASE WHEN seen THEN 1 END) AS seenLinks
WHERE children >= $minChildren AND seenLinks > 0
WITH p, children, COLLECT {
  UNWIND es AS e
  RETURN [(e)-[:REPORTED_TO]->(f:Force) | f.code][0] AS force
  UNION
  UNWIND assocs AS a
  RETURN COLLECT { MATCH (f:Force {code: a.recordedBy}) RETURN f.code }[0] AS force
} AS forces
WITH p, children, size([f IN forces WHERE f IS NOT NULL]) AS forces
WHERE forces >= $minForces
RETURN collect([p.id, children, forces]) AS counts
"""
)

# The links and children of the persons in $personIds (a page of SHARED_ASSOCIATE_COUNTS): a child
# the caller may read with its names, any other in summary form (summary.py) with its id for the
# service only; each link flagged `visible` when it is a record the caller may open (the API
# shows the episode id of those only).
SHARED_ASSOCIATES: Final[LiteralString] = (
    """
UNWIND $personIds AS pid
MATCH (p:Person {id: pid})
"""
    + _SHARED_ASSOCIATE_LINKS
    + """
WITH p, c, collect(CASE WHEN e IS NOT NULL
  THEN {kind: 'WITH_PERSON', source: w.source, episodeId: e.id, visible: seen, at: e.reportedAt,
        endAt: coalesce(e.foundAt, e.returnedAt), force: """
    + _LINK_FORCE
    + """}
  ELSE {kind: 'ASSOCIATES_WITH', source: a.kind, episodeId: null, visible: seen, at: a.recordedAt, endAt: null,
        force: """
    + _LINK_FORCE
    + """} END) AS links
WITH p, c, links, """
    + child_visible("c")
    + """ AS cv
WITH p, collect({identity: """ + identity_key("c") + """,
                  child: c {.id, .pseudonym, .dateOfBirth, .lookedAfter, visible: cv,
                           givenName: CASE WHEN cv THEN c.givenName END,
                           familyName: CASE WHEN cv THEN c.familyName END,
                           sex: CASE WHEN cv THEN c.sex END,
                           responsibleAuthority: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0],
                           activeFlags: """
    + child_summary("c")
    + """.activeFlags},
                 links: links}) AS children
RETURN p {.id, .name, .role, .dateOfBirth} AS person, children
"""
)


# An episode's owners (`owners`: the Child nodes that HAD it) and the force it was reported to
# (`force`: a code or null), for an episode bound to `e`, from ONE walk of its relationships. An
# episode is not a dense node, so Neo4j keeps no per-type groups for it: every typed expand from
# an episode reads all of its ~12-15 relationships, and looking up the owner and then the force
# read them twice. Directions are checked as the patterns `(e)<-[:HAD]-(:Child)` and
# `(e)-[:REPORTED_TO]->(:Force)` would; the force keeps `[...][0]`'s meaning (the first one).
_EPISODE_OWNERS_AND_FORCE: Final[LiteralString] = """CALL (e) {
    MATCH (e)-[r:HAD|REPORTED_TO]-(n)
    RETURN collect(CASE WHEN type(r) = 'HAD' AND startNode(r) = n AND n:Child THEN n END) AS owners,
           collect(CASE WHEN type(r) = 'REPORTED_TO' AND endNode(r) = n AND n:Force THEN [n.code] END)[0][0] AS force
  }"""


# A peer: names, sex and full flags only when the caller may read the peer (`ov`); the summary
# form (summary.py) always, for the API's `summary`.
_PEER: Final[LiteralString] = (
    """o {.id, .pseudonym, .dateOfBirth, .lookedAfter, visible: ov,
           givenName: CASE WHEN ov THEN o.givenName END, familyName: CASE WHEN ov THEN o.familyName END,
           sex: CASE WHEN ov THEN o.sex END,
           responsibleAuthority: [(o)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0],
           flags: CASE WHEN ov THEN [(o)-[:HAS_FLAG]->(fl:Flag) WHERE fl.status = 'active' |
                   fl {.id, .type, .status, .raisedAt, raisedBy: [(fl)-[:RAISED_BY]->(a:Agency) | a {.id, .name, .kind}][0]}] END,
           summary: """
    + child_summary("o")
    + "}"
)

# An adult's reach (issue 8), for an adult bound to `p` and linked to the child (`members`):
# `byForce`, how many children the adult is linked to up to $asOf per force, over ALL children
# whatever the caller may read ([force, children] pairs, force null for an association recorded
# by an agency that is not a force: counts only, no child leaves Neo4j through this), and
# `otherChildren`, how many OTHER children the caller may read are linked to the adult at any
# time. Both are counted from one list of the adult's links, so each of the adult's episodes is
# walked once (_EPISODE_OWNERS_AND_FORCE) instead of three times (owner and force for byForce,
# owner again for otherChildren).
_ADULT_REACH: Final[LiteralString] = (
    """COLLECT {
            MATCH (p)<-[:WITH_PERSON]-(e:Episode)
            """
    + _EPISODE_OWNERS_AND_FORCE
    + """
            UNWIND owners AS x
            RETURN {x: x, force: force, inTime: e.reportedAt <= $asOf} AS link
            UNION ALL
            MATCH (p)<-[a:ASSOCIATES_WITH]-(x:Child)
            RETURN {x: x, force: COLLECT { MATCH (f:Force {code: a.recordedBy}) RETURN f.code }[0],
                    inTime: a.recordedAt IS NULL OR a.recordedAt <= $asOf} AS link
          } AS links
  WITH p, links, COLLECT { UNWIND links AS l WITH l WHERE l.inTime
                           WITH l.force AS force, count(DISTINCT l.x) AS n RETURN [force, n] } AS byForce
  RETURN {person: p {.id, .name, .role, .dateOfBirth}, byForce: byForce,
          otherChildren: COUNT { UNWIND links AS l WITH DISTINCT l.x AS x
                                 WHERE NOT x IN members AND """
    + child_visible("x")
    + """ RETURN x }}"""
)

# Everything riskProfile needs about one visible child, in one round trip (the child as its
# identity: episodes, peers, adults, flags and placements of every record joined to it by a
# confirmed SAME_AS, `members`; just the child itself when it has none, one relationship check)
# (including each linked adult's reach, _ADULT_REACH). Entries derived from the child's own
# episodes (peer links of its episodes, adults met while missing, places visited) carry
# `at: null` (places: the visit's own `r.at` only) and the service fills the date in from
# `episodes`: a frequent runner has hundreds of them, and every temporal value sent costs the
# Python driver far more to hydrate than the query costs Neo4j. For the same reason each place is
# sent once, with its visits (`placeVisits`: [{place, visits: [{role, episodeId, at}]}]), not
# once per visit: a runner is found at the same few places again and again.
# The child's visible episodes are expanded ONCE (`eps`), and each of them in ONE walk of its
# relationships: an episode is a sparse node, so each typed expand (REPORTED_TO, FOUND_BY,
# WITH_CHILD, WITH_PERSON, FOUND_AT|WENT_TO, FOLLOWED_BY...) read all of its relationships again;
# one multi-type expand reads them once and sorts them by type. Every section then starts from
# that list, the episode's force included (it was looked up again per peer link and adult link).
# PROFILE, national's busiest child (107 episodes): 30,966 -> 12,123 db hits (bench/RESULTS.md, issue 10 round 4).
RISK_PROFILE: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})
WHERE """
    + child_visible("c")
    + """
CALL (c) {
  MATCH (c)-[:SAME_AS*0..]-(m:Child)
  RETURN collect(DISTINCT m) AS members
}
CALL (members) {
  UNWIND members AS m
  MATCH (m)-[:HAD]->(e:Episode)
  WHERE e.reportedAt <= $asOf AND """
    + episode_visible("m", "e")
    + """
  CALL (e, members) {
    MATCH (e)-[r:REPORTED_TO|FOUND_BY|MISSING_FROM|MISSING_FROM_LOCATION|WITH_CHILD|WITH_PERSON|FOUND_AT|WENT_TO|FOLLOWED_BY]->(n)
    WITH e, members, r, n, type(r) AS t
    // [x][0][0], not [x][0]: the first match's value even when it is null, as [(e)-->() | x][0] gives.
    RETURN collect(CASE WHEN t = 'REPORTED_TO' AND n:Force THEN [n.code] END)[0][0] AS reportedTo,
           collect(CASE WHEN t = 'FOUND_BY' AND n:Force THEN [n.code] END)[0][0] AS foundBy,
           collect(CASE WHEN t = 'MISSING_FROM' AND n:Placement THEN [n.id] END)[0][0] AS missingFromPlacement,
           collect(CASE WHEN t = 'MISSING_FROM_LOCATION' AND n:Location THEN [n.laCode] END)[0][0] AS missingFromLa,
           collect(CASE WHEN t = 'WITH_CHILD' AND n:Child AND NOT n IN members
                        THEN {childId: n.id, source: r.source} END) AS withChild,
           collect(CASE WHEN t = 'WITH_PERSON' AND n:Person THEN {personId: n.id, source: r.source} END) AS withPerson,
           collect(CASE WHEN (t = 'FOUND_AT' OR t = 'WENT_TO') AND n:Location
                        THEN {role: t, episodeId: e.id, at: r.at, l: n} END) AS visits,
           collect(CASE WHEN t = 'FOLLOWED_BY' AND n:ReturnInterview THEN n END) AS interviews
  }
  RETURN collect({
    episode: e {.id, .status, .reportedAt, .foundAt, .returnedAt, .riskGrade, .gradeScheme, .category,
                reportedTo: reportedTo, foundBy: foundBy, missingFromPlacement: missingFromPlacement,
                missingFromLa: missingFromLa},
    withChild: withChild, withPerson: withPerson, visits: visits, interviews: interviews}) AS eps
}
WITH c, members, eps, COLLECT {
  UNWIND eps AS x
  UNWIND x.withChild AS w
  RETURN {childId: w.childId, episodeId: x.episode.id, episodeOf: c.id, source: w.source, at: null, endAt: null,
          visible: true, force: x.episode.reportedTo} AS x
  UNION ALL
  UNWIND members AS m
  MATCH (m)<-[w:WITH_CHILD]-(e:Episode)
  WHERE e.reportedAt <= $asOf
  """
    + _EPISODE_OWNERS_AND_FORCE
    + """
  UNWIND owners AS o
  WITH w, e, o, force, """
    + episode_visible("o", "e")
    + """ AS visible
  WHERE NOT o IN members AND (visible OR NOT """
    + child_visible("o")
    + """)
  RETURN {childId: o.id, episodeId: e.id, episodeOf: o.id, source: w.source, at: e.reportedAt,
          endAt: coalesce(e.foundAt, e.returnedAt), visible: visible, force: force} AS x
} AS peerLinks
WITH c, members, eps, peerLinks, COLLECT {
  UNWIND eps AS x
  UNWIND x.withPerson AS w
  RETURN {personId: w.personId, kind: 'WITH_PERSON', source: w.source, episodeId: x.episode.id, at: null,
          force: x.episode.reportedTo, recordedBy: null} AS x
  UNION ALL
  UNWIND members AS m
  MATCH (m)-[a:ASSOCIATES_WITH]->(p:Person)
  RETURN {personId: p.id, kind: 'ASSOCIATES_WITH', source: a.kind, episodeId: null,
          at: a.recordedAt, force: null, recordedBy: a.recordedBy} AS x
} AS adultLinks
RETURN c {
  .id, .pseudonym, .givenName, .familyName, .dateOfBirth, .sex, .ethnicity, .lookedAfter,
  .unaccompanied, .recordedBy, .recordedAt, .sourceSystem,
  responsibleAuthority: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0]
} AS child,
[x IN eps | x.episode] AS episodes,
COLLECT {
  UNWIND members AS m
  MATCH (m)-[:HAS_FLAG]->(fl:Flag)
  WHERE fl.raisedAt IS NULL OR fl.raisedAt <= $asOf
  RETURN fl {.id, .type, .status, .raisedAt, .reviewDue, .reviewedAt, .expiredAt, .note, .recordedBy,
             raisedBy: [(fl)-[:RAISED_BY]->(a:Agency) | a {.id, .name, .kind}][0]}
} AS flags,
COLLECT {
  UNWIND members AS m
  MATCH (m)-[:PLACED_IN]->(p:Placement)
  RETURN p {.id, .startDate, .endDate, .placementType, .distanceKm, .outOfArea, .crossForce,
            .dcsApproved, .recordedBy,
            placedBy: [(p)-[:PLACED_BY]->(la:LocalAuthority) | la.code][0],
            hostedBy: [(p)-[:HOSTED_BY]->(la:LocalAuthority) | la.code][0],
            forceArea: [(p)-[:IN_FORCE_AREA]->(f:Force) | f.code][0],
            establishment: [(p)-[:AT]->(x:Establishment) | x {.id, .name, .kind, .urn}][0],
            location: [(p)-[:AT_LOCATION]->(l:Location) | """
    + _PLACE
    + """][0]}
} AS placements,
COLLECT {
  UNWIND eps AS x
  UNWIND x.visits AS v
  WITH v.l AS l, collect({role: v.role, episodeId: v.episodeId, at: v.at}) AS visits
  RETURN {place: """ + _PLACE + """, visits: visits}
} AS placeVisits,
peerLinks, adultLinks,
COLLECT {
  UNWIND peerLinks AS x
  WITH DISTINCT x.childId AS oid
  MATCH (o:Child {id: oid})
  WITH o, """
    + child_visible("o")
    + """ AS ov
  RETURN """
    + _PEER
    + """
} AS peers,
COLLECT {
  UNWIND eps AS x
  UNWIND x.interviews AS ri
  RETURN ri {.id, .status, .offeredAt, .completedAt, .dueAt, .summaryPlaces, .summaryPeople,
             .summaryWith, .summaryRiskTypes, episodeId: x.episode.id,
             by: [(ri)-[:BY]->(a:Agency) | a {.id, .name, .kind}][0]}
} AS returnInterviews,
COLLECT {
  UNWIND adultLinks AS al
  WITH DISTINCT al.personId AS pid
  MATCH (p:Person {id: pid})
  WITH p, """
    + _ADULT_REACH
    + """
} AS reach
"""
)

# An LA's anchors: its looked-after children (wherever placed) and children other LAs placed in
# its area, each with the placement current at $asOf (or the latest one).
LA_ANCHORS: Final[LiteralString] = (
    """
CALL () {
  MATCH (c:Child)-[:LOOKED_AFTER_BY]->(:LocalAuthority {code: $la})
  RETURN c, 'LOOKED_AFTER' AS relation
  UNION
  MATCH (la:LocalAuthority {code: $la})<-[:HOSTED_BY]-(p:Placement)<-[:PLACED_IN]-(c:Child)
  WHERE (p.startDate IS NULL OR p.startDate <= date($asOf)) AND (p.endDate IS NULL OR p.endDate >= date($asOf))
    AND NOT EXISTS { (c)-[:LOOKED_AFTER_BY]->(la) }
  RETURN c, 'PLACED_IN' AS relation
}
WITH c, relation
WHERE """
    + child_visible("c")
    + """
RETURN relation,
       c {.id, .pseudonym, .givenName, .familyName, .dateOfBirth, .sex, .lookedAfter,
          responsibleAuthority: [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0],
          activeFlags: """
    + child_summary("c")
    + """.activeFlags} AS child,
       [(c)-[:PLACED_IN]->(p:Placement)
          WHERE (p.startDate IS NULL OR p.startDate <= date($asOf)) AND (p.endDate IS NULL OR p.endDate >= date($asOf)) |
        p {.id, .startDate, .endDate, .placementType, .outOfArea, .crossForce, .distanceKm,
           placedBy: [(p)-[:PLACED_BY]->(x:LocalAuthority) | x.code][0],
           hostedBy: [(p)-[:HOSTED_BY]->(x:LocalAuthority) | x.code][0],
           forceArea: [(p)-[:IN_FORCE_AREA]->(f:Force) | f.code][0]}] AS placements
"""
)

# Children found in the same ~500 m cell as any anchor child (not necessarily at the same time):
# the "shared hot spot" link. Evidence rows in the co-missing shape (kind SHARED_HOTSPOT).
SHARED_HOTSPOT_LINKS: Final[LiteralString] = (
    """
UNWIND $childIds AS rootId
MATCH (root:Child {id: rootId})
WHERE """
    + child_visible("root")
    + """
MATCH (root)-[:HAD]->(e1:Episode)-[:FOUND_AT]->(l1:Location)
WHERE e1.reportedAt >= $since AND e1.reportedAt <= $asOf AND l1.cell IS NOT NULL
  AND """
    + episode_visible("root", "e1")
    + """
MATCH (l2:Location {cell: l1.cell})<-[:FOUND_AT]-(e2:Episode)<-[:HAD]-(other:Child)
WHERE other <> root AND e2.reportedAt >= $since AND e2.reportedAt <= $asOf
  AND NOT other.id IN $childIds
WITH root, other, e1, e2, CASE WHEN l1 = l2 THEN [l1] ELSE [l1, l2] END AS placeNodes,
     """
    + child_visible("other")
    + """ AS otherVisible,
     true AS e1Visible,
     """
    + episode_visible("other", "e2")
    + """ AS e2Visible
RETURN root.id AS fromId, """
    + _OTHER_WITH_FLAGS
    + """ AS other, 'SHARED_HOTSPOT' AS kind, 'FOUND_AT/FOUND_AT' AS source,
       """
    + _EVIDENCE_PLACES
    + """ AS places, null AS person, null AS at,
       """
    + _episode("e1", "root", "e1Visible")
    + """ AS e1,
       """
    + _episode("e2", "other", "e2Visible")
    + """ AS e2
"""
)

# Reference look-ups (public data) to validate area arguments.
LA_EXISTS: Final[LiteralString] = """
RETURN EXISTS { MATCH (:LocalAuthority {code: $la}) } AS found
"""

AREA_KIND: Final[LiteralString] = """
OPTIONAL MATCH (f:Force {code: $code})
OPTIONAL MATCH (la:LocalAuthority {code: $code})
RETURN CASE WHEN f IS NOT NULL THEN 'force' WHEN la IS NOT NULL THEN 'local_authority' END AS kind
"""
