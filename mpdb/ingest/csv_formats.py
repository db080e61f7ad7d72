"""The documented CSV formats for bulk import (docs/IMPORT.md): one pydantic row model per kind.

Pure validation, no I/O. A file is checked in two steps:

1. `check_header(kind, header)`: every required column present, no unknown or duplicated column
   (an unknown column is refused rather than ignored, so a misspelt optional column cannot drop
   its data silently);
2. `parse_row(kind, line, raw)`: the row's values against the row model, then the row's own
   cross-field rules. Every problem becomes a `RowError` naming the line, the column, the reason
   and a stable rule code.

Checks that need the graph (does the child exist, does an active flag forbid this grade, is
another episode of the child open) are made by the importer inside the batch's transaction.

Conventions for every kind: UTF-8 (a BOM is accepted); comma separated with a header line;
an empty cell means "not given"; dates `YYYY-MM-DD`; times ISO 8601 (`2024-05-01T21:30:00Z`,
or with an offset; a time without an offset is UK local time); booleans `true/false`,
`yes/no`, `1/0`; lists separated by `;`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from mpdb.domain import values
from mpdb.domain.errors import InvalidInput
from mpdb.domain.grading import SCHEME_GRADES, check_grade_in_scheme

UK_TZ = ZoneInfo("Europe/London")


class ImportKind(StrEnum):
    CHILDREN = "children"
    EPISODES = "episodes"
    PLACEMENTS = "placements"
    FLAGS = "flags"
    RETURN_INTERVIEWS = "return_interviews"


@dataclass(frozen=True, slots=True)
class RowError:
    """One reason a row was rejected. `line` is the file's line number (the header is line 1)."""

    file: str
    line: int
    column: str | None
    reason: str
    rule: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column or "",
                "rule": self.rule, "reason": self.reason}


REPORT_COLUMNS = ("file", "line", "column", "rule", "reason")


# --- value parsers ------------------------------------------------------------------------------


