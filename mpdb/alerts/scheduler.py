"""Time-based alerts: duties that became overdue, and children still missing at the strategy-meeting
day. Nothing writes when a deadline passes, so a pass of `raise_overdue_alerts` (run periodically by
the lease holder, mpdb/alerts/ delivery side) finds what fell due since and appends it.

- Overdue duties come from the SAME statements as the `duties` API (mpdb/intel/duties.py,
  mpdb/graph/queries/intel_areas.py, national, as the system): there is one definition of overdue.
  `rhi_overdue`, `notification_unsent`, `notification_unacknowledged`, `found_not_notified`; each
  item alerts the agency that owes it (`owes`) and the one it is owed to (`owed`). Repeat-missing
  triggers are raised by the write that reports the episode (they fire on a report, not on a clock).
- The strategy meeting: an open episode reported at least the rule area's `strategy_meeting_days`
  ago (seed/rules/area_rules.toml; the rule area of reportMissing) raises `trigger_fired` with the
  rule `strategy_meeting` to the episode's holders and the rule area's LA.
- Only what fell due in [max(alertsFrom, now - NEWS_WINDOW), now) is news: `alertsFrom` (on the
  OutboxHead) is set by the first pass, or moved forward by a first load of history, so a store's
  old undone duties never page anyone; a duty recorded more than NEWS_WINDOW after it fell due
  stays in the duties list only.
- Keyed `duty_overdue|<duty kind>|<duty id>|<recipient>` (and `trigger_fired|<episode>|
  strategy_meeting|<recipient>`): a second pass, a crashed pass re-run, or two schedulers at once
  append nothing twice. A pass with nothing new takes no lock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.alerts.events import AlertEvent, AlertKind
from mpdb.alerts.kinds import KINDS, NEWS_WINDOW
from mpdb.alerts.recipients import Raised, events_for
from mpdb.auth.access import access_scope_for
from mpdb.auth.principal import Principal
from mpdb.domain.rules import AreaRuleBook, load_area_rules, rule_area, strategy_meeting_due_at
from mpdb.graph.db import Graph, run
from mpdb.graph.queries import alerts as q
from mpdb.graph.repositories.intel_areas import IntelAreaRepository
from mpdb.graph.repositories.outbox import append_events
from mpdb.intel.duties import FOUND_NOTIFICATION_GRACE_HOURS, DutyKind

PAGE = 500
SCHEDULER = Principal.system(subject="mpdb-alert-scheduler")
# The duty kinds whose items are alerts (repeat triggers alert from the write that fires them).
OVERDUE_KINDS = (DutyKind.RHI_OVERDUE, DutyKind.NOTIFICATION_UNSENT, DutyKind.NOTIFICATION_UNACKNOWLEDGED,
                 DutyKind.FOUND_NOT_NOTIFIED)
STRATEGY_MEETING = "strategy_meeting"


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _subject(kind: DutyKind, row: dict[str, Any]) -> tuple[str, str]:
    if kind is DutyKind.RHI_OVERDUE:
        return "ReturnInterview", row["returnInterviewId"]
    if kind is DutyKind.FOUND_NOT_NOTIFIED:
        return "Episode", row["episodeId"]
    if row.get("notificationId"):
        return "Notification", row["notificationId"]
    return "Placement", row["placementId"]  # an out-of-area placement with no notice recorded at all


def duty_events(kind: DutyKind, row: dict[str, Any], rhi_owed: dict[str, str]) -> list[AlertEvent]:
    """The events of one overdue duty item (a row of the duties statements)."""
    parties: dict[str, str] = {}
    owed = row.get("recipient") or rhi_owed.get(row.get("returnInterviewId") or "")
    if owed:
        parties[owed] = "owed"
    if row.get("dutyHolder"):
        parties[row["dutyHolder"]] = "owes"  # owing is the stronger reason (an LA doing its own interview)
    subject_type, subject_id = _subject(kind, row)
    assert set(parties.values()) <= set(KINDS[AlertKind.DUTY_OVERDUE].recipients)
    return [AlertEvent(
        kind=AlertKind.DUTY_OVERDUE, key=f"{AlertKind.DUTY_OVERDUE}|{kind}|{row['id']}|{agency}", recipient=agency,
        reason=reason, subject_type=subject_type, subject_id=subject_id, occurred_at=_aware(row["dueAt"]),
        child_id=row.get("childId"), episode_id=row.get("episodeId"),
    ) for agency, reason in sorted(parties.items())]


async def _overdue_rows(graph: Graph, kind: DutyKind, now: datetime, floor: datetime,
                        grace: dict[str, int]) -> list[dict[str, Any]]:
    repo = IntelAreaRepository(graph)
    scope = access_scope_for(SCHEDULER)
    rows: list[dict[str, Any]] = []
    after: tuple[datetime, str] | None = None
    while True:
        page = await repo.duty_page(scope, kind.value, "national", None, now, grace, PAGE, after, (floor, now))
        rows += page
        if len(page) < PAGE:
            return rows
        after = (page[-1]["dueAt"], page[-1]["id"])


def _strategy_raised(rows: list[dict[str, Any]], book: AreaRuleBook, floor: datetime, now: datetime) -> list[Raised]:
    out = []
    for r in rows:
        area = book.for_area(rule_area(r["responsibleLa"], r["missingFromLa"], r["homeLa"]))
        due = strategy_meeting_due_at(_aware(r["reportedAt"]), area.strategy_meeting_days)
        if floor <= due < now:  # "still missing N days after the report", as riskProfile says
            out.append(Raised(AlertKind.TRIGGER_FIRED, r["childId"], "Episode", r["episodeId"], due, r["episodeId"],
                              trigger=STRATEGY_MEETING, rule_area=None if area.area == "national" else area.area))
    return out


async def raise_overdue_alerts(graph: Graph, now: datetime, *, book: AreaRuleBook | None = None) -> int:
    """Append the alerts of every duty that fell due by `now` (and is news: see the module docstring);
    idempotent; returns how many events were appended."""
    now = _aware(now)
    book = book or load_area_rules()
    start = await graph.write(q.ALERTS_FROM, {"at": now})
    if not start:
        raise RuntimeError("the outbox head is missing: run `mpdb schema apply` (migration 0011)")
    floor = max(_aware(start[0]["alertsFrom"]), now - NEWS_WINDOW)
    if floor >= now:
        return 0
    grace = {"placementGraceDays": book.notification_due_days["placement_to_host_la"],
             "foundGraceHours": FOUND_NOTIFICATION_GRACE_HOURS}
    items = [(kind, row) for kind in OVERDUE_KINDS for row in await _overdue_rows(graph, kind, now, floor, grace)]
    rhi = sorted({row["returnInterviewId"] for kind, row in items if kind is DutyKind.RHI_OVERDUE})
    rhi_owed = {}
    if rhi:
        rhi_owed = {r["id"]: r["ruleLa"] for r in await graph.read(q.RHI_OWED_TO, {"ids": rhi}) if r["ruleLa"]}
    longest = max([book.national.strategy_meeting_days, *(a.strategy_meeting_days for a in book.areas.values())])
    shortest = min([book.national.strategy_meeting_days, *(a.strategy_meeting_days for a in book.areas.values())])
    open_rows = await graph.read(q.STRATEGY_MEETING_CANDIDATES, {
        "from": floor - timedelta(days=longest), "to": now - timedelta(days=shortest)})
    strategy = _strategy_raised(open_rows, book, floor, now)

    async def work(tx: AsyncManagedTransaction) -> int:
        events = [e for kind, row in items for e in duty_events(kind, row, rhi_owed)]
        events += await events_for(tx, strategy, None)
        if not events:
            return 0
        rows = await run(tx, q.EXISTING_KEYS, {"keys": sorted({e.key for e in events})})
        seen = set(rows[0]["keys"]) if rows else set()
        fresh = [e for e in events if e.key not in seen]
        if not fresh:
            return 0
        return len(await append_events(tx, fresh))

    return await graph.in_write_tx(work)


async def history_loaded(graph: Graph, at: datetime) -> None:
    """A first load of history ends at `at`: nothing that fell due before it alerts."""
    await graph.write(q.HISTORY_LOADED, {"at": _aware(at)})
