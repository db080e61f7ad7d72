"""Cypher for the episode-lifecycle writes. Every statement runs inside ONE write transaction per
mutation (mpdb/services/writes.py). Statements that name a child or episode take `$agencyId` /
`$national` and match only what the caller may see, so a record the caller cannot see is
indistinguishable from one that does not exist.

Locking: the first statement that touches a child or episode writes a throw-away property on it
(`SET x._lock = true REMOVE x._lock`), which takes the node's write lock until commit. Two
concurrent writes about the same child therefore run one after the other, and everything the
second reads after its lock (open episodes, flags) includes what the first committed.
"""

from typing import Final, LiteralString

from mpdb.graph.queries.access import (
    CHILD_LOCATABLE,
    CHILD_VISIBLE,
    EPISODE_VISIBLE,
    EPISODE_WRITABLE,
    PERSON_LINKABLE,
    PERSON_VISIBLE,
)

# --- idempotency -----------------------------------------------------------------------------

# MERGE on the unique key: a concurrent request with the same key blocks here until the first
# commits (then sees its result) or rolls back (then claims the key itself).
CLAIM_IDEMPOTENCY_KEY: Final[LiteralString] = """
MERGE (k:IdempotencyKey {key: $key})
  ON CREATE SET k.agencyId = $agencyId, k.operation = $operation, k.requestHash = $requestHash,
                k.createdAt = datetime(), k._claimed = true
WITH k, coalesce(k._claimed, false) AS claimed
REMOVE k._claimed
RETURN claimed, k.operation AS operation, k.requestHash AS requestHash, k.resultJson AS resultJson
"""

STORE_IDEMPOTENT_RESULT: Final[LiteralString] = """
MATCH (k:IdempotencyKey {key: $key})
SET k.resultJson = $resultJson
"""

# --- reference look-ups ----------------------------------------------------------------------

AGENCY: Final[LiteralString] = """
MATCH (a:Agency {id: $id})
RETURN a.id AS id, a.kind AS kind, a:Force AS isForce, a:LocalAuthority AS isLa
"""

# The LA and force of a place: the given codes, or the LA whose centroid is nearest the point
# (among the LAs of the given force area, when one is given).
RESOLVE_AREA: Final[LiteralString] = """
MATCH (la:LocalAuthority)-[r:IN_FORCE]->(f:Force)
WHERE ($laCode IS NULL OR la.code = $laCode) AND ($forceCode IS NULL OR f.code = $forceCode)
WITH la, f, r,
     CASE WHEN $lat IS NULL THEN 0.0
          ELSE point.distance(la.centroid, point({latitude: $lat, longitude: $lon})) END AS d
ORDER BY d, r.share DESC, la.code
LIMIT 1
RETURN la.code AS laCode, f.code AS forceCode
"""

EXISTING_LOCATION: Final[LiteralString] = """
MATCH (l:Location {id: $id})
RETURN l.id AS id, l.laCode AS laCode, l.forceCode AS forceCode,
       l.point.latitude AS latitude, l.point.longitude AS longitude, l.postcode AS postcode
"""

CREATE_LOCATION: Final[LiteralString] = """
MATCH (la:LocalAuthority {code: $laCode}), (f:Force {code: $forceCode})
CREATE (l:Location {id: $id})
SET l += $props,
    l.point = CASE WHEN $lat IS NULL THEN null ELSE point({latitude: $lat, longitude: $lon}) END
CREATE (l)-[:IN_LA]->(la), (l)-[:IN_FORCE]->(f)
RETURN l.id AS id
"""

# --- children --------------------------------------------------------------------------------

CHILD_BY_LAC_REF: Final[LiteralString] = """
MATCH (c:Child {lacRefLa: $lacRefLa, lacChildRef: $lacChildRef})
WITH c ORDER BY c.recordedAt LIMIT 1
SET c._lock = true
REMOVE c._lock
RETURN c.id AS id
"""

