"""Cypher for loading reference data and synthetic data sets (mpdb/ingest).

Every query is parameterised and batched: `UNWIND $rows AS row ...` with one row per node (its
properties in `row.props`, the ids of its relationship targets beside them). Optional targets are
written in unit subqueries: a `MATCH` on a null id matches nothing, so the relationship is simply
not created and the outer row is kept. The data loads use CREATE (fast); the loader guarantees a
fresh graph (see mpdb/ingest/synthetic/loader.py). Reference data uses MERGE (idempotent).
"""

from typing import Final, LiteralString

# --- reference data (idempotent) -------------------------------------------------------------

MERGE_FORCES: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (f:Force:Agency {id: row.code})
SET f += row.props, f.code = row.code,
    f.centroid = point({latitude: row.lat, longitude: row.lon})
"""

MERGE_LOCAL_AUTHORITIES: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (la:LocalAuthority:Agency {id: row.code})
SET la += row.props, la.code = row.code,
    la.centroid = point({latitude: row.lat, longitude: row.lon})
WITH la, row
UNWIND row.forces AS fs
MATCH (f:Force {code: fs.code})
MERGE (la)-[r:IN_FORCE]->(f)
SET r.share = fs.share
"""

MERGE_AGENCIES: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (a:Agency {id: row.id})
SET a += row.props
"""

# --- synthetic data (fresh graph only) --------------------------------------------------------
# Temporal values travel as ISO strings in `row.dt` (datetimes) and `row.d` (dates) and are
# converted here: the Python driver's client-side datetime encoding costs ~0.3 ms per value,
# which made temporal parameters the bottleneck of the whole load (measured: 3k rows/s with one
# datetime per row vs 50k rows/s with strings).

CREATE_LOCATIONS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (la:LocalAuthority {code: row.props.laCode})
MATCH (f:Force {code: row.props.forceCode})
CREATE (n:Location)
SET n = row.props, n.point = point({latitude: row.lat, longitude: row.lon})
CREATE (n)-[:IN_LA]->(la), (n)-[:IN_FORCE]->(f)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
"""

CREATE_ESTABLISHMENTS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (l:Location {id: row.locationId})
CREATE (n:Establishment)
SET n = row.props
CREATE (n)-[:AT_LOCATION]->(l)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
"""

CREATE_PERSONS: Final[LiteralString] = """
UNWIND $rows AS row
CREATE (n:Person)
SET n = row.props
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
CALL (n, row) { UNWIND keys(row.d) AS k SET n[k] = date(row.d[k]) }
"""

CREATE_CHILDREN: Final[LiteralString] = """
UNWIND $rows AS row
CREATE (n:Child)
SET n = row.props
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
CALL (n, row) { UNWIND keys(row.d) AS k SET n[k] = date(row.d[k]) }
CALL (n, row) {
  MATCH (home:Location {id: row.homeLocationId})
  CREATE (n)-[:HOME_AT]->(home)
}
CALL (n, row) {
  MATCH (la:LocalAuthority {code: row.lookedAfterBy})
  CREATE (n)-[:LOOKED_AFTER_BY]->(la)
}
"""

CREATE_PLACEMENTS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (c:Child {id: row.childId})
MATCH (l:Location {id: row.locationId})
MATCH (placing:LocalAuthority {code: row.placingLa})
MATCH (host:LocalAuthority {code: row.hostLa})
MATCH (f:Force {code: row.forceCode})
CREATE (n:Placement)
SET n = row.props
CREATE (c)-[:PLACED_IN]->(n), (n)-[:AT_LOCATION]->(l), (n)-[:PLACED_BY]->(placing),
       (n)-[:HOSTED_BY]->(host), (n)-[:IN_FORCE_AREA]->(f)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
CALL (n, row) { UNWIND keys(row.d) AS k SET n[k] = date(row.d[k]) }
CALL (n, row) {
  MATCH (e:Establishment {id: row.establishmentId})
  CREATE (n)-[:AT]->(e)
}
"""

CREATE_FLAGS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (c:Child {id: row.childId})
MATCH (a:Agency {id: row.raisedBy})
CREATE (n:Flag)
SET n = row.props
CREATE (c)-[:HAS_FLAG]->(n), (n)-[:RAISED_BY]->(a)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
CALL (n, row) { UNWIND keys(row.d) AS k SET n[k] = date(row.d[k]) }
"""

CREATE_ASSOCIATIONS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (c:Child {id: row.childId})
MATCH (p:Person {id: row.personId})
CREATE (c)-[r:ASSOCIATES_WITH]->(p)
SET r = row.props
WITH r, row
CALL (r, row) { UNWIND keys(row.dt) AS k SET r[k] = datetime(row.dt[k]) }
CALL (r, row) { UNWIND keys(row.d) AS k SET r[k] = date(row.d[k]) }
"""

