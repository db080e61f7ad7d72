"""Repeat-missing triggers, evaluated on every new episode. Pure functions, no I/O.

A trigger counts the child's episodes reported within `window_days` before (and including) the
new episode, or all of them when it has no window, and fires when the count compares to its
threshold: `gt` (Oldham: "more than three times in the last 12 months"), `gte` (Haringey "at 3
episodes"; Lancashire 5 and 9, where "meetings continue if the child keeps going missing", so the
trigger keeps firing past the threshold) or `eq` (fires once, on reaching the threshold).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Op = Literal["gt", "gte", "eq"]
_OPS = {"gt": lambda c, t: c > t, "gte": lambda c, t: c >= t, "eq": lambda c, t: c == t}


@dataclass(frozen=True, slots=True)
class RepeatTrigger:
    id: str
    description: str
    op: Op
    threshold: int
    window_days: int | None = None

    def describe(self) -> str:
        sym = {"gt": ">", "gte": ">=", "eq": "="}[self.op]
        window = f" in {self.window_days} days" if self.window_days else ""
        return f"episodes {sym} {self.threshold}{window}"


@dataclass(frozen=True, slots=True)
class TriggerResult:
    trigger: RepeatTrigger
    count: int
    fired: bool
    area: str  # the rule area (LA code or 'national') whose rule this is


def count_in_window(reported: Iterable[datetime], at: datetime, window_days: int | None) -> int:
    """Episodes reported at or before `at` and, with a window, after `at - window_days`."""
    start = at - timedelta(days=window_days) if window_days else None
    return sum(1 for t in reported if t <= at and (start is None or t > start))


def evaluate_triggers(
    reported: Iterable[datetime], new_reported_at: datetime, triggers: Iterable[RepeatTrigger], area: str
) -> list[TriggerResult]:
    """`reported` holds every episode of the child INCLUDING the new one."""
    times = list(reported)
    results = []
    for t in triggers:
        count = count_in_window(times, new_reported_at, t.window_days)
        results.append(TriggerResult(t, count, _OPS[t.op](count, t.threshold), area))
    return results