MERGE_NEW_CHILD: Final[LiteralString] = """
MERGE (c:Child {id: $id})
  ON CREATE SET c += $props, c._created = true
WITH c, coalesce(c._created, false) AS created
REMOVE c._created
WITH c, created
OPTIONAL MATCH (la:LocalAuthority {code: $lookedAfterBy})
FOREACH (_ IN CASE WHEN created AND la IS NOT NULL THEN [1] ELSE [] END |
  MERGE (c)-[:LOOKED_AFTER_BY]->(la))
WITH c, created
OPTIONAL MATCH (home:Location {id: $homeId})
FOREACH (_ IN CASE WHEN created AND home IS NOT NULL THEN [1] ELSE [] END |
  MERGE (c)-[:HOME_AT]->(home))
RETURN created
"""

# Whether a client-chosen child id is taken, and by a child the caller may see: registerChild
# answers a visible one as "already registered" and refuses an invisible one like a taken key.
CHILD_ID_TAKEN: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})
RETURN c.id AS id, """
    + CHILD_VISIBLE
    + """ AS visible
"""
)

# Registrations by one agency run one after the other: a double submission, or two colleagues
# registering the same child at once, then finds the first one's child as a candidate instead of
# creating a second. (Across agencies they still run concurrently: see README, registerChild.)
LOCK_AGENCY_REGISTRATIONS: Final[LiteralString] = """
MATCH (a:Agency {id: $agencyId})
SET a._lock = true
REMOVE a._lock
"""

# `$created`: the child was created by this very transaction, so it has no access lists yet.
LOCK_CHILD: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})
WHERE $created OR """
    + CHILD_VISIBLE
    + """
SET c._lock = true
REMOVE c._lock
RETURN c.id AS id, c.dateOfBirth AS dateOfBirth
"""
)

# Read after LOCK_CHILD in the same transaction: sees every committed write about the child.
CHILD_FACTS: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})
WHERE $created OR """
    + CHILD_VISIBLE
    + """
RETURN c.id AS id, c.lookedAfter AS lookedAfter, c.dateOfBirth AS dateOfBirth,
       [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0] AS responsibleLa,
       [(c)-[:HOME_AT]->(home:Location) | home.laCode][0] AS homeLa,
       [(c)-[:HAD]->(e:Episode {status: 'open'}) | e.id][0] AS openEpisodeId,
       [(c)-[:HAD]->(e:Episode) | e.reportedAt] AS reportedTimes,
       [(c)-[:HAS_FLAG]->(fl:Flag {status: 'active'}) | fl {.id, .type}] AS activeFlags,
       [(c)-[:HOME_AT]->(h:Location) WHERE h.point IS NOT NULL |
          {latitude: h.point.latitude, longitude: h.point.longitude}][0] AS home,
       [(c)-[:PLACED_IN]->(p:Placement) WHERE p.endDate IS NULL | p.id] AS openPlacementIds
"""
)

# Children a caller may name as companions: those it sees, and (for a force) those missing now, on
# the locate basis: "who else is missing right now with them" is a locate fact.
VISIBLE_CHILDREN: Final[LiteralString] = (
    """
UNWIND $ids AS cid
MATCH (c:Child {id: cid})
WHERE """
    + CHILD_VISIBLE
    + " OR "
    + CHILD_LOCATABLE
    + """
RETURN c.id AS id
"""
)

# Persons carry no access lists: PERSON_LINKABLE (access.py) decides, so `visible` is false for anyone
# else's peers and family and the service answers NOT_FOUND as for an unknown id; adults of concern
# are linkable by every case role. Locking them keeps a concurrent link or report from racing a
# change to the same person.
PERSONS_SEEN: Final[LiteralString] = (
    """
UNWIND $ids AS pid
MATCH (p:Person {id: pid})
SET p._lock = true
REMOVE p._lock
RETURN p.id AS id, """
    + PERSON_VISIBLE
    + """ AS visible, """
    + PERSON_LINKABLE
    + """ AS linkable
"""
)

MERGE_PERSONS: Final[LiteralString] = """
UNWIND $persons AS person
MERGE (p:Person {id: person.id})
  ON CREATE SET p += person.props, p += $prov
RETURN p.id AS id
"""

PLACEMENT_OF_CHILD: Final[LiteralString] = (
    """
MATCH (c:Child {id: $childId})-[:PLACED_IN]->(p:Placement {id: $placementId})
WHERE $created OR """
    + CHILD_VISIBLE
    + """
