"""The pure rules of the episode lifecycle (mpdb/domain): no graph, exact values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mpdb.domain import commands as cmd
from mpdb.domain import rules
from mpdb.domain.deadlines import RhiDeadline, add_working_days, rhi_due_at, rhi_timeliness
from mpdb.domain.errors import Conflict, InvalidInput, RuleViolation
from mpdb.domain.triggers import RepeatTrigger, evaluate_triggers

BOOK = rules.load_area_rules()
T = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday


# --- grading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme,grade", [("2017", "no_apparent_risk"), ("2013", "absent")])
def test_active_flag_forbids_a_no_risk_grade_and_names_the_flag(scheme: str, grade: str) -> None:
    flags = [rules.ActiveFlag("F-2", "mental_health"), rules.ActiveFlag("F-1", "cse")]
    with pytest.raises(RuleViolation) as exc:
        rules.check_grade_allowed(scheme, grade, flags)
    ext = exc.value.extensions
    assert ext["field"] == "input.riskAssessment.grade"
    assert (ext["flagId"], ext["flagType"], ext["flagIds"]) == ("F-1", "cse", ["F-1", "F-2"])
    assert "cse (F-1)" in exc.value.message and "mental_health (F-2)" in exc.value.message


@pytest.mark.parametrize("scheme,grade", [("2017", "low"), ("2013", "medium"), ("2017", "high")])
def test_active_flag_allows_a_graded_risk(scheme: str, grade: str) -> None:
    rules.check_grade_allowed(scheme, grade, [rules.ActiveFlag("F-1", "cse")])


def test_no_risk_grade_is_allowed_without_flags() -> None:
    rules.check_grade_allowed("2017", "no_apparent_risk", [])
    assert rules.category_for("2017", "no_apparent_risk") == "absent"
    assert rules.category_for("2013", "absent") == "absent"
    assert rules.category_for("2013", "low") == "missing"


def test_grade_must_belong_to_its_scheme() -> None:
    with pytest.raises(InvalidInput) as exc:
        rules.check_grade_in_scheme("2013", "no_apparent_risk")
    assert exc.value.field == "input.riskAssessment.grade"
    with pytest.raises(InvalidInput) as exc:
        rules.check_grade_in_scheme("2020", "low")
    assert exc.value.field == "input.riskAssessment.scheme"


# --- timestamps and open episodes ------------------------------------------------------------

def test_last_seen_not_after_reported() -> None:
    rules.check_episode_times(T, T - timedelta(hours=1), now=T)
    rules.check_episode_times(T, T, now=T)
    with pytest.raises(RuleViolation) as exc:
        rules.check_episode_times(T, T + timedelta(seconds=1), now=T + timedelta(hours=1))
    assert exc.value.field == "input.lastSeenAt"
    with pytest.raises(InvalidInput) as exc:
        rules.check_episode_times(T + timedelta(hours=1), None, now=T)
    assert exc.value.field == "input.reportedAt"


def test_found_and_returned_not_before_reported() -> None:
    rules.check_found_returned(T, found_at=T, returned_at=T + timedelta(hours=1), now=T + timedelta(days=1))
    with pytest.raises(RuleViolation) as exc:
        rules.check_found_returned(T, found_at=T - timedelta(seconds=1), now=T + timedelta(days=1))
    assert exc.value.field == "input.foundAt"
    with pytest.raises(RuleViolation) as exc:
        rules.check_found_returned(T, returned_at=T - timedelta(minutes=1), now=T + timedelta(days=1))
    assert exc.value.field == "input.returnedAt"
    with pytest.raises(RuleViolation) as exc:
        rules.check_found_returned(T, found_at=T + timedelta(hours=2), returned_at=T + timedelta(hours=1),
                                   now=T + timedelta(days=1))
    assert exc.value.extensions["rule"] == "RETURNED_BEFORE_FOUND"


def test_open_episode_conflict_carries_its_id() -> None:
    rules.check_no_open_episode(None)
    with pytest.raises(Conflict) as exc:
        rules.check_no_open_episode("EP-1")
    assert exc.value.extensions == {"code": "CONFLICT", "field": "input.childId", "reason": "OPEN_EPISODE_EXISTS",
                                    "openEpisodeId": "EP-1"}


# --- return interview deadlines --------------------------------------------------------------

def test_rhi_due_72_hours_by_default() -> None:
    rule = BOOK.for_area(None).rhi_due
    assert rule == RhiDeadline("hours", 72)
    assert rhi_due_at(T, rule) == T + timedelta(hours=72)
    assert BOOK.for_area("E06000021").rhi_due == rule  # an LA without its own rules


def test_kent_three_working_days_skip_weekends_and_bank_holidays() -> None:
    kent = BOOK.for_area("E10000016").rhi_due
    assert kent == RhiDeadline("working_days", 3)
    # Friday 15:00 GMT -> Wednesday 15:00
    assert rhi_due_at(T, kent, BOOK.bank_holidays) == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    # Wednesday 23 Dec 2026 10:00 GMT: Thu 24, (Fri 25 and Mon 28 are bank holidays) Tue 29, Wed 30
    assert rhi_due_at(datetime(2026, 12, 23, 10, 0, tzinfo=UTC), kent, BOOK.bank_holidays) == \
        datetime(2026, 12, 30, 10, 0, tzinfo=UTC)
    # Saturday return counts from Monday; BST clock time is kept across the DST change
    assert rhi_due_at(datetime(2026, 10, 24, 13, 0, tzinfo=UTC), kent, BOOK.bank_holidays) == \
        datetime(2026, 10, 28, 14, 0, tzinfo=UTC)  # 14:00 BST Sat -> 14:00 GMT Wed


def test_bank_holidays_are_data_for_2024_to_2027() -> None:
    assert len(BOOK.bank_holidays) == 32
    assert {date(2024, 3, 29), date(2025, 4, 21), date(2026, 12, 28), date(2027, 12, 28)} <= BOOK.bank_holidays
    assert add_working_days(date(2027, 3, 25), 1, BOOK.bank_holidays) == date(2027, 3, 30)  # Easter 2027


def test_rhi_timeliness_is_derived() -> None:
    due = T + timedelta(hours=72)
    assert rhi_timeliness("not_offered", due, T) == "due"
    assert rhi_timeliness("offered", due, due + timedelta(seconds=1)) == "overdue"
    assert rhi_timeliness("completed", due, due + timedelta(days=9)) == "completed"
    assert rhi_timeliness("declined", due, due + timedelta(days=9)) == "declined"


# --- repeat-missing triggers -----------------------------------------------------------------

def _times(n: int, days_apart: int = 30) -> list[datetime]:
    return [T - timedelta(days=days_apart * i) for i in range(n)]


def test_oldham_more_than_three_in_twelve_months() -> None:
    [oldham] = BOOK.for_area("E08000004").triggers
    assert (oldham.op, oldham.threshold, oldham.window_days) == ("gt", 3, 365)
    [r] = evaluate_triggers(_times(4), T, [oldham], "E08000004")
    assert (r.count, r.fired) == (4, True)
    [r] = evaluate_triggers(_times(3), T, [oldham], "E08000004")
    assert (r.count, r.fired) == (3, False)
    # the fourth episode is over a year old: outside the window
    [r] = evaluate_triggers(_times(4, days_apart=130), T, [oldham], "E08000004")
    assert (r.count, r.fired) == (3, False)


def test_haringey_three_and_lancashire_five_and_nine() -> None:
    [h] = evaluate_triggers(_times(3, 400), T, BOOK.for_area("E09000014").triggers, "E09000014")
    assert (h.trigger.id, h.count, h.fired) == ("haringey_early_help", 3, True)  # no window
    lancs = BOOK.for_area("E10000017").triggers
    assert [(r.trigger.threshold, r.fired) for r in evaluate_triggers(_times(5), T, lancs, "x")] == [(5, True), (9, False)]
    assert [(r.trigger.threshold, r.fired) for r in evaluate_triggers(_times(9), T, lancs, "x")] == [(5, True), (9, True)]
    assert [r.fired for r in evaluate_triggers(_times(4), T, lancs, "x")] == [False, False]
    assert BOOK.for_area("E10000017").strategy_meeting_days == 14


def test_eq_trigger_fires_once_and_later_episodes_do_not_count() -> None:
    t = RepeatTrigger("x", "x", "eq", 2)
    assert evaluate_triggers(_times(2), T, [t], "a")[0].fired is True
    assert evaluate_triggers(_times(3), T, [t], "a")[0].fired is False
    later = T + timedelta(days=1)
    assert evaluate_triggers([*_times(2), later], T, [t], "a")[0].count == 2


def test_area_rules_reject_unknown_keys() -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        rules.parse_area_rules({"version": 1, "national": {"rhi_due": {"kind": "hours", "hours": 72},
                                                          "strategy_meeting_days": 14},
                                "areas": {"E1": {"rhi_deu": {}}}})
    with pytest.raises(ValueError, match="hours"):
        rules.parse_area_rules({"version": 1, "national": {"rhi_due": {"kind": "weeks"}, "strategy_meeting_days": 1}})


def test_rule_area_prefers_the_responsible_la() -> None:
    assert rules.rule_area("E10000016", "E06000021") == "E10000016"
    assert rules.rule_area(None, "E06000021") == "E06000021"
    assert rules.rule_area(None, None) is None


# --- placements ------------------------------------------------------------------------------

def test_placement_geography() -> None:
    g = rules.placement_geography(placing_la="E10000016", placing_la_forces=["E23000032"], host_la="E06000021",
                                  host_force="E23000015", home=(51.2802, 1.0789), placement=(53.0027, -2.1794))
    assert (g.out_of_area, g.cross_force) == (True, True) and 290 < g.distance_km < 300
    g = rules.placement_geography(placing_la="E10000016", placing_la_forces=["E23000032"], host_la="E06000035",
                                  host_force="E23000032", home=None, placement=None)
    assert (g.out_of_area, g.cross_force, g.distance_km) == (True, False, None)


# --- commands --------------------------------------------------------------------------------

BASE = {"child_id": "C1", "reporter_type": "carer", "reported_at": "2026-11-20T10:00:00Z",
        "missing_from_placement_id": "P1", "risk_assessment": {"scheme": "2017", "grade": "low"}}


@pytest.mark.parametrize("change,field", [
    ({"risk_assessment": {"scheme": "2017", "grade": "absent"}}, "input.riskAssessment.grade"),
    ({"risk_assessment": {"scheme": "2019", "grade": "low"}}, "input.riskAssessment.scheme"),
    ({"reported_at": "2026-11-20T10:00:00"}, "input.reportedAt"),
    ({"reporter_type": "neighbour"}, "input.reporterType"),
    ({"reporting_force": "Kent"}, "input.reportingForce"),
    ({"surprise": 1}, "input.surprise"),
    ({"companions": {"new_persons": [{"id": "X1", "name": "N", "role": "boss"}]}}, "input.companions.newPersons[0].role"),
    ({"last_seen_place": {"latitude": 51.0}}, "input.lastSeenPlace"),
    ({"last_seen_place": {"latitude": 40.0, "longitude": 0.1}}, "input.lastSeenPlace.latitude"),
])
def test_report_missing_input_errors_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.ReportMissing, {**BASE, **change})
    assert exc.value.field == field


def test_report_missing_needs_exactly_one_child_and_a_missing_from() -> None:
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.ReportMissing, {**BASE, "new_child": {"id": "N1"}})
    assert exc.value.field == "input" and "exactly one" in exc.value.message
    with pytest.raises(InvalidInput):
        cmd.parse_command(cmd.ReportMissing, {**BASE, "missing_from_placement_id": None})
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.ReportMissing, {**{k: v for k, v in BASE.items() if k != "child_id"},
                                              "new_child": {"given_name": "A"}})
    assert exc.value.field == "input.newChild"
    ok = cmd.parse_command(cmd.ReportMissing, BASE)
    assert ok.reported_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC) and ok.whereabouts_known is False


def test_return_interview_dates_follow_the_status() -> None:
    base = {"episode_id": "E1", "offered_at": "2026-11-20T10:00:00Z"}
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.RecordReturnInterview, {**base, "status": "completed"})
    assert exc.value.field == "input.completedAt"
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.RecordReturnInterview, {**base, "status": "offered", "confidential_account": "x"})
    assert exc.value.field == "input.confidentialAccount"
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.RecordReturnInterview, {**base, "status": "completed",
                                                      "completed_at": "2026-11-19T10:00:00Z"})
    assert exc.value.field == "input.completedAt"
    c = cmd.parse_command(cmd.RecordReturnInterview, {**base, "status": "completed", "completed_at": "2026-11-21T10:00:00Z",
                                                      "summary_risk_types": ["cse"]})
    assert c.summary_risk_types == ["cse"]


# --- agency records, home notifications, marking sent ----------------------------------------

@pytest.mark.parametrize("kind,agency,known,expected", [
    ("police_force", "E23000032", False, ("E23000032", None)),
    ("police_force", "E23000032", True, ("E23000032", None)),
    ("local_authority", "E10000016", False, ("E10000016", "M")),
    ("local_authority", "E10000016", True, ("E10000016", "A")),
    ("national_unit", "NCA-MPU", True, ("E23000015", None)),
    ("system", "MPDB", False, ("E23000015", None)),
])
def test_the_episode_record_belongs_to_the_recording_agency(kind: str, agency: str, known: bool,
                                                             expected: tuple[str, str | None]) -> None:
    assert rules.episode_record_agency(kind, agency, "E23000015", known) == expected


def test_ssda903_missing_type_follows_whereabouts_known() -> None:
    assert (rules.ssda903_missing_type(True), rules.ssda903_missing_type(False)) == ("A", "M")


@pytest.mark.parametrize("kind,out_of_area,due", [
    ("childrens_home", True, True), ("childrens_home", False, False), ("foster_agency", True, False),
    ("semi_independent", True, False), (None, True, False),
])
def test_a_childrens_home_notifies_the_host_la_only_out_of_area(kind: str | None, out_of_area: bool, due: bool) -> None:
    assert rules.home_notification_due(kind, out_of_area) is due


def test_mark_notification_sent_needs_an_aware_time_and_an_id() -> None:
    c = cmd.parse_command(cmd.MarkNotificationSent, {"notification_id": "NOT-1", "sent_at": "2026-11-20T10:00:00Z"})
    assert (c.notification_id, c.sent_at) == ("NOT-1", datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.MarkNotificationSent, {"notification_id": "NOT-1", "sent_at": "2026-11-20T10:00:00"})
    assert exc.value.field == "input.sentAt"
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.MarkNotificationSent, {"notification_id": "", "sent_at": "2026-11-20T10:00:00Z"})
    assert exc.value.field == "input.notificationId"
