"""The shared value rules (mpdb/domain/values.py): every rule refuses, names the field and the
rule, and accepts the boundary value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import AfterValidator, BaseModel, ValidationError
from typing import Annotated

from mpdb.domain import values as v
from mpdb.domain.errors import InvalidInput


@pytest.mark.parametrize("text", ["a\x00b", "\x01", "x\x1b[31m", "del\x7f", "c1\x85", "c1\x9f", "a\tb", "a\nb", "a\rb"])
def test_single_line_kinds_refuse_every_control_character(text: str) -> None:
    with pytest.raises(v.BadValue) as exc:
        v.check_text(text, "input.name", v.NAME)
    assert exc.value.rule == v.RULE_CONTROL
    assert exc.value.field == "input.name"
    assert exc.value.extensions == {"code": "BAD_USER_INPUT", "field": "input.name"}
    assert isinstance(exc.value, InvalidInput)


def test_free_text_allows_tab_and_line_breaks_but_not_nul() -> None:
    assert v.check_text("line one\r\nline two\tend", "note", v.FREE_TEXT) == "line one\r\nline two\tend"
    with pytest.raises(v.BadValue) as exc:
        v.check_text("ok\n\x00", "note", v.FREE_TEXT)
    assert exc.value.rule == v.RULE_CONTROL
    assert exc.value.message == "note: contains a control character (U+0000) at position 4"


def test_non_ascii_letters_are_not_control_characters() -> None:
    assert v.check_text("Zoë Ó Súilleabháin — 李", "name", v.NAME)
    assert v.control_character("\xa0non-breaking") is None  # U+00A0 is just past C1


@pytest.mark.parametrize("kind", [v.ID, v.REFERENCE, v.CODE, v.NAME, v.SHORT_TEXT, v.FREE_TEXT, v.POSTCODE])
def test_length_caps_bind_exactly_at_the_cap(kind: v.TextKind) -> None:
    assert v.check_text("a" * kind.max_length, "f", kind)
    with pytest.raises(v.BadValue) as exc:
        v.check_text("a" * (kind.max_length + 1), "f", kind)
    assert exc.value.rule == v.RULE_TOO_LONG
    assert f"at most {kind.max_length}" in exc.value.message


def test_caps_are_what_the_docs_say() -> None:
    assert (v.ID_MAX, v.REFERENCE_MAX, v.CODE_MAX, v.NAME_MAX, v.FREE_TEXT_MAX, v.POSTCODE_MAX) == \
        (80, 40, 16, 200, 20_000, 8)


def test_dates_bounds() -> None:
    today = date(2026, 6, 15)
    assert v.check_date(date(1900, 1, 1), "d", today=today) == date(1900, 1, 1)
    assert v.check_date(today, "d", today=today) == today
    with pytest.raises(v.BadValue) as exc:
        v.check_date(date(1899, 12, 31), "input.dateOfBirth", today=today)
    assert (exc.value.rule, exc.value.field) == (v.RULE_TOO_EARLY, "input.dateOfBirth")
    with pytest.raises(v.BadValue) as exc:
        v.check_date(date(1, 1, 1), "d", today=today)
    assert exc.value.rule == v.RULE_TOO_EARLY
    with pytest.raises(v.BadValue) as exc:
        v.check_date(date(2026, 6, 16), "d", today=today)
    assert exc.value.rule == v.RULE_FUTURE


def test_due_dates_may_be_ahead_but_not_absurdly() -> None:
    today = date(2024, 2, 29)
    assert v.check_date(date(2034, 2, 28), "reviewDue", future_ok=True, today=today)
    with pytest.raises(v.BadValue) as exc:
        v.check_date(date(2034, 3, 1), "reviewDue", future_ok=True, today=today)
    assert exc.value.rule == v.RULE_TOO_FAR_AHEAD
    with pytest.raises(v.BadValue):
        v.check_date(date(1899, 1, 1), "reviewDue", future_ok=True, today=today)


def test_datetimes_allow_small_clock_skew_only() -> None:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    assert v.check_datetime(now + timedelta(minutes=4), "reportedAt", now=now)
    with pytest.raises(v.BadValue) as exc:
        v.check_datetime(now + timedelta(minutes=6), "input.reportedAt", now=now)
    assert (exc.value.rule, exc.value.message) == (v.RULE_FUTURE, "input.reportedAt: in the future")
    with pytest.raises(v.BadValue) as exc:
        v.check_datetime(datetime(1, 1, 1, tzinfo=UTC), "reportedAt", now=now)
    assert exc.value.rule == v.RULE_TOO_EARLY
    assert v.check_datetime(datetime(1900, 1, 1, tzinfo=UTC), "reportedAt", now=now)


def test_events_not_before_birth_on_the_uk_day() -> None:
    dob = date(2012, 5, 1)
    # 23:30 UTC on 30 April is 00:30 BST on 1 May: the birthday itself.
    assert v.check_not_before_birth(datetime(2012, 4, 30, 23, 30, tzinfo=UTC), dob, "reportedAt")
    with pytest.raises(v.BadValue) as exc:
        v.check_not_before_birth(datetime(2012, 4, 30, 22, 30, tzinfo=UTC), dob, "input.reportedAt")
    assert (exc.value.rule, exc.value.field) == (v.RULE_BEFORE_BIRTH, "input.reportedAt")
    with pytest.raises(v.BadValue):
        v.check_not_before_birth(date(2012, 4, 30), dob, "startDate")
    assert v.check_not_before_birth(date(2000, 1, 1), None, "startDate") == date(2000, 1, 1)


def test_check_all_text_names_the_nested_path() -> None:
    with pytest.raises(v.BadValue) as exc:
        v.check_all_text({"companions": {"newPersons": [{"name": "ok"}, {"name": "b\x00d"}]}}, "input")
    assert exc.value.field == "input.companions.newPersons[1].name"
    v.check_all_text({"a": ["x", 1, None, {"b": "multi\nline"}]}, "input")


def test_pydantic_adapters_give_validation_errors() -> None:
    class Row(BaseModel):
        name: Annotated[str, AfterValidator(v.text_rule(v.NAME))]
        born: Annotated[date, AfterValidator(v.date_rule())]

    assert Row(name="Ann", born=date(2010, 1, 1)).name == "Ann"
    with pytest.raises(ValidationError) as exc:
        Row(name="A\x00", born=date(2010, 1, 1))
    err = exc.value.errors()[0]
    assert err["loc"] == ("name",) and "control character" in err["msg"]
    with pytest.raises(ValidationError) as exc:
        Row(name="Ann", born=date(1800, 1, 1))
    assert exc.value.errors()[0]["loc"] == ("born",)
