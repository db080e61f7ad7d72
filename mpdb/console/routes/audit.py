"""The audit trail of a record, for auditors and the national unit: who consulted, disclosed or
changed it, when, for which purpose, in which request; the API's auditEvents, newest first."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpdb.console.gateway import ConsoleError
from mpdb.console.sessions import ConsoleSession
from mpdb.console.web import render, signed_in

router = APIRouter(include_in_schema=False)

ACTIONS = ("COLLECTION", "ALTERATION", "CONSULTATION", "DISCLOSURE", "COMBINATION", "ERASURE")
PAGE_SIZE = 50


def _day(value: str, field: str, errors: dict[str, str], end: bool = False) -> datetime | None:
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        errors[field] = "Enter a date as YYYY-MM-DD, for example 2026-11-01"
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@router.get("/audit")
async def audit_trail(request: Request, session: Annotated[ConsoleSession, Depends(signed_in)],
                      record: str = "", action: str = "", since: str = "", until: str = "",
                      after: str | None = None) -> Response:
    # Reading the audit trail is itself audited by the API only where it returns children's data;
    # the purpose is still asked, as for every other screen that can name a child's record.
    form = {"record": record.strip(), "action": action, "since": since, "until": until}
    errors: dict[str, str] = {}
    if action and action not in ACTIONS:
        errors["action"] = "Select an action from the list"
    if len(form["record"]) > 100:
        errors["record"] = "A record id is at most 100 characters"
    start = _day(since, "since", errors)
    end = _day(until, "until", errors, end=True)
    if start and end and start > end:
        errors["until"] = "The end date must be on or after the start date"
    events: list[dict] = []
    page_info: dict = {}
    if not errors:
        try:
            data = await request.app.state.console_gateway.run(
                request, session, "ConsoleAuditTrail",
                {"recordId": form["record"] or None, "action": action or None,
                 "since": start.isoformat() if start else None, "until": end.isoformat() if end else None,
                 "first": PAGE_SIZE, "after": after})
            events = data["auditEvents"]["nodes"]
            page_info = data["auditEvents"]["pageInfo"]
        except ConsoleError as exc:
            if exc.code != "BAD_USER_INPUT":
                raise
            errors[{"after": "record"}.get(exc.field or "", exc.field or "record")] = exc.message
    return render(request, "pages/audit.html", 400 if errors else 200, title="Audit trail", form=form,
                  errors=errors, events=events, page_info=page_info, actions=ACTIONS)
