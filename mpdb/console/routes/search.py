"""The start page and the search for a child by name, date of birth or agency reference."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpdb.console.gateway import ConsoleError
from mpdb.console.sessions import ConsoleSession
from mpdb.console.web import current_session, parse_date_input, render, with_purpose

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    session = current_session(request)
    if session is not None:
        request.state.console_session = session
    return render(request, "pages/home.html")


def _date_of_birth(day: str, month: str, year: str) -> tuple[date | None, str | None]:
    value, error = parse_date_input(day, month, year, "Date of birth", example="27 3 2012")
    if value is not None and value > date.today():
        return None, "Date of birth must be in the past"
    return value, error


@router.get("/search")
async def search(request: Request, session: Annotated[ConsoleSession, Depends(with_purpose)],
                 name: str = "", dob_day: str = "", dob_month: str = "", dob_year: str = "",
                 ref: str = "", after: str | None = None) -> Response:
    form = {"name": name.strip(), "dob_day": dob_day, "dob_month": dob_month, "dob_year": dob_year,
            "ref": ref.strip()}
    errors: dict[str, str] = {}
    dob, dob_error = _date_of_birth(dob_day, dob_month, dob_year)
    if dob_error:
        errors["dob"] = dob_error
    searched = bool(form["name"] or dob or form["ref"] or dob_error)
    hits: list[dict] = []
    page_info: dict = {}
    if searched and not errors:
        try:
            data = await request.app.state.console_gateway.run(
                request, session, "ConsoleSearchChildren",
                {"name": form["name"] or None, "dateOfBirth": dob.isoformat() if dob else None,
                 "sourceRef": form["ref"] or None, "first": 25, "after": after},
            )
            hits = data["searchChildren"]["nodes"]
            page_info = data["searchChildren"]["pageInfo"]
        except ConsoleError as exc:
            if exc.code != "BAD_USER_INPUT":
                raise
            field = {"name": "name", "dateOfBirth": "dob", "sourceRef": "ref"}.get(exc.field or "", "name")
            errors[field] = exc.message
    elif request.query_params and not searched:
        errors["name"] = "Enter a name, a date of birth or a reference"
    return render(request, "pages/search.html", 400 if errors else 200, form=form, errors=errors,
                  searched=searched and not errors, hits=hits, page_info=page_info)
