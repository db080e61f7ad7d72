"""The statutory and local rules of the episode lifecycle, as pure functions (no I/O).

The one module the write API and the bulk importer share. Everything here takes plain values and
either returns a derived value or raises an `MpdbError` naming the input field at fault, so the
same rule gives the same error whichever door the data came in by.

Thresholds are data (`seed/rules/area_rules.toml`): `parse_area_rules` turns the parsed TOML into
`AreaRuleBook`; `load_area_rules` is the only function here that touches the file system and is
kept separate so callers that already hold the data stay I/O-free.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from mpdb.domain.deadlines import RhiDeadline, rhi_due_at, rhi_timeliness, strategy_meeting_due_at
from mpdb.domain.errors import Conflict, InvalidInput, RuleViolation
from mpdb.domain.geo import haversine_km
from mpdb.domain.grading import (
    SCHEME_GRADES,
    ActiveFlag,
    category_for,
    check_grade_allowed,
    check_grade_in_scheme,
)
from mpdb.domain.triggers import RepeatTrigger, TriggerResult, evaluate_triggers

__all__ = [
    "SCHEME_GRADES", "ActiveFlag", "AreaRuleBook", "AreaRules", "RepeatTrigger", "RhiDeadline",
    "TriggerResult", "category_for", "check_episode_times", "check_found_returned",
    "check_grade_allowed", "check_grade_in_scheme", "check_no_open_episode", "episode_record_agency",
    "evaluate_triggers", "home_notification_due", "ssda903_missing_type",
    "load_area_rules", "notification_due_at", "parse_area_rules", "placement_geography", "rhi_due_at",
    "rhi_timeliness", "rule_area", "strategy_meeting_due_at",
]

DEFAULT_RULES_FILE = Path(__file__).resolve().parents[2] / "seed" / "rules" / "area_rules.toml"
NATIONAL = "national"


# --- area rules ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AreaRules:
    area: str  # LA GSS code, or 'national'
    name: str
    rhi_due: RhiDeadline
    strategy_meeting_days: int
    triggers: tuple[RepeatTrigger, ...]


@dataclass(frozen=True, slots=True)
class AreaRuleBook:
    national: AreaRules
    areas: Mapping[str, AreaRules]
    bank_holidays: frozenset[date] = field(default_factory=frozenset)
    notification_ack_hours: int = 72
    # Notification kind -> days from the event it is about (placement start or end) to the time
    # the notice is due; see `notification_due_at`.
    notification_due_days: Mapping[str, int] = field(default_factory=dict)

    def for_area(self, la_code: str | None) -> AreaRules:
        return self.areas.get(la_code or "", self.national)


def _rhi(raw: Mapping[str, Any], where: str) -> RhiDeadline:
    kind = raw.get("kind")
    if kind == "hours":
        amount = raw.get("hours")
    elif kind == "working_days":
        amount = raw.get("days")
    else:
        raise ValueError(f"{where}.rhi_due.kind must be 'hours' or 'working_days', not {kind!r}")
    if not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"{where}.rhi_due needs a positive whole number of {kind}")
    return RhiDeadline(kind, amount)


def _triggers(raw: Any, where: str) -> tuple[RepeatTrigger, ...]:
    out = []
    for i, t in enumerate(raw or []):
        unknown = set(t) - {"id", "description", "op", "threshold", "window_days"}
        if unknown:
            raise ValueError(f"{where}.triggers[{i}]: unknown keys {sorted(unknown)}")
        if t.get("op") not in ("gt", "gte", "eq") or not isinstance(t.get("threshold"), int):
            raise ValueError(f"{where}.triggers[{i}] needs op (gt|gte|eq) and an integer threshold")
        out.append(RepeatTrigger(id=t["id"], description=t.get("description", t["id"]), op=t["op"],
                                 threshold=t["threshold"], window_days=t.get("window_days")))
    return tuple(out)


def parse_area_rules(data: Mapping[str, Any]) -> AreaRuleBook:
    """Validate the parsed area-rules TOML; unknown keys are errors, not silently ignored."""
    if data.get("version") != 1:
        raise ValueError("area rules: version must be 1")
    nat = data["national"]
    national = AreaRules(NATIONAL, "national default", _rhi(nat["rhi_due"], "national"),
                         int(nat["strategy_meeting_days"]), _triggers(nat.get("triggers"), "national"))
    areas: dict[str, AreaRules] = {}
    for code, raw in (data.get("areas") or {}).items():
        unknown = set(raw) - {"name", "rhi_due", "strategy_meeting_days", "triggers"}
        if unknown:
            raise ValueError(f"areas.{code}: unknown keys {sorted(unknown)}")
        areas[code] = AreaRules(
            area=code,
            name=raw.get("name", code),
            rhi_due=_rhi(raw["rhi_due"], f"areas.{code}") if "rhi_due" in raw else national.rhi_due,
            strategy_meeting_days=int(raw.get("strategy_meeting_days", national.strategy_meeting_days)),
            triggers=_triggers(raw["triggers"], f"areas.{code}") if "triggers" in raw else national.triggers,
        )
    holidays = frozenset(date.fromisoformat(d) for d in (data.get("bank_holidays") or {}).get("england", []))
    return AreaRuleBook(national, areas, holidays, int(nat.get("notification_ack_hours", 72)),
                        _notification_due(data.get("notification_due") or {}))


PLACEMENT_NOTIFICATION_KINDS = ("placement_to_host_la", "placement_to_host_force", "home_to_host_la")


def _notification_due(raw: Mapping[str, Any]) -> dict[str, int]:
    unknown = set(raw) - set(PLACEMENT_NOTIFICATION_KINDS)
    if unknown:
        raise ValueError(f"notification_due: unknown kinds {sorted(unknown)}")
    out = {}
    for kind in PLACEMENT_NOTIFICATION_KINDS:
        entry = raw.get(kind)
        if entry is None:
            raise ValueError(f"notification_due.{kind} is missing: every placement notice needs a timescale")
        if set(entry) != {"days"} or not isinstance(entry["days"], int) or entry["days"] < 0:
            raise ValueError(f"notification_due.{kind} must be {{ days = <whole number >= 0> }}")
        out[kind] = entry["days"]
    return out


def notification_due_at(book: AreaRuleBook, kind: str, event_date: date) -> datetime:
    """When a placement notice is due: `days` after the day the placement started (or ended, for a
    discharge notice), counted from 00:00 UTC of that day, as the duties queries count it. Counted
    from the event, never from data entry, so a placement recorded late is overdue at once."""
    return datetime.combine(event_date, time(0, 0), tzinfo=UTC) + timedelta(days=book.notification_due_days[kind])


@lru_cache(maxsize=4)
def load_area_rules(path: Path = DEFAULT_RULES_FILE) -> AreaRuleBook:
    with open(path, "rb") as f:
        return parse_area_rules(tomllib.load(f))


def rule_area(responsible_la: str | None, missing_from_la: str | None, home_la: str | None = None) -> str | None:
    """Whose rules apply to an episode: the responsible (placing) LA of a looked-after child, who
    owes the return interview and runs the repeat-missing meetings; otherwise the LA the child lives
    in (its home: residence, docs/ACCESS.md); otherwise the LA the child went missing from;
    otherwise none (the national default)."""
    return responsible_la or home_la or missing_from_la


# --- episode timestamps ----------------------------------------------------------------------

def check_episode_times(
    reported_at: datetime, last_seen_at: datetime | None, *, now: datetime, prefix: str = "input"
) -> None:
    if reported_at > now:
        raise InvalidInput("reportedAt is in the future", field=f"{prefix}.reportedAt")
    if last_seen_at is not None and last_seen_at > reported_at:
        raise RuleViolation(
            "the child cannot be last seen after the report was made: lastSeenAt must not be after reportedAt",
            field=f"{prefix}.lastSeenAt", rule="LAST_SEEN_AFTER_REPORTED",
        )


def check_found_returned(
    reported_at: datetime,
    *,
    found_at: datetime | None = None,
    returned_at: datetime | None = None,
    now: datetime,
    prefix: str = "input",
) -> None:
    """Found and returned are never before the report, nor in the future; return not before found."""
    for name, value in (("foundAt", found_at), ("returnedAt", returned_at)):
        if value is None:
            continue
        if value < reported_at:
            raise RuleViolation(
                f"{name} ({value.isoformat()}) is before the episode was reported ({reported_at.isoformat()})",
                field=f"{prefix}.{name}", rule="BEFORE_REPORTED",
            )
        if value > now:
            raise InvalidInput(f"{name} is in the future", field=f"{prefix}.{name}")
    if found_at is not None and returned_at is not None and returned_at < found_at:
        raise RuleViolation("returnedAt is before foundAt", field=f"{prefix}.returnedAt",
                            rule="RETURNED_BEFORE_FOUND")


def check_no_open_episode(open_episode_id: str | None, *, field: str = "input.childId") -> None:
    if open_episode_id:
        raise Conflict(
            f"the child already has an open episode ({open_episode_id}): update it or record the "
            "return before reporting a new one",
            field=field, reason="OPEN_EPISODE_EXISTS", openEpisodeId=open_episode_id,
        )


# --- agency records of an episode -----------------------------------------------------------

def ssda903_missing_type(whereabouts_known: bool) -> str:
    """SSDA903 MISSING: 'A' (away from placement without authorisation: whereabouts known or
    thought known) or 'M' (missing: whereabouts unknown)."""
    return "A" if whereabouts_known else "M"


def episode_record_agency(
    caller_kind: str, caller_agency: str, reporting_force: str, whereabouts_known: bool
) -> tuple[str, str | None]:
    """Whose `EpisodeRecord` an episode reported through the API is, and its SSDA903 missing type.

    A force records its own police record (no SSDA903 type). A local authority recording a
    report (its own, or a carer's made to it) records its SSDA903 missing row, M or A. Anyone else
    (the national unit, the operator) records on behalf of the force the report was made to: the
    police system is the one that knows of the episode."""
    if caller_kind == "local_authority":
        return caller_agency, ssda903_missing_type(whereabouts_known)
    if caller_kind == "police_force":
        return caller_agency, None
    return reporting_force, None


# --- placements ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlacementGeography:
    distance_km: float | None
    out_of_area: bool
    cross_force: bool


def placement_geography(
    *,
    placing_la: str,
    placing_la_forces: Collection[str],
    host_la: str,
    host_force: str,
    home: tuple[float, float] | None,
    placement: tuple[float, float] | None,
) -> PlacementGeography:
    """Out of area: hosted by another LA. Cross force: the host force is none of the forces the
    placing LA lies in. Distance: great-circle km from home (or the placing LA centroid)."""
    distance = None
    if home is not None and placement is not None:
        distance = round(haversine_km(home[0], home[1], placement[0], placement[1]), 3)
    return PlacementGeography(
        distance_km=distance,
        out_of_area=host_la != placing_la,
        cross_force=host_force not in set(placing_la_forces),
    )


def home_notification_due(establishment_kind: str | None, out_of_area: bool) -> bool:
    """A children's home notifies the host LA when a child placed out of area arrives and leaves
    (DOMAIN.md: "children's home -> host LA on placement and discharge")."""
    return establishment_kind == "childrens_home" and out_of_area
