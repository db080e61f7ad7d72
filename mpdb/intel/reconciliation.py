"""Police-vs-LA reconciliation of one local authority's looked-after children's episodes.

Counts from police and LAs have diverged by 10x, so mpdb keeps one `EpisodeRecord` per agency
system that knows of an episode. For the LA's looked-after children and the episodes whose
earliest date (reportedAt, else lastSeenAt, else the earliest record's startAt) falls in
[from, to), each episode is:

- `police_only`: known to the police (a record whose agencyId is a force, or REPORTED_TO a force)
  and with no record from this LA;
- `la_only`: recorded by this LA and unknown to the police;
- `dates_disagree`: a police record and an LA record both exist and their start times, or both
  end times where both have one, differ by more than `toleranceHours`;
- `agree`: both know it and the dates agree;
- `unrecorded`: no agency record and not reported to the police (an episode known only to mpdb).

Analysts (aggregates only) get the counts, small numbers suppressed, and no items.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from mpdb.domain.errors import InvalidInput
from mpdb.graph.repositories.intel_areas import IntelAreaRepository
from mpdb.intel.hotspots import require_intel_or_analytics, resolve_area, suppress, window
from mpdb.services.context import ServiceContext

MAX_TOLERANCE_HOURS = 24 * 30


class ReconCategory(StrEnum):
    POLICE_ONLY = "police_only"
    LA_ONLY = "la_only"
    DATES_DISAGREE = "dates_disagree"
    AGREE = "agree"
    UNRECORDED = "unrecorded"


DISCREPANCIES = (ReconCategory.POLICE_ONLY, ReconCategory.LA_ONLY, ReconCategory.DATES_DISAGREE)


@dataclass(frozen=True, slots=True)
class ReconItem:
    episode_id: str
    child_id: str
    at: datetime
    category: ReconCategory
    reported_to_police: bool
    police_records: list[dict[str, Any]]
    la_records: list[dict[str, Any]]
    start_difference_hours: float | None
    end_difference_hours: float | None


@dataclass(frozen=True, slots=True)
class ReconResult:
    local_authority: str
    from_: datetime
    to: datetime
    tolerance_hours: int
    counts: dict[ReconCategory, int | None]
    episodes: int | None
    suppressed: bool
    total: int
    items: list[ReconItem]
    has_next: bool


def _hours(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round(abs((a - b).total_seconds()) / 3600, 2)


def _record_order(r: dict[str, Any]) -> tuple[bool, float, str]:
    start = r.get("startAt")
    return (start is None, start.timestamp() if start else 0.0, r["id"])


def classify(row: dict[str, Any], tolerance_hours: int) -> ReconItem:
    police = sorted(row["policeRecords"], key=_record_order)
    la = sorted(row["laRecords"], key=_record_order)
    police_known = bool(police) or bool(row["reportedToPolice"])
    start_diff = end_diff = None
    if police and la:
        start_diff = _hours(police[0].get("startAt"), la[0].get("startAt"))
        end_diff = _hours(police[0].get("endAt"), la[0].get("endAt"))
        disagree = any(d is not None and d > tolerance_hours for d in (start_diff, end_diff))
        category = ReconCategory.DATES_DISAGREE if disagree else ReconCategory.AGREE
    elif la and not police_known:
        category = ReconCategory.LA_ONLY
    elif police_known and not la:
        category = ReconCategory.POLICE_ONLY
    elif la:  # reported to police with no police record of its own: both know it, nothing to compare
        category = ReconCategory.AGREE
    else:
        category = ReconCategory.UNRECORDED
    return ReconItem(row["episodeId"], row["childId"], row["at"], category, bool(row["reportedToPolice"]),
                     police, la, start_diff, end_diff)


async def reconciliation(
    ctx: ServiceContext, local_authority: str, from_date: date, to_date: date, *,
    tolerance_hours: int = 24, categories: tuple[ReconCategory, ...] = DISCREPANCIES,
    limit: int, after: tuple[datetime, str] | None = None,
) -> ReconResult:
    require_intel_or_analytics(ctx)
    if not 0 <= tolerance_hours <= MAX_TOLERANCE_HOURS:
        raise InvalidInput(f"toleranceHours must be between 0 and {MAX_TOLERANCE_HOURS}", field="toleranceHours")
    from_, to = window(from_date, to_date)
    area = await resolve_area(ctx, local_authority, field="localAuthority")
    if area.mode != "la" or area.code is None:
        raise InvalidInput("localAuthority must be the GSS code of a local authority", field="localAuthority")
    rows = await IntelAreaRepository(ctx.graph).reconciliation_episodes(ctx.scope, area.code, from_, to)
    classified = [classify(r, tolerance_hours) for r in rows]
    tally = Counter(i.category for i in classified)
    aggregates_only = ctx.scope.aggregates_only
    threshold = ctx.settings.small_number_threshold
    counts = {c: suppress(tally.get(c, 0), threshold, aggregates_only) for c in ReconCategory}
    suppressed = any(v is None for v in counts.values())
    selected = [i for i in classified if i.category in categories]
    if aggregates_only:
        page: list[ReconItem] = []
        has_next = False
    else:
        rest = [i for i in selected if after is None or (i.at, i.episode_id) > after]
        page, has_next = rest[:limit], len(rest) > limit
        await ctx.consulted("reconciliation", [x for i in page for x in (i.episode_id, i.child_id)])
    return ReconResult(
        local_authority=area.code, from_=from_, to=to, tolerance_hours=tolerance_hours, counts=counts,
        episodes=suppress(len(classified), threshold, aggregates_only), suppressed=suppressed,
        total=0 if aggregates_only else len(selected), items=page, has_next=has_next,
    )
