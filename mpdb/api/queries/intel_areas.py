from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from mpdb.api.pagination import decode_cursor, page_size
from mpdb.api.permissions import requires
from mpdb.api.types.intel_areas import (
    DutyConnection,
    DutyKind,
    HotspotConnection,
    HotspotKind,
    HotspotRanking,
    Reconciliation,
    ReconciliationCategory,
)
from mpdb.auth.principal import Scope
from mpdb.domain.errors import InvalidInput
from mpdb.intel import duties as duty_svc
from mpdb.intel import hotspots as hs
from mpdb.intel import reconciliation as recon


class IntelOrAnalytics(BasePermission):
    message = "Forbidden: needs scope intel:read or analytics:read"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        p = info.context.service.principal
        return bool(p.has(Scope.INTEL_READ) or p.has(Scope.ANALYTICS_READ))


def _intel_or_analytics() -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[IntelOrAnalytics()], use_directives=False)]


def _offset(after: str | None) -> int:
    if not after:
        return 0
    (value,) = decode_cursor(after, int)
    if value < 0:
        raise InvalidInput("malformed cursor", field="after")
    return value


def _keyset(after: str | None) -> tuple[datetime, str] | None:
    if not after:
        return None
    at, key = decode_cursor(after, datetime, str)
    return at, key


@strawberry.type
class IntelAreaQueries:
    @strawberry.field(
        extensions=_intel_or_analytics(),
        description="Places ranked by distinct children (or episodes) for one kind of place, over [from, to), "
                    "in `area`: 'national', a police force code or a local authority code. Places within "
                    "~500 m grid cells that touch are one hot spot (radius <= 1.25 km, see clusterRadiusKm); "
                    "a hot spot straddling the area's boundary counts children on both sides. Trend is against "
                    "the previous period of the same length. Needs intel:read or analytics:read; analysts get "
                    "small numbers suppressed and no episode ids.",
    )
    async def hotspots(
        self, info: strawberry.Info, area: str, kind: HotspotKind,  # type: ignore[valid-type]
        from_: Annotated[date, strawberry.argument(name="from")], to: date,
        rank_by: HotspotRanking = HotspotRanking.CHILDREN,  # type: ignore[valid-type,attr-defined]
        emerging_only: bool = False, first: int | None = None, after: str | None = None,
    ) -> HotspotConnection:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        result = await hs.hotspots(
            ctx, area, hs.HotspotKind(kind.value), from_, to, rank_by=hs.RankBy(rank_by.value),
            emerging_only=emerging_only, limit=limit, offset=_offset(after))
        return HotspotConnection.from_result(result)

    @strawberry.field(
        extensions=requires(Scope.CHILD_READ, Scope.INTEL_READ),
        description="Duties not done in `area` ('national', a force or an LA code; default: your own agency), "
                    "most overdue first, as of `asOf` (default now), limited to records you may see: "
                    "RHI_OVERDUE, NOTIFICATION_UNSENT (including out-of-area placements never notified, due 5 "
                    "days after the start), NOTIFICATION_UNACKNOWLEDGED, FOUND_NOT_NOTIFIED (looked-after "
                    "children found by police whose responsible LA was not notified, due 24 h after found), "
                    "REPEAT_TRIGGER (the area's repeat-missing triggers, from seed/rules/area_rules.toml). "
                    "dueFrom/dueTo (UTC dates, both inclusive) keep only duties due in that window; "
                    "totalCount counts the window. Each duty's child comes in full when you may read it "
                    "(child), and in summary form (summary).",
    )
    async def duties(
        self, info: strawberry.Info, kind: DutyKind, area: str | None = None,  # type: ignore[valid-type]
        as_of: datetime | None = None, first: int | None = None, after: str | None = None,
        due_from: date | None = None, due_to: date | None = None,
    ) -> DutyConnection:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        if due_from is not None and due_to is not None and due_from > due_to:
            raise InvalidInput("dueFrom must be on or before dueTo", field="dueTo")
        result = await duty_svc.duties(
            ctx, area, duty_svc.DutyKind(kind.value), as_of=as_of, limit=limit, after=_keyset(after),
            due_from=datetime.combine(due_from, time.min, UTC) if due_from else None,
            due_to=datetime.combine(due_to + timedelta(days=1), time.min, UTC) if due_to else None)
        return DutyConnection.from_result(result)

    @strawberry.field(
        extensions=_intel_or_analytics(),
        description="Police-vs-LA reconciliation of the episodes of `localAuthority`'s looked-after children "
                    "over [from, to): known to the police and not the LA, the reverse, and records whose dates "
                    "differ by more than toleranceHours. Items default to the three discrepancy categories. "
                    "Analysts get counts only, small numbers suppressed.",
    )
    async def reconciliation(
        self, info: strawberry.Info, local_authority: str,
        from_: Annotated[date, strawberry.argument(name="from")], to: date,
        tolerance_hours: int = 24,
        categories: list[ReconciliationCategory] | None = None,  # type: ignore[valid-type]
        first: int | None = None, after: str | None = None,
    ) -> Reconciliation:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        cats = (tuple(recon.ReconCategory(c.value) for c in categories) if categories
                else recon.DISCREPANCIES)
        result = await recon.reconciliation(
            ctx, local_authority, from_, to, tolerance_hours=tolerance_hours, categories=cats, limit=limit,
            after=_keyset(after))
        return Reconciliation.from_result(result)
