"""The DfE children-looked-after return (SSDA903): header, episodes and missing tables.

Pure parsing and validation, no I/O: `parse_return` reads the three tables' rows (already split by
the CSV reader) and returns the records that pass, and a `RowError` for every reject, naming the
DfE validation rule where one applies (rule codes that are plain numbers are the DfE's; word
codes are mpdb's own: `format`, `code`, `required`, `duplicate`, `child_not_in_header`, ...).

Tables (dates dd/mm/yyyy):
- header   `CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB`
- episodes `CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN`
- missing  `CHILD,DOB,MISSING,MIS_START,MIS_END`

DfE rules applied to the missing table (wording from the DfE rule set):
 564 missing/away and the start date is blank; 565 start date given without MISSING;
 566 end date given without MISSING; 567 end date before start date; 570 start after the end of
 the collection year; 571 end before the start or after the end of the collection year;
 574 a new period starts while the previous one is open, or periods overlap; 575 the placement
 the child went missing from ended but the period has no end date; 577 the child ceased to be
 looked after but a period has no end date; 578 the period starts after the child ceased to be
 looked after; 580 missing when ceasing to be looked after at 18 but the episode's reason for
 ceasing (REC) is not E8 (reported on the episodes row, as the DfE does); 586 a date before the
 child's date of birth; 1004/1005 start/end not a valid date; 1006 MISSING not M or A.
 576 (an open period in LAST year's return not closed in this one) needs the previous return
 and is not applied.

`MOTHER` and `MC_DOB` (about the child's own child) are read for header validation but not
stored: mpdb has no use for them (data minimisation). `RNE`, `LS`, `CIN`, `PLACE_PROVIDER` and
`REASON_PLACE_CHANGE` are not stored either.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from mpdb.domain import values
from mpdb.ingest import postcodes
from mpdb.ingest.csv_formats import ETHNIC_CODES, PLACEMENT_TYPES, RowError, normalise_header, text_errors

HEADER_COLUMNS = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")
EPISODE_COLUMNS = ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                   "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN")
MISSING_COLUMNS = ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END")

# REC "X1": the episode ends but the child stays looked after (a change of placement or status).
STILL_LOOKED_AFTER = "X1"
NO_URN = frozenset({"XXXXXXX", "SC999999"})
_PARTIAL_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( [0-9]([A-Z]{2})?)?$")


@dataclass(frozen=True, slots=True)
class HeaderRecord:
    line: int
    child: str
    sex: str  # F / M
    dob: date
    ethnic: str | None
    upn: str | None


@dataclass(frozen=True, slots=True)
class EpisodeRecord903:
    line: int
    child: str
    decom: date
    dec: date | None
    rec: str | None
    place: str
    home_post: str | None
    pl_post: str | None
    urn: str | None


@dataclass(frozen=True, slots=True)
class MissingRecord:
    line: int
    child: str
    missing: str  # M / A
    start: date
    end: date | None


@dataclass
class ParsedReturn:
    year: int
    headers: list[HeaderRecord] = field(default_factory=list)
    episodes: list[EpisodeRecord903] = field(default_factory=list)
    missing: list[MissingRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=lambda: {"header": 0, "episodes": 0, "missing": 0})
    _by_child: dict[str, list[EpisodeRecord903]] | None = field(default=None, repr=False)
    _indexed: int = field(default=-1, repr=False)

    def placement_for(self, child: str, day: date) -> EpisodeRecord903 | None:
        """The episode (placement) the child was in on `day`: the latest one starting on or before it."""
        if self._by_child is None or self._indexed != len(self.episodes):
            index: dict[str, list[EpisodeRecord903]] = defaultdict(list)
            for ep in self.episodes:
                index[ep.child].append(ep)
            self._by_child, self._indexed = index, len(self.episodes)
        best = None
        for ep in self._by_child.get(child, ()):
            if ep.decom <= day and (best is None or ep.decom > best.decom):
                best = ep
        return best


def collection_window(year: int) -> tuple[date, date]:
    """The collection year named by its end: 2024 is 1 April 2023 to 31 March 2024."""
    return date(year - 1, 4, 1), date(year, 3, 31)


def parse_903_date(value: str | None) -> date | None:
    """dd/mm/yyyy; raises ValueError on anything else."""
    value = (value or "").strip()
    if not value:
        return None
    return datetime.strptime(value, "%d/%m/%Y").date()


def normalise_postcode(value: str | None) -> str | None:
    """Upper case, single spaces; a full postcode written without its space gets it back."""
    return postcodes.normalise(value)


def check_columns(table: str, header: Iterable[str], expected: tuple[str, ...], file: str) -> list[RowError]:
    cols = [c.upper() for c in normalise_header(list(header))]
    errors = [RowError(file, 1, c, f"required column {c!r} is missing from the {table} table", "header")
              for c in expected if c not in cols]
    errors += [RowError(file, 1, c, f"unknown column {c!r} in the {table} table", "header")
               for c in cols if c not in expected]
    return errors


def _cells(raw: Mapping[str, str | None]) -> dict[str, str]:
    return {k.strip().lstrip("\ufeff").upper(): (v or "").strip() for k, v in raw.items() if k is not None}


# Length caps and control characters (mpdb/domain/values.py); other cells are codes or dates.
_TEXT_KINDS = {"CHILD": values.REFERENCE, "UPN": values.REFERENCE, "URN": values.REFERENCE,
               "HOME_POST": values.SHORT_TEXT, "PL_POST": values.SHORT_TEXT}  # the format check names a bad one


def _text_errors(c: dict[str, str], file: str, line: int) -> list[RowError]:
    return text_errors(file, line, c, _TEXT_KINDS, values.TextKind("code", values.CODE_MAX))


def _bounded(day: date | None, column: str, file: str, line: int, errors: list[RowError], *,
             future_ok: bool) -> date | None:
    """The shared date bounds: not before 1900; not in the future unless `future_ok`."""
    if day is None:
        return None
    try:
        return values.check_date(day, column, future_ok=future_ok)
    except values.BadValue as exc:
        errors.append(RowError(file, line, column, exc.reason, exc.rule))
        return None


def _date_cell(cells: dict[str, str], column: str, file: str, line: int, rule: str,
               errors: list[RowError]) -> date | None:
    try:
        return parse_903_date(cells.get(column))
    except ValueError:
        errors.append(RowError(file, line, column, f"{cells[column]!r} is not a valid date (dd/mm/yyyy)", rule))
        return None


def _postcode_cell(cells: dict[str, str], column: str, file: str, line: int,
                   errors: list[RowError]) -> str | None:
    pc = normalise_postcode(cells.get(column))
    if pc is not None and not _PARTIAL_POSTCODE.match(pc):
        errors.append(RowError(file, line, column,
                               f"{pc!r} is not a postcode district and sector (e.g. ST1 3)", "format"))
    return pc


def parse_header_row(raw: Mapping[str, str | None], file: str, line: int) -> tuple[HeaderRecord | None, list[RowError]]:
    c = _cells(raw)
    errors: list[RowError] = _text_errors(c, file, line)
    if errors:
        return None, errors
    if not c.get("CHILD"):
        errors.append(RowError(file, line, "CHILD", "CHILD is required", "required"))
    sex = {"1": "M", "2": "F"}.get(c.get("SEX", ""))
    if sex is None:
        errors.append(RowError(file, line, "SEX", f"SEX must be 1 (male) or 2 (female), got {c.get('SEX', '')!r}",
                               "code"))
    dob = _bounded(_date_cell(c, "DOB", file, line, "format", errors), "DOB", file, line, errors, future_ok=False)
    if dob is None and not any(e.column == "DOB" for e in errors):
        errors.append(RowError(file, line, "DOB", "DOB is required", "required"))
    ethnic = c.get("ETHNIC") or None
    if ethnic is not None and ethnic.upper() not in ETHNIC_CODES:
        errors.append(RowError(file, line, "ETHNIC", f"{ethnic!r} is not an SSDA903 ethnicity code", "code"))
    _date_cell(c, "MC_DOB", file, line, "format", errors)
    if c.get("MOTHER") not in ("", "0", "1"):
        errors.append(RowError(file, line, "MOTHER", "MOTHER must be 1, 0 or blank", "code"))
    if errors or dob is None or sex is None:
        return None, errors
    return HeaderRecord(line, c["CHILD"], sex, dob, ethnic.upper() if ethnic else None, c.get("UPN") or None), []


def parse_episode_row(raw: Mapping[str, str | None], file: str, line: int) -> tuple[EpisodeRecord903 | None, list[RowError]]:
    c = _cells(raw)
    errors: list[RowError] = _text_errors(c, file, line)
    if errors:
        return None, errors
    if not c.get("CHILD"):
        errors.append(RowError(file, line, "CHILD", "CHILD is required", "required"))
    decom = _bounded(_date_cell(c, "DECOM", file, line, "format", errors), "DECOM", file, line, errors,
                     future_ok=False)
    if decom is None and not any(e.column == "DECOM" for e in errors):
        errors.append(RowError(file, line, "DECOM", "DECOM is required", "required"))
    dec = _bounded(_date_cell(c, "DEC", file, line, "format", errors), "DEC", file, line, errors, future_ok=False)
    if decom and dec and dec < decom:
        errors.append(RowError(file, line, "DEC", "DEC (episode ceased) is before DECOM", "date_order"))
    place = c.get("PLACE", "").upper()
    if place not in PLACEMENT_TYPES:
        errors.append(RowError(file, line, "PLACE", f"{place!r} is not an SSDA903 placement type", "code"))
    rec = c.get("REC", "").upper() or None
    if dec is not None and rec is None:
        errors.append(RowError(file, line, "REC", "REC is required when DEC is given", "required"))
    home = _postcode_cell(c, "HOME_POST", file, line, errors)
    pl = _postcode_cell(c, "PL_POST", file, line, errors)
    urn = c.get("URN", "").upper() or None
    if urn is not None and urn not in NO_URN and not urn.replace("SC", "", 1).isdigit():
        errors.append(RowError(file, line, "URN", f"{urn!r} is not an Ofsted URN", "format"))
    if errors or decom is None:
        return None, errors
    return EpisodeRecord903(line, c["CHILD"], decom, dec, rec, place, home, pl,
                            None if urn in NO_URN else urn), []


def parse_missing_row(raw: Mapping[str, str | None], file: str, line: int, year: int) -> tuple[MissingRecord | None, list[RowError]]:
    """Single-row DfE rules: 564, 565, 566, 567, 570, 571, 586, 1004, 1005, 1006."""
    c = _cells(raw)
    errors: list[RowError] = _text_errors(c, file, line)
    if errors:
        return None, errors
    if not c.get("CHILD"):
        errors.append(RowError(file, line, "CHILD", "CHILD is required", "required"))
    missing = c.get("MISSING", "").upper()
    start_raw, end_raw = c.get("MIS_START", ""), c.get("MIS_END", "")
    if missing and missing not in ("M", "A"):
        errors.append(RowError(file, line, "MISSING",
                               f"MISSING must be M (missing) or A (away without authorisation), got {missing!r}",
                               "1006"))
    start = _date_cell(c, "MIS_START", file, line, "1004", errors)
    end = _date_cell(c, "MIS_END", file, line, "1005", errors)
    if missing in ("M", "A") and not start_raw:
        errors.append(RowError(file, line, "MIS_START",
                               "the child was missing or away from placement without authorisation and "
                               "the date started is blank", "564"))
    if not missing and start_raw:
        errors.append(RowError(file, line, "MISSING", "MIS_START is given but MISSING (M or A) is not", "565"))
    if not missing and end_raw:
        errors.append(RowError(file, line, "MISSING", "MIS_END is given but MISSING (M or A) is not", "566"))
    if start and end and end < start:
        errors.append(RowError(file, line, "MIS_END", "MIS_END is before MIS_START", "567"))
    first, last = collection_window(year)
    if start and start > last:
        errors.append(RowError(file, line, "MIS_START",
                               f"MIS_START is after the end of the collection year ({last:%d/%m/%Y})", "570"))
    if end and not (first <= end <= last):
        errors.append(RowError(file, line, "MIS_END",
                               f"MIS_END is outside the collection year {first:%d/%m/%Y} to {last:%d/%m/%Y}",
                               "571"))
    try:
        dob = parse_903_date(c.get("DOB"))
    except ValueError:
        dob = None
        errors.append(RowError(file, line, "DOB", f"{c['DOB']!r} is not a valid date (dd/mm/yyyy)", "format"))
    if dob and start and start < dob:
        errors.append(RowError(file, line, "MIS_START", "MIS_START is before the child's date of birth", "586"))
    if dob and end and end < dob:
        errors.append(RowError(file, line, "MIS_END", "MIS_END is before the child's date of birth", "586"))
    if not missing and not start_raw and not end_raw and not errors:
        errors.append(RowError(file, line, "MISSING", "the row records no missing period", "required"))
    if errors or start is None:
        return None, errors
    return MissingRecord(line, c["CHILD"], missing, start, end), []


def _add_18(dob: date) -> date:
    try:
        return dob.replace(year=dob.year + 18)
    except ValueError:  # 29 February
        return date(dob.year + 18, 3, 1)


def cross_table_errors(parsed: ParsedReturn, files: Mapping[str, str]) -> tuple[set[int], set[int], list[RowError]]:
    """Rules across rows and tables: 574, 575, 577, 578, 580. Returns the lines of the episodes and
    missing rows to reject, and the errors."""
    errors: list[RowError] = []
    bad_missing: set[int] = set()
    bad_episodes: set[int] = set()
    mfile, efile = files["missing"], files["episodes"]
    by_child: dict[str, list[MissingRecord]] = defaultdict(list)
    for m in parsed.missing:
        by_child[m.child].append(m)
    episodes_by_child: dict[str, list[EpisodeRecord903]] = defaultdict(list)
    for ep in parsed.episodes:
        episodes_by_child[ep.child].append(ep)
    dob = {h.child: h.dob for h in parsed.headers}

    for child, periods in by_child.items():
        periods.sort(key=lambda m: (m.start, m.line))
        for prev, cur in zip(periods, periods[1:], strict=False):
            if prev.end is None or cur.start < prev.end:
                what = "is still open" if prev.end is None else f"ends on {prev.end:%d/%m/%Y}"
                errors.append(RowError(mfile, cur.line, "MIS_START",
                                       f"a new missing period starts while the previous one (line {prev.line}) {what}",
                                       "574"))
                bad_missing.add(cur.line)
        eps = sorted(episodes_by_child.get(child, []), key=lambda e: e.decom)
        last = eps[-1] if eps else None
        ceased = last is not None and last.dec is not None and last.rec != STILL_LOOKED_AFTER
        for m in periods:
            placement = parsed.placement_for(child, m.start)
            if m.end is None and placement is not None and placement.dec is not None and not ceased:
                errors.append(RowError(mfile, m.line, "MIS_END",
                                       f"the placement the child went missing from (episodes line {placement.line}) "
                                       f"ended on {placement.dec:%d/%m/%Y} but the missing period has no end date",
                                       "575"))
                bad_missing.add(m.line)
            if ceased and last is not None and last.dec is not None:
                if m.end is None:
                    errors.append(RowError(mfile, m.line, "MIS_END",
                                           f"the child ceased to be looked after on {last.dec:%d/%m/%Y} but the "
                                           "missing period has no end date", "577"))
                    bad_missing.add(m.line)
                if m.start > last.dec:
                    errors.append(RowError(mfile, m.line, "MIS_START",
                                           f"the missing period starts after the child ceased to be looked after "
                                           f"({last.dec:%d/%m/%Y})", "578"))
                    bad_missing.add(m.line)
            birth = dob.get(child)
            if birth is not None and m.end is not None:
                eighteen = _add_18(birth)
                for ep in eps:
                    if ep.dec == m.end == eighteen and ep.rec != "E8":
                        errors.append(RowError(efile, ep.line, "REC",
                                               "the child was missing when ceasing to be looked after at 18 "
                                               f"but REC is {ep.rec!r}, not E8", "580"))
                        bad_episodes.add(ep.line)
    return bad_episodes, bad_missing, errors


def parse_return(
    year: int,
    header_rows: Iterable[tuple[int, Mapping[str, str | None]]],
    episode_rows: Iterable[tuple[int, Mapping[str, str | None]]],
    missing_rows: Iterable[tuple[int, Mapping[str, str | None]]],
    files: Mapping[str, str],
) -> ParsedReturn:
    """Validate the three tables together. Rows of a child whose header row was rejected (or is
    absent) are rejected too: they could not be attached to a child."""
    parsed = ParsedReturn(year)
    seen: set[str] = set()
    for line, raw in header_rows:
        parsed.rows["header"] += 1
        rec, errs = parse_header_row(raw, files["header"], line)
        if rec is not None and rec.child in seen:
            errs = [RowError(files["header"], line, "CHILD", f"child {rec.child!r} appears twice in the header",
                             "duplicate")]
            rec = None
        parsed.errors += errs
        if rec is not None:
            seen.add(rec.child)
            parsed.headers.append(rec)
    starts: set[tuple[str, date]] = set()
    for line, raw in episode_rows:
        parsed.rows["episodes"] += 1
        ep, errs = parse_episode_row(raw, files["episodes"], line)
        if ep is not None and ep.child not in seen:
            errs = [RowError(files["episodes"], line, "CHILD",
                             f"child {ep.child!r} has no valid row in the header table", "child_not_in_header")]
            ep = None
        if ep is not None and (ep.child, ep.decom) in starts:
            errs = [RowError(files["episodes"], line, "DECOM",
                             f"child {ep.child!r} already has an episode starting {ep.decom:%d/%m/%Y}", "duplicate")]
            ep = None
        parsed.errors += errs
        if ep is not None:
            starts.add((ep.child, ep.decom))
            parsed.episodes.append(ep)
    mstarts: set[tuple[str, date]] = set()
    for line, raw in missing_rows:
        parsed.rows["missing"] += 1
        m, errs = parse_missing_row(raw, files["missing"], line, year)
        if m is not None and m.child not in seen:
            errs = [RowError(files["missing"], line, "CHILD",
                             f"child {m.child!r} has no valid row in the header table", "child_not_in_header")]
            m = None
        if m is not None and (m.child, m.start) in mstarts:
            errs = [RowError(files["missing"], line, "MIS_START",
                             f"child {m.child!r} already has a missing period starting {m.start:%d/%m/%Y}",
                             "duplicate")]
            m = None
        parsed.errors += errs
        if m is not None:
            mstarts.add((m.child, m.start))
            parsed.missing.append(m)
    bad_eps, bad_mis, errs = cross_table_errors(parsed, files)
    parsed.errors += errs
    parsed.episodes = [e for e in parsed.episodes if e.line not in bad_eps]
    parsed.missing = [m for m in parsed.missing if m.line not in bad_mis]
    parsed.errors.sort(key=lambda e: (e.file, e.line, e.column or "", e.rule))
    return parsed