RETURN p.id AS id, [(p)-[:HOSTED_BY]->(la:LocalAuthority) | la.code][0] AS hostLa
"""
)

# --- episodes --------------------------------------------------------------------------------

CREATE_EPISODE: Final[LiteralString] = """
MATCH (c:Child {id: $childId}), (f:Force {code: $reportingForce})
CREATE (e:Episode {id: $episodeId})
SET e += $props, e.reportedAt = datetime($reportedAt),
    e.lastSeenAt = CASE WHEN $lastSeenAt IS NULL THEN null ELSE datetime($lastSeenAt) END
CREATE (c)-[:HAD]->(e), (e)-[:REPORTED_TO]->(f)
WITH e
OPTIONAL MATCH (p:Placement {id: $missingFromPlacementId})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (e)-[:MISSING_FROM]->(p))
WITH e
OPTIONAL MATCH (l:Location {id: $missingFromLocationId})
FOREACH (_ IN CASE WHEN l IS NULL THEN [] ELSE [1] END | CREATE (e)-[:MISSING_FROM_LOCATION]->(l))
WITH e
OPTIONAL MATCH (ls:Location {id: $lastSeenLocationId})
FOREACH (_ IN CASE WHEN ls IS NULL THEN [] ELSE [1] END |
  CREATE (e)-[:LAST_SEEN_AT {at: e.lastSeenAt}]->(ls))
RETURN e.id AS id
"""

# `basis`: 'record' when the caller may read the episode in full, 'locate' when only the locate
# basis lets it write (mpdb.auth.access.check_episode_write decides what it may write then).
LOCK_EPISODE: Final[LiteralString] = (
    """
MATCH (c:Child)-[:HAD]->(e:Episode {id: $episodeId})
WHERE """
    + EPISODE_WRITABLE
    + """
SET c._lock = true, e._lock = true
REMOVE c._lock, e._lock
RETURN c.id AS childId, CASE WHEN """
    + EPISODE_VISIBLE
    + """ THEN 'record' ELSE 'locate' END AS basis
"""
)

EPISODE_FACTS: Final[LiteralString] = (
    """
MATCH (c:Child)-[:HAD]->(e:Episode {id: $episodeId})
WHERE """
    + EPISODE_WRITABLE
    + """
RETURN e.id AS id, c.id AS childId, e.status AS status, e.reportedAt AS reportedAt,
       e.lastSeenAt AS lastSeenAt, e.foundAt AS foundAt, e.returnedAt AS returnedAt,
       e.riskGrade AS riskGrade, e.gradeScheme AS gradeScheme, c.lookedAfter AS lookedAfter,
       c.dateOfBirth AS childDateOfBirth,
       [(c)-[:LOOKED_AFTER_BY]->(la:LocalAuthority) | la.code][0] AS responsibleLa,
       [(c)-[:HOME_AT]->(home:Location) | home.laCode][0] AS homeLa,
       coalesce([(e)-[:MISSING_FROM]->(:Placement)-[:HOSTED_BY]->(la:LocalAuthority) | la.code][0],
                [(e)-[:MISSING_FROM_LOCATION]->(l:Location) | l.laCode][0]) AS missingFromLa,
       [(c)-[:HAS_FLAG]->(fl:Flag {status: 'active'}) | fl {.id, .type}] AS activeFlags,
       [(e)-[:FOLLOWED_BY]->(ri:ReturnInterview) | ri {.id, .status, .dueAt, .offeredAt}][0] AS interview,
       [(c)-[:PLACED_IN]->(p:Placement) | p.id] AS placementIds
"""
)

# The recording agency's own record of the episode (what `reconciliation` compares).
CREATE_EPISODE_RECORD: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId})
CREATE (r:EpisodeRecord {id: $id})
SET r += $props, r.startAt = datetime($startAt)
CREATE (r)-[:RECORD_OF]->(e)
RETURN r.id AS id
"""

# Only the record this API wrote for the episode: another system's record (an import) keeps
# whatever that system said.
END_EPISODE_RECORD: Final[LiteralString] = """
MATCH (:Episode {id: $episodeId})<-[:RECORD_OF]-(r:EpisodeRecord {sourceSystem: $sourceSystem, sourceRef: $episodeId})
SET r.endAt = datetime($endAt)
RETURN r.id AS id
"""

