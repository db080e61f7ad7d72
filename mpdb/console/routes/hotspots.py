"""Hot spots on a map (no tiles: the project's own LA and force outlines), with the same facts in
a table beside it; and the outline files the maps draw on."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response

from mpdb.auth.principal import AgencyKind
from mpdb.console.gateway import ConsoleError
from mpdb.console.geo import hotspot_map_data, outline_path, outline_version
from mpdb.console.sessions import ConsoleSession
from mpdb.console.web import render, with_purpose

router = APIRouter(include_in_schema=False)

KINDS = {"MISSING_FROM": "Missing from", "LAST_SEEN": "Last seen", "WENT_TO": "Went to", "FOUND_AT": "Found at"}
PERIODS = {"30": "Last 30 days", "90": "Last 90 days", "365": "Last 365 days"}
RANKINGS = {"CHILDREN": "children", "EPISODES": "episodes"}
PAGE_SIZE = 50


@router.get("/geo/outlines/{name}.geojson")
async def outlines(name: str) -> Response:
    path = outline_path(name)
    if path is None:
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type="application/geo+json", headers={
        "Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{outline_version(name)}"'})


def outline_urls() -> str:
    return " ".join(f"/geo/outlines/{n}.geojson?v={outline_version(n)}" for n in ("local_authorities", "police_forces"))


def default_area(session: ConsoleSession) -> str:
    p = session.principal
    if p.agency_kind in (AgencyKind.POLICE_FORCE, AgencyKind.LOCAL_AUTHORITY):
        return p.agency_id
    return "national"


@router.get("/hotspots")
async def hotspots(request: Request, session: Annotated[ConsoleSession, Depends(with_purpose)],
                   area: str = "", kind: str = "MISSING_FROM", period: str = "90",
                   rank: str = "CHILDREN") -> Response:
    form = {"area": area.strip() or default_area(session), "kind": kind, "period": period, "rank": rank}
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = "Select a kind of place from the list"
    if period not in PERIODS:
        errors["period"] = "Select a period from the list"
    if rank not in RANKINGS:
        errors["rank"] = "Select what to rank by from the list"
    if len(form["area"]) > 20:
        errors["area"] = "An area is 'national', a police force code or a local authority code"
    connection: dict = {}
    if not errors:
        to = date.today() + timedelta(days=1)  # the API's window is [from, to): today included
        start = to - timedelta(days=int(period))
        try:
            data = await request.app.state.console_gateway.run(
                request, session, "ConsoleHotspots",
                {"area": form["area"], "kind": kind, "from": start.isoformat(), "to": to.isoformat(),
                 "rankBy": rank, "first": PAGE_SIZE})
            connection = data["hotspots"]
        except ConsoleError as exc:
            if exc.code != "BAD_USER_INPUT":
                raise
            errors[exc.field if exc.field in ("area", "kind") else "area"] = exc.message
    measure = RANKINGS.get(rank, "children")
    map_data = hotspot_map_data(connection, measure=measure) if connection else None
    return render(request, "pages/hotspots.html", 400 if errors else 200, title="Hot spots", form=form,
                  errors=errors, connection=connection, map_data=map_data,
                  kinds=KINDS, periods=PERIODS, rankings=RANKINGS, outline_urls=outline_urls())
