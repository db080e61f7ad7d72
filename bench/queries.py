"""The benchmarked queries: each one's GraphQL operation, who asks it, its p95 target, and the same
work done in-process through the driver (the service function: the same Cypher statements plus
the same post-processing and audit write, without HTTP, GraphQL or token checks).

Parameters (a child, an area, the window) are chosen from the loaded data by `pick_params`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mpdb.auth.principal import AgencyKind, Role
from mpdb.graph.db import Graph
from mpdb.services.context import ServiceContext

NATIONAL_UNIT = "NCA-MPU"
KENT_POLICE = "E23000032"
MET_POLICE = "E23000001"
FORCE_WINDOW_DAYS = 3 * 365  # coMissing's longest window

ServiceCall = Callable[[ServiceContext, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class BenchQuery:
    name: str
    target_ms: float | None
    agency: str
    agency_kind: AgencyKind
    role: Role
    graphql: str
    variables: Callable[[dict[str, Any]], dict[str, Any]]
    service: ServiceCall


async def _risk_profile(ctx: ServiceContext, p: dict[str, Any], child: str = "childId") -> Any:
    from mpdb.intel.risk_profile import risk_profile

    return await risk_profile(ctx, p[child], p["asOf"])


async def _co_missing(ctx: ServiceContext, p: dict[str, Any], hops: int, child: str = "childId",
                      since_days: int | None = None) -> Any:
    from mpdb.intel.co_missing import co_missing

    since = p["asOf"] - timedelta(days=since_days) if since_days else None
    return await co_missing(ctx, p[child], since, hops, p["asOf"], 20, None)


async def _shared_associates(ctx: ServiceContext, p: dict[str, Any]) -> Any:
    from mpdb.intel.associates import shared_associates

    return await shared_associates(ctx, 3, 2, None, p["asOf"], 20, None)


async def _hotspots(ctx: ServiceContext, p: dict[str, Any], area: str, days: int) -> Any:
    from mpdb.intel.hotspots import HotspotKind, hotspots

    to = p["asOf"].date()
    return await hotspots(ctx, area, HotspotKind.FOUND_AT, to - timedelta(days=days), to, limit=20)


async def _duties(ctx: ServiceContext, p: dict[str, Any]) -> Any:
    from mpdb.intel.duties import DutyKind, duties

    return await duties(ctx, KENT_POLICE, DutyKind.FOUND_NOT_NOTIFIED, as_of=p["asOf"], limit=20)


RISK_PROFILE = """query($id: ID!, $asOf: DateTime) { riskProfile(childId: $id, asOf: $asOf) {
  asOf priorEpisodes { __typename } flags { __typename } placements { __typename } peers { __typename }
  adults { __typename } whereToLook { __typename } returnInterviews { __typename } triggers { __typename } } }"""
CO_MISSING = """query($id: ID!, $hops: Int!, $asOf: DateTime, $since: DateTime) {
  coMissing(childId: $id, hops: $hops, asOf: $asOf, since: $since, first: 20) { totalCount nodes { __typename } } }"""
SHARED_ASSOCIATES = """query($asOf: DateTime) {
  sharedAssociates(minChildren: 3, minForces: 2, asOf: $asOf, first: 20) { totalCount nodes { __typename } } }"""
HOTSPOTS = """query($area: String!, $from: Date!, $to: Date!) {
  hotspots(area: $area, kind: FOUND_AT, from: $from, to: $to, first: 20) {
    totalCount nodes { id rank children episodes otherAreaShare highRiskShare previousChildren emerging
                       episodeIds place { id name } } } }"""
DUTIES = """query($asOf: DateTime) { duties(kind: FOUND_NOT_NOTIFIED, area: "E23000032", asOf: $asOf, first: 20) {
  totalCount nodes { id daysOverdue evidence { kind id } } } }"""


def _iso(p: dict[str, Any]) -> str:
    return str(p["asOf"].isoformat())


def _since(p: dict[str, Any]) -> str:
    return str((p["asOf"] - timedelta(days=FORCE_WINDOW_DAYS)).isoformat())


def _window(p: dict[str, Any], days: int) -> dict[str, str]:
    to: date = p["asOf"].date()
    return {"from": (to - timedelta(days=days)).isoformat(), "to": to.isoformat()}


QUERIES: list[BenchQuery] = [
    BenchQuery("riskProfile", 50, NATIONAL_UNIT, AgencyKind.NATIONAL_UNIT, Role.INVESTIGATOR, RISK_PROFILE,
               lambda p: {"id": p["childId"], "asOf": _iso(p)}, _risk_profile),
    BenchQuery("coMissing 1 hop", 50, NATIONAL_UNIT, AgencyKind.NATIONAL_UNIT, Role.INVESTIGATOR, CO_MISSING,
               lambda p: {"id": p["childId"], "hops": 1, "asOf": _iso(p)}, lambda c, p: _co_missing(c, p, 1)),
    BenchQuery("coMissing 2 hops", 150, NATIONAL_UNIT, AgencyKind.NATIONAL_UNIT, Role.INVESTIGATOR, CO_MISSING,
               lambda p: {"id": p["childId"], "hops": 2, "asOf": _iso(p)}, lambda c, p: _co_missing(c, p, 2)),
    BenchQuery("hotspots force 90d", 150, KENT_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, HOTSPOTS,
               lambda p: {"area": KENT_POLICE, **_window(p, 90)}, lambda c, p: _hotspots(c, p, KENT_POLICE, 90)),
    BenchQuery("hotspots national 1y", 800, NATIONAL_UNIT, AgencyKind.NATIONAL_UNIT, Role.ANALYST, HOTSPOTS,
               lambda p: {"area": "national", **_window(p, 365)}, lambda c, p: _hotspots(c, p, "national", 365)),
    # An investigator asking nationally: private places are decided per place for this caller
    # (mpdb/intel/hotspots.py), the case the analyst query above never exercises.
    BenchQuery("hotspots national 1y investigator", 800, KENT_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR,
               HOTSPOTS, lambda p: {"area": "national", **_window(p, 365)},
               lambda c, p: _hotspots(c, p, "national", 365)),
    BenchQuery("sharedAssociates national", 1000, NATIONAL_UNIT, AgencyKind.NATIONAL_UNIT, Role.INVESTIGATOR,
               SHARED_ASSOCIATES, lambda p: {"asOf": _iso(p)}, _shared_associates),
    # A force's own view (issue 8): a child Kent Police reads whose peers elsewhere come back in
    # summary form (see _PICK_FORCE_CHILD); the Met's shared associates (the Met sees the most
    # cross-force adults in the synthetic data), each counted across all forces.
    BenchQuery("riskProfile force", 50, KENT_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, RISK_PROFILE,
               lambda p: {"id": p["forceChildId"], "asOf": _iso(p)}, lambda c, p: _risk_profile(c, p, "forceChildId")),
    BenchQuery("coMissing 1 hop force", 50, KENT_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, CO_MISSING,
               lambda p: {"id": p["forceChildId"], "hops": 1, "asOf": _iso(p), "since": _since(p)},
               lambda c, p: _co_missing(c, p, 1, "forceChildId", FORCE_WINDOW_DAYS)),
    BenchQuery("coMissing 2 hops force", 150, KENT_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, CO_MISSING,
               lambda p: {"id": p["forceChildId"], "hops": 2, "asOf": _iso(p), "since": _since(p)},
               lambda c, p: _co_missing(c, p, 2, "forceChildId", FORCE_WINDOW_DAYS)),
    BenchQuery("sharedAssociates force", 1000, MET_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR,
               SHARED_ASSOCIATES, lambda p: {"asOf": _iso(p)}, _shared_associates),
    BenchQuery("duties found_not_notified force", None, KENT_POLICE, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR,
               DUTIES, lambda p: {"asOf": _iso(p)}, _duties),
]

# The busiest co-missing child: the worst case for riskProfile and coMissing, not a typical one.
_PICK_CHILD = """
MATCH (c:Child)-[:HAD]->(e:Episode)-[:WITH_CHILD]->(:Child)
WITH c, count(*) AS links ORDER BY links DESC LIMIT 1
RETURN c.id AS childId, links
"""
# The force's child: one Kent Police may read with the most explicit links, in the last three years
# (the force entries ask coMissing for those), to children it may not read (the summary form's
# worst case), then the most links.
_PICK_FORCE_CHILD = """
MATCH (c:Child)-[:HAD]->(e:Episode)-[:WITH_CHILD]-(o:Child)
WHERE $force IN c.accessAgencies AND o <> c AND e.reportedAt >= $since
WITH c, count(*) AS links, count(CASE WHEN NOT $force IN o.accessAgencies THEN 1 END) AS unreadable
ORDER BY unreadable DESC, links DESC, c.id LIMIT 1
RETURN c.id AS childId
"""
_PICK_AS_OF = "OPTIONAL MATCH (d:DatasetInfo {id: 'seed'}) RETURN d.asOf AS asOf, d.profile AS profile"


async def pick_params(graph: Graph, as_of: datetime | None = None) -> dict[str, Any]:
    info = await graph.read_one(_PICK_AS_OF) or {}
    if as_of is None:
        raw = info.get("asOf")
        if isinstance(raw, datetime):
            as_of = raw
        elif isinstance(raw, date):
            as_of = datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
        else:
            as_of = datetime.now(UTC)
    child = await graph.read_one(_PICK_CHILD) or {}
    force_child = await graph.read_one(_PICK_FORCE_CHILD, {"force": KENT_POLICE,
                                                           "since": as_of - timedelta(days=FORCE_WINDOW_DAYS)}) or {}
    return {"asOf": as_of, "childId": child.get("childId"), "childLinks": child.get("links"),
            "forceChildId": force_child.get("childId"), "profile": info.get("profile")}