def _blank_to_none(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def _parse_bool(v: Any) -> Any:
    v = _blank_to_none(v)
    if isinstance(v, str):
        low = v.lower()
        if low in ("true", "yes", "y", "1"):
            return True
        if low in ("false", "no", "n", "0"):
            return False
        raise ValueError(f"{v!r} is not a boolean: use true or false")
    return v


def _parse_date(v: Any) -> Any:
    v = _blank_to_none(v)
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a date: use YYYY-MM-DD") from None
    return v


def _parse_datetime(v: Any) -> Any:
    v = _blank_to_none(v)
    if isinstance(v, str):
        try:
            parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{v!r} is not a date and time: use ISO 8601, e.g. 2024-05-01T21:30:00Z") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UK_TZ)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
            raise ValueError(f"{v!r} is out of the range of dates") from None
    return v


def _parse_list(v: Any) -> Any:
    v = _blank_to_none(v)
    if v is None:
        return []
    if isinstance(v, str):
        return [part.strip() for part in v.split(";") if part.strip()]
    return v


def _value_rule(check: Any) -> Any:
    """A shared value rule (mpdb/domain/values.py) as a pydantic validator that keeps the rule's
    code as the error type, so the reject report names it (`date_before_1900`, ...)."""

    def validate(v: Any) -> Any:
        if v is None:
            return v
        try:
            return check(v)
        except values.BadValue as exc:
            raise PydanticCustomError(exc.rule, exc.reason) from None

    return AfterValidator(validate)


# Calendar dates may lie ahead (a planned end date); a date of birth in the future is the row's
# own `date_order` rule. Moments are things that happened: not in the future. Due times may lie ahead.
_SINCE_1900 = _value_rule(lambda d: values.check_date(d, "date", future_ok=True))
_HAPPENED = _value_rule(lambda t: values.check_datetime(t, "time"))
_DUE = _value_rule(lambda t: values.check_date(t, "time", future_ok=True))

Text = Annotated[str | None, BeforeValidator(_blank_to_none)]
RequiredText = Annotated[str, BeforeValidator(_blank_to_none)]
Bool = Annotated[bool | None, BeforeValidator(_parse_bool)]
Day = Annotated[date | None, BeforeValidator(_parse_date), _SINCE_1900]
RequiredDay = Annotated[date, BeforeValidator(_parse_date), _SINCE_1900]
Moment = Annotated[datetime | None, BeforeValidator(_parse_datetime), _HAPPENED]
RequiredMoment = Annotated[datetime, BeforeValidator(_parse_datetime), _HAPPENED]
DueMoment = Annotated[datetime | None, BeforeValidator(_parse_datetime), _DUE]
TextList = Annotated[list[str], BeforeValidator(_parse_list)]

# The kind of text each column holds (length cap; free text may hold line breaks and tabs).
# Every other column is SHORT_TEXT: its own format check (a code, a date) is stricter anyway.
_LIST = values.TextKind("list", values.FREE_TEXT_MAX)
TEXT_KINDS: Mapping[str, values.TextKind] = {
    "child_ref": values.REFERENCE, "episode_ref": values.REFERENCE, "placement_ref": values.REFERENCE,
    "flag_ref": values.REFERENCE, "interview_ref": values.REFERENCE, "missing_from_placement_ref": values.REFERENCE,
    "upn": values.REFERENCE, "establishment_urn": values.REFERENCE,
    "mpdb_child_id": values.ID, "mpdb_episode_id": values.ID, "provider": values.ID,
    "given_name": values.NAME, "family_name": values.NAME, "establishment_name": values.NAME,
    "note": values.FREE_TEXT, "confidential_account": values.FREE_TEXT,
    "summary_places": _LIST, "summary_people": _LIST, "summary_with": _LIST, "summary_risk_types": _LIST,
}
# The shared rules' codes, kept as the report's rule (anything else pydantic says is `format`).
VALUE_RULES = frozenset({values.RULE_CONTROL, values.RULE_TOO_LONG, values.RULE_TOO_EARLY, values.RULE_FUTURE,
                         values.RULE_TOO_FAR_AHEAD, values.RULE_BEFORE_BIRTH})


def text_errors(file: str, line: int, cells: Mapping[str, str], kinds: Mapping[str, values.TextKind],
                default: values.TextKind = values.SHORT_TEXT) -> list[RowError]:
    """Control characters and length caps of every cell (the shared text rules), by column."""
    errors = []
    for column, cell in cells.items():
        try:
            values.check_text(cell.strip(), column, kinds.get(column, default))
        except values.BadValue as exc:
            errors.append(RowError(file, line, column, exc.reason, exc.rule))
    return errors


def _code(v: str | None) -> str | None:
    return v.strip().upper() if isinstance(v, str) else v


# SSDA903 placement types (PLACE), shared by the CSV placements format and the SSDA903 episodes.
PLACEMENT_TYPES: frozenset[str] = frozenset({
    "A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
    "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
})
# SSDA903 ethnicity codes (ETHNIC).
ETHNIC_CODES: frozenset[str] = frozenset({
    "WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN",
    "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
})
ESTABLISHMENT_KINDS = ("childrens_home", "foster_agency", "semi_independent", "secure_unit",
                       "residential_school")
GSS_LA_PREFIXES = ("E06", "E08", "E09", "E10", "W06")


def _gss_la(v: str | None) -> str | None:
    v = _code(v)
    if v is not None and not (len(v) == 9 and v.startswith(GSS_LA_PREFIXES) and v[3:].isdigit()):
        raise ValueError(f"{v!r} is not a local authority GSS code (E06/E08/E09/E10/W06 + 6 digits)")
    return v


# --- row models -----------------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    key_column: ClassVar[str]

    def cross_field_errors(self) -> list[tuple[str, str, str]]:
        """(column, reason, rule) for rules spanning several columns of this row."""
        return []


class _ChildRef(_Row):
    """A row about a child names it by the agency's own reference or by its mpdb id."""

    child_ref: Text = None
    mpdb_child_id: Text = None

    def cross_field_errors(self) -> list[tuple[str, str, str]]:
        if (self.child_ref is None) == (self.mpdb_child_id is None):
            return [("child_ref", "give exactly one of child_ref and mpdb_child_id", "child_reference")]
        return []


class ChildRow(_Row):
    key_column: ClassVar[str] = "child_ref"

    child_ref: RequiredText
    given_name: Text = None
    family_name: Text = None
    date_of_birth: RequiredDay
    sex: Literal["F", "M", "U"]
    ethnicity: Text = None
    upn: Text = None
    looked_after: Bool = None
    responsible_la: Text = None
    unaccompanied: Bool = None

    _sex = field_validator("sex", mode="before")(lambda v: _code(_blank_to_none(v)))
    _la = field_validator("responsible_la", mode="after")(lambda v: _gss_la(v))

    @field_validator("ethnicity", mode="after")
    @classmethod
    def _ethnic(cls, v: str | None) -> str | None:
        v = _code(v)
        if v is not None and v not in ETHNIC_CODES:
            raise ValueError(f"{v!r} is not an SSDA903 ethnicity code")
        return v

    def cross_field_errors(self) -> list[tuple[str, str, str]]:
        errs = []
        if self.date_of_birth > date.today():
            errs.append(("date_of_birth", "date of birth is in the future", "date_order"))
        if self.looked_after and self.responsible_la is None:
            errs.append(("responsible_la", "a looked-after child needs its responsible local authority",
                         "required"))
        return errs


class EpisodeRow(_ChildRef):
    key_column: ClassVar[str] = "episode_ref"

    episode_ref: RequiredText
    reported_at: RequiredMoment
    last_seen_at: Moment = None
    found_at: Moment = None
    returned_at: Moment = None
    reporting_force: RequiredText
    found_by_force: Text = None
    reporter_type: Literal["carer", "parent", "childrens_home", "school", "police", "other"] | None = None
    whereabouts_known: Bool = None
    consent: Bool = None
    risk_grade: Text = None
    grade_scheme: Literal["2013", "2017"] | None = None
    missing_from_placement_ref: Text = None

    _forces = field_validator("reporting_force", "found_by_force", mode="after")(lambda v: _code(v))
    _reporter = field_validator("reporter_type", "grade_scheme", mode="before")(_blank_to_none)

    @property
    def closed(self) -> bool:
        return self.found_at is not None or self.returned_at is not None

    def cross_field_errors(self) -> list[tuple[str, str, str]]:
        errs = super().cross_field_errors()
        for column in ("found_at", "returned_at"):
            value = getattr(self, column)
            if value is not None and value < self.reported_at:
                errs.append((column, f"{column} is before reported_at", "episode_time_order"))
        if self.last_seen_at is not None and self.last_seen_at > self.reported_at:
            errs.append(("last_seen_at", "last_seen_at is after reported_at", "episode_time_order"))
        if self.found_at and self.returned_at and self.returned_at < self.found_at:
            errs.append(("returned_at", "returned_at is before found_at", "episode_time_order"))
        if (self.risk_grade is None) != (self.grade_scheme is None):
            errs.append(("risk_grade" if self.risk_grade is None else "grade_scheme",
                         "risk_grade and grade_scheme are given together or not at all", "required"))
        elif self.risk_grade is not None and self.grade_scheme is not None:
            try:
                check_grade_in_scheme(self.grade_scheme, self.risk_grade)
            except InvalidInput as exc:
                errs.append(("risk_grade", exc.message, "grade_scheme"))
        if self.found_by_force is not None and self.found_at is None:
            errs.append(("found_at", "found_by_force is given without found_at", "required"))
        return errs


class PlacementRow(_ChildRef):
    key_column: ClassVar[str] = "placement_ref"

    placement_ref: RequiredText
    start_date: RequiredDay
    end_date: Day = None
    placement_type: RequiredText
    placing_la: Text = None
    host_la: Text = None  # or taken from the postcode (mpdb/ingest/postcodes.py)
    postcode: Text = None
    latitude: float | None = None
    longitude: float | None = None
    establishment_urn: Text = None
    establishment_name: Text = None
    establishment_kind: Literal[ESTABLISHMENT_KINDS] | None = None  # type: ignore[valid-type]
    dcs_approved: Bool = None

    _las = field_validator("placing_la", "host_la", mode="after")(lambda v: _gss_la(v))
    _num = field_validator("latitude", "longitude", "establishment_kind", mode="before")(_blank_to_none)

    @field_validator("placement_type", mode="after")
    @classmethod
    def _place(cls, v: str) -> str:
        v = v.upper()
        if v not in PLACEMENT_TYPES:
            raise ValueError(f"{v!r} is not an SSDA903 placement type (PLACE) code")
        return v

    @field_validator("postcode", mode="after")
    @classmethod
    def _postcode(cls, v: str | None) -> str | None:
        from mpdb.ingest.postcodes import normalise  # that module reports with this module's RowError

        return normalise(v) if v else v

    def cross_field_errors(self) -> list[tuple[str, str, str]]:
        errs = super().cross_field_errors()
        if self.end_date is not None and self.end_date < self.start_date:
            errs.append(("end_date", "end_date is before start_date", "date_order"))
        if self.host_la is None and self.postcode is None:
            errs.append(("host_la", "host_la is required when the row has no postcode", "required"))
        if (self.latitude is None) != (self.longitude is None):
            errs.append(("latitude", "latitude and longitude are given together or not at all", "required"))
        if self.latitude is not None and not (49.0 <= self.latitude <= 61.0):
            errs.append(("latitude", "latitude is outside the United Kingdom", "range"))
        if self.longitude is not None and not (-9.0 <= self.longitude <= 2.5):
            errs.append(("longitude", "longitude is outside the United Kingdom", "range"))
        return errs


FLAG_TYPES = ("cse", "cce_county_lines", "trafficking", "gang", "mental_health", "self_harm",
              "substance_misuse", "unaccompanied", "other")


class FlagRow(_ChildRef):
    key_column: ClassVar[str] = "flag_ref"

    flag_ref: RequiredText
    type: Literal[FLAG_TYPES]  # type: ignore[valid-type]
    status: Literal["active", "expired"]
    raised_at: RequiredMoment
    review_due: DueMoment = None
    reviewed_at: Moment = None
    expired_at: Moment = None
    note: Text = None

    _enums = field_validator("type", "status", mode="before")(
        lambda v: _blank_to_none(v).lower() if isinstance(_blank_to_none(v), str) else _blank_to_none(v)
    )

    def cross_field_errors(self) -> list[tuple[str, str, str]]:
        errs = super().cross_field_errors()
        if self.status == "expired" and self.expired_at is None:
            errs.append(("expired_at", "an expired flag needs expired_at", "required"))
        if self.status == "active" and self.expired_at is not None:
            errs.append(("expired_at", "an active flag cannot have expired_at", "flag_status"))
        for column in ("reviewed_at", "expired_at", "review_due"):
            value = getattr(self, column)
            if value is not None and value < self.raised_at:
                errs.append((column, f"{column} is before raised_at", "date_order"))
        return errs


class ReturnInterviewRow(_Row):
    key_column: ClassVar[str] = "interview_ref"

    interview_ref: RequiredText
    episode_ref: Text = None
    mpdb_episode_id: Text = None
    status: Literal["offered", "declined", "completed", "not_offered"]
    offered_at: Moment = None
    completed_at: Moment = None
    provider: Text = None
    confidential_account: Text = None
    summary_places: TextList = []
    summary_people: TextList = []
    summary_with: TextList = []
    summary_risk_types: TextList = []

    _status = field_validator("status", mode="before")(
        lambda v: _blank_to_none(v).lower() if isinstance(_blank_to_none(v), str) else _blank_to_none(v)
    )
    _provider = field_validator("provider", mode="after")(lambda v: _code(v))

    def cross_field_errors(self) -> list[tuple[str, str, str]]:
        errs = []
        if (self.episode_ref is None) == (self.mpdb_episode_id is None):
            errs.append(("episode_ref", "give exactly one of episode_ref and mpdb_episode_id",
                         "episode_reference"))
        if self.status == "completed" and self.completed_at is None:
            errs.append(("completed_at", "a completed interview needs completed_at", "required"))
        if self.status != "completed" and self.completed_at is not None:
            errs.append(("completed_at", f"completed_at is given but the status is {self.status}",
                         "rhi_status"))
        if self.status in ("offered", "declined") and self.offered_at is None:
            errs.append(("offered_at", f"an interview {self.status} needs offered_at", "required"))
        if self.offered_at and self.completed_at and self.completed_at < self.offered_at:
            errs.append(("completed_at", "completed_at is before offered_at", "date_order"))
        return errs


@dataclass(frozen=True, slots=True)
class CsvFormat:
    kind: ImportKind
    model: type[_Row]
    one_of: tuple[tuple[str, ...], ...] = ()  # column groups of which the header needs at least one

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.model.model_fields.items() if f.is_required())