CREATE_EPISODES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (c:Child {id: row.childId})
CREATE (n:Episode)
SET n = row.props
CREATE (c)-[:HAD]->(n)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
CALL (n, row) {
  MATCH (p:Placement {id: row.placementId})
  CREATE (n)-[:MISSING_FROM]->(p)
}
CALL (n, row) {
  MATCH (l:Location {id: row.fromLocationId})
  CREATE (n)-[:MISSING_FROM_LOCATION]->(l)
}
CALL (n, row) {
  MATCH (l:Location {id: row.lastSeenLocationId})
  CREATE (n)-[:LAST_SEEN_AT]->(l)
}
CALL (n, row) {
  MATCH (l:Location {id: row.foundLocationId})
  CREATE (n)-[:FOUND_AT]->(l)
}
CALL (n, row) {
  MATCH (f:Force {code: row.reportedTo})
  CREATE (n)-[:REPORTED_TO]->(f)
}
CALL (n, row) {
  MATCH (f:Force {code: row.foundBy})
  CREATE (n)-[:FOUND_BY]->(f)
}
"""

CREATE_WITH_CHILD: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (e:Episode {id: row.episodeId})
MATCH (c:Child {id: row.childId})
CREATE (e)-[:WITH_CHILD {source: row.source}]->(c)
"""

CREATE_WITH_PERSON: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (e:Episode {id: row.episodeId})
MATCH (p:Person {id: row.personId})
CREATE (e)-[:WITH_PERSON {source: row.source}]->(p)
"""

CREATE_WENT_TO: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (e:Episode {id: row.episodeId})
MATCH (l:Location {id: row.locationId})
CREATE (e)-[:WENT_TO {at: datetime(row.at), source: row.source}]->(l)
"""

CREATE_RISK_ASSESSMENTS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (e:Episode {id: row.episodeId})
CREATE (n:RiskAssessment)
SET n = row.props
CREATE (e)-[:ASSESSED_IN]->(n)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
"""

CREATE_RETURN_INTERVIEWS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (e:Episode {id: row.episodeId})
MATCH (a:Agency {id: row.by})
CREATE (n:ReturnInterview)
SET n = row.props
CREATE (e)-[:FOLLOWED_BY]->(n), (n)-[:BY]->(a)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
"""

CREATE_REFERRALS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (e:Episode {id: row.episodeId})
CREATE (n:Referral)
SET n = row.props
CREATE (e)-[:TRIGGERED]->(n)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
"""

CREATE_EPISODE_RECORDS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (e:Episode {id: row.episodeId})
CREATE (n:EpisodeRecord)
SET n = row.props
CREATE (n)-[:RECORD_OF]->(e)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
"""

CREATE_PLACEMENT_NOTIFICATIONS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (p:Placement {id: row.aboutId})
MATCH (src:Agency {id: row.from})
MATCH (dst:Agency {id: row.to})
CREATE (n:Notification)
SET n = row.props
CREATE (n)-[:ABOUT]->(p), (n)-[:FROM]->(src), (n)-[:TO]->(dst)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
"""

CREATE_EPISODE_NOTIFICATIONS: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (e:Episode {id: row.aboutId})
MATCH (src:Agency {id: row.from})
MATCH (dst:Agency {id: row.to})
CREATE (n:Notification)
SET n = row.props
CREATE (n)-[:ABOUT]->(e), (n)-[:FROM]->(src), (n)-[:TO]->(dst)
WITH n, row
CALL (n, row) { UNWIND keys(row.dt) AS k SET n[k] = datetime(row.dt[k]) }
"""

# --- bookkeeping ----------------------------------------------------------------------------

DATASET_STATE: Final[LiteralString] = """
OPTIONAL MATCH (d:DatasetInfo {id: 'seed'})
RETURN d {.*} AS info,
       EXISTS { MATCH (:Child) } OR EXISTS { MATCH (:Episode) } OR EXISTS { MATCH (:Location) }
         AS hasData
"""

WRITE_DATASET_INFO: Final[LiteralString] = """
MERGE (d:DatasetInfo {id: 'seed'})
SET d += $props
"""

ALL_CHILD_IDS: Final[LiteralString] = "MATCH (c:Child) RETURN c.id AS id ORDER BY id"

CONSTRAINT_NAMES: Final[LiteralString] = "SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names"

# Deleting in label order keeps every transaction small: satellites and episodes first, then the
# nodes they pointed at, and the dense agency nodes last. Schema (constraints, indexes,
# SchemaMigration) and the append-only audit trail are kept.
RESET_LABEL_ORDER: Final[tuple[str, ...]] = (
    "RiskAssessment", "ReturnInterview", "Referral", "EpisodeRecord", "Notification",
    "Episode", "Flag", "Placement", "Child", "Person", "Establishment", "Location",
    "IdempotencyKey", "DatasetInfo", "LocalAuthority", "Force", "Agency",
)

# The label is checked against RESET_LABEL_ORDER before it is spliced in (labels cannot be
# parameters in Neo4j 5 Community).
RESET_LABEL_TEMPLATE: Final[str] = """
MATCH (n:`{label}`)
CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 10000 ROWS
"""

# The audit trail (events AND the head that chains them) outlives any reset: it is append-only.
# So does the alert outbox: delivery cursors (the seq a process delivered up to) stay valid, and an
# alert already raised stays raised (delivery re-checks access, so one about a deleted child is
# delivered to nobody).
RESET_REMAINING: Final[LiteralString] = """
MATCH (n) WHERE NOT n:SchemaMigration AND NOT n:AuditEvent AND NOT n:AuditHead
  AND NOT n:OutboxEvent AND NOT n:OutboxHead
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
"""

LABEL_COUNT_TEMPLATE: Final[str] = "MATCH (n:`{label}`) RETURN count(n) AS n"
