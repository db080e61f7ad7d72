"""Missed duties in an area, each with the evidence an officer needs to act and how overdue it is.

Kinds and when an item is due (all relative to `asOf`, default now):

- `rhi_overdue`: a ReturnInterview still `offered` or `not_offered` whose `dueAt` has passed.
  In an LA: interviews the LA owes (rule area: the child's responsible LA, else the LA the child
  went missing from) or its commissioned provider carries out; in a force: episodes in its area.
- `notification_unsent`: a Notification never sent whose `dueAt` has passed (no dueAt: the
  placement start / episode report), plus every out-of-area placement with no
  `placement_to_host_la` notification at all, due as a recorded one would be: the days of
  `[notification_due] placement_to_host_la` in seed/rules/area_rules.toml after the placement starts (the statutory notice; 10% of placements are never notified).
- `notification_unacknowledged`: sent, not acknowledged, past `dueAt`.
  For both notification kinds the area is the sender or the recipient.
- `found_not_notified`: a looked-after child found by police with no SENT
  `found_to_responsible_la` notification, due at the recorded notification's `dueAt`, else
  `FOUND_NOTIFICATION_GRACE_HOURS` after being found. Area: the finding force or the responsible LA.
- `repeat_trigger`: children whose rule area's repeat-missing triggers (seed/rules/area_rules.toml,
  evaluated by mpdb/domain/triggers.py) fire at `asOf`. "Due" is when the trigger started firing
  without a break, so `daysOverdue` is how long the child has met it.

`daysOverdue` is whole days from due to `asOf`, rounded down. Items are ordered most overdue first
and only cover records the caller may see. `due_from`/`due_to` narrow items (and the total) to those
due in [due_from, due_to), so a work queue need not page past years of old undone duties. Each
result carries its children in full when the caller may read them, and always in summary form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from mpdb.auth.principal import AgencyKind, Scope
from mpdb.domain.errors import Forbidden
from mpdb.domain.rules import AreaRuleBook, load_area_rules
from mpdb.domain.triggers import RepeatTrigger, count_in_window, evaluate_triggers
from mpdb.graph.repositories.intel_areas import IntelAreaRepository
from mpdb.graph.repositories.records import ReferenceRepository
from mpdb.intel.hotspots import NATIONAL, Area, resolve_area
from mpdb.services.context import ServiceContext

FOUND_NOTIFICATION_GRACE_HOURS = 24
TRIGGER_EVIDENCE_CAP = 50


class DutyKind(StrEnum):
    RHI_OVERDUE = "rhi_overdue"
    NOTIFICATION_UNSENT = "notification_unsent"
    NOTIFICATION_UNACKNOWLEDGED = "notification_unacknowledged"
    FOUND_NOT_NOTIFIED = "found_not_notified"
    REPEAT_TRIGGER = "repeat_trigger"


@dataclass(frozen=True, slots=True)
class DutyEvidence:
    kind: str
    id: str | None
    at: datetime | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class DutyItem:
    id: str
    kind: DutyKind
    child_id: str | None
    episode_id: str | None
    placement_id: str | None
    notification_id: str | None
    return_interview_id: str | None
    duty_holder: str | None
    recipient: str | None
    due_at: datetime
    days_overdue: int
    evidence: list[DutyEvidence]


@dataclass(frozen=True, slots=True)
class DutyResult:
    area: Area
    kind: DutyKind
    as_of: datetime
    total: int
    items: list[DutyItem]
    has_next: bool
    # child id -> {"child": row with names only when visible, "summary": summary row}
    children: dict[str, dict[str, Any]] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _rule_book() -> AreaRuleBook:
    return load_area_rules()


def days_overdue(due_at: datetime, as_of: datetime) -> int:
    return int((as_of - due_at).total_seconds() // 86400)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _item(kind: DutyKind, row: dict[str, Any], as_of: datetime) -> DutyItem:
    due = _aware(row["dueAt"])
    return DutyItem(
        id=row["id"], kind=kind, child_id=row.get("childId"), episode_id=row.get("episodeId"),
        placement_id=row.get("placementId"), notification_id=row.get("notificationId"),
        return_interview_id=row.get("returnInterviewId"), duty_holder=row.get("dutyHolder"),
        recipient=row.get("recipient"), due_at=due, days_overdue=days_overdue(due, as_of),
        evidence=[DutyEvidence(e["kind"], e.get("id"), e.get("at"), e.get("detail"))
                  for e in row.get("evidence") or [] if e.get("id") is not None or e.get("detail")],
    )


async def default_area(ctx: ServiceContext) -> str:
    p = ctx.principal
    if p.agency_kind in (AgencyKind.POLICE_FORCE, AgencyKind.LOCAL_AUTHORITY):
        return p.agency_id
    return NATIONAL


def firing_since(trigger: RepeatTrigger, times: Sequence[datetime], as_of: datetime) -> datetime:
    """Start of the unbroken run of firing that reaches `as_of`: the earliest episode from which
    the trigger fired at every later episode and still fires at `as_of`."""
    since = as_of
    for t in reversed(times):
        if not evaluate_triggers(times, t, [trigger], "")[0].fired:
            break
        since = t
    return since


def evaluate_repeat_triggers(
    candidates: Sequence[dict[str, Any]], book: AreaRuleBook, as_of: datetime
) -> list[DutyItem]:
    items = []
    for cand in candidates:
        rules = book.for_area(cand["ruleLa"])
        episodes = [(e["id"], _aware(e["reportedAt"])) for e in cand["episodes"]]
        times = [t for _, t in episodes]
        for trigger in rules.triggers:
            if not evaluate_triggers(times, as_of, [trigger], rules.area)[0].fired:
                continue
            since = firing_since(trigger, times, as_of)
            counted = [(i, t) for i, t in episodes if count_in_window([t], as_of, trigger.window_days)]
            evidence = [DutyEvidence("rule", trigger.id, None, f"{trigger.description} ({trigger.describe()}), "
                                     f"rule area {rules.area}: {len(counted)} episodes count at asOf")]
            evidence += [DutyEvidence("episode", i, t, "reported")
                         for i, t in sorted(counted, key=lambda x: x[1], reverse=True)[:TRIGGER_EVIDENCE_CAP]]
            items.append(DutyItem(
                id=f"{cand['childId']}:{trigger.id}", kind=DutyKind.REPEAT_TRIGGER, child_id=cand["childId"],
                episode_id=counted[-1][0] if counted else None, placement_id=None, notification_id=None,
                return_interview_id=None, duty_holder=cand["ruleLa"], recipient=None, due_at=since,
                days_overdue=days_overdue(since, as_of), evidence=evidence,
            ))
    items.sort(key=lambda i: (i.due_at, i.id))
    return items


async def duties(
    ctx: ServiceContext, area_arg: str | None, kind: DutyKind, *, as_of: datetime | None,
    limit: int, after: tuple[datetime, str] | None = None,
    due_from: datetime | None = None, due_to: datetime | None = None,
) -> DutyResult:
    if not ctx.principal.has(Scope.INTEL_READ):
        raise Forbidden("Forbidden: needs scope intel:read")
    area = await resolve_area(ctx, area_arg if area_arg is not None else await default_area(ctx))
    as_of = _aware(as_of) if as_of else datetime.now(UTC)
    repo = IntelAreaRepository(ctx.graph)
    if kind is DutyKind.REPEAT_TRIGGER:
        book = _rule_book()
        if book.national.triggers:
            rule_areas = [la["code"] for la in await ReferenceRepository(ctx.graph).local_authorities()]
        else:
            rule_areas = sorted(code for code, rules in book.areas.items() if rules.triggers)
        candidates = await repo.repeat_trigger_candidates(ctx.scope, rule_areas, area.mode, area.code, as_of)
        every = [i for i in evaluate_repeat_triggers(candidates, book, as_of)
                 if (due_from is None or i.due_at >= due_from) and (due_to is None or i.due_at < due_to)]
        rest = [i for i in every if after is None or (i.due_at, i.id) > (_aware(after[0]), after[1])]
        items, total, has_next = rest[:limit], len(every), len(rest) > limit
    else:
        grace = {"placementGraceDays": _rule_book().notification_due_days["placement_to_host_la"],
                 "foundGraceHours": FOUND_NOTIFICATION_GRACE_HOURS}
        due = (due_from, due_to)
        rows = await repo.duty_page(ctx.scope, kind.value, area.mode, area.code, as_of, grace, limit + 1, after, due)
        total = await repo.duty_count(ctx.scope, kind.value, area.mode, area.code, as_of, grace, due)
        items = [_item(kind, r, as_of) for r in rows[:limit]]
        has_next = len(rows) > limit
    ids: list[str] = []
    for i in items:
        ids += [x for x in (i.child_id, i.episode_id, i.placement_id, i.return_interview_id, i.notification_id) if x]
        ids += [e.id for e in i.evidence if e.kind == "episode" and e.id]
    await ctx.consulted(f"duties.{kind.value}", list(dict.fromkeys(ids)))
    children = await repo.duty_children(ctx.scope, list(dict.fromkeys(i.child_id for i in items if i.child_id)))
    return DutyResult(area=area, kind=kind, as_of=as_of, total=total, items=items, has_next=has_next,
                      children=children)
