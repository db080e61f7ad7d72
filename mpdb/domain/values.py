"""Value rules shared by every way data comes in: GraphQL inputs, CSV rows and SSDA903 rows.

Pure functions, no I/O. Each `check_*` returns the value it was given when it is acceptable and
raises `BadValue` (an `InvalidInput`, so GraphQL shows `BAD_USER_INPUT` with `field`) naming the
field and a stable `rule` (importers put the rule in their rejection report):

- text: no NUL, no C0 or C1 control character (and no DEL); tab and newline only in free-text
  fields (notes, reasons, accounts) where a person may type several lines; a length cap per kind
  of field (`TextKind`), counted in characters after the caller's own whitespace stripping;
- dates: not before 1900-01-01 and not after today (UK), unless the field is a due or planned date
  (`future_ok`), which may be up to `MAX_YEARS_AHEAD` years ahead;
- datetimes: the same bounds, with `CLOCK_SKEW` of allowance into the future for a sender whose
  clock runs a little fast;
- events (reportedAt, foundAt, returnedAt, raisedAt...): not before the child's date of birth,
  compared on the UK calendar day so an event just after midnight on the birthday counts.

The caps are deliberately generous for people (a 200-character name) and tight for machines
(an 80-character id): they exist to stop garbage and oversized payloads reaching Neo4j, not to
judge what a real name looks like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mpdb.domain.errors import InvalidInput

UK_TZ = ZoneInfo("Europe/London")

# --- length caps, in characters -------------------------------------------------------------
ID_MAX = 80  # record ids (client-generated UUIDs, source-system keys), idempotency keys use 128
REFERENCE_MAX = 40  # external references: LAC child reference, URN, source-system record refs
CODE_MAX = 16  # ONS area codes (E10000016), force codes, SSDA903 codes
NAME_MAX = 200  # names of people, places, establishments
SHORT_TEXT_MAX = 200  # one-line labels: summary items, reporter descriptions, grades
FREE_TEXT_MAX = 20_000  # notes, reasons, a return interview's account
POSTCODE_MAX = 8  # "SW1A 1AA"
SEARCH_TEXT_MAX = 200  # a search box
PURPOSE_MAX = 500  # the X-MPDB-Purpose header
CURSOR_MAX = 512  # an opaque page cursor (mpdb/api/pagination.py)
# Any string argument of the GraphQL API that no narrower rule covers: the largest free text plus
# room for escapes. Checked on every argument before a resolver runs (mpdb/api/extensions/inputs.py).
ANY_STRING_MAX = FREE_TEXT_MAX

# --- date bounds ------------------------------------------------------------------------------
EARLIEST_DATE = date(1900, 1, 1)
EARLIEST_DATETIME = datetime(1900, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=5)  # a datetime this far in the future is still "now"
MAX_YEARS_AHEAD = 10  # a due/planned date further ahead than this is a typing mistake


@dataclass(frozen=True, slots=True)
class TextKind:
    """A kind of text field: its cap and whether it may hold tabs and line breaks."""

    name: str
    max_length: int
    multiline: bool = False


ID = TextKind("id", ID_MAX)
REFERENCE = TextKind("reference", REFERENCE_MAX)
CODE = TextKind("code", CODE_MAX)
NAME = TextKind("name", NAME_MAX)
SHORT_TEXT = TextKind("short text", SHORT_TEXT_MAX)
FREE_TEXT = TextKind("free text", FREE_TEXT_MAX, multiline=True)
POSTCODE = TextKind("postcode", POSTCODE_MAX)
SEARCH_TEXT = TextKind("search text", SEARCH_TEXT_MAX)
ANY_STRING = TextKind("text", ANY_STRING_MAX, multiline=True)


class BadValue(InvalidInput, ValueError):
    """A value refused by one of the rules here: `field`, a `reason` without the field's name (for
    reports that show the column apart), and a stable `rule` (for import reports and tests). It is
    a ValueError too, so a pydantic validator that raises it reports a validation error."""

    def __init__(self, reason: str, *, field: str, rule: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason
        self.rule = rule


# Rule codes.
RULE_CONTROL = "control_character"
RULE_TOO_LONG = "too_long"
RULE_TOO_EARLY = "date_before_1900"
RULE_FUTURE = "date_in_future"
RULE_TOO_FAR_AHEAD = "date_too_far_ahead"
RULE_BEFORE_BIRTH = "before_date_of_birth"

# C0 controls, DEL, C1 controls. Tab (\t) and line breaks (\n, \r) are allowed in multiline kinds
# only; \r is accepted there because text pasted from Windows carries CRLF.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(value: str, *, multiline: bool = False) -> int | None:
    """Index of the first refused control character in `value`, or None."""
    m = (_CONTROL_EXCEPT_LINES if multiline else _CONTROL).search(value)
    return m.start() if m else None


def check_text(value: str, field: str, kind: TextKind = SHORT_TEXT) -> str:
    # Length first: it is O(1), and a multi-megabyte value need not be scanned at all.
    if len(value) > kind.max_length:
        raise BadValue(f"too long ({len(value)} characters; at most {kind.max_length} for {kind.name})",
                       field=field, rule=RULE_TOO_LONG)
    pos = control_character(value, multiline=kind.multiline)
    if pos is not None:
        raise BadValue(f"contains a control character (U+{ord(value[pos]):04X}) at position {pos + 1}",
                       field=field, rule=RULE_CONTROL)
    return value


def uk_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UK_TZ).date()


def uk_day(value: date | datetime) -> date:
    """The UK calendar day of a date or datetime (a naive datetime is taken as UK local time)."""
    if isinstance(value, datetime):
        return value.astimezone(UK_TZ).date() if value.tzinfo else value.date()
    if hasattr(value, "to_native"):  # neo4j.time.Date / DateTime straight from a record
        return uk_day(value.to_native())
    return value


def check_date(value: date, field: str, *, future_ok: bool = False, today: date | None = None) -> date:
    """A calendar date: a date of birth or a start date (`future_ok=False`), or a due or planned
    date (`future_ok=True`, up to MAX_YEARS_AHEAD years ahead)."""
    day = uk_day(value)
    today = today or uk_today()
    if day < EARLIEST_DATE:
        raise BadValue(f"before {EARLIEST_DATE.isoformat()}", field=field, rule=RULE_TOO_EARLY)
    if future_ok:
        if day > _years_after(today, MAX_YEARS_AHEAD):
            raise BadValue(f"more than {MAX_YEARS_AHEAD} years ahead", field=field, rule=RULE_TOO_FAR_AHEAD)
    elif day > today:
        raise BadValue("in the future", field=field, rule=RULE_FUTURE)
    return value


def check_datetime(value: datetime, field: str, *, now: datetime | None = None,
                   skew: timedelta = CLOCK_SKEW) -> datetime:
    """A moment something happened: not before 1900, not later than now plus `skew`.
    A naive datetime is taken as UTC here; callers that read UK local time convert first."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if aware < EARLIEST_DATETIME:
        raise BadValue(f"before {EARLIEST_DATE.isoformat()}", field=field, rule=RULE_TOO_EARLY)
    if aware > now + skew:
        raise BadValue("in the future", field=field, rule=RULE_FUTURE)
    return value