_CHILD_COLUMNS = ("child_ref", "mpdb_child_id")

FORMATS: Mapping[ImportKind, CsvFormat] = {
    ImportKind.CHILDREN: CsvFormat(ImportKind.CHILDREN, ChildRow),
    ImportKind.EPISODES: CsvFormat(ImportKind.EPISODES, EpisodeRow, (_CHILD_COLUMNS,)),
    ImportKind.PLACEMENTS: CsvFormat(ImportKind.PLACEMENTS, PlacementRow, (_CHILD_COLUMNS,)),
    ImportKind.FLAGS: CsvFormat(ImportKind.FLAGS, FlagRow, (_CHILD_COLUMNS,)),
    ImportKind.RETURN_INTERVIEWS: CsvFormat(ImportKind.RETURN_INTERVIEWS, ReturnInterviewRow,
                                            (("episode_ref", "mpdb_episode_id"),)),
}


def normalise_header(header: Sequence[str]) -> list[str]:
    return [h.strip().lstrip("\ufeff").strip().lower() for h in header]


def check_header(kind: ImportKind, header: Sequence[str], file: str) -> list[RowError]:
    fmt = FORMATS[kind]
    cols = normalise_header(header)
    errors = []
    seen: set[str] = set()
    for c in cols:
        if c in seen:
            errors.append(RowError(file, 1, c, f"column {c!r} appears twice", "header"))
        seen.add(c)
        if c not in fmt.columns:
            errors.append(RowError(file, 1, c, f"unknown column {c!r} for a {kind} file; "
                                   f"columns are: {', '.join(fmt.columns)}", "header"))
    for c in fmt.required:
        if c not in seen:
            errors.append(RowError(file, 1, c, f"required column {c!r} is missing", "header"))
    for group in fmt.one_of:
        if not seen.intersection(group):
            errors.append(RowError(file, 1, group[0], f"one of the columns {', '.join(group)} is required",
                                   "header"))
    return errors


