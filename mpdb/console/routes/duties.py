"""Duties as a work queue: the API's `duties` query, filtered by kind and due-date window, sorted,
and exported as CSV with exactly the rows the page shows.

"All kinds" is one call per DutyKind, all with the same asOf (fixed when the screen is drawn and
carried in the CSV link), so the export is the screen. The due-date window is the API's own
dueFrom/dueTo, so old undone duties never push this quarter's off the pages we fetch. Pages are
followed up to MAX_ROWS per screen; the page says when it stopped there.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpdb.auth.principal import AgencyKind
from mpdb.console.gateway import ConsoleError
from mpdb.console.sessions import ConsoleSession
from mpdb.console.web import agency_name, parse_date_input, render, security_headers, with_purpose

router = APIRouter(include_in_schema=False)

KINDS: dict[str, str] = {
    "RHI_OVERDUE": "Return interview overdue",
    "NOTIFICATION_UNSENT": "Notification not sent",
    "NOTIFICATION_UNACKNOWLEDGED": "Notification not acknowledged",
    "FOUND_NOT_NOTIFIED": "Found, responsible LA not told",
    "REPEAT_TRIGGER": "Repeat-missing trigger met",
}
WINDOWS: dict[str, str] = {"30": "Last 30 days", "90": "Last 90 days", "365": "Last 365 days",
                           "all": "Any date", "custom": "Choose dates"}
DEFAULT_WINDOW = "90"
SORTS: dict[str, str] = {"overdue": "Most overdue first", "recent": "Least overdue first",
                         "kind": "Kind, then most overdue", "child": "Child, then most overdue"}
PAGE_SIZE = 100
MAX_ROWS = 2000  # per screen, over all kinds; beyond it the page says so and asks for a narrower window
# The API's notification kinds, as a missing-children lead would say them.
NOTIFICATION_WORDS = {
    "placement_to_host_la": "of a placement to the host LA",
    "placement_to_host_force": "of a placement to the host police force",
    "home_to_host_la": "of a children's home placement to the host LA",
    "found_to_responsible_la": "of the finding to the responsible LA",
    "reported_to_police": "of the missing report to the police",
}
HEADER = ["Kind", "Child", "Due", "Overdue", "What is owed", "Who owes it", "Owed to"]
CSV_EXTRA = ["Due at (UTC, ISO 8601)", "Days overdue", "Duty id", "Child id"]
_CODE = re.compile(r"\b[EW]\d{8}\b")  # a GSS code (forces, LAs)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Filters:
    kind: str  # a DutyKind name or "all"
    window: str
    due_from: date | None
    due_to: date | None
    sort: str
    area: str | None
    as_of: datetime


@dataclass(frozen=True)
class DutyRow:
    node: dict[str, Any]
    due_at: datetime
    as_of: datetime

    @property
    def child_label(self) -> str:
        child, summary = self.node.get("child"), self.node.get("summary")
        if child:
            name = " ".join(p for p in (child.get("givenName"), child.get("familyName")) if p)
            return f"{name or 'Name not recorded'} ({child['pseudonym']})"
        if summary:
            return (f"Summary only: {summary['pseudonym']}, age {summary.get('ageBand') or 'unknown'}, "
                    f"responsible LA {agency_name(summary.get('responsibleAuthority'))}")
        return "No child"

    @property
    def child_href(self) -> str | None:
        child = self.node.get("child")
        return f"/children/{child['id']}" if child else None

    @property
    def sort_child(self) -> str:
        return self.child_label.casefold()

    @property
    def overdue(self) -> str:
        days = self.node["daysOverdue"]
        if days >= 1:
            return f"{days} day{'s' if days != 1 else ''}"
        hours = max(0, int((self.as_of - self.due_at).total_seconds() // 3600))
        return f"{hours} hour{'s' if hours != 1 else ''}"

    @property
    def owed(self) -> str:
        # The API's evidence names agencies by code; people read names.
        return _CODE.sub(lambda m: agency_name(m.group(0)), self._owed())

    def _owed(self) -> str:
        kind = self.node["kind"]
        evidence = self.node.get("evidence") or []
        if kind == "RHI_OVERDUE":
            status = next((e["detail"] for e in evidence if e["kind"] == "return_interview"), None)
            return "Return home interview" + (f" ({status})" if status else "")
        if kind in ("NOTIFICATION_UNSENT", "NOTIFICATION_UNACKNOWLEDGED"):
            detail = next((e["detail"] for e in evidence if e["kind"] in ("notification", "placement")), None)
            text = detail or ""
            for kind_code, words in NOTIFICATION_WORDS.items():
                if text.startswith(kind_code):
                    return f"Notification {words}{text[len(kind_code):]}"
            return "Notification: " + text.replace("_", " ")
        if kind == "FOUND_NOT_NOTIFIED":
            return "Tell the responsible LA the child was found"
        if kind == "REPEAT_TRIGGER":
            rule = next((e["detail"] for e in evidence if e["kind"] == "rule"), None)
            return "Repeat-missing review: " + (rule or "trigger met")
        return KINDS.get(kind, kind)

    def cells(self) -> list[str]:
        return [KINDS.get(self.node["kind"], self.node["kind"]), self.child_label,
                self.due_at.strftime("%Y-%m-%d %H:%M"), self.overdue, self.owed,
                agency_name(self.node.get("dutyHolder")) if self.node.get("dutyHolder") else "",
                agency_name(self.node.get("recipient")) if self.node.get("recipient") else ""]

    def csv_cells(self) -> list[str]:
        child = self.node.get("child")
        return [*self.cells(), self.due_at.isoformat(), str(self.node["daysOverdue"]), self.node["id"],
                child["id"] if child else ""]


def _filters(params: dict[str, str], errors: dict[str, str]) -> Filters:
    today = datetime.now(UTC).date()
    kind = params.get("kind") or "all"
    if kind != "all" and kind not in KINDS:
        errors["kind"] = "Choose a kind of duty from the list"
        kind = "all"
    window = params.get("window") or DEFAULT_WINDOW
    if window not in WINDOWS:
        errors["window"] = "Choose a due-date window from the list"
        window = DEFAULT_WINDOW
    sort = params.get("sort") or "overdue"
    if sort not in SORTS:
        errors["sort"] = "Choose a sort order from the list"
        sort = "overdue"
    as_of = datetime.now(UTC).replace(microsecond=0)
    if params.get("as_of"):
        try:
            as_of = datetime.fromisoformat(params["as_of"])
            as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
        except ValueError:
            errors["as_of"] = "The time the list was drawn at is not a valid date and time; reload the page"
    due_from: date | None
    due_to: date | None
    if window == "custom":
        due_from, err = parse_date_input(params.get("from_day", ""), params.get("from_month", ""),
                                    params.get("from_year", ""), "Due from")
        if err:
            errors["from"] = err
        elif due_from is None:
            errors["from"] = "Enter the first due date to show, or choose a preset window"
        due_to, err = parse_date_input(params.get("to_day", ""), params.get("to_month", ""),
                                  params.get("to_year", ""), "Due to")
        if err:
            errors["to"] = err
        elif due_to is None:
            due_to = today
        if due_from and due_to and due_from > due_to:
            errors["to"] = "Due to must be the same as or after due from"
    elif window == "all":
        due_from, due_to = None, None
    else:
        due_from, due_to = today - timedelta(days=int(window)), today
    area = (params.get("area") or "").strip() or None
    return Filters(kind=kind, window=window, due_from=due_from, due_to=due_to, sort=sort, area=area, as_of=as_of)


async def _fetch_kind(request: Request, session: ConsoleSession, f: Filters, kind: str,
                      ) -> tuple[list[DutyRow], str | None, bool]:
    rows: list[DutyRow] = []
    area_label: str | None = None
    after: str | None = None
    gateway = request.app.state.console_gateway
    while True:
        data = await gateway.run(request, session, "ConsoleDuties", {
            "kind": kind, "area": f.area, "asOf": f.as_of.isoformat(),
            "dueFrom": f.due_from.isoformat() if f.due_from else None,
            "dueTo": f.due_to.isoformat() if f.due_to else None,
            "first": PAGE_SIZE, "after": after,
        })
        page = data["duties"]
        area_label = page["area"]
        as_of = datetime.fromisoformat(page["asOf"])
        rows += [DutyRow(node=n, due_at=datetime.fromisoformat(n["dueAt"]), as_of=as_of) for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return rows, area_label, False
        if len(rows) >= MAX_ROWS:
            return rows, area_label, True
        after = page["pageInfo"]["endCursor"]


async def _fetch(request: Request, session: ConsoleSession, f: Filters) -> tuple[list[DutyRow], str | None, bool]:
    """Every duty row for the filters (up to MAX_ROWS), the API's area label, and whether capped.
    The kinds are asked for concurrently (each is its own read), then kept in KINDS order."""
    kinds = list(KINDS) if f.kind == "all" else [f.kind]
    results = await asyncio.gather(*(_fetch_kind(request, session, f, k) for k in kinds))
    rows = [r for kind_rows, _, _ in results for r in kind_rows]
    capped = any(c for _, _, c in results) or len(rows) > MAX_ROWS
    return rows[:MAX_ROWS], results[0][1], capped


def _sorted(rows: list[DutyRow], sort: str) -> list[DutyRow]:
    def overdue_first(r: DutyRow) -> tuple[Any, ...]:
        return (r.due_at, r.node["kind"], r.node["id"])

    if sort == "recent":
        return sorted(rows, key=overdue_first, reverse=True)
    if sort == "kind":
        order = {k: i for i, k in enumerate(KINDS)}
        return sorted(rows, key=lambda r: (order.get(r.node["kind"], 99), *overdue_first(r)))
    if sort == "child":
        return sorted(rows, key=lambda r: (r.sort_child, *overdue_first(r)))
    return sorted(rows, key=overdue_first)


async def _duties(request: Request, session: ConsoleSession) -> tuple[Filters, dict[str, str], list[DutyRow], str | None, bool]:
    params = {k: v for k, v in request.query_params.items()}
    errors: dict[str, str] = {}
    f = _filters(params, errors)
    rows: list[DutyRow] = []
    area_label: str | None = None
    capped = False
    if not errors:
        try:
            rows, area_label, capped = await _fetch(request, session, f)
        except ConsoleError as exc:
            if exc.code != "BAD_USER_INPUT":
                raise
            field = {"area": "area", "dueFrom": "from", "dueTo": "to", "asOf": "as_of"}.get(exc.field or "", "area")
            errors[field] = exc.message
    return f, errors, _sorted(rows, f.sort), area_label, capped


def _csv_link(f: Filters) -> str:
    from urllib.parse import urlencode

    params: dict[str, str] = {"kind": f.kind, "window": f.window, "sort": f.sort, "as_of": f.as_of.isoformat()}
    if f.area:
        params["area"] = f.area
    if f.window == "custom":
        for prefix, value in (("from", f.due_from), ("to", f.due_to)):
            if value:
                params.update({f"{prefix}_day": str(value.day), f"{prefix}_month": str(value.month),
                               f"{prefix}_year": str(value.year)})
    return "/duties.csv?" + urlencode(params)


@router.get("/duties")
async def duties_page(request: Request, session: Annotated[ConsoleSession, Depends(with_purpose)]) -> Response:
    f, errors, rows, area_label, capped = await _duties(request, session)
    q = request.query_params
    form = {k: q.get(k, "") for k in ("from_day", "from_month", "from_year", "to_day", "to_month", "to_year")}
    return render(request, "pages/duties.html", 400 if errors else 200, f=f, errors=errors, rows=rows,
                  area_label=area_label, capped=capped, kinds=KINDS, windows=WINDOWS, sorts=SORTS, form=form,
                  header=HEADER, csv_link=_csv_link(f), max_rows=MAX_ROWS, area_value=q.get("area", ""),
                  may_pick_area=session.principal.agency_kind in (AgencyKind.NATIONAL_UNIT, AgencyKind.INSPECTORATE))


def csv_safe(value: str) -> str:
    """OWASP CSV-injection advice: a cell a spreadsheet could read as a formula starts with a quote."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@router.get("/duties.csv")
async def duties_csv(request: Request, session: Annotated[ConsoleSession, Depends(with_purpose)]) -> Response:
    f, errors, rows, area_label, capped = await _duties(request, session)
    if errors:
        return render(request, "pages/error.html", 400, title="There is a problem with the export",
                      message=" ".join(errors[k] for k in sorted(errors)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER + CSV_EXTRA)
    for row in rows:
        writer.writerow([csv_safe(c) for c in row.csv_cells()])
    start = f.due_from.isoformat() if f.due_from else "all"
    end = f.due_to.isoformat() if f.due_to else "all"
    filename = f"mpdb-duties-{_filename_part(area_label or 'area')}-{start}-{end}.csv"
    response = Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    if capped:  # the rows are the page's; both stop at MAX_ROWS and the page says so
        response.headers["X-MPDB-Rows-Capped"] = str(MAX_ROWS)
    return security_headers(response, nonce="none")


def _filename_part(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum() or ch in "-_") or "area"
