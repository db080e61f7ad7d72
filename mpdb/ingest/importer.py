"""Bulk import: CSV files in the documented formats (docs/IMPORT.md) and the SSDA903 return.

How a file goes in:
- the reader streams the file; each row is validated on its own (`csv_formats.parse_row`) and
  valid rows are collected into batches of `batch_size`;
- each batch is ONE write transaction: resolve the children/episodes/placements the rows name
  (rejecting rows whose references do not resolve or which break a graph rule), drop the rows
  whose content is unchanged since the last import, UNWIND-MERGE the rest, refresh the derived
  access lists of every child touched, and append ONE audit event (collection, operation
  `import`, the ids written). A batch is written whole or not at all;
- every rejected row gets a `RowError` (file, line, column, rule, reason) in the summary, while
  the valid rows load;
- ids are derived from (agency, source system, source reference) and every write is a MERGE, and
  each record stores a hash of what it was imported from, so re-running a file writes nothing.

Children are the exception to "(agency, source system, reference)": a child's id is derived from
(agency, the agency's own child reference) whatever the source, so an LA's SSDA903 `CHILD` and
the `child_ref` of its CSV files name the same child.

Domain rules are the ones the write API enforces (mpdb/domain/rules.py, grading.py); this module
only maps their errors onto columns.

Alerts (mpdb/alerts/, docs/ALERTS.md): each batch appends, in its own transaction, the alerts of
what it wrote that is news: an episode reported, or found/returned, at most `NEWS_WINDOW` before the
import (an annual return's year-old episodes page nobody), a high grade on such an episode, a flag
raised within the window. The importing agency is not told. Re-running a file writes nothing, so it
raises nothing; a changed row raises only what its keys have not raised before. `mpdb load` (a
first load of history) passes `alerts=False` and raises none.

Not done on import, deliberately: notifications (a file of past placements says nothing about
which notifications were actually sent; creating "never sent" ones would corrupt the compliance
figures) and repeat-missing triggers (evaluated by the live `reportMissing`, not on history).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time as dtime
from typing import Any

from neo4j import AsyncManagedTransaction
from neo4j.spatial import WGS84Point

from mpdb.alerts.events import AlertKind
from mpdb.alerts.kinds import NEWS_WINDOW
from mpdb.alerts.recipients import Raised, events_for
from mpdb.audit.trail import AuditAction, AuditContext, append_in_tx
from mpdb.auth.principal import Principal
from mpdb.domain import values
from mpdb.domain.errors import InvalidInput, MpdbError, ServiceUnavailable
from mpdb.domain.geo import cell_id
from mpdb.domain.rules import (
    ActiveFlag,
    AreaRuleBook,
    category_for,
    check_grade_allowed,
    check_no_open_episode,
    load_area_rules,
    placement_geography,
    rhi_due_at,
    rule_area,
)
from mpdb.graph.db import Graph, run
from mpdb.graph.errors import is_unavailable
from mpdb.graph.queries import access as access_q
from mpdb.graph.queries import entry_match as emq
from mpdb.graph.queries import imports as q
from mpdb.graph.repositories.outbox import append_events
from mpdb.graph.repositories.resolution import upsert_proposals
from mpdb.graph.repositories.hotspot_buckets import BucketKeys, episodes_of_placements
from mpdb.ingest import postcodes as pc
from mpdb.ingest import ssda903
from mpdb.ingest.files import CsvFile, ImportFileError, ImportLimits, _reader
from mpdb.ingest.csv_formats import (
    FORMATS,
    ChildRow,
    EpisodeRow,
    FlagRow,
    ImportKind,
    PlacementRow,
    ReturnInterviewRow,
    RowError,
    check_header,
    normalise_header,
    parse_row,
)
from mpdb.intel.co_missing import age_band
from mpdb.observability.metrics import count_import_rows
from mpdb.services import entry_match as em

SOURCE_CSV = "csv-import"
SOURCE_SSDA903 = "ssda903"
DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 10_000

ProgressCallback = Callable[[int], None]  # called with the number of rows just processed


class ImportInterrupted(ServiceUnavailable):
    """The database went away mid-import. Every batch is one transaction and every write a MERGE,
    so the batches committed stay and a re-run of the same file resumes (they count as unchanged)."""

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary
        self.committed = summary.loaded + summary.unchanged
        super().__init__(f"database unavailable after {summary.batches} batches, {self.committed} rows committed; "
                         "re-run to resume", retry_after_s=RETRY_AFTER_SECONDS)
        self.details.update(batches=summary.batches, rowsCommitted=self.committed)


# A restarting database takes this long or more: no sooner is worth a retry of a whole file.
RETRY_AFTER_SECONDS = 30


def database_unavailable(exc: BaseException) -> bool:
    """Neo4j cannot be reached or went away (mpdb/graph/errors.py decides), as opposed to a bug."""
    return is_unavailable(exc)


# --- ids and hashes ------------------------------------------------------------------------------


def derive_id(prefix: str, agency: str, source: str, ref: str) -> str:
    digest = hashlib.sha256(f"{agency}\x1f{source}\x1f{ref}".encode()).hexdigest()[:24]
    return f"{prefix}-{digest}"


def child_id_for(agency: str, child_ref: str) -> str:
    return derive_id("CH", agency, "child-ref", child_ref)


def pseudonym_for(child_id: str) -> str:
    return "PSN-" + hashlib.sha256(f"pseudonym\x1f{child_id}".encode()).hexdigest()[:12].upper()


def _json_default(v: Any) -> Any:
    if isinstance(v, WGS84Point):
        return [v.longitude, v.latitude]
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    raise TypeError(type(v))


def content_hash(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=_json_default).encode()).hexdigest()


def _start_of_day(d: date) -> datetime:
    return datetime.combine(d, dtime(0, 0), tzinfo=UTC)


# --- results -------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    kind: str
    source_system: str
    agency_id: str
    rows: int = 0
    loaded: int = 0
    rejected: int = 0
    unchanged: int = 0
    batches: int = 0
    seconds: float = 0.0
    errors: list[RowError] = field(default_factory=list)
    # Rows that loaded with a caveat (a postcode that did not resolve cleanly): docs/IMPORT.md
    warnings: list[RowError] = field(default_factory=list)
    per_table: dict[str, dict[str, int]] = field(default_factory=dict)
    # Likely existing records of the children written (issue 12): one entry per imported row with
    # candidates, and how many POSSIBLY_SAME_AS pairs were proposed.
    matches: list[RowMatches] = field(default_factory=list)
    proposals: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "sourceSystem": self.source_system, "agencyId": self.agency_id,
            "rows": self.rows, "loaded": self.loaded, "rejected": self.rejected,
            "unchanged": self.unchanged, "batches": self.batches, "seconds": round(self.seconds, 3),
            "rowsPerSecond": round(self.rows_per_second, 1), "perTable": self.per_table,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [e.as_dict() for e in self.warnings],
            "proposals": self.proposals,
            "possibleDuplicates": [m.as_dict() for m in sorted(self.matches, key=lambda m: (m.file, m.line))],
        }


@dataclass
class RowMatches:
    """An imported row's child and the likely existing records proposed as the same child: by id
    when the importer may read the record, in summary form otherwise (no names, no reasons)."""

    file: str
    line: int
    child_id: str
    candidates: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "childId": self.child_id, "candidates": self.candidates}


def write_error_report(errors: Iterable[RowError], out: io.TextIOBase | Any,
                       warnings: Iterable[RowError] = ()) -> None:
    """The report file: rejected rows (`severity` error), then rows loaded with a warning."""
    from mpdb.ingest.csv_formats import REPORT_COLUMNS

    w = csv.DictWriter(out, fieldnames=[*REPORT_COLUMNS, "severity"], lineterminator="\n")
    w.writeheader()
    for severity, rows in (("error", errors), ("warning", warnings)):
        for e in rows:
            w.writerow({**e.as_dict(), "severity": severity})


# --- planned writes ------------------------------------------------------------------------------


@dataclass
class Planned:
    """One validated row, turned into the parameters of its MERGE."""

    file: str
    line: int
    id: str
    params: dict[str, Any]
    child_id: str | None = None
    own_child: bool = True  # named by the agency's own reference (not an mpdb id)
    child_column: str = "child_ref"
    episode_id: str | None = None
    own_episode: bool = True
    placement_id: str | None = None
    open_episode: bool = False
    grade: tuple[str, str] | None = None
    hash: str = ""
    table: str = ""
    # (column, value) of the things this row says happened to the child: none before its birth
    events: list[tuple[str, date | datetime]] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # loads, with these caveats in the report

    def reject(self, column: str | None, reason: str, rule: str) -> RowError:
        return RowError(self.file, self.line, column, reason, rule)

    def birth_errors(self, date_of_birth: Any) -> list[RowError]:
        """The shared rule (mpdb/domain/values.py): nothing happens to a child before its birth."""
        errors = []
        for column, value in self.events:
            try:
                values.check_not_before_birth(value, date_of_birth, column)
            except values.BadValue as exc:
                errors.append(self.reject(column, exc.reason, exc.rule))
        return errors


@dataclass
class _Reference:
    agency_kind: str
    la_forces: dict[str, list[str]]  # LA code -> force codes, by share descending
    forces: frozenset[str]
    agencies: dict[str, str]  # id -> kind

    def primary_force(self, la: str) -> str:
        return self.la_forces[la][0]


@dataclass
class _BatchOutcome:
    written: list[str]
    unchanged: int
    errors: list[RowError]
    written_by_table: dict[str, int]
    unchanged_by_table: dict[str, int]
    matches: list[RowMatches] = field(default_factory=list)
    proposals: int = 0


_EXISTING = {
    ImportKind.CHILDREN: q.EXISTING_CHILDREN,
    ImportKind.EPISODES: q.EXISTING_EPISODES,
    ImportKind.PLACEMENTS: q.EXISTING_PLACEMENTS,
    ImportKind.FLAGS: q.EXISTING_FLAGS,
    ImportKind.RETURN_INTERVIEWS: q.EXISTING_RETURN_INTERVIEWS,
}
_MERGE = {
    ImportKind.CHILDREN: q.MERGE_CHILDREN,
    ImportKind.EPISODES: q.MERGE_EPISODES,
    ImportKind.PLACEMENTS: q.MERGE_PLACEMENTS,
    ImportKind.FLAGS: q.MERGE_FLAGS,
    ImportKind.RETURN_INTERVIEWS: q.MERGE_RETURN_INTERVIEWS,
}

# Fields named by the shared domain rules -> the CSV column at fault.
_RULE_FIELD_TO_COLUMN = {"grade": "risk_grade", "childId": "child_ref"}


def iter_csv(lines: Iterable[str]) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None]]]]:
    """The header and a stream of (line number, row) with normalised column names."""
    reader = _reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty: a CSV import needs a header line", field="file") from None
    names = normalise_header(header)

    def rows() -> Iterator[tuple[int, dict[str, str | None]]]:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines (e.g. a trailing newline from a spreadsheet) are not rows
            row: dict[str, str | None] = dict(zip(names, cells, strict=False))
            if len(cells) > len(names):
                row[None] = ",".join(cells[len(names):])  # type: ignore[index]
            yield reader.line_num, row

    return header, rows()


def _sort_report(summary: ImportSummary) -> None:
    """Errors and warnings in file order; a warning on a row that was rejected after all is moot."""
    rejected = {(e.file, e.line) for e in summary.errors}
    summary.warnings = [w for w in summary.warnings if (w.file, w.line) not in rejected]
    for rows in (summary.errors, summary.warnings):
        rows.sort(key=lambda e: (e.file, e.line, e.column or "", e.rule))


@dataclass(frozen=True, slots=True)
class _Placed:
    """Where an imported postcode puts a record. `resolution` (Location.geoResolution): unit,
    sector or district (the postcode resolved at that level), stated (the row's own host_la), or
    unresolved (no usable postcode: the importing LA stands in, so every Location keeps its IN_LA
    and IN_FORCE, and the marker says it is a stand-in)."""

    la: str
    force: str
    resolution: str

    @property
    def resolved(self) -> bool:
        return self.resolution in ("unit", "sector", "district")


class Importer:
    def __init__(
        self,
        graph: Graph,
        principal: Principal,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        purpose: str | None = None,
        request_id: str | None = None,
        progress: ProgressCallback | None = None,
        postcodes: pc.PostcodeResolver | None = None,
        area_rules: AreaRuleBook | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        limits: ImportLimits | None = None,
        alerts: bool = True,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise InvalidInput(f"batch size must be between 1 and {MAX_BATCH_SIZE}", field="batchSize")
        self.graph = graph
        self.principal = principal
        self.agency = principal.agency_id
        self.batch_size = batch_size
        self.audit = AuditContext(principal, purpose or "bulk import", request_id or str(uuid.uuid4()))
        self.progress = progress
        self.postcodes = postcodes or pc.default_resolver()
        self.rules = area_rules or load_area_rules()
        self.now = now
        self.limits = limits or ImportLimits()
        self.alerts = alerts  # False for a first load of history (mpdb load)
        self._ref: _Reference | None = None
        # Children written by this run (every batch so far): candidates "within the file".
        self._run_ids: set[str] = set()

    # --- setup ---------------------------------------------------------------------------------

    async def _reference(self) -> _Reference:
        if self._ref is None:
            agency = await self.graph.read_one(q.AGENCY, {"agencyId": self.agency})
            if agency is None:
                raise ImportFileError(f"unknown agency {self.agency!r}: import as a force or LA known to mpdb",
                                      field="agency")
            row = await self.graph.read_one(q.REFERENCE_CODES)
            assert row is not None
            la_forces = {
                la["code"]: [f["code"] for f in sorted(la["forces"], key=lambda f: (-f["share"], f["code"]))]
                for la in row["las"]
            }
            self._ref = _Reference(agency["kind"], la_forces, frozenset(row["forces"]),
                                   {a["id"]: a["kind"] for a in row["agencies"]})
        return self._ref

    def _scope_params(self) -> dict[str, Any]:
        from mpdb.auth.access import access_scope_for

        return access_scope_for(self.principal).cypher_params()

    # --- CSV -----------------------------------------------------------------------------------

    async def import_csv(self, kind: ImportKind | str, source: CsvFile | Iterable[str], *,
                         file: str | None = None) -> ImportSummary:
        """Check the whole file (mpdb/ingest/files.py), then load it batch by batch. Lines instead
        of a `CsvFile` are held in memory (tests, small inputs)."""
        kind = ImportKind(kind)
        if not isinstance(source, CsvFile):
            source = CsvFile.from_text(source, file or "upload.csv")
        summary = ImportSummary(str(kind), SOURCE_CSV, self.agency)
        ref = await self._reference()  # unreachable here: not interrupted, never started
        try:
            # A whole-file read: off the event loop, so an API worker keeps answering meanwhile.
            await asyncio.to_thread(source.check, self.limits, lambda header: check_header(kind, header, source.name),
                                    f"{source.name}: the header does not match the {kind} format")
            return await self._import_rows(kind, source, ref, summary)
        except Exception as exc:
            if database_unavailable(exc):
                raise ImportInterrupted(summary) from exc
            raise

    async def _import_rows(self, kind: ImportKind, source: CsvFile, ref: _Reference,
                           summary: ImportSummary) -> ImportSummary:
        started = time.perf_counter()
        file = source.name
        _, rows = iter_csv(source.lines())
        pending: list[Planned] = []
        processed = 0
        for line, raw in rows:
            summary.rows += 1
            processed += 1
            model, errors = parse_row(kind, file, line, raw)
            planned = None
            if model is not None:
                planned, errors = self._plan(kind, model, file, line, ref)
            if errors:
                summary.rejected += 1
                summary.errors += errors
            elif planned is not None:
                summary.warnings += planned.warnings
                pending.append(planned)
            if len(pending) >= self.batch_size:
                await self._flush(kind, pending, summary)
                pending = []
                self._tick(processed)
                processed = 0
        if pending:
            await self._flush(kind, pending, summary)
        self._tick(processed)
        _sort_report(summary)
        summary.seconds = time.perf_counter() - started
        count_import_rows(summary.kind, summary.loaded, summary.rejected)
        return summary

    def _tick(self, n: int) -> None:
        if self.progress and n:
            self.progress(n)

    def _plan(self, kind: ImportKind, row: Any, file: str, line: int, ref: _Reference) -> tuple[Planned | None, list[RowError]]:
        plan = {
            ImportKind.CHILDREN: self._plan_child,
            ImportKind.EPISODES: self._plan_episode,
            ImportKind.PLACEMENTS: self._plan_placement,
            ImportKind.FLAGS: self._plan_flag,
            ImportKind.RETURN_INTERVIEWS: self._plan_interview,
        }[kind]
        return plan(row, file, line, ref)

    def _resolve_child(self, row: Any, p: Planned) -> None:
        if row.mpdb_child_id is not None:
            p.child_id, p.own_child, p.child_column = row.mpdb_child_id, False, "mpdb_child_id"
        else:
            p.child_id = child_id_for(self.agency, row.child_ref)

    def _plan_child(self, row: ChildRow, file: str, line: int, ref: _Reference) -> tuple[Planned | None, list[RowError]]:
        errors = []
        responsible = row.responsible_la
        if responsible is not None and responsible not in ref.la_forces:
            errors.append(RowError(file, line, "responsible_la", f"unknown local authority {responsible!r}",
                                   "unknown_code"))
        if errors:
            return None, errors
        cid = child_id_for(self.agency, row.child_ref)
        params = {
            "id": cid,
            "pseudonym": pseudonym_for(cid),
            "responsibleLa": responsible,
            "home": None,
            "props": {
                "givenName": row.given_name, "familyName": row.family_name,
                "dateOfBirth": row.date_of_birth, "sex": row.sex, "ethnicity": row.ethnicity,
                "upn": row.upn, "lookedAfter": bool(row.looked_after),
                "unaccompanied": bool(row.unaccompanied),
                "lacChildRef": row.child_ref, "lacRefLa": self.agency,
                "sourceRef": row.child_ref,
            },
        }
        return Planned(file, line, cid, params, child_id=cid), []

    def _plan_episode(self, row: EpisodeRow, file: str, line: int, ref: _Reference) -> tuple[Planned | None, list[RowError]]:
        errors = []
        for column in ("reporting_force", "found_by_force"):
            code = getattr(row, column)
            if code is not None and code not in ref.forces:
                errors.append(RowError(file, line, column, f"unknown police force {code!r}", "unknown_code"))
        now = self.now()
        for column in ("reported_at", "found_at", "returned_at"):
            value = getattr(row, column)
            if value is not None and value > now:
                errors.append(RowError(file, line, column, f"{column} is in the future", "future_time"))
        if errors:
            return None, errors
        eid = derive_id("EP", self.agency, SOURCE_CSV, row.episode_ref)
        placement_id = (derive_id("PL", self.agency, SOURCE_CSV, row.missing_from_placement_ref)
                        if row.missing_from_placement_ref else None)
        assessment = None
        if row.risk_grade and row.grade_scheme:
            assessment = {
                "id": derive_id("RA", self.agency, SOURCE_CSV, f"{row.episode_ref}|{row.grade_scheme}|{row.risk_grade}"),
                "props": {"grade": row.risk_grade, "scheme": row.grade_scheme, "assessedAt": row.reported_at,
                          "reason": "initial grade, bulk import"},
            }
        params = {
            "id": eid,
            "reportedTo": row.reporting_force,
            "foundBy": row.found_by_force,
            "placementId": placement_id,
            "assessment": assessment,
            "props": {
                "status": "closed" if row.closed else "open",
                "reportedAt": row.reported_at, "lastSeenAt": row.last_seen_at,
                "foundAt": row.found_at, "returnedAt": row.returned_at,
                "whereaboutsKnown": row.whereabouts_known, "consent": row.consent,
                "reporterType": row.reporter_type,
                "riskGrade": row.risk_grade, "gradeScheme": row.grade_scheme,
                "category": category_for(row.grade_scheme, row.risk_grade)
                if row.risk_grade and row.grade_scheme else None,
                "sourceRef": row.episode_ref,
            },
            "record": {
                "id": derive_id("ER", self.agency, SOURCE_CSV, row.episode_ref),
                "props": {"agencyId": self.agency, "sourceRef": row.episode_ref,
                          "startAt": row.reported_at, "endAt": row.returned_at or row.found_at,
                          "missingType": None},
            },
        }
        p = Planned(file, line, eid, params, placement_id=placement_id, open_episode=not row.closed,
                    grade=(row.grade_scheme, row.risk_grade) if assessment else None,
                    events=[(c, getattr(row, c)) for c in ("last_seen_at", "reported_at", "found_at", "returned_at")
                            if getattr(row, c) is not None])
        self._resolve_child(row, p)
        return p, []

    def _place(self, ref: _Reference, postcode: str, file: str, line: int, column: str,
               warnings: list[RowError], fallback: str) -> tuple[_Placed | None, pc.PostcodePlace]:
        """The LA and force a postcode lies in, from the reference data (mpdb/ingest/postcodes.py),
        or None when it does not resolve. A postcode that does not resolve cleanly adds a row warning
        saying what was done instead (`fallback`)."""
        place = self.postcodes.resolve(postcode)
        warning = pc.row_warning(place, file, line, column, fallback)
        if warning is not None:
            warnings.append(warning)
        if place.la is not None and place.la in ref.la_forces:
            force = place.force if place.force in ref.forces else ref.primary_force(place.la)
            return _Placed(place.la, force, place.level or "unit"), place
        return None, place

    def _stand_in(self, ref: _Reference) -> _Placed:
        """SSDA903 rows whose postcode is blank or does not resolve: the importing LA stands in."""
        return _Placed(self.agency, ref.primary_force(self.agency), "unresolved")

    def _location(self, ref: _Reference, placed: _Placed, key: str, postcode: str | None,
                  lat: float | None, lon: float | None, kind: str, source: str) -> dict[str, Any] | None:
        if postcode is None and lat is None:
            return None
        props: dict[str, Any] = {"name": postcode or "imported address", "kind": kind, "postcode": postcode,
                                 "laCode": placed.la, "forceCode": placed.force,
                                 "geoResolution": placed.resolution}
        if lat is not None and lon is not None:
            props["point"] = WGS84Point((lon, lat))
            props["cell"] = cell_id(lat, lon)
        return {"id": derive_id("LOC", self.agency, source, key), "props": props}

    def _plan_placement(self, row: PlacementRow, file: str, line: int, ref: _Reference) -> tuple[Planned | None, list[RowError]]:
        errors = []
        placing = row.placing_la or (self.agency if ref.agency_kind == "local_authority" else None)
        if placing is None:
            errors.append(RowError(file, line, "placing_la",
                                   "placing_la is required when the importing agency is not a local authority",
                                   "required"))
        for column, code in (("placing_la", placing), ("host_la", row.host_la)):
            if code is not None and code not in ref.la_forces:
                errors.append(RowError(file, line, column, f"unknown local authority {code!r}", "unknown_code"))
        if errors or placing is None:
            return None, errors
        host, warnings, failed = self._csv_host(ref, row, file, line)
        if host is None:
            return None, [failed] if failed else [RowError(
                file, line, "host_la", "host_la is required when the row has no postcode", "required")]
        located, host_resolution = host
        key = f"placement|{row.placement_ref}"
        location = self._location(ref, located, key, row.postcode, row.latitude, row.longitude,
                                  _LOCATION_KIND.get(row.placement_type, "other"), SOURCE_CSV)
        host_la = row.host_la or located.la
        host_force = located.force if host_la == located.la else ref.primary_force(host_la)
        params = self._placement_params(
            ref, derive_id("PL", self.agency, SOURCE_CSV, row.placement_ref), placing,
            _Placed(host_la, host_force, host_resolution),
            row.start_date, row.end_date, row.placement_type, row.dcs_approved, location,
            row.establishment_urn, row.establishment_name, row.establishment_kind, row.placement_ref,
            placement_point=(row.latitude, row.longitude) if row.latitude is not None else None,
        )
        p = Planned(file, line, params["id"], params, events=[("start_date", row.start_date)], warnings=warnings)
        self._resolve_child(row, p)
        return p, []

    def _csv_host(self, ref: _Reference, row: PlacementRow, file: str, line: int
                  ) -> tuple[tuple[_Placed, str] | None, list[RowError], RowError | None]:
        """CSV placements: ((where the location is, how the host LA was decided), warnings, the
        error when there is no host). The stated `host_la` is the host; the postcode places the
        location and, when `host_la` is blank, decides the host. A stated host the postcode
        disagrees with is kept, with a warning (a straddling sector that reaches into the stated LA
        agrees with it)."""
        warnings: list[RowError] = []
        stated = row.host_la
        if not row.postcode:
            if stated is None:
                return None, warnings, None
            return (_Placed(stated, ref.primary_force(stated), "stated"), "stated"), warnings, None
        fallback = "the location is placed in host_la" if stated else "the row is rejected: give host_la"
        found: list[RowError] = []
        placed, place = self._place(ref, row.postcode, file, line, "postcode", found, fallback)
        if stated is None:
            if placed is None:
                return None, warnings, found[0] if found else None
            warnings += found
            return (placed, "postcode"), warnings, None
        if placed is None:
            warnings += found
            return (_Placed(stated, ref.primary_force(stated), "stated"), "stated"), warnings, None
        if placed.la == stated:  # the row confirms the postcode: a straddling sector needs no warning
            warnings += [w for w in found if w.rule != pc.RULE_STRADDLES]
        elif stated in place.others:  # the sector straddles into the stated LA: the row says which part
            placed = _Placed(stated, ref.primary_force(stated), placed.resolution)
        else:
            warnings.append(RowError(file, line, "postcode", "the postcode lies in another local authority than "
                                     f"host_la ({placed.la}): host_la is kept as the host, the location is placed by "
                                     "its postcode", pc.RULE_HOST_MISMATCH))
        return (placed, "stated"), warnings, None

    def _placement_params(self, ref: _Reference, pid: str, placing: str, host: _Placed, start: date,
                          end: date | None, place: str, dcs: bool | None, location: dict[str, Any] | None,
                          urn: str | None, est_name: str | None, est_kind: str | None, source_ref: str,
                          placement_point: tuple[float, float] | None = None) -> dict[str, Any]:
        host_force = host.force
        geo = placement_geography(placing_la=placing, placing_la_forces=ref.la_forces[placing], host_la=host.la,
                                  host_force=host_force, home=None, placement=placement_point)
        establishment = None
        if urn or est_name:
            eid = f"EST-URN-{urn}" if urn else derive_id("EST", self.agency, SOURCE_CSV, f"{host.la}|{est_name}")
            establishment = {"id": eid, "props": {"urn": urn, "name": est_name or f"Ofsted URN {urn}",
                                                  "kind": est_kind or _ESTABLISHMENT_KIND.get(place, "childrens_home")}}
        return {
            "id": pid, "placingLa": placing, "hostLa": host.la, "hostForce": host_force,
            "location": location, "establishment": establishment,
            "props": {"startDate": start, "endDate": end, "placementType": place,
                      "distanceKm": geo.distance_km, "outOfArea": geo.out_of_area,
                      "crossForce": geo.cross_force, "dcsApproved": dcs, "sourceRef": source_ref,
                      "hostResolution": host.resolution},
        }

    def _plan_flag(self, row: FlagRow, file: str, line: int, ref: _Reference) -> tuple[Planned | None, list[RowError]]:
        fid = derive_id("FL", self.agency, SOURCE_CSV, row.flag_ref)
        params = {"id": fid, "props": {
            "type": row.type, "status": row.status, "raisedAt": row.raised_at, "reviewDue": row.review_due,
            "reviewedAt": row.reviewed_at, "expiredAt": row.expired_at, "note": row.note,
            "sourceRef": row.flag_ref}}
        p = Planned(file, line, fid, params, events=[("raised_at", row.raised_at)])
        self._resolve_child(row, p)
        return p, []

    def _plan_interview(self, row: ReturnInterviewRow, file: str, line: int, ref: _Reference) -> tuple[Planned | None, list[RowError]]:
        provider = row.provider or self.agency
        if ref.agencies.get(provider) not in ("rhi_provider", "local_authority"):
            return None, [RowError(file, line, "provider",
                                   f"{provider!r} is not a return-interview provider or local authority known to mpdb",
                                   "unknown_code")]
        rid = derive_id("RI", self.agency, SOURCE_CSV, row.interview_ref)
        params = {"id": rid, "provider": provider, "props": {
            "status": row.status, "offeredAt": row.offered_at, "completedAt": row.completed_at,
            "confidentialAccount": row.confidential_account, "summaryPlaces": row.summary_places,
            "summaryPeople": row.summary_people, "summaryWith": row.summary_with,
            "summaryRiskTypes": row.summary_risk_types, "sourceRef": row.interview_ref, "dueAt": None}}
        p = Planned(file, line, rid, params, child_column="episode_ref")
        if row.mpdb_episode_id is not None:
            p.episode_id, p.own_episode, p.child_column = row.mpdb_episode_id, False, "mpdb_episode_id"
        else:
            p.episode_id = derive_id("EP", self.agency, SOURCE_CSV, row.episode_ref)  # type: ignore[arg-type]
        return p, []

    # --- one batch, one transaction ------------------------------------------------------------

    async def _flush(self, kind: ImportKind, pending: list[Planned], summary: ImportSummary) -> None:
        for p in pending:
            if kind is not ImportKind.CHILDREN:
                p.params["childId"] = p.child_id
            p.params["importHash"] = p.hash = content_hash(p.params)
            p.params["props"]["importHash"] = p.hash
        outcome = await self.graph.in_write_tx(lambda tx: self._write_batch(tx, kind, pending, summary.source_system))
        summary.batches += 1
        summary.loaded += len(outcome.written)
        summary.unchanged += outcome.unchanged
        summary.rejected += len({(e.file, e.line) for e in outcome.errors})
        summary.errors += outcome.errors
        summary.matches += outcome.matches
        summary.proposals += outcome.proposals
        for table, n in outcome.written_by_table.items():
            summary.per_table.setdefault(table, {"loaded": 0, "unchanged": 0, "rejected": 0})["loaded"] += n
        for table, n in outcome.unchanged_by_table.items():
            summary.per_table.setdefault(table, {"loaded": 0, "unchanged": 0, "rejected": 0})["unchanged"] += n

    async def _write_batch(self, tx: AsyncManagedTransaction, kind: ImportKind, pending: list[Planned],
                           source: str) -> _BatchOutcome:
        errors: list[RowError] = []
        ok = list(pending)
        if kind in (ImportKind.EPISODES, ImportKind.PLACEMENTS, ImportKind.FLAGS):
            ok = await self._check_children(tx, kind, ok, errors)
        if kind is ImportKind.EPISODES:
            ok = await self._check_placements(tx, ok, errors)
        if kind is ImportKind.RETURN_INTERVIEWS:
            ok = await self._check_episodes(tx, ok, errors)
        existing = {r["id"]: r["hash"] for r in await run(tx, _EXISTING[kind], {"ids": [p.id for p in ok]})}
        to_write = [p for p in ok if existing.get(p.id) != p.hash]
        unchanged = [p for p in ok if existing.get(p.id) == p.hash]
        written: list[str] = []
        if to_write:
            # A changed episode row may move its report to another day or its MISSING_FROM to another
            # placement, and a changed placement row may move to another location (taking the
            # episodes missing from it along): note where those episodes are now, recompute both.
            buckets = BucketKeys()
            placed: list[str] = []
            if kind is ImportKind.EPISODES:
                placed = [p.id for p in to_write]
            elif kind is ImportKind.PLACEMENTS:
                placed = await episodes_of_placements(tx, [p.id for p in to_write])
            await buckets.before(tx, placed)
            result = await run(tx, _MERGE[kind], {
                "rows": [p.params for p in to_write], "agencyId": self.agency, "now": self.now(),
                "sourceSystem": source, "author": self.principal.subject,
            })
            if result[0]["written"] != len(to_write):
                # every reference was resolved above in this transaction, so this is a bug: abort the batch
                raise RuntimeError(f"import wrote {result[0]['written']} of {len(to_write)} {kind} rows")
            written = [p.id for p in to_write]
            if kind is ImportKind.PLACEMENTS:  # episodes of a new placement arrive in a later batch
                placed = sorted(set(placed) | set(await episodes_of_placements(tx, written)))
            if placed:
                await buckets.refresh(tx, placed)
            children = sorted({p.child_id for p in to_write if p.child_id})
            if children:
                await run(tx, access_q.REFRESH_ACCESS, {"childIds": children})
            raised = self._news(kind, to_write) if self.alerts else []
            # after the access refresh: the recipients of the graph as it will commit
            events = await events_for(tx, raised, self.agency) if raised else []
            proposal_ids: list[str] = []
            if kind is ImportKind.CHILDREN:
                matches, proposal_ids = await self._propose_duplicates(tx, to_write)
            await append_in_tx(tx, self.audit, AuditAction.COLLECTION, "import", written + proposal_ids)
            # last: the OutboxHead lock it takes is held until the batch commits (writes.py _mutate)
            await append_events(tx, events)
        by_table: dict[str, int] = {}
        unchanged_by_table: dict[str, int] = {}
        for p in to_write:
            by_table[p.table or str(kind)] = by_table.get(p.table or str(kind), 0) + 1
        for p in unchanged:
            unchanged_by_table[p.table or str(kind)] = unchanged_by_table.get(p.table or str(kind), 0) + 1
        outcome = _BatchOutcome(written, len(unchanged), errors, by_table, unchanged_by_table)
        if kind is ImportKind.CHILDREN and to_write:
            outcome.matches, outcome.proposals = matches, len(proposal_ids)
        return outcome

    def _news(self, kind: ImportKind, written: list[Planned]) -> list[Raised]:
        """What the rows written say happened recently enough to alert (module docstring)."""
        since = self.now() - NEWS_WINDOW
        out: list[Raised] = []
        for p in written:
            props, child = p.params["props"], p.child_id
            if child is None:
                continue
            if kind is ImportKind.EPISODES:
                reported = props.get("reportedAt")
                if reported is not None and reported >= since:
                    out.append(Raised(AlertKind.CHILD_REPORTED_MISSING, child, "Episode", p.id, reported, p.id))
                    assessment = p.params.get("assessment")
                    if assessment is not None and assessment["props"]["grade"] == "high":
                        out.append(Raised(AlertKind.RISK_RAISED, child, "RiskAssessment", assessment["id"],
                                          reported, p.id))
                ended = props.get("foundAt") or props.get("returnedAt")
                if ended is not None and ended >= since:
                    out.append(Raised(AlertKind.CHILD_FOUND, child, "Episode", p.id, ended, p.id))
            elif kind is ImportKind.FLAGS:
                raised_at = props.get("raisedAt")
                if props.get("status") == "active" and raised_at is not None and raised_at >= since:
                    out.append(Raised(AlertKind.RISK_RAISED, child, "Flag", p.id, raised_at))
        return out

    async def _propose_duplicates(self, tx: AsyncManagedTransaction,
                                  written: list[Planned]) -> tuple[list[RowMatches], list[str]]:
        """Score the children just written against other agencies' children and this run's, in
        one model call for the batch; propose each row's best pairs at or above the review
        threshold (POSSIBLY_SAME_AS, proposedBy = the importing agency) in the batch's transaction.
        Showing the candidates is a consultation, and a disclosure of those the importer may not
        read in full."""
        typed = {p.id: _import_record(p, self.agency) for p in written}
        self._run_ids.update(typed)
        scorer = await em.get_entry_scorer()
        limit = em.IMPORT_MAX_CANDIDATES + 1  # +1: a row may find itself among its key's candidates
        params = {"agencyId": self.agency, "runIds": sorted(self._run_ids), "perBlock": em.IMPORT_PER_BLOCK,
                  "limit": limit}
        # By reference one key per row; by names and date of birth one per distinct key (a file of
        # near-identical rows is looked up once, not once a row).
        by_ref, by_name, name_key = [], {}, {}
        for cid, rec in typed.items():
            k = em.block_keys(rec, fuzzy=False)
            if k["lacChildRef"] or k["upn"]:
                by_ref.append({"lacRefLa": k["lacRefLa"], "lacChildRef": k["lacChildRef"], "upn": k["upn"], "k": cid})
            nk = {f: k[f] for f in ("dobs", "year", "lucene", "luceneFamily")}
            sig = json.dumps(nk, sort_keys=True, default=str)
            name_key[cid] = sig
            by_name.setdefault(sig, {**nk, "k": sig})
        ref_hits = {r["k"]: r["candidates"] for r in await run(tx, emq.IMPORT_CANDIDATE_IDS_BY_REF,
                                                                {"keys": by_ref, **params})} if by_ref else {}
        name_hits = {r["k"]: r["candidates"] for r in await run(tx, emq.IMPORT_CANDIDATE_IDS_BY_NAME,
                                                                 {"keys": list(by_name.values()), **params})}
        per_row: dict[str, list[dict[str, Any]]] = {}
        for cid in typed:
            merged: dict[str, dict[str, Any]] = {}
            for c in (*ref_hits.get(cid, []), *name_hits.get(name_key[cid], [])):
                if c["id"] != cid:
                    merged[c["id"]] = {"id": c["id"], "sameRef": c["sameRef"] or merged.get(c["id"], {}).get("sameRef", False)}
            per_row[cid] = list(merged.values())[:em.IMPORT_MAX_CANDIDATES]
        ids = sorted({c["id"] for cands in per_row.values() for c in cands})
        if not ids:
            return [], []
        # The batch's own children are read back with their candidates (written in this transaction):
        # scored on the row `mpdb resolve` builds, home point and recording area included.
        wanted = set(ids)
        read = {r["id"]: r["record"] for r in await run(tx, emq.IMPORT_CANDIDATE_FIELDS,
                                                        {"ids": sorted(wanted | {cid for cid, c in per_row.items() if c})})}
        typed.update({cid: rec for cid, rec in read.items() if cid in typed})
        records = {cid: {"id": cid, "record": rec} for cid, rec in read.items() if cid in wanted}
        rows = [(cid, [{**records[c["id"]], "sameRef": c["sameRef"]} for c in cands if c["id"] in records])
                for cid, cands in per_row.items() if cands]
        scored = await scorer.score_batch([(typed[cid], [c["record"] for c in cands]) for cid, cands in rows])
        kept_of = []
        for (cid, cands), matches in zip(rows, scored, strict=True):
            kept = [(c, m) for c, m in em.likely(cands, matches, scorer.review_threshold)
                    if m is not None][:em.IMPORT_MAX_KEPT]
            if kept:
                kept_of.append((cid, kept))
        if not kept_of:
            return [], []
        # what the importer may see of the kept candidates only (docs/IMPORT.md)
        access = {r["id"]: r for r in await run(tx, emq.IMPORT_CANDIDATE_ACCESS,
                                                 {"ids": sorted({c["id"] for _, kept in kept_of for c, _ in kept}),
                                                  **self._scope_params()})}
        by_id = {p.id: p for p in written}
        proposals: dict[str, Any] = {}
        out: list[RowMatches] = []
        shown, hidden = set(), set()
        now = self.now()
        for cid, kept in kept_of:
            kept = [({**c, **access[c["id"]]}, m) for c, m in kept]
            for prop in em.proposals(cid, kept, scorer.version):
                proposals.setdefault(prop.row()["id"], prop)
            p = by_id[cid]
            entries = []
            for c, m in kept:
                entry: dict[str, Any] = {"candidateId": em.proposal_id(cid, c["id"]),
                                         "matchProbability": round(m.match_probability, 6),
                                         "matchWeight": round(m.match_weight, 4)}
                if c["visible"]:
                    entry.update(childId=c["id"], reasons=em.reasons_data(m))
                    shown.add(c["id"])
                else:
                    s = c["summary"]
                    entry["summary"] = {"pseudonym": s["pseudonym"], "ageBand": age_band(s.get("dateOfBirth"), now),
                                        "responsibleAuthority": s.get("responsibleAuthority")}
                    hidden.add(c["id"])
                entries.append(entry)
            out.append(RowMatches(p.file, p.line, cid, entries))
        if proposals:
            await upsert_proposals(tx, list(proposals.values()), self.agency)
            await append_in_tx(tx, self.audit, AuditAction.CONSULTATION, "import.candidates", sorted(shown | hidden))
            if hidden:
                await append_in_tx(tx, self.audit, AuditAction.DISCLOSURE, "import.candidates", sorted(hidden),
                                   [self.agency])
        return out, sorted(proposals)

    async def _check_children(self, tx: AsyncManagedTransaction, kind: ImportKind, pending: list[Planned],
                              errors: list[RowError]) -> list[Planned]:
        ids = sorted({p.child_id for p in pending if p.child_id})
        own = sorted({p.child_id for p in pending if p.child_id and p.own_child})
        found = {r["id"]: r for r in await run(tx, q.CHILDREN_FOR_ROWS,
                                                {"ids": ids, "ownIds": own, **self._scope_params()})}
        # Episodes of this batch that close: their graph "open" status is about to change.
        closing = {p.id for p in pending if kind is ImportKind.EPISODES and not p.open_episode}
        open_in_batch: dict[str, str] = {}
        ok = []
        for p in pending:
            child = found.get(p.child_id or "")
            if child is None:
                errors.append(p.reject(p.child_column, "no child with this reference: import the children "
                                       "file first (or check the id)", "unknown_child"))
                continue
            born = p.birth_errors(child["dateOfBirth"])
            if born:
                errors += born
                continue
            if kind is ImportKind.EPISODES:
                try:
                    if p.grade is not None:
                        check_grade_allowed(p.grade[0], p.grade[1],
                                            [ActiveFlag(f["id"], f["type"]) for f in child["activeFlags"]])
                    if p.open_episode:
                        others = [e for e in child["openEpisodes"] if e != p.id and e not in closing]
                        other = open_in_batch.get(child["id"]) or (others[0] if others else None)
                        check_no_open_episode(other)
                except MpdbError as exc:
                    column = _RULE_FIELD_TO_COLUMN.get((exc.field or "").rsplit(".", 1)[-1], p.child_column)
                    rule = str(exc.details.get("rule") or exc.details.get("reason") or exc.code)
                    errors.append(p.reject(column, exc.message, rule))
                    continue
                if p.open_episode:
                    open_in_batch[child["id"]] = p.id
            ok.append(p)
        return ok

    async def _check_placements(self, tx: AsyncManagedTransaction, pending: list[Planned],
                                errors: list[RowError]) -> list[Planned]:
        ids = sorted({p.placement_id for p in pending if p.placement_id})
        if not ids:
            return pending
        owner = {r["id"]: r["childId"] for r in await run(tx, q.PLACEMENTS_FOR_ROWS, {"ids": ids})}
        ok = []
        for p in pending:
            if p.placement_id is not None and owner.get(p.placement_id) != p.child_id:
                reason = ("no placement with this reference: import the placements file first"
                          if p.placement_id not in owner else "the placement belongs to another child")
                column = "missing_from_placement_ref" if p.table == "" else "MIS_START"
                errors.append(p.reject(column, reason, "unknown_placement"))
                continue
            ok.append(p)
        return ok

    async def _check_episodes(self, tx: AsyncManagedTransaction, pending: list[Planned],
                              errors: list[RowError]) -> list[Planned]:
        ids = sorted({p.episode_id for p in pending if p.episode_id})
        own = sorted({p.episode_id for p in pending if p.episode_id and p.own_episode})
        found = {r["id"]: r for r in await run(tx, q.EPISODES_FOR_ROWS,
                                                {"ids": ids, "ownIds": own, **self._scope_params()})}
        ok = []
        for p in pending:
            ep = found.get(p.episode_id or "")
            if ep is None:
                errors.append(p.reject(p.child_column, "no episode with this reference: import the episodes "
                                       "file first (or check the id)", "unknown_episode"))
                continue
            p.child_id = ep["childId"]
            p.params["episodeId"] = ep["id"]
            if ep["returnedAt"] is not None:
                returned = ep["returnedAt"]
                area = self.rules.for_area(rule_area(ep["ruleArea"], None))
                due = rhi_due_at(returned, area.rhi_due, self.rules.bank_holidays)
                if p.params["props"]["dueAt"] != due:
                    p.params["props"]["dueAt"] = due
                    p.params["props"].pop("importHash", None)
                    p.params.pop("importHash", None)
                    p.params["props"]["importHash"] = p.hash = content_hash(p.params)
            ok.append(p)
        return ok

    # --- SSDA903 ---------------------------------------------------------------------------------

    async def import_ssda903(
        self,
        year: int,
        header: CsvFile | Iterable[str],
        episodes: CsvFile | Iterable[str],
        missing: CsvFile | Iterable[str],
        *,
        files: Mapping[str, str] | None = None,
    ) -> ImportSummary:
        """Import one LA's return. The three tables are validated together (the DfE rules span
        them), so they are read whole; a return is one LA's year, small enough to hold. Each
        table is checked whole first (mpdb/ingest/files.py): one bad table refuses the return."""
        names = dict(files or {"header": "header.csv", "episodes": "episodes.csv", "missing": "missing.csv"})
        sources = {table: src if isinstance(src, CsvFile) else CsvFile.from_text(src, names[table])
                   for table, src in (("header", header), ("episodes", episodes), ("missing", missing))}
        summary = ImportSummary("ssda903", SOURCE_SSDA903, self.agency)
        ref = await self._reference()  # unreachable here: not interrupted, never started
        try:
            if ref.agency_kind != "local_authority" or self.agency not in ref.la_forces:
                raise ImportFileError("an SSDA903 return is imported by the local authority that made it",
                                      field="agency")
            if not 2000 <= year <= 2100:
                raise ImportFileError(f"collection year {year} is not plausible", field="year")
            header_errors: list[RowError] = []
            for table, expected in (("header", ssda903.HEADER_COLUMNS), ("episodes", ssda903.EPISODE_COLUMNS),
                                    ("missing", ssda903.MISSING_COLUMNS)):
                src = sources[table]
                try:
                    await asyncio.to_thread(src.check, self.limits, lambda cols, t=table, e=expected, n=src.name:
                                            ssda903.check_columns(t, cols, e, n), "")
                except ImportFileError as exc:
                    if not exc.errors or any(e.rule != "header" for e in exc.errors):
                        raise
                    header_errors += exc.errors  # every table's header is reported together
            if header_errors:
                raise ImportFileError("the SSDA903 tables do not have the DfE columns", header_errors, field="file")
            return await self._import_903(year, sources, ref, summary)
        except Exception as exc:
            if database_unavailable(exc):
                raise ImportInterrupted(summary) from exc
            raise

    async def _import_903(self, year: int, sources: dict[str, CsvFile], ref: _Reference,
                          summary: ImportSummary) -> ImportSummary:
        started = time.perf_counter()
        files = {table: src.name for table, src in sources.items()}
        tables = {table: list(iter_csv(src.lines())[1]) for table, src in sources.items()}
        parsed = ssda903.parse_return(year, tables["header"], tables["episodes"], tables["missing"], files)
        summary.rows = sum(parsed.rows.values())
        summary.errors = list(parsed.errors)
        summary.rejected = len({(e.file, e.line) for e in parsed.errors})
        for table in ("header", "episodes", "missing"):
            summary.per_table[table] = {"loaded": 0, "unchanged": 0,
                                        "rejected": len({e.line for e in parsed.errors if e.file == files[table]})}

        by_child: dict[str, list[ssda903.EpisodeRecord903]] = {}
        for e in parsed.episodes:  # one pass, not one scan of every episode per child
            by_child.setdefault(e.child, []).append(e)
        children = [self._plan_903_child(h, by_child.get(h.child, []), ref, files["header"], files["episodes"])
                    for h in parsed.headers]
        placements = [self._plan_903_placement(e, ref, files["episodes"]) for e in parsed.episodes]
        for p in (*children, *placements):
            summary.warnings += p.warnings
        missing_eps = [self._plan_903_missing(m, parsed, files["missing"]) for m in parsed.missing]
        for kind, planned in ((ImportKind.CHILDREN, children), (ImportKind.PLACEMENTS, placements),
                              (ImportKind.EPISODES, missing_eps)):
            for i in range(0, len(planned), self.batch_size):
                batch = planned[i:i + self.batch_size]
                before = len(summary.errors)
                await self._flush_903(kind, batch, summary)
                for e in summary.errors[before:]:
                    table = next(t for t, f in files.items() if f == e.file)
                    summary.per_table[table]["rejected"] += 1
                self._tick(len(batch))
        self._tick(summary.rows - len(children) - len(placements) - len(missing_eps))
        _sort_report(summary)
        summary.seconds = time.perf_counter() - started
        count_import_rows(summary.kind, summary.loaded, summary.rejected)
        return summary

    async def _flush_903(self, kind: ImportKind, batch: list[Planned], summary: ImportSummary) -> None:
        summary.source_system = SOURCE_SSDA903
        await self._flush(kind, batch, summary)

    def _place_903(self, ref: _Reference, postcode: str | None, file: str, line: int, column: str,
                   warnings: list[RowError]) -> _Placed:
        if not postcode:
            return self._stand_in(ref)
        placed, _ = self._place(ref, postcode, file, line, column, warnings,
                                "placed in the importing LA, marked geoResolution unresolved")
        return placed or self._stand_in(ref)

    def _plan_903_child(self, h: ssda903.HeaderRecord, episodes: list[ssda903.EpisodeRecord903], ref: _Reference,
                        file: str, episodes_file: str) -> Planned:
        cid = child_id_for(self.agency, h.child)
        eps = sorted(episodes, key=lambda e: e.decom)
        last = eps[-1] if eps else None
        home = None
        warnings: list[RowError] = []
        if last is not None and last.home_post:
            # a warning names the episodes row the postcode came from
            at = self._place_903(ref, last.home_post, episodes_file, last.line, "HOME_POST", warnings)
            home = self._location(ref, at, _postcode_key(at, last.home_post), last.home_post, None, None,
                                  "residence", SOURCE_SSDA903)
        still_looked_after = last is not None and (last.dec is None or last.rec == ssda903.STILL_LOOKED_AFTER)
        params = {
            "id": cid, "pseudonym": pseudonym_for(cid), "responsibleLa": self.agency, "home": home,
            "props": {"dateOfBirth": h.dob, "sex": h.sex, "ethnicity": h.ethnic, "upn": h.upn,
                      "lookedAfter": still_looked_after, "lacChildRef": h.child, "lacRefLa": self.agency,
                      "sourceRef": h.child},
        }
        return Planned(file, h.line, cid, params, child_id=cid, table="header", warnings=warnings)

    def _plan_903_placement(self, e: ssda903.EpisodeRecord903, ref: _Reference, file: str) -> Planned:
        warnings: list[RowError] = []
        host = self._place_903(ref, e.pl_post, file, e.line, "PL_POST", warnings)
        location = None
        if e.pl_post:
            location = self._location(ref, host, _postcode_key(host, e.pl_post), e.pl_post, None, None,
                                      _LOCATION_KIND.get(e.place, "other"), SOURCE_SSDA903)
        source_ref = f"{e.child}|{e.decom.isoformat()}"
        params = self._placement_params(ref, derive_id("PL", self.agency, SOURCE_SSDA903, source_ref), self.agency,
                                        _Placed(host.la, host.force, "postcode" if host.resolved else "unresolved"),
                                        e.decom, e.dec, e.place, None, location, e.urn, None, None, source_ref)
        return Planned(file, e.line, params["id"], params, child_id=child_id_for(self.agency, e.child),
                       child_column="CHILD", table="episodes", events=[("DECOM", e.decom)], warnings=warnings)

    def _plan_903_missing(self, m: ssda903.MissingRecord, parsed: ssda903.ParsedReturn, file: str) -> Planned:
        source_ref = f"{m.child}|{m.start.isoformat()}"
        eid = derive_id("EP", self.agency, SOURCE_SSDA903, source_ref)
        placement = parsed.placement_for(m.child, m.start)
        placement_id = (derive_id("PL", self.agency, SOURCE_SSDA903, f"{placement.child}|{placement.decom.isoformat()}")
                        if placement is not None else None)
        start, end = _start_of_day(m.start), _start_of_day(m.end) if m.end else None
        params = {
            "id": eid, "reportedTo": None, "foundBy": None, "placementId": placement_id, "assessment": None,
            "props": {"status": "open" if m.end is None else "closed", "reportedAt": start,
                      "returnedAt": end, "whereaboutsKnown": m.missing == "A", "sourceRef": source_ref},
            "record": {"id": derive_id("ER", self.agency, SOURCE_SSDA903, source_ref),
                       "props": {"agencyId": self.agency, "sourceRef": source_ref, "startAt": start,
                                 "endAt": end, "missingType": m.missing}},
        }
        return Planned(file, m.line, eid, params, child_id=child_id_for(self.agency, m.child),
                       child_column="CHILD", placement_id=placement_id, open_episode=m.end is None,
                       table="missing", events=[(c, d) for c, d in (("MIS_START", m.start), ("MIS_END", m.end)) if d])


def _postcode_key(at: _Placed, postcode: str) -> str:
    """A postcode location's source key: one node per (LA, postcode), and a stand-in of its own."""
    return f"postcode|{at.la if at.resolved else 'unresolved'}|{postcode}"


