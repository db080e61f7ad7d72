"""Alerts: the signed-in agency's alerts as they happen. The first page is rendered here from the
outbox (the API's recentAlerts, newest first); the page then subscribes to `alerts(after: <the
newest id>)` over graphql-transport-ws with the vendored graphql-ws client and adds each new alert
at the top, so nothing between the render and the subscription is missed or shown twice.

The socket authenticates with the session's access token and purpose (as GraphiQL sends them);
when the token expires the server closes it (4401) and the page reloads, which renews the session's
token or asks to sign in again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpdb.console.sessions import ConsoleSession
from mpdb.console.web import render, with_purpose

router = APIRouter(include_in_schema=False)

FIRST_PAGE = 50
# The API's alert kinds, as a missing-children lead would say them (the JS has the same table).
KINDS: dict[str, str] = {
    "CHILD_REPORTED_MISSING": "Reported missing",
    "CHILD_FOUND": "Found",
    "LINKED_CHILD_REPORTED_MISSING": "Linked child reported missing",
    "TRIGGER_FIRED": "Repeat-missing trigger met",
    "DUTY_OVERDUE": "Duty overdue",
    "ADULT_OF_CONCERN_IN_EPISODE": "Adult of concern in a new episode",
    "RISK_RAISED": "Risk raised",
}


@router.get("/alerts")
async def alerts_page(request: Request, session: Annotated[ConsoleSession, Depends(with_purpose)]) -> Response:
    data = await request.app.state.console_gateway.run(request, session, "ConsoleRecentAlerts",
                                                       {"first": FIRST_PAGE})
    rows: list[dict[str, Any]] = data["recentAlerts"]
    config = {"url": "/graphql", "after": rows[0]["id"] if rows else None, "kinds": KINDS,
              "connectionParams": {"Authorization": f"Bearer {session.access_token}", "purpose": session.purpose}}
    return render(request, "pages/alerts.html", title="Alerts", alerts=rows, kinds=KINDS, config=config)
