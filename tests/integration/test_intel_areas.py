"""hotspots, duties and reconciliation against a hand-built graph with known answers
(tests/integration/intel_areas_scenario.py describes it)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
import pytest_asyncio

from conftest import wipe_data
from intel_areas_scenario import AS_OF, ESLA, HAR, KF, KLA, MET, SF, build_scenario
from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.domain.errors import Forbidden, InvalidInput
from mpdb.domain.geo import cell_centre, cell_id
from mpdb.intel import duties as duty_svc
from mpdb.intel import hotspots as hs
from mpdb.intel import reconciliation as recon
from mpdb.intel.duties import DutyKind
from mpdb.intel.hotspots import HotspotKind, RankBy
from mpdb.services.context import ServiceContext
from mpdb.settings import Settings

pytestmark = pytest.mark.integration

FROM, TO = date(2026, 7, 1), date(2026, 10, 1)


@pytest_asyncio.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await build_scenario(graph)
    return graph


def ctx_for(graph, agency: str, kind: AgencyKind, role: Role, *scopes: Scope) -> ServiceContext:  # type: ignore[no-untyped-def]
    principal = Principal(subject=f"t4a-{role.value}", client_id="t4a", agency_id=agency, agency_kind=kind,
                          role=role, scopes=frozenset(scopes))
    return ServiceContext(graph=graph, settings=Settings(env="test"), principal=principal,
                          purpose="test: intel areas", request_id=str(uuid.uuid4()))


def investigator(graph, force: str = KF) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(graph, force, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, Scope.CHILD_READ, Scope.INTEL_READ)


def analyst(graph, agency: str = KF) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(graph, agency, AgencyKind.POLICE_FORCE, Role.ANALYST, Scope.ANALYTICS_READ)


def la_lead(graph, la: str = KLA) -> ServiceContext:  # type: ignore[no-untyped-def]
    return ctx_for(graph, la, AgencyKind.LOCAL_AUTHORITY, Role.LA_MISSING_LEAD, Scope.CHILD_READ, Scope.INTEL_READ)


async def found_at(ctx: ServiceContext, area: str, **kw):  # type: ignore[no-untyped-def]
    return await hs.hotspots(ctx, area, HotspotKind.FOUND_AT, FROM, TO, limit=kw.pop("limit", 20), **kw)


# --- pure parts -------------------------------------------------------------------------------

def test_neighbours_are_the_touching_cells() -> None:
    c = cell_id(51.13, 0.26)
    ns = hs.cell_neighbours(c)
    assert len(ns) == 8 and c not in ns
    assert all(c in hs.cell_neighbours(n) or len(hs.cell_neighbours(n)) == 8 for n in ns)


@pytest.mark.parametrize(("now", "before", "emerging"), [
    (3, 0, True), (3, 1, True), (3, 2, False), (2, 0, False), (9, 5, False), (10, 5, True), (4, 1, True),
])
def test_emerging_rule(now: int, before: int, emerging: bool) -> None:
    assert hs.is_emerging(now, before) is emerging


def test_shares_are_withheld_when_numerator_or_complement_is_small() -> None:
    assert hs.share(3, 5, 5, True) is None
    assert hs.share(0, 10, 5, True) == 0.0
    assert hs.share(6, 10, 5, True) is None  # 4 children are the complement
    assert hs.share(5, 10, 5, True) == 0.5
    assert hs.share(3, 5, 5, False) == 0.6


# --- hotspots -----------------------------------------------------------------------------------

async def test_hotspot_straddling_the_force_boundary_counts_both_sides(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await found_at(investigator(scenario), KF)
    assert res.total == 3
    # H1's representative place is L2: as many episodes as L1 (3) and more children (3 to 2).
    assert [h.place.id for h in res.items] == ["T4A-L2", "T4A-L3", "T4A-L4"]
    h1 = res.items[0]
    assert h1.rank == 1
    assert (h1.children, h1.episodes) == (5, 6)
    assert h1.force_codes == [KF, SF] and h1.la_codes == [ESLA, KLA]
    assert [(loc.id, loc.episodes, loc.children) for loc in h1.locations] == [("T4A-L2", 3, 3), ("T4A-L1", 3, 2)]
    assert h1.other_area_share == 0.6  # S1-S3 live in Sussex
    assert h1.high_risk_share == round(2 / 6, 4)
    assert (h1.previous_children, h1.previous_episodes, h1.trend, h1.emerging) == (4, 4, "rising", False)
    assert h1.change_ratio == 0.25
    assert len(h1.cells) == 2 and h1.suppressed is False
    # Evidence: only the episodes Kent Police may see (the Sussex side's are Sussex Police's).
    assert h1.episode_ids == ["T4A-E-K2a", "T4A-E-K1b", "T4A-E-K1a"]
    # The same place seen from Sussex: the same counts, Sussex's own evidence.
    sussex = await found_at(investigator(scenario, SF), SF)
    s1 = sussex.items[0]
    assert [h.place.id for h in sussex.items] == ["T4A-L2", "T4A-L5"]
    assert (s1.children, s1.episodes, s1.force_codes) == (5, 6, [KF, SF])
    assert s1.episode_ids == ["T4A-E-S3a", "T4A-E-S2a", "T4A-E-S1a"]
    assert s1.other_area_share == 0.4  # K1, K2 are Kent's looked-after children


async def test_emerging_hotspot_and_filters(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await found_at(investigator(scenario), KF)
    h2, h3 = res.items[1], res.items[2]
    assert (h2.children, h2.previous_children, h2.trend, h2.emerging, h2.change_ratio) == (4, 1, "rising", True, 3.0)
    assert (h3.children, h3.previous_children, h3.trend, h3.emerging) == (1, 0, "new", False)
    only = await found_at(investigator(scenario), KF, emerging_only=True)
    assert [h.place.id for h in only.items] == ["T4A-L3"] and only.total == 1


async def test_hotspots_for_an_la_nationally_and_by_episodes(scenario) -> None:  # type: ignore[no-untyped-def]
    la = await found_at(la_lead(scenario), KLA)
    assert [(h.place.id, h.children) for h in la.items] == [("T4A-L2", 5), ("T4A-L3", 4), ("T4A-L4", 1)]
    national = await found_at(investigator(scenario), "national", rank_by=RankBy.EPISODES)
    assert [(h.place.id, h.episodes, h.children) for h in national.items] == [
        ("T4A-L2", 6, 5), ("T4A-L3", 4, 4), ("T4A-L5", 2, 2), ("T4A-L4", 1, 1)]
    # Nationally the reference area is the representative place's force (Sussex for H1).
    assert national.items[0].other_area_share == 0.4


async def test_hotspot_pages(scenario) -> None:  # type: ignore[no-untyped-def]
    first = await found_at(investigator(scenario), KF, limit=2)
    assert [h.rank for h in first.items] == [1, 2] and first.has_next
    second = await found_at(investigator(scenario), KF, limit=2, offset=2)
    assert [h.place.id for h in second.items] == ["T4A-L4"] and not second.has_next


async def test_analysts_get_small_numbers_suppressed_and_no_ids(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await found_at(analyst(scenario), KF)
    assert res.suppression_threshold == 5
    h1, h2, h3 = res.items
    assert (h1.children, h1.episodes, h1.previous_children, h1.previous_episodes) == (5, 6, None, None)
    assert h1.suppressed and h1.trend is None and h1.emerging is None and h1.change_ratio is None
    assert h1.other_area_share is None and h1.high_risk_share is None  # 3 of 5, 2 of 6
    assert h1.episode_ids == [] and h1.locations == []
    assert (h2.children, h2.episodes, h2.suppressed, h2.emerging) == (None, None, True, None)
    assert h3.children is None and h3.episode_ids == []


async def test_evidence_reads_are_audited(scenario) -> None:  # type: ignore[no-untyped-def]
    ctx = investigator(scenario)
    await found_at(ctx, KF)
    rows = await scenario.read("MATCH (a:AuditEvent {requestId: $r}) RETURN a.operation AS op, a.recordIds AS ids",
                               {"r": ctx.request_id})
    assert len(rows) == 1 and rows[0]["op"] == "hotspots"
    assert set(rows[0]["ids"]) == {"T4A-E-K2a", "T4A-E-K1b", "T4A-E-K1a", "T4A-E-K6a", "T4A-E-K5a",
                                   "T4A-E-K3a", "T4A-E-K4a", "T4A-E-K5b"}


def _where(p: hs.HotspotPlace) -> tuple[object, ...]:
    return (p.id, p.name, p.kind, p.la_code, p.force_code, p.latitude, p.longitude)


LF_CELL, LR_CELL = cell_id(50.9712, 0.0534), cell_id(51.2811, 0.5213)
LF_SHOWN = ("T4A-LF", "A foster home", "foster_home", ESLA, SF, 50.9712, 0.0534)
LF_CELL_ONLY = (None, None, "foster_home", ESLA, SF, *cell_centre(LF_CELL))
LR_SHOWN = ("T4A-LR", "A flat", "residence", KLA, KF, 51.2811, 0.5213)
LR_CELL_ONLY = (None, None, "residence", KLA, KF, *cell_centre(LR_CELL))


async def test_private_places_only_for_callers_who_may_read_an_episode_there(scenario) -> None:  # type: ignore[no-untyped-def]
    async def went_to(ctx: ServiceContext) -> list[tuple[object, ...]]:
        res = await hs.hotspots(ctx, "national", HotspotKind.WENT_TO, FROM, TO, limit=20)
        assert [h.id for h in res.items] == [LF_CELL, LR_CELL]
        return [(_where(h.place), [_where(loc) for loc in h.locations]) for h in res.items]

    kent = await hs.hotspots(investigator(scenario, KF), "national", HotspotKind.WENT_TO, FROM, TO, limit=20)
    assert [(h.children, h.episodes, h.episode_ids) for h in kent.items] == [(2, 2, []), (1, 1, [])]
    # Kent Police reads no episode at the Sussex foster home, nor the Met's episode at the flat in
    # its own area: both as their cell only, with their kind, LA and force.
    assert await went_to(investigator(scenario, KF)) == [(LF_CELL_ONLY, [LF_CELL_ONLY]), (LR_CELL_ONLY, [LR_CELL_ONLY])]
    # Sussex Police reads S2a and S3a (reported to it): the foster home by name at its exact point.
    assert await went_to(investigator(scenario, SF)) == [(LF_SHOWN, [LF_SHOWN]), (LR_CELL_ONLY, [LR_CELL_ONLY])]
    # Haringey reads every episode of its looked-after child CH1, wherever it went.
    assert await went_to(la_lead(scenario, HAR)) == [(LF_CELL_ONLY, [LF_CELL_ONLY]), (LR_SHOWN, [LR_SHOWN])]
    national = ctx_for(scenario, "NCA-MPU", AgencyKind.NATIONAL_UNIT, Role.INVESTIGATOR, Scope.CHILD_READ,
                       Scope.INTEL_READ)
    assert await went_to(national) == [(LF_SHOWN, [LF_SHOWN]), (LR_SHOWN, [LR_SHOWN])]
    # An analyst never gets a private place, even in its own force's area (and counts are small).
    assert await went_to(analyst(scenario, SF)) == [(LF_CELL_ONLY, []), (LR_CELL_ONLY, [])]


async def test_childrens_homes_stay_named(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await hs.hotspots(investigator(scenario, KF), "national", HotspotKind.MISSING_FROM, FROM, TO, limit=20)
    assert [(_where(h.place), h.episode_ids) for h in res.items] == [
        (("T4A-LH", "A children's home", "childrens_home", HAR, MET, 51.59, -0.11), [])]


async def test_hotspot_input_errors(scenario) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as e:
        await hs.hotspots(investigator(scenario), "E99999999", HotspotKind.FOUND_AT, FROM, TO, limit=5)
    assert e.value.field == "area"
    with pytest.raises(InvalidInput) as e:
        await hs.hotspots(investigator(scenario), KF, HotspotKind.FOUND_AT, TO, FROM, limit=5)
    assert e.value.field == "to"
    nobody = ctx_for(scenario, KF, AgencyKind.POLICE_FORCE, Role.CALL_HANDLER, Scope.CHILD_READ)
    with pytest.raises(Forbidden):
        await found_at(nobody, KF)


# --- duties -------------------------------------------------------------------------------------

async def duties(ctx: ServiceContext, kind: DutyKind, area: str | None = None, **kw):  # type: ignore[no-untyped-def]
    return await duty_svc.duties(ctx, area, kind, as_of=AS_OF, limit=kw.pop("limit", 20), **kw)


async def test_rhi_overdue_by_exactly_three_days(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await duties(la_lead(scenario), DutyKind.RHI_OVERDUE)
    assert res.area.code == KLA and res.total == 1
    (item,) = res.items
    assert (item.id, item.episode_id, item.child_id, item.days_overdue, item.duty_holder) == (
        "T4A-RI1", "T4A-E-K1a", "T4A-K1", 3, KLA)
    assert item.due_at == datetime(2026, 10, 12, 12, 0, tzinfo=UTC)
    assert [(e.kind, e.id) for e in item.evidence][:2] == [("return_interview", "T4A-RI1"), ("episode", "T4A-E-K1a")]
    # Kent Police sees it too (the episode is in its area); Staffordshire sees nothing.
    assert [i.id for i in (await duties(investigator(scenario), DutyKind.RHI_OVERDUE, KLA)).items] == ["T4A-RI1"]
    assert (await duties(investigator(scenario, "E23000015"), DutyKind.RHI_OVERDUE, KLA)).total == 0


async def test_placement_never_notified_and_unsent_notifications(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await duties(la_lead(scenario), DutyKind.NOTIFICATION_UNSENT)
    assert [(i.id, i.days_overdue, i.duty_holder, i.recipient, i.placement_id) for i in res.items] == [
        ("placement:T4A-P1:placement_to_host_la", 39, KLA, ESLA, "T4A-P1"),
        ("T4A-N1", 35, KLA, SF, "T4A-P1"),
    ]
    assert res.total == 2 and res.items[0].due_at == datetime(2026, 9, 6, tzinfo=UTC)
    page1 = await duties(la_lead(scenario), DutyKind.NOTIFICATION_UNSENT, limit=1)
    assert page1.has_next and [i.id for i in page1.items] == ["placement:T4A-P1:placement_to_host_la"]
    page2 = await duties(la_lead(scenario), DutyKind.NOTIFICATION_UNSENT, limit=1,
                         after=(page1.items[0].due_at, page1.items[0].id))
    assert not page2.has_next and [i.id for i in page2.items] == ["T4A-N1"]
    # East Sussex, the host, learns of the placement it was never told about.
    host = await duties(la_lead(scenario, ESLA), DutyKind.NOTIFICATION_UNSENT)
    assert [i.id for i in host.items] == ["placement:T4A-P1:placement_to_host_la"]


async def test_notification_unacknowledged(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await duties(la_lead(scenario), DutyKind.NOTIFICATION_UNACKNOWLEDGED)
    assert [(i.id, i.days_overdue, i.recipient, i.child_id) for i in res.items] == [("T4A-N2", 68, ESLA, "T4A-K4")]


async def test_found_child_whose_la_was_not_notified(scenario) -> None:  # type: ignore[no-untyped-def]
    for ctx, area in ((investigator(scenario), KF), (la_lead(scenario), KLA)):
        res = await duties(ctx, DutyKind.FOUND_NOT_NOTIFIED, area)
        assert [(i.episode_id, i.days_overdue, i.duty_holder, i.recipient) for i in res.items] == [
            ("T4A-E-K2a", 55, KF, KLA)]
        assert res.items[0].due_at == datetime(2026, 8, 21, 10, 0, tzinfo=UTC)


async def test_repeat_trigger(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await duties(la_lead(scenario, HAR), DutyKind.REPEAT_TRIGGER)
    (item,) = res.items
    assert (item.id, item.child_id, item.days_overdue, item.duty_holder) == (
        "T4A-CH1:haringey_early_help", "T4A-CH1", 106, HAR)
    assert [e.id for e in item.evidence if e.kind == "episode"] == ["T4A-E-CH1c", "T4A-E-CH1b", "T4A-E-CH1a"]
    assert (await duties(la_lead(scenario), DutyKind.REPEAT_TRIGGER)).total == 0


async def test_duties_default_to_the_callers_area_and_are_audited(scenario) -> None:  # type: ignore[no-untyped-def]
    ctx = la_lead(scenario)
    res = await duties(ctx, DutyKind.RHI_OVERDUE)
    assert res.area.code == KLA
    rows = await scenario.read("MATCH (a:AuditEvent {requestId: $r}) RETURN a.operation AS op, a.recordIds AS ids",
                               {"r": ctx.request_id})
    assert rows == [{"op": "duties.rhi_overdue", "ids": ["T4A-E-K1a", "T4A-K1", "T4A-RI1"]}]


# --- reconciliation -----------------------------------------------------------------------------

async def test_reconciliation(scenario) -> None:  # type: ignore[no-untyped-def]
    res = await recon.reconciliation(la_lead(scenario), KLA, FROM, TO, limit=20)
    assert res.episodes == 8
    assert {c.value: n for c, n in res.counts.items()} == {
        "police_only": 1, "la_only": 1, "dates_disagree": 1, "agree": 5, "unrecorded": 0}
    assert [(i.episode_id, i.category.value) for i in res.items] == [
        ("T4A-E-K3a", "dates_disagree"), ("T4A-E-K1b", "police_only"), ("T4A-E-K4a", "la_only")]
    k3a = res.items[0]
    assert (k3a.start_difference_hours, k3a.end_difference_hours) == (48.0, None)
    assert [r["id"] for r in k3a.police_records] == ["T4A-R-K3a-p"]
    assert [r["id"] for r in k3a.la_records] == ["T4A-R-K3a-l"]
    # With a 3-day tolerance the dates agree.
    wide = await recon.reconciliation(la_lead(scenario), KLA, FROM, TO, tolerance_hours=72, limit=20)
    assert wide.counts[recon.ReconCategory.DATES_DISAGREE] == 0
    page = await recon.reconciliation(la_lead(scenario), KLA, FROM, TO, limit=2)
    assert page.has_next and len(page.items) == 2
    rest = await recon.reconciliation(la_lead(scenario), KLA, FROM, TO, limit=2,
                                      after=(page.items[-1].at, page.items[-1].episode_id))
    assert [i.episode_id for i in rest.items] == ["T4A-E-K4a"] and not rest.has_next


async def test_reconciliation_for_analysts_is_counts_only(scenario) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for(scenario, KLA, AgencyKind.LOCAL_AUTHORITY, Role.ANALYST, Scope.ANALYTICS_READ)
    res = await recon.reconciliation(ctx, KLA, FROM, TO, limit=20)
    assert res.episodes == 8 and res.items == [] and res.suppressed
    assert {c.value: n for c, n in res.counts.items()} == {
        "police_only": None, "la_only": None, "dates_disagree": None, "agree": 5, "unrecorded": 0}


async def test_reconciliation_needs_a_local_authority(scenario) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as e:
        await recon.reconciliation(la_lead(scenario), KF, FROM, TO, limit=20)
    assert e.value.field == "localAuthority"
