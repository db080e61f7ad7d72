"""Cypher that finds who receives an alert (mpdb/alerts/recipients.py, kinds.py) and what the
scheduler looks at (mpdb/alerts/scheduler.py). Run on the write's own transaction AFTER the change
and after REFRESH_ACCESS, so the recipients are those of the graph as it will commit.

No access scope: these statements never return a record to a caller. They name agencies (reference
data) and record ids, which become thin outbox events; delivery re-checks, per recipient, what it
may read (mpdb/alerts/, delivery side).
"""

from typing import Final, LiteralString

# The holders of each subject's child, as [agency, basis] pairs (bases: mpdb/alerts/kinds.py). The
# child's whole identity counts (SAME_AS: access follows identity, docs/ACCESS.md). A placement is
# current while it has no endDate; a placement whose postcode did not resolve gives its stand-in
# force no basis, exactly as in REFRESH_ACCESS. `episodeId` (may be null) adds the force the episode
# is reported to.
# `properties(p).hostResolution`, not `p.hostResolution`: in a store where no placement ever had that
# property (no import met an unresolved postcode) Neo4j answers this read-only statement, on every
# mutation that alerts, with an UnknownPropertyKeyWarning that the driver logs with the whole
# statement. A map lookup is not checked against the known property keys.
HOLDERS: Final[LiteralString] = """
UNWIND $subjects AS s
MATCH (:Child {id: s.childId})-[:SAME_AS*0..]-(c:Child)
WITH s, collect(DISTINCT c) AS members
RETURN s.childId AS childId, s.episodeId AS episodeId, COLLECT {
  UNWIND members AS c MATCH (c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) RETURN [la.code, 'responsible_la'] AS h
  UNION
  UNWIND members AS c MATCH (c)-[:HOME_AT]->(l:Location) WHERE l.laCode IS NOT NULL RETURN [l.laCode, 'home_la'] AS h
  UNION
  UNWIND members AS c MATCH (c)-[:HOME_AT]->(l:Location) WHERE l.forceCode IS NOT NULL
  RETURN [l.forceCode, 'home_force'] AS h
  UNION
  UNWIND members AS c MATCH (c)-[:PLACED_IN]->(p:Placement)-[:PLACED_BY]->(la:LocalAuthority)
  WHERE p.endDate IS NULL RETURN [la.code, 'placing_la'] AS h
  UNION
  UNWIND members AS c MATCH (c)-[:PLACED_IN]->(p:Placement)-[:HOSTED_BY]->(la:LocalAuthority)
  WHERE p.endDate IS NULL RETURN [la.code, 'host_la'] AS h
  UNION
  UNWIND members AS c MATCH (c)-[:PLACED_IN]->(p:Placement)-[:IN_FORCE_AREA]->(f:Force)
  WHERE p.endDate IS NULL AND coalesce(properties(p).hostResolution, '') <> 'unresolved'
  RETURN [f.code, 'host_force'] AS h
  UNION
  MATCH (:Episode {id: s.episodeId})-[:REPORTED_TO]->(f:Force) RETURN [f.code, 'reporting_force'] AS h
} AS holders
"""

# Adults of concern linked to a child (`xm`): by association or as a companion in an episode; and
# the children linked to an adult (`p`) the same two ways. The same two links the shared-associates
# intelligence counts (mpdb/graph/queries/intel_links.py, _SHARED_ASSOCIATE_LINKS).
_ADULTS_OF: Final[LiteralString] = """
    CALL (xm) {
      MATCH (xm)-[:ASSOCIATES_WITH]->(p:Person {role: 'adult_of_concern'}) RETURN p
      UNION
      MATCH (xm)-[:HAD]->(:Episode)-[:WITH_PERSON]->(p:Person {role: 'adult_of_concern'}) RETURN p
    }"""
_CHILDREN_OF_ADULT: Final[LiteralString] = """
    CALL (p) {
      MATCH (p)<-[:ASSOCIATES_WITH]-(y:Child) RETURN y
      UNION
      MATCH (p)<-[:WITH_PERSON]-(:Episode)<-[:HAD]-(y:Child) RETURN y
    }"""