# Only the caller's own record: an agency's account is changed by that agency alone.
SET_RECORD_MISSING_TYPE: Final[LiteralString] = """
MATCH (:Episode {id: $episodeId})<-[:RECORD_OF]-(r:EpisodeRecord {sourceSystem: $sourceSystem, sourceRef: $episodeId})
WHERE r.missingType IS NOT NULL AND r.agencyId = $agencyId
SET r.missingType = $missingType
RETURN r.id AS id
"""

ADD_RISK_ASSESSMENT: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId})
CREATE (ra:RiskAssessment {id: $id})
SET ra += $props, ra.assessedAt = datetime($assessedAt)
CREATE (e)-[:ASSESSED_IN]->(ra)
SET e.riskGrade = ra.grade, e.gradeScheme = ra.scheme
RETURN ra.id AS id
"""

ADD_COMPANIONS: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId})
CALL (e) {
  UNWIND $childIds AS cid
  MATCH (other:Child {id: cid})
  MERGE (e)-[r:WITH_CHILD {source: $source}]->(other)
  RETURN count(*) AS children
}
CALL (e) {
  UNWIND $personIds AS pid
  MATCH (p:Person {id: pid})
  MERGE (e)-[r:WITH_PERSON {source: $source}]->(p)
  RETURN count(*) AS persons
}
RETURN children, persons
"""

# The other direction of "reported missing with": a companion child who is itself missing (an open
# episode) was missing with this child too. Written on the companion's open episode whoever holds
# it, because the companion child is one the caller may see (checked before) and the link is what
# lets the other force see who its child is missing with.
ADD_REVERSE_COMPANIONS: Final[LiteralString] = """
MATCH (c:Child {id: $childId})
UNWIND $companionIds AS cid
MATCH (:Child {id: cid})-[:HAD]->(other:Episode {status: 'open'})
SET other._lock = true
REMOVE other._lock
MERGE (other)-[:WITH_CHILD {source: $source}]->(c)
RETURN other.id AS episodeId
"""

ADD_WENT_TO: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId})
UNWIND $sightings AS s
MATCH (l:Location {id: s.locationId})
CREATE (e)-[:WENT_TO {at: datetime(s.at), source: 'sighting'}]->(l)
RETURN count(*) AS added
"""

SET_WHEREABOUTS_KNOWN: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId})
SET e.whereaboutsKnown = $value
"""

RECORD_FOUND: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId}), (f:Force {code: $forceCode}), (l:Location {id: $locationId})
SET e.foundAt = datetime($foundAt)
CREATE (e)-[:FOUND_BY]->(f), (e)-[:FOUND_AT {at: datetime($foundAt)}]->(l)
RETURN e.id AS id
"""

# A UNION of two index seeks: a label-less `{id: $aboutId}` match would scan every node.
CREATE_NOTIFICATION: Final[LiteralString] = """
CALL () {
  MATCH (e:Episode {id: $aboutId}) RETURN e AS about
  UNION
  MATCH (p:Placement {id: $aboutId}) RETURN p AS about
}
MATCH (src:Agency {id: $fromId}), (dst:Agency {id: $toId})
CREATE (n:Notification {id: $id})
SET n += $props,
    n.sentAt = CASE WHEN $sentAt IS NULL THEN null ELSE datetime($sentAt) END,
    n.dueAt = datetime($dueAt),
    n.ackDueAt = CASE WHEN $ackDueAt IS NULL THEN null ELSE datetime($ackDueAt) END
CREATE (n)-[:ABOUT]->(about), (n)-[:FROM]->(src), (n)-[:TO]->(dst)
RETURN n.id AS id
"""

RECORD_RETURN: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId})
SET e.returnedAt = datetime($returnedAt), e.status = 'closed'
WITH e
OPTIONAL MATCH (p:Placement {id: $placementId})
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END |
  CREATE (e)-[:RETURNED_TO {at: e.returnedAt}]->(p))
WITH e
OPTIONAL MATCH (l:Location {id: $locationId})
FOREACH (_ IN CASE WHEN l IS NULL THEN [] ELSE [1] END |
  CREATE (e)-[:RETURNED_TO {at: e.returnedAt}]->(l))
CREATE (ri:ReturnInterview {id: $interviewId})
SET ri += $interviewProps, ri.dueAt = datetime($dueAt)
CREATE (e)-[:FOLLOWED_BY]->(ri)
RETURN ri.id AS id
"""

