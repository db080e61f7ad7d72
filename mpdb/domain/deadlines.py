"""Deadlines derived from area rules: return interview due time and overdue status, strategy
meeting due time. Pure functions, no I/O (the bank-holiday calendar is passed in).

Working-day deadlines (Kent: "within 3 working days of return") are counted in UK local time:
the due time is the same local clock time on the Nth working day after the day of return, where
a working day is Monday-Friday and not an England bank holiday. A return on a weekend or bank
holiday counts from the next working day in the same way (the day of return itself is never one
of the N). With no weekend or holiday in the way this equals the 72-hour rule, which is why this
reading was chosen over "end of the Nth working day".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

UK_TZ = ZoneInfo("Europe/London")


@dataclass(frozen=True, slots=True)
class RhiDeadline:
    kind: Literal["hours", "working_days"]
    amount: int

    def describe(self) -> str:
        return f"{self.amount} hours" if self.kind == "hours" else f"{self.amount} working days"


def is_working_day(d: date, bank_holidays: Collection[date]) -> bool:
    return d.weekday() < 5 and d not in bank_holidays


def add_working_days(d: date, n: int, bank_holidays: Collection[date]) -> date:
    current = d
    counted = 0
    while counted < n:
        current += timedelta(days=1)
        if is_working_day(current, bank_holidays):
            counted += 1
    return current


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("deadline arithmetic needs timezone-aware datetimes")
    return t


def rhi_due_at(returned_at: datetime, rule: RhiDeadline, bank_holidays: Collection[date] = ()) -> datetime:
    """When the return interview is due, in UTC."""
    returned_at = _aware(returned_at)
    if rule.kind == "hours":
        return (returned_at + timedelta(hours=rule.amount)).astimezone(UTC)
    local = returned_at.astimezone(UK_TZ)
    due_day = add_working_days(local.date(), rule.amount, bank_holidays)
    due_local = datetime.combine(due_day, local.timetz().replace(tzinfo=None), tzinfo=UK_TZ)
    return due_local.astimezone(UTC)


RhiTimeliness = Literal["completed", "declined", "due", "overdue", "not_offered"]


def rhi_timeliness(status: str | None, due_at: datetime | None, now: datetime) -> RhiTimeliness:
    """Overdue = not completed or declined by its due time (derived, never stored)."""
    if status == "completed":
        return "completed"
    if status == "declined":
        return "declined"
    if due_at is not None and _aware(now) > _aware(due_at):
        return "overdue"
    if status == "not_offered" and due_at is None:
        return "not_offered"
    return "due"


def strategy_meeting_due_at(reported_at: datetime, days: int) -> datetime:
    """A child still missing this long after the report needs a strategy meeting (Haringey: 14)."""
    return (_aware(reported_at) + timedelta(days=days)).astimezone(UTC)


def notification_overdue(sent_at: datetime | None, acknowledged_at: datetime | None,
                         due_at: datetime | None, now: datetime) -> bool:
    return acknowledged_at is None and due_at is not None and _aware(now) > _aware(due_at)