def _import_record(p: Planned, agency: str) -> dict[str, Any]:
    """An imported child as the model compares it (graph property names)."""
    props, home = p.params["props"], p.params.get("home")
    sex = props.get("sex")
    return {"id": p.id, "givenName": props.get("givenName"), "familyName": props.get("familyName"),
            "dateOfBirth": props.get("dateOfBirth"), "sex": sex if sex in ("F", "M") else None,
            "ethnicity": props.get("ethnicity"), "upn": props.get("upn"), "lacRefLa": props.get("lacRefLa"),
            "lacChildRef": props.get("lacChildRef"), "recordedBy": agency,
            "postcode": (home or {}).get("props", {}).get("postcode")}


# SSDA903 PLACE -> Location.kind / Establishment.kind (graph_schema/MODEL.md vocabularies).
_LOCATION_KIND = {
    "K2": "childrens_home", "K1": "secure_unit", "R5": "secure_unit", "H5": "semi_independent",
    "U1": "foster_home", "U2": "foster_home", "U3": "foster_home", "U4": "foster_home",
    "U5": "foster_home", "U6": "foster_home", "P1": "residence", "P2": "residence",
}
_ESTABLISHMENT_KIND = {
    "K2": "childrens_home", "K1": "secure_unit", "R5": "secure_unit", "H5": "semi_independent",
    "S1": "residential_school", "U1": "foster_agency", "U2": "foster_agency", "U3": "foster_agency",
    "U4": "foster_agency", "U5": "foster_agency", "U6": "foster_agency",
}