UPDATE_RETURN_INTERVIEW: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId})-[:FOLLOWED_BY]->(ri:ReturnInterview {id: $interviewId})
MATCH (provider:Agency {id: $providerId})
SET ri += $props,
    ri.offeredAt = CASE WHEN $offeredAt IS NULL THEN ri.offeredAt ELSE datetime($offeredAt) END,
    ri.completedAt = CASE WHEN $completedAt IS NULL THEN ri.completedAt ELSE datetime($completedAt) END,
    ri.declinedAt = CASE WHEN $declinedAt IS NULL THEN ri.declinedAt ELSE datetime($declinedAt) END
WITH ri, provider
OPTIONAL MATCH (ri)-[old:BY]->(prev:Agency) WHERE prev <> provider
DELETE old
MERGE (ri)-[:BY]->(provider)
RETURN DISTINCT ri.id AS id
"""

# --- placements ------------------------------------------------------------------------------

LA_FACTS: Final[LiteralString] = """
MATCH (la:LocalAuthority {code: $code})
RETURN la.code AS code, la.centroid.latitude AS latitude, la.centroid.longitude AS longitude,
       [(la)-[:IN_FORCE]->(f:Force) | f.code] AS forces
"""

MERGE_ESTABLISHMENT: Final[LiteralString] = """
MERGE (est:Establishment {id: $id})
  ON CREATE SET est += $props, est._created = true
WITH est, coalesce(est._created, false) AS created
REMOVE est._created
WITH est, created
MATCH (l:Location {id: $locationId})
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END | CREATE (est)-[:AT_LOCATION]->(l))
RETURN created, est.kind AS kind
"""

CREATE_PLACEMENT: Final[LiteralString] = """
MATCH (c:Child {id: $childId}), (placing:LocalAuthority {code: $placingLa}),
      (host:LocalAuthority {code: $hostLa}), (f:Force {code: $hostForce}), (l:Location {id: $locationId})
MERGE (p:Placement {id: $placementId})
  ON CREATE SET p._created = true
WITH c, placing, host, f, l, p
WHERE p._created
REMOVE p._created
SET p += $props, p.startDate = date($startDate),
    p.endDate = CASE WHEN $endDate IS NULL THEN null ELSE date($endDate) END
CREATE (c)-[:PLACED_IN]->(p), (p)-[:AT_LOCATION]->(l), (p)-[:PLACED_BY]->(placing),
       (p)-[:HOSTED_BY]->(host), (p)-[:IN_FORCE_AREA]->(f)
MERGE (c)-[:LOOKED_AFTER_BY]->(placing)
SET c.lookedAfter = true
WITH p
OPTIONAL MATCH (est:Establishment {id: $establishmentId})
FOREACH (_ IN CASE WHEN est IS NULL THEN [] ELSE [1] END | CREATE (p)-[:AT]->(est))
RETURN p.id AS id
"""

LOCK_PLACEMENT: Final[LiteralString] = (
    """
MATCH (c:Child)-[:PLACED_IN]->(p:Placement {id: $placementId})
WHERE """
    + CHILD_VISIBLE
    + """
SET c._lock = true
REMOVE c._lock
RETURN c.id AS childId, p.startDate AS startDate, p.endDate AS endDate, p.outOfArea AS outOfArea,
       [(p)-[:PLACED_BY]->(la:LocalAuthority) | la.code][0] AS placingLa,
       [(p)-[:HOSTED_BY]->(la:LocalAuthority) | la.code][0] AS hostLa,
       [(p)-[:AT]->(est:Establishment) | est {.id, .kind}][0] AS establishment
"""
)

END_PLACEMENT: Final[LiteralString] = """
MATCH (p:Placement {id: $placementId})
SET p.endDate = date($endDate)
"""

# --- notifications ---------------------------------------------------------------------------

# Only the recipient acknowledges: anyone else matches nothing (NOT_FOUND).
LOCK_NOTIFICATION_FOR_RECIPIENT: Final[LiteralString] = """
MATCH (n:Notification {id: $notificationId})-[:TO]->(:Agency {id: $agencyId})
SET n._lock = true
REMOVE n._lock
RETURN n.id AS id, n.acknowledgedAt AS acknowledgedAt, n.kind AS kind,
       [(n)-[:ABOUT]->(x) | x.id][0] AS aboutId
