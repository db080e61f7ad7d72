"""The `demo` profile's planted scenarios (mpdb/ingest/synthetic/demo_scenarios.py), proved against
a real Neo4j loaded with `demo` exactly as `mpdb seed --profile demo` loads it today: as of today's
date (UTC), seed 42. The services run as the API runs them (a ServiceContext with a principal), and
over HTTP with real tokens for the queries a console page makes first.

Loading `demo` takes ~1-3 minutes, so it is loaded once for the module; the module leaves the
graph holding the reference data only."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest
import pytest_asyncio

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.ingest.reference import load_reference
from mpdb.ingest.synthetic import demo_scenarios as ds
from mpdb.ingest.synthetic.loader import reset_graph, seed_dataset
from mpdb.ingest.synthetic.profiles import get_profile
from mpdb.intel import co_missing as cm
from mpdb.intel import duties as duty_svc
from mpdb.intel import hotspots as hs
from mpdb.intel.duties import DutyKind
from mpdb.intel.hotspots import HotspotKind
from mpdb.services.context import ServiceContext
from mpdb.settings import Settings

pytestmark = pytest.mark.integration

THRESHOLD = Settings(env="test").small_number_threshold


@pytest_asyncio.fixture(scope="module")
async def demo(graph, neo4j_driver, neo4j_settings):  # type: ignore[no-untyped-def]
    as_of = datetime.now(UTC).date()
    result = await seed_dataset(neo4j_driver, neo4j_settings.neo4j_database, get_profile("demo").at(as_of), 42,
                                reset=True, show_progress=False)
    assert result.status == "seeded"
    yield as_of
    await reset_graph(neo4j_driver, neo4j_settings.neo4j_database)
    await load_reference(neo4j_driver, neo4j_settings.neo4j_database)


def ctx_for(graph, agency: str, kind: AgencyKind, role: Role, *scopes: Scope) -> ServiceContext:  # type: ignore[no-untyped-def]
    principal = Principal(subject=f"demo-{role.value}", client_id="demo", agency_id=agency, agency_kind=kind,
                          role=role, scopes=frozenset(scopes))
    return ServiceContext(graph=graph, settings=Settings(env="test"), principal=principal,
                          purpose="test: demo scenarios", request_id=str(uuid.uuid4()))


def kind_of(agency: str) -> AgencyKind:
    return AgencyKind.POLICE_FORCE if agency.startswith("E23") else AgencyKind.LOCAL_AUTHORITY


def analyst(graph, agency: str) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(graph, agency, kind_of(agency), Role.ANALYST, Scope.ANALYTICS_READ)


def investigator(graph, force: str) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(graph, force, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, Scope.CHILD_READ, Scope.INTEL_READ)


def la_lead(graph, la: str = ds.KENT_CC) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(graph, la, AgencyKind.LOCAL_AUTHORITY, Role.LA_MISSING_LEAD, Scope.CHILD_READ, Scope.INTEL_READ)


async def cell_of(graph, location_id: str) -> str:  # type: ignore[no-untyped-def]
    rows = await graph.read("MATCH (l:Location {id: $id}) RETURN l.cell AS cell", {"id": location_id})
    return str(rows[0]["cell"])


# --- the seed run ---------------------------------------------------------------------------------

async def test_the_seed_run_records_its_as_of_and_reseeding_is_idempotent(demo, graph, neo4j_driver,
                                                                          neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    rows = await graph.read("MATCH (d:DatasetInfo {id: 'seed'}) RETURN d.profile AS profile, d.seed AS seed, "
                            "d.asOf AS asOf, d.windowStart AS start, count { MATCH (c:Child) } AS children", {})
    r = rows[0]
    assert (r["profile"], r["seed"], r["asOf"], r["children"]) == ("demo", 42, demo, 10_009)
    assert r["start"] == date(2016, 6, 1) + (demo - date(2026, 11, 1))  # the window moved with it
    db = neo4j_settings.neo4j_database
    again = await seed_dataset(neo4j_driver, db, get_profile("demo").at(demo), 42, show_progress=False)
    assert (again.status, again.as_of) == ("already seeded", demo)
    # the same data set as of another day is kept, not silently replaced
    older = await seed_dataset(neo4j_driver, db, get_profile("demo").at(demo - timedelta(days=30)), 42,
                               show_progress=False)
    assert (older.status, older.as_of) == ("kept", demo)
    rows = await graph.read("MATCH (c:Child) RETURN count(c) AS n", {})
    assert rows[0]["n"] == 10_009


# --- hot spots: an analyst's first screen ---------------------------------------------------------

@pytest.mark.parametrize("area", ds.HOTSPOT_AREAS)
@pytest.mark.parametrize(("kind", "days", "place"), [
    (HotspotKind.MISSING_FROM, 30, ds.HOME_KENT),
    (HotspotKind.MISSING_FROM, 90, ds.HOME_KENT),
    (HotspotKind.MISSING_FROM, 365, ds.HOME_KENT),
    (HotspotKind.FOUND_AT, 30, ds.TOWN_CENTRE_KENT),
    (HotspotKind.FOUND_AT, 90, ds.TOWN_CENTRE_KENT),
    (HotspotKind.FOUND_AT, 365, ds.TOWN_CENTRE_KENT),
])
@pytest.mark.parametrize("to_tomorrow", [False, True], ids=["to-today", "to-tomorrow"])
async def test_an_analysts_hotspots_are_not_all_suppressed(demo, graph, area: str, kind: HotspotKind, days: int,
                                                           place: str, to_tomorrow: bool) -> None:  # type: ignore[no-untyped-def]
    """The last 30, 90 and 365 days from today, whether a preset ends today or includes it."""
    to = demo + timedelta(days=1 if to_tomorrow else 0)
    res = await hs.hotspots(analyst(graph, area), area, kind, to - timedelta(days=days), to, limit=100)
    assert res.suppression_threshold == THRESHOLD == 5
    shown = [h for h in res.items if not h.suppressed]
    assert shown, f"every {kind} hot spot of {area} over {days} days is suppressed"
    planted = next(h for h in res.items if holds_cell(h, place))
    assert planted.suppressed is False
    assert planted.children is not None and planted.children >= THRESHOLD
    assert planted.previous_children is not None and planted.previous_children >= THRESHOLD
    assert place in [loc.id for loc in planted.locations]  # a registered home or a public place: named
    assert planted.episode_ids == []  # an analyst gets no ids


_CELLS: dict[str, str] = {}


def holds_cell(h, place: str) -> bool:  # type: ignore[no-untyped-def]
    return _CELLS[place] in h.cells


@pytest_asyncio.fixture(scope="module", autouse=True)
async def _planted_cells(demo, graph):  # type: ignore[no-untyped-def]
    for place in (ds.HOME_KENT, ds.TOWN_CENTRE_KENT):
        _CELLS[place] = await cell_of(graph, place)


async def test_the_kent_home_hotspot_in_exact_figures(demo, graph) -> None:  # type: ignore[no-untyped-def]
    """The planted children alone give these figures (7 children, 11 episodes; the month before:
    6 and 6); the random children add none near the home. Exact, and the same on any day: the
    whole data set moves with the as-of date."""
    res = await hs.hotspots(analyst(graph, ds.KENT_POLICE), ds.KENT_POLICE, HotspotKind.MISSING_FROM,
                            demo - timedelta(days=30), demo, limit=100)
    home = next(h for h in res.items if holds_cell(h, ds.HOME_KENT))
    assert (home.rank, home.children, home.episodes, home.previous_children, home.previous_episodes) == (
        1, 7, 11, 6, 6)
    assert (home.force_codes, home.la_codes, home.place.id) == ([ds.KENT_POLICE], [ds.KENT_CC], ds.HOME_KENT)


# --- co-missing across forces ------------------------------------------------------------------------

def _links(result) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """linked child id -> shown in summary form only"""
    return {link.to_child["id"]: link.summary_only for link in result.links}


@pytest.mark.parametrize("caller", ["kent-investigator", "kent-cc-lead"])
async def test_amy_goes_missing_with_a_child_the_met_holds(demo, graph, caller: str) -> None:  # type: ignore[no-untyped-def]
    ctx = investigator(graph, ds.KENT_POLICE) if caller == "kent-investigator" else la_lead(graph)
    res = await cm.co_missing(ctx, ds.AMY, since=None, hops=1, as_of=None, limit=50, after=None)
    assert res is not None
    assert _links(res) == {ds.CHLOE: False, ds.HOLLY: False, ds.ZARA: True}
    zara = next(link for link in res.links if link.to_child["id"] == ds.ZARA)
    assert zara.explicit and zara.to_child.get("givenName") is None  # summary form: no name
    assert zara.to_child["responsibleAuthority"] is None  # not looked after
    # four incidents in the last 150 days, one still going on
    assert sorted({e["id"] for ev in zara.evidence for e in ev.episodes if e.get("visible", True)}) == [
        ds.episode_id(ds.AMY, n) for n in (4, 5, 6, 7)]


async def test_the_met_sees_amy_in_full_it_found_her(demo, graph) -> None:  # type: ignore[no-untyped-def]
    res = await cm.co_missing(investigator(graph, ds.MET_POLICE), ds.ZARA, since=None, hops=1, as_of=None,
                              limit=50, after=None)
    assert res is not None
    assert _links(res) == {ds.AMY: False, ds.CHLOE: False, ds.HOLLY: False}


@pytest.mark.parametrize(("caller", "area", "members"), [
    ("kent-investigator", ds.KENT_POLICE, {ds.AMY, ds.CHLOE, ds.HOLLY}),
    ("kent-cc-lead", ds.KENT_CC, {ds.AMY, ds.CHLOE, ds.HOLLY}),
    ("met-investigator", ds.MET_POLICE, {ds.AMY, ds.CHLOE, ds.HOLLY, ds.ZARA}),
])
async def test_a_co_missing_group_spans_kent_and_the_met(demo, graph, caller: str, area: str,
                                                          members: set[str]) -> None:  # type: ignore[no-untyped-def]
    ctx = {"kent-investigator": investigator(graph, ds.KENT_POLICE), "kent-cc-lead": la_lead(graph),
           "met-investigator": investigator(graph, ds.MET_POLICE)}[caller]
    res = await cm.co_missing_groups(ctx, area, since=None, min_size=3, as_of=None, limit=50, after=None)
    group = next(g for g in res.groups if ds.AMY in {m["id"] for m in g.members})
    assert {m["id"] for m in group.members} == members
    assert {ds.KENT_POLICE, ds.MET_POLICE} <= set(group.forces)
    assert {ds.KENT_CC, ds.LEWISHAM} <= set(group.local_authorities)


async def test_amy_and_zara_are_missing_now(demo, graph) -> None:  # type: ignore[no-untyped-def]
    rows = await graph.read("""
        MATCH (c:Child)-[:HAD]->(e:Episode {status: 'open'})-[:REPORTED_TO]->(f:Force)
        WHERE c.id IN $ids
        RETURN c.id AS child, e.id AS episode, f.code AS force, e.reportedAt AS reportedAt ORDER BY child""",
                            {"ids": list(ds.MISSING_NOW_TOGETHER)})
    assert [(r["child"], r["episode"], r["force"]) for r in rows] == [
        (ds.AMY, ds.AMY_MISSING_NOW, ds.KENT_POLICE), (ds.ZARA, ds.ZARA_MISSING_NOW, ds.MET_POLICE)]
    assert all(timedelta(0) < datetime.now(UTC) - r["reportedAt"] < timedelta(days=2) for r in rows)


# --- duties: an LA missing lead's work queue ---------------------------------------------------------

def midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


async def _duties(graph, as_of: date, kind: DutyKind, area: str = ds.KENT_CC):  # type: ignore[no-untyped-def]
    """The duties due in the 90 days before the seed date (its midnight, so days overdue are exact)."""
    res = await duty_svc.duties(la_lead(graph, area), area, kind, as_of=midnight(as_of), limit=1000)
    assert res.total == len(res.items)
    last_90 = res.as_of - timedelta(days=90)
    return {i.id: i for i in res.items if last_90 <= i.due_at <= res.as_of}


async def test_kent_cc_owes_overdue_return_interviews(demo, graph) -> None:  # type: ignore[no-untyped-def]
    items = await _duties(graph, demo, DutyKind.RHI_OVERDUE)
    planted = {i.return_interview_id: i for i in items.values() if i.child_id in ds.CHILD_IDS}
    assert sorted(planted) == sorted(ds.OVERDUE_RHI)
    by_child = {i.child_id: i.days_overdue for i in planted.values()}
    assert by_child == {ds.AMY: 7, ds.REECE: 15, ds.HOLLY: 40}


async def test_kent_cc_has_placement_notices_never_sent(demo, graph) -> None:  # type: ignore[no-untyped-def]
    items = await _duties(graph, demo, DutyKind.NOTIFICATION_UNSENT)
    planted = {i.notification_id: (i.child_id, i.duty_holder, i.recipient, i.days_overdue)
               for i in items.values() if i.child_id in ds.CHILD_IDS}
    assert planted == {
        "NT-PL-DEMO-07-1-LA": (ds.JESS, ds.LEWISHAM, ds.KENT_CC, 55),
        "NT-PL-DEMO-09-1-LA": (ds.OWEN, ds.KENT_CC, ds.MEDWAY, 35),
        ds.FOUND_NOT_NOTIFIED: (ds.AMY, ds.MET_POLICE, ds.KENT_CC, 9),  # also a notice never sent
    }
    police = await duty_svc.duties(investigator(graph, ds.KENT_POLICE), ds.KENT_POLICE, DutyKind.NOTIFICATION_UNSENT,
                                   as_of=midnight(demo), limit=1000)
    assert "NT-PL-DEMO-07-1-F" in {i.notification_id for i in police.items}


async def test_the_met_never_told_kent_cc_it_found_amy(demo, graph) -> None:  # type: ignore[no-untyped-def]
    items = await _duties(graph, demo, DutyKind.FOUND_NOT_NOTIFIED)
    amy = [i for i in items.values() if i.child_id == ds.AMY]
    assert [(i.episode_id, i.notification_id, i.days_overdue) for i in amy] == [
        (ds.episode_id(ds.AMY, 6), ds.FOUND_NOT_NOTIFIED, 9)]


# --- the same over HTTP, with names -------------------------------------------------------------------

DUTIES = """
query($kind: DutyKind!, $after: String) {
  duties(kind: $kind, first: 100, after: $after) {
    area totalCount nodes { childId returnInterviewId notificationId dueAt } pageInfo { hasNextPage endCursor }
  }
}
"""
CHILD = "query($id: ID!) { child(id: $id) { id givenName familyName } }"
CO_MISSING = """
query($id: ID!) {
  coMissing(childId: $id) { nodes { toChild { id givenName } toSummary { pseudonym responsibleAuthority } } }
}
"""
HOTSPOTS = """
query($area: String!, $from: Date!, $to: Date!) {
  hotspots(area: $area, kind: MISSING_FROM, from: $from, to: $to, first: 10) {
    suppressionThreshold nodes { suppressed children place { id name } }
  }
}
"""


def data(resp):  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "errors" not in body, body
    return body["data"]


async def test_over_http_each_role_sees_the_scenarios_by_name(demo, live_server, registered_agencies) -> None:  # type: ignore[no-untyped-def]
    lead = live_server.token(ds.KENT_CC, "la_missing_lead")
    nodes, after = [], None
    while True:  # most overdue first: the planted ones, due in the last weeks, come last
        page = data(live_server.graphql(DUTIES, {"kind": "RHI_OVERDUE", "after": after}, token=lead))["duties"]
        assert page["area"] == ds.KENT_CC
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(nodes) == page["totalCount"]
    overdue = {n["returnInterviewId"]: n["childId"] for n in nodes}
    assert {ri: overdue.get(ri) for ri in ds.OVERDUE_RHI} == dict(zip(ds.OVERDUE_RHI, (ds.AMY, ds.REECE, ds.HOLLY),
                                                                     strict=True))
    names = {cid: data(live_server.graphql(CHILD, {"id": cid}, token=lead))["child"]
             for cid in (ds.AMY, ds.REECE, ds.HOLLY, ds.JESS)}
    assert {cid: (c["givenName"], c["familyName"]) for cid, c in names.items()} == {
        ds.AMY: ("Amy", "Testchild-0010001"), ds.REECE: ("Reece", "Testchild-0010003"),
        ds.HOLLY: ("Holly", "Testchild-0010006"), ds.JESS: ("Jess", "Testchild-0010007")}

    kent = live_server.token(ds.KENT_POLICE, "investigator")
    links = data(live_server.graphql(CO_MISSING, {"id": ds.AMY}, token=kent))["coMissing"]["nodes"]
    shown = {(n["toChild"] or {}).get("givenName") for n in links}
    assert shown == {"Chloe", "Holly", None}  # Zara: summary form only
    assert [n["toSummary"]["responsibleAuthority"] for n in links if n["toChild"] is None] == [None]

    analyst_token = live_server.token(ds.KENT_POLICE, "analyst")
    res = data(live_server.graphql(HOTSPOTS, {"area": ds.KENT_POLICE, "from": str(demo - timedelta(days=30)),
                                              "to": str(demo)}, token=analyst_token, purpose=None))["hotspots"]
    assert res["suppressionThreshold"] == 5
    assert res["nodes"][0] == {"suppressed": False, "children": 7,
                               "place": {"id": ds.HOME_KENT, "name": "Synthetic children's home (demo scenario)"}}


# --- hot spots from the pre-aggregates (issue 10) ----------------------------------------------------

def national_unit(graph) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(graph, "NCA-MPU", AgencyKind.NATIONAL_UNIT, Role.INVESTIGATOR, Scope.CHILD_READ, Scope.INTEL_READ)


async def test_the_seed_leaves_the_hotspot_buckets_exact(demo, graph) -> None:  # type: ignore[no-untyped-def]
    """The transactional loader maintained every bucket batch by batch: they equal a from-scratch
    computation, and a rebuild changes nothing (same ids, same properties)."""
    from hotspot_oracle import assert_buckets_exact, stored_buckets

    from mpdb.graph.repositories.hotspot_buckets import rebuild

    n = await assert_buckets_exact(graph)
    assert n > 25_000  # every episode has at least one place
    before = await stored_buckets(graph)
    totals = await rebuild(graph, days_per_batch=120)
    assert (totals["written"], totals["deleted"]) == (n, 0)
    assert await stored_buckets(graph) == before


COMPARED_AREAS = ("national", ds.KENT_POLICE, ds.MET_POLICE, ds.KENT_CC, ds.MEDWAY, ds.LEWISHAM, ds.CROYDON)


@pytest.mark.parametrize("area", COMPARED_AREAS)
@pytest.mark.parametrize("kind", list(HotspotKind))
async def test_hotspots_from_the_buckets_equal_the_exact_scan(demo, graph, area: str, kind: HotspotKind) -> None:  # type: ignore[no-untyped-def]
    """Every field of every hot spot (ranks, counts, previous period, emerging, trend, shares,
    evidence ids, places) is the same whether step 1 reads the buckets or scans the episodes, for
    windows from a month to two years, both rankings, emerging only, paging, and callers who get
    aggregates only, evidence, or everything."""
    callers = [analyst(graph, ds.KENT_POLICE), investigator(graph, ds.KENT_POLICE), la_lead(graph),
               national_unit(graph), analyst(graph, ds.KENT_CC)]
    cases = [  # (days, end relative to as of, rank by, emerging only, offset)
        (30, 0, hs.RankBy.CHILDREN, False, 0),
        (90, 1, hs.RankBy.EPISODES, False, 0),
        (365, 0, hs.RankBy.CHILDREN, False, 0),
        (365, 0, hs.RankBy.EPISODES, True, 0),
        (730, -200, hs.RankBy.CHILDREN, False, 5),
    ]
    compared = 0
    for i, (days, shift, rank_by, emerging, offset) in enumerate(cases):
        to = demo + timedelta(days=shift)
        ctx = callers[(i + COMPARED_AREAS.index(area)) % len(callers)]
        args = (ctx, area, kind, to - timedelta(days=days), to)
        kw = {"rank_by": rank_by, "emerging_only": emerging, "limit": 40, "offset": offset}
        scan = await hs.hotspots(*args, **kw, scan=True)
        buckets = await hs.hotspots(*args, **kw)
        assert asdict(buckets) == asdict(scan)
        compared += len(scan.items)
    if area == "national":  # the other areas may have no hot spot of a kind in a window
        assert compared > 0