def check_not_before_birth(value: date | datetime, date_of_birth: date | None, field: str) -> date | datetime:
    """An event in a child's life (reported, found, returned, flag raised, placement start) cannot
    precede the child's birth; compared on UK calendar days. No date of birth on record: no check."""
    if date_of_birth is None:
        return value
    if uk_day(value) < uk_day(date_of_birth):
        raise BadValue("before the child's date of birth", field=field, rule=RULE_BEFORE_BIRTH)
    return value


def check_all_text(value: Any, field: str, kind: TextKind = ANY_STRING) -> None:
    """Every string inside `value` (nested dicts and lists, as GraphQL input objects arrive),
    with the path of the first offending one as the field."""
    if isinstance(value, str):
        check_text(value, field, kind)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_all_text(v, f"{field}.{k}", kind)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_all_text(v, f"{field}[{i}]", kind)


# --- pydantic adapters (for the command models and the CSV row models) -----------------------


def text_rule(kind: TextKind) -> Any:
    """A validator for `Annotated[str, AfterValidator(text_rule(NAME))]`: the reason without the
    field (pydantic's error location names it)."""

    def _check(value: str) -> str:
        if value is None:
            return value
        try:
            return check_text(value, kind.name, kind)
        except BadValue as exc:
            raise ValueError(exc.reason) from None

    return _check


def date_rule(*, future_ok: bool = False) -> Any:
    def _check(value: date) -> date:
        if value is None:
            return value
        try:
            return check_date(value, "date", future_ok=future_ok)
        except BadValue as exc:
            raise ValueError(exc.reason) from None

    return _check


def datetime_rule() -> Any:
    def _check(value: datetime) -> datetime:
        if value is None:
            return value
        try:
            return check_datetime(value, "time")
        except BadValue as exc:
            raise ValueError(exc.reason) from None

    return _check


def _years_after(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)
