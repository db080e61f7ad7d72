"""The pure parts of registerChild and of placement notices: name matching (mpdb/domain/names.py),
notification timescales from the rules file, and the shapes of the new commands."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mpdb.domain import commands as cmd
from mpdb.domain import names, rules
from mpdb.domain.errors import InvalidInput
from mpdb.domain.names import NameMatch

EXACT, NICK, SPELL = NameMatch.EXACT, NameMatch.NICKNAME, NameMatch.SPELLING


@pytest.mark.parametrize(("typed", "recorded", "expected"), [
    ("Zoe", "Zoë", EXACT), ("  MARY-JANE ", "Mary Jane", EXACT), ("Maryjane", "Mary-Jane", EXACT),
    ("Bill", "William", NICK), ("Will", "Bill", NICK), ("Liz", "Elizabeth", NICK), ("Tom", "Thomas", NICK),
    ("Mohammed", "Muhammad", SPELL), ("Sophie", "Sopihe", SPELL),
    ("Jon", "Jan", None), ("Mary Jane", "Mary", None), ("Yasmin", "William", None), ("", "William", None),
    (None, "William", None),
])
def test_given_names(typed: str | None, recorded: str, expected: NameMatch | None) -> None:
    assert names.match_given_name(typed, recorded) is expected


@pytest.mark.parametrize(("typed", "recorded", "expected"), [
    ("OBrien Smith", "O'Brien-Smith", EXACT), ("jones", "JONES", EXACT), ("Łukaszewski", "Lukaszewski", EXACT),
    ("Jnoes", "Jones", SPELL), ("Smyth", "Smith", SPELL), ("Jones", "James", None), ("Lee", "Li", None),
    ("Khan", "Kahn", SPELL), ("Khan", "Kwan", None),  # 4 letters: a swap is a slip, a substitution another name
])
def test_family_names(typed: str, recorded: str, expected: NameMatch | None) -> None:
    assert names.match_family_name(typed, recorded) is expected


def test_normalise() -> None:
    assert names.normalise("  Zoë  O’Brien-Smith ") == "zoe o brien smith"
    assert names.normalise(None) == names.normalise("") == ""


def test_notification_timescales_come_from_the_rules_file() -> None:
    book = rules.load_area_rules()
    assert book.notification_due_days == {"placement_to_host_la": 5, "placement_to_host_force": 5,
                                          "home_to_host_la": 5}
    assert rules.notification_due_at(book, "placement_to_host_la", date(2026, 10, 30)) == datetime(
        2026, 11, 4, tzinfo=UTC)


def _book(**due: object) -> dict:
    return {"version": 1, "national": {"rhi_due": {"kind": "hours", "hours": 72}, "strategy_meeting_days": 14},
            "notification_due": due}


def test_notification_timescales_are_validated() -> None:
    ok = {"placement_to_host_la": {"days": 1}, "placement_to_host_force": {"days": 2}, "home_to_host_la": {"days": 0}}
    assert rules.parse_area_rules(_book(**ok)).notification_due_days == {
        "placement_to_host_la": 1, "placement_to_host_force": 2, "home_to_host_la": 0}
    with pytest.raises(ValueError, match="home_to_host_la is missing"):
        rules.parse_area_rules(_book(placement_to_host_la={"days": 1}, placement_to_host_force={"days": 2}))
    with pytest.raises(ValueError, match="unknown kinds"):
        rules.parse_area_rules(_book(**ok, found_to_la={"days": 1}))
    with pytest.raises(ValueError, match="whole number"):
        rules.parse_area_rules(_book(**{**ok, "home_to_host_la": {"hours": 5}}))


def test_command_shapes() -> None:
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.StartPlacement, {"placement_id": "P", "child_id": "C", "start_date": "2026-10-02",
                                               "end_date": "2026-10-01", "placement_type": "K2",
                                               "place": {"la_code": "E10000016", "force_code": "E23000032"}})
    assert exc.value.field == "input.endDate"
    c = cmd.parse_command(cmd.StartPlacement, {"placement_id": "P", "child_id": "C", "placement_type": "K2",
                                               "place": {"la_code": "E10000016", "force_code": "E23000032"}})
    assert (c.start_date, c.end_date) == (None, None)
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.RegisterChild, {"given_name": "A"})
    assert exc.value.field == "input"
    report = {"child_id": "C1", "reporter_type": "parent", "reported_at": "2026-10-01T10:00:00Z",
              "missing_from_place": {"la_code": "E10000016", "force_code": "E23000032"},
              "risk_assessment": {"scheme": "2017", "grade": "low"}}
    with pytest.raises(InvalidInput) as exc:
        cmd.parse_command(cmd.ReportMissingTogether, {"children": [report, {**report, "reporter_type": "x"}]})
    assert exc.value.field == "input.children[1].reporterType"
