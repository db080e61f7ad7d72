"""GraphQL views of hot spots, duties and reconciliation (built from mpdb/intel results)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from mpdb.api.pagination import PageInfo, encode_cursor
from mpdb.api.types.intel_links import LINKED_CHILD_DOC, ChildSummary, LinkedChildRef
from mpdb.intel import duties as duty_svc
from mpdb.intel import hotspots as hs
from mpdb.intel import reconciliation as recon

HotspotKind = strawberry.enum(
    Enum("HotspotKind", {k.name: k.value for k in hs.HotspotKind}),  # type: ignore[misc]
    description="Which place of an episode: MISSING_FROM (the place or placement the child went missing "
                "from), LAST_SEEN, WENT_TO, FOUND_AT.",
)
HotspotRanking = strawberry.enum(
    Enum("HotspotRanking", {k.name: k.value for k in hs.RankBy}),  # type: ignore[misc]
    description="Rank hot spots by distinct CHILDREN (then episodes) or by EPISODES (then children).",
)
DutyKind = strawberry.enum(
    Enum("DutyKind", {k.name: k.value for k in duty_svc.DutyKind}),  # type: ignore[misc]
    description="RHI_OVERDUE, NOTIFICATION_UNSENT, NOTIFICATION_UNACKNOWLEDGED, FOUND_NOT_NOTIFIED, "
                "REPEAT_TRIGGER (see the duties field).",
)
ReconciliationCategory = strawberry.enum(
    Enum("ReconciliationCategory", {k.name: k.value for k in recon.ReconCategory}),  # type: ignore[misc]
    description="POLICE_ONLY, LA_ONLY, DATES_DISAGREE, AGREE, UNRECORDED (see the reconciliation field).",
)


@strawberry.type(description="A place inside a hot spot. A private place (kind residence, foster_home, address or "
                             "semi_independent) has its id, name and exact coordinates only for a caller who may "
                             "read an episode there (or the national unit); for everyone else, and for every "
                             "analyst, it has no id or name and sits at its ~500 m grid cell's centre. Children's "
                             "homes and secure units are registered establishments (Ofsted URN) and stay named; "
                             "semi-independent accommodation is often a single flat, so it counts as private.")
class HotspotPlace:
    id: strawberry.ID | None
    name: str | None
    kind: str | None
    la_code: str | None
    force_code: str | None
    latitude: float | None
    longitude: float | None
    episodes: int | None = strawberry.field(description="Episodes at this place in the period (null: suppressed).")
    children: int | None = strawberry.field(description="Distinct children at this place (null: suppressed).")

    @classmethod
    def from_place(cls, p: hs.HotspotPlace) -> HotspotPlace:
        return cls(id=strawberry.ID(p.id) if p.id else None, name=p.name, kind=p.kind, la_code=p.la_code,
                   force_code=p.force_code, latitude=p.latitude, longitude=p.longitude, episodes=p.episodes,
                   children=p.children)


@strawberry.type(description="Places close together counted as one: a peak ~500 m grid cell plus the busy cells "
                             "touching it (every place within 1.25 km of the peak cell's centre).")
class Hotspot:
    id: strawberry.ID = strawberry.field(description="The peak grid cell's id (stable for the same data and window).")
    rank: int
    cells: list[str]
    place: HotspotPlace = strawberry.field(description="The representative place: the most used one in the hot spot.")
    force_codes: list[str] = strawberry.field(description="Forces of the hot spot's places (several: it straddles a boundary).")
    local_authority_codes: list[str]
    children: int | None = strawberry.field(description="Distinct children in the period (null: suppressed).")
    episodes: int | None
    other_area_share: float | None = strawberry.field(
        description="Share of the children from elsewhere: a looked-after child whose responsible LA is not the "
                    "area (or, for a force, does not lie in it), another child whose home is outside it. "
                    "Nationally, relative to the representative place's force.")
    high_risk_share: float | None = strawberry.field(description="Share of the episodes graded high risk.")
    previous_children: int | None = strawberry.field(description="Distinct children in the previous period of the same length.")
    previous_episodes: int | None
    change_ratio: float | None = strawberry.field(description="(children - previousChildren) / previousChildren.")
    trend: str | None = strawberry.field(description="new, rising, steady or falling (distinct children).")
    emerging: bool | None = strawberry.field(
        description="Children >= 3, at least doubled, and up by at least 2 on the previous period.")
    suppressed: bool = strawberry.field(description="True when a count below the small-number threshold was withheld.")
    episode_ids: list[strawberry.ID] = strawberry.field(
        description="Evidence: the newest episodes here you may see (at most 25; none for analysts).")
    episode_ids_truncated: bool
    locations: list[HotspotPlace] = strawberry.field(description="Evidence: its places, busiest first (at most 20).")

    @classmethod
    def from_result(cls, h: hs.Hotspot) -> Hotspot:
        return cls(
            id=strawberry.ID(h.id), rank=h.rank, cells=h.cells, place=HotspotPlace.from_place(h.place),
            force_codes=h.force_codes, local_authority_codes=h.la_codes, children=h.children, episodes=h.episodes,
            other_area_share=h.other_area_share, high_risk_share=h.high_risk_share,
            previous_children=h.previous_children, previous_episodes=h.previous_episodes,
            change_ratio=h.change_ratio, trend=h.trend, emerging=h.emerging, suppressed=h.suppressed,
            episode_ids=[strawberry.ID(e) for e in h.episode_ids], episode_ids_truncated=h.episode_ids_truncated,
            locations=[HotspotPlace.from_place(p) for p in h.locations],
        )


@strawberry.type
class HotspotConnection:
    area: str = strawberry.field(description="'national' or the force / LA code.")
    area_name: str | None
    kind: HotspotKind  # type: ignore[valid-type]
    from_: datetime = strawberry.field(name="from")
    to: datetime
    previous_from: datetime = strawberry.field(description="Start of the previous period (it ends at `from`).")
    cluster_radius_km: float
    suppression_threshold: int | None = strawberry.field(description="Set when small numbers were suppressed for you.")
    total_count: int
    nodes: list[Hotspot]
    page_info: PageInfo

    @classmethod
    def from_result(cls, r: hs.HotspotResult) -> HotspotConnection:
        end = encode_cursor(r.offset + len(r.items)) if r.items else None
        return cls(area=r.area.label, area_name=r.area.name, kind=HotspotKind(r.kind.value), from_=r.from_, to=r.to,
                   previous_from=r.previous_from, cluster_radius_km=hs.CLUSTER_RADIUS_KM,
                   suppression_threshold=r.suppression_threshold, total_count=r.total,
                   nodes=[Hotspot.from_result(h) for h in r.items],
                   page_info=PageInfo(has_next_page=r.has_next, end_cursor=end))


@strawberry.type(description="One fact behind a duty item.")
class DutyEvidence:
    kind: str
    id: strawberry.ID | None
    at: datetime | None
    detail: str | None


@strawberry.type(description="A duty not done: who owes it, to whom, since when, and the records that show it.")
class Duty:
    id: strawberry.ID
    kind: DutyKind  # type: ignore[valid-type]
    child_id: strawberry.ID | None
    episode_id: strawberry.ID | None
    placement_id: strawberry.ID | None
    notification_id: strawberry.ID | None
    return_interview_id: strawberry.ID | None
    duty_holder: str | None = strawberry.field(description="Agency that should act.")
    recipient: str | None = strawberry.field(description="Agency that should have been notified.")
    due_at: datetime
    days_overdue: int = strawberry.field(description="Whole days from dueAt to asOf, rounded down.")
    evidence: list[DutyEvidence]
    child: LinkedChildRef | None = strawberry.field(description=LINKED_CHILD_DOC)
    summary: ChildSummary | None = strawberry.field(
        description="The duty's child in summary form (pseudonym, age band, responsible LA, active flags); "
                    "null only for a duty without a child.")

    @classmethod
    def from_item(cls, i: duty_svc.DutyItem, children: dict[str, dict[str, Any]], as_of: datetime) -> Duty:
        def sid(v: str | None) -> strawberry.ID | None:
            return strawberry.ID(v) if v else None

        known = children.get(i.child_id) if i.child_id else None

        return cls(id=strawberry.ID(i.id), kind=DutyKind(i.kind.value), child_id=sid(i.child_id),
                   episode_id=sid(i.episode_id), placement_id=sid(i.placement_id),
                   notification_id=sid(i.notification_id), return_interview_id=sid(i.return_interview_id),
                   duty_holder=i.duty_holder, recipient=i.recipient, due_at=i.due_at, days_overdue=i.days_overdue,
                   evidence=[DutyEvidence(kind=e.kind, id=sid(e.id), at=e.at, detail=e.detail) for e in i.evidence],
                   child=LinkedChildRef.if_visible(known["child"], as_of) if known else None,
                   summary=ChildSummary.from_row(known["summary"], as_of) if known else None)


@strawberry.type
class DutyConnection:
    area: str
    kind: DutyKind  # type: ignore[valid-type]
    as_of: datetime
    total_count: int
    nodes: list[Duty]
    page_info: PageInfo

    @classmethod
    def from_result(cls, r: duty_svc.DutyResult) -> DutyConnection:
        last = r.items[-1] if r.items else None
        return cls(area=r.area.label, kind=DutyKind(r.kind.value), as_of=r.as_of, total_count=r.total,
                   nodes=[Duty.from_item(i, r.children, r.as_of) for i in r.items],
                   page_info=PageInfo(has_next_page=r.has_next,
                                      end_cursor=encode_cursor(last.due_at.isoformat(), last.id) if last else None))


@strawberry.type(description="One agency system's record of an episode.")
class AgencyEpisodeRecord:
    id: strawberry.ID
    agency_id: str
    source_system: str | None
    source_ref: str | None
    start_at: datetime | None
    end_at: datetime | None
    missing_type: str | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> AgencyEpisodeRecord:
        return cls(id=strawberry.ID(r["id"]), agency_id=r["agencyId"], source_system=r.get("sourceSystem"),
                   source_ref=r.get("sourceRef"), start_at=r.get("startAt"), end_at=r.get("endAt"),
                   missing_type=r.get("missingType"))


@strawberry.type
class ReconciliationItem:
    episode_id: strawberry.ID
    child_id: strawberry.ID
    at: datetime = strawberry.field(description="The episode's earliest known date (what the window filters on).")
    category: ReconciliationCategory  # type: ignore[valid-type]
    reported_to_police: bool
    police_records: list[AgencyEpisodeRecord]
    la_records: list[AgencyEpisodeRecord]
    start_difference_hours: float | None
    end_difference_hours: float | None


@strawberry.type(description="Counts per category (null: suppressed below the small-number threshold).")
class ReconciliationCounts:
    episodes: int | None
    police_only: int | None
    la_only: int | None
    dates_disagree: int | None
    agree: int | None
    unrecorded: int | None


@strawberry.type
class Reconciliation:
    local_authority: str
    from_: datetime = strawberry.field(name="from")
    to: datetime
    tolerance_hours: int
    counts: ReconciliationCounts
    suppressed: bool
    total_count: int = strawberry.field(description="Items in the selected categories (0 for analysts).")
    nodes: list[ReconciliationItem]
    page_info: PageInfo

    @classmethod
    def from_result(cls, r: recon.ReconResult) -> Reconciliation:
        c = r.counts
        last = r.items[-1] if r.items else None
        return cls(
            local_authority=r.local_authority, from_=r.from_, to=r.to, tolerance_hours=r.tolerance_hours,
            counts=ReconciliationCounts(
                episodes=r.episodes, police_only=c[recon.ReconCategory.POLICE_ONLY],
                la_only=c[recon.ReconCategory.LA_ONLY], dates_disagree=c[recon.ReconCategory.DATES_DISAGREE],
                agree=c[recon.ReconCategory.AGREE], unrecorded=c[recon.ReconCategory.UNRECORDED]),
            suppressed=r.suppressed, total_count=r.total,
            nodes=[ReconciliationItem(
                episode_id=strawberry.ID(i.episode_id), child_id=strawberry.ID(i.child_id), at=i.at,
                category=ReconciliationCategory(i.category.value), reported_to_police=i.reported_to_police,
                police_records=[AgencyEpisodeRecord.from_row(x) for x in i.police_records],
                la_records=[AgencyEpisodeRecord.from_row(x) for x in i.la_records],
                start_difference_hours=i.start_difference_hours, end_difference_hours=i.end_difference_hours,
            ) for i in r.items],
            page_info=PageInfo(has_next_page=r.has_next,
                               end_cursor=encode_cursor(last.at.isoformat(), last.episode_id) if last else None),
        )