def _pydantic_rule(error_type: str) -> str:
    if error_type in VALUE_RULES:
        return error_type
    if error_type == "missing":
        return "required"
    if error_type in ("literal_error", "enum"):
        return "code"
    return "format"


def parse_row(kind: ImportKind, file: str, line: int, raw: Mapping[str, str | None]) -> tuple[_Row | None, list[RowError]]:
    """Validate one data row; returns the row model, or None and every error found in the row."""
    model = FORMATS[kind].model
    cells = {k: v for k, v in raw.items() if k is not None and _blank_to_none(v) is not None}
    if None in raw and raw[None]:  # type: ignore[index]
        return None, [RowError(file, line, None, "the row has more cells than the header", "format")]
    errors = text_errors(file, line, cells, TEXT_KINDS)  # type: ignore[arg-type]
    try:
        row = model.model_validate({k: v for k, v in cells.items() if not any(e.column == k for e in errors)})
    except ValidationError as exc:
        for e in exc.errors():
            column = str(e["loc"][0]) if e["loc"] else None
            reason = e["msg"].removeprefix("Value error, ")
            if e["type"] == "missing":
                if any(x.column == column for x in errors):
                    continue  # required, and refused by a text rule above
                reason = f"{column} is required"
            errors.append(RowError(file, line, column, reason, _pydantic_rule(e["type"])))
        return None, errors
    if errors:
        return None, errors
    cross = [RowError(file, line, c, r, rule) for c, r, rule in row.cross_field_errors()]
    return (None, cross) if cross else (row, [])


SCHEMES = tuple(SCHEME_GRADES)