# The children linked to each child in $childIds (any record of its identity): co-missing (a
# WITH_CHILD either way: went missing together) or sharing an adult of concern. The child's own
# records are never its links.
LINKED_CHILDREN: Final[LiteralString] = (
    """
UNWIND $childIds AS xid
MATCH (:Child {id: xid})-[:SAME_AS*0..]-(xm:Child)
WITH xid, collect(DISTINCT xm) AS xs
CALL (xs) {
  UNWIND xs AS xm
  MATCH (xm)-[:HAD]->(:Episode)-[:WITH_CHILD]->(y:Child) RETURN y, 'co_missing' AS link
  UNION
  UNWIND xs AS xm
  MATCH (y:Child)-[:HAD]->(:Episode)-[:WITH_CHILD]->(xm) RETURN y, 'co_missing' AS link
  UNION
  UNWIND xs AS xm"""
    + _ADULTS_OF
    + _CHILDREN_OF_ADULT
    + """
  RETURN y, 'shared_adult' AS link
}
WITH xid, xs, y, link WHERE NOT y IN xs
RETURN xid AS childId, y.id AS linkedId, collect(DISTINCT link) AS links
"""
)

# For each (episode, person, child) in $links whose person is an adult of concern: the OTHER
# children linked to that adult (not the episode's own child's identity).
CHILDREN_OF_ADULTS: Final[LiteralString] = (
    """
UNWIND $links AS l
MATCH (p:Person {id: l.personId}) WHERE p.role = 'adult_of_concern'
MATCH (:Child {id: l.childId})-[:SAME_AS*0..]-(xm:Child)
WITH l, p, collect(DISTINCT xm) AS xs"""
    + _CHILDREN_OF_ADULT
    + """
WITH l, xs, y WHERE NOT y IN xs
RETURN l.episodeId AS episodeId, l.personId AS personId, l.childId AS childId, collect(DISTINCT y.id) AS linkedIds
"""
)

# --- the scheduler ---------------------------------------------------------------------------------

# `alertsFrom`: nothing that fell due before it alerts (history). A first load of history (`mpdb
# seed`, `mpdb load`) moves it to the load's time; the scheduler's first pass sets it when unset, so
# a store that predates the outbox does not page every duty it ever missed.
ALERTS_FROM: Final[LiteralString] = """
MATCH (h:OutboxHead {id: 'outbox'})
SET h.alertsFrom = coalesce(h.alertsFrom, $at)
RETURN h.alertsFrom AS alertsFrom
"""

HISTORY_LOADED: Final[LiteralString] = """
MATCH (h:OutboxHead {id: 'outbox'})
SET h.alertsFrom = CASE WHEN h.alertsFrom IS NULL OR h.alertsFrom < $at THEN $at ELSE h.alertsFrom END
RETURN h.alertsFrom AS alertsFrom
"""

# Keys already in the outbox, so a scheduler pass appends (and takes the head lock) only when there
# is something new.
EXISTING_KEYS: Final[LiteralString] = """
UNWIND $keys AS k
MATCH (o:OutboxEvent {key: k})
RETURN collect(k) AS keys
"""

# Open episodes reported in [$from, $to): the candidates for a strategy meeting (the rule area's
# days decide, in Python, with the rule area of reportMissing: mpdb/domain/rules.py rule_area).
STRATEGY_MEETING_CANDIDATES: Final[LiteralString] = """
MATCH (e:Episode)
WHERE e.reportedAt >= $from AND e.reportedAt < $to AND e.status = 'open'
MATCH (c:Child)-[:HAD]->(e)
RETURN e.id AS episodeId, c.id AS childId, e.reportedAt AS reportedAt,
       [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0] AS responsibleLa,
       [(c)-[:HOME_AT]->(h:Location) | h.laCode][0] AS homeLa,
       coalesce([(e)-[:MISSING_FROM]->(:Placement)-[:HOSTED_BY]->(la:LocalAuthority) | la.code][0],
                [(e)-[:MISSING_FROM_LOCATION]->(l:Location) | l.laCode][0]) AS missingFromLa
ORDER BY e.reportedAt, e.id
"""

# The LA a return interview is owed to: its rule area (the responsible LA, else the home LA, else
# the LA the child went missing from), the same coalesce as the rhi_overdue duty statement
# (intel_areas.py `_rhi_overdue_items`), whose item names only the agency that owes it.
RHI_OWED_TO: Final[LiteralString] = """
UNWIND $ids AS riId
MATCH (c:Child)-[:HAD]->(e:Episode)-[:FOLLOWED_BY]->(ri:ReturnInterview {id: riId})
RETURN ri.id AS id, coalesce([(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0],
                             [(c)-[:HOME_AT]->(home:Location) | home.laCode][0],
                             [(e)-[:MISSING_FROM_LOCATION]->(l:Location) | l.laCode][0]) AS ruleLa
"""