"""

# The sender (FROM) or the recipient (TO) of a notification: the service lets only the sender
# mark it sent, and tells the recipient FORBIDDEN (it knows the notification exists); anyone else
# matches nothing (NOT_FOUND).
LOCK_NOTIFICATION_FOR_PARTY: Final[LiteralString] = """
MATCH (n:Notification {id: $notificationId})
WHERE EXISTS { (n)-[:FROM|TO]->(:Agency {id: $agencyId}) }
SET n._lock = true
REMOVE n._lock
WITH n, [(n)-[:ABOUT]->(x) | x][0] AS about
RETURN n.id AS id, n.kind AS kind, n.sentAt AS sentAt,
       [(n)-[:FROM]->(a:Agency) | a.id][0] AS fromId, [(n)-[:TO]->(a:Agency) | a.id][0] AS toId,
       about.id AS aboutId, CASE WHEN about:Episode THEN 'episode' ELSE 'placement' END AS aboutKind,
       about.reportedAt AS reportedAt,
       coalesce([(about)<-[:HAD]-(c:Child) | c.id][0], [(about)<-[:PLACED_IN]-(c:Child) | c.id][0]) AS childId
"""

MARK_NOTIFICATION_SENT: Final[LiteralString] = """
MATCH (n:Notification {id: $notificationId})
SET n.sentAt = datetime($sentAt), n.sentBy = $author, n.ackDueAt = datetime($ackDueAt)
RETURN n.sentAt AS sentAt
"""

ACKNOWLEDGE_NOTIFICATION: Final[LiteralString] = """
MATCH (n:Notification {id: $notificationId})
SET n.acknowledgedAt = datetime($at), n.acknowledgedBy = $author
RETURN n.acknowledgedAt AS acknowledgedAt
"""

# --- flags and associates --------------------------------------------------------------------

CREATE_FLAG: Final[LiteralString] = """
MATCH (c:Child {id: $childId}), (a:Agency {id: $agencyId})
MERGE (f:Flag {id: $flagId})
  ON CREATE SET f._created = true
WITH c, a, f
WHERE f._created
REMOVE f._created
SET f += $props, f.raisedAt = datetime($raisedAt),
    f.reviewDue = CASE WHEN $reviewDue IS NULL THEN null ELSE date($reviewDue) END
CREATE (c)-[:HAS_FLAG]->(f), (f)-[:RAISED_BY]->(a)
RETURN f.id AS id
"""

LOCK_FLAG: Final[LiteralString] = (
    """
MATCH (c:Child)-[:HAS_FLAG]->(f:Flag {id: $flagId})
WHERE """
    + CHILD_VISIBLE
    + """
SET c._lock = true
REMOVE c._lock
RETURN c.id AS childId, f.status AS status, f.raisedAt AS raisedAt, f.type AS type
"""
)

REVIEW_FLAG: Final[LiteralString] = """
MATCH (f:Flag {id: $flagId})
SET f.reviewedAt = datetime($reviewedAt), f.reviewedBy = $agencyId,
    f.reviewDue = CASE WHEN $reviewDue IS NULL THEN null ELSE date($reviewDue) END
"""

EXPIRE_FLAG: Final[LiteralString] = """
MATCH (f:Flag {id: $flagId})
SET f.status = 'expired', f.expiredAt = datetime($expiredAt), f.expiredBy = $agencyId
"""

LINK_ASSOCIATE: Final[LiteralString] = """
MATCH (c:Child {id: $childId}), (p:Person {id: $personId})
MERGE (c)-[r:ASSOCIATES_WITH]->(p)
  ON CREATE SET r.kind = $kind, r.since = CASE WHEN $since IS NULL THEN null ELSE date($since) END,
                r.recordedBy = $agencyId, r.recordedAt = datetime($now), r._created = true
WITH r, coalesce(r._created, false) AS created
REMOVE r._created
RETURN created, r.kind AS kind
"""

CREATE_RETURN_INTERVIEW: Final[LiteralString] = """
MATCH (e:Episode {id: $episodeId})
CREATE (ri:ReturnInterview {id: $interviewId})
SET ri += $props, ri.dueAt = CASE WHEN $dueAt IS NULL THEN null ELSE datetime($dueAt) END
CREATE (e)-[:FOLLOWED_BY]->(ri)
RETURN ri.id AS id
"""
