"""Possible duplicates: the review queue (pairs of records that may be one child) with each pair's
match-weight waterfall, and confirm/reject buttons for reviewers (identity:review) who may read
both records. Everything goes through the API's own operations, so the disclosure rules, the
decision rules and the audit are the API's (docs/ACCESS.md, "Possible duplicates")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpdb.auth.principal import Scope
from mpdb.console.gateway import ConsoleError
from mpdb.console.sessions import ConsoleSession
from mpdb.console.web import checked_form, redirect, render, with_purpose

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
DECISIONS = {"confirm": "ConsoleConfirmIdentityCandidate", "reject": "ConsoleRejectIdentityCandidate"}
DONE = {"confirmed": "Confirmed: the two records are now one child.",
        "rejected": "Rejected: the pair will not be proposed again."}


@dataclass(frozen=True)
class Bar:
    """One comparison of the waterfall: the bar starts where the running total was and runs by its
    weight (right for evidence for the match, left against), on a scale of the pair's extremes."""
    comparison: str
    level: str
    weight: float
    left_pct: float
    width_pct: float

    @property
    def positive(self) -> bool:
        return self.weight >= 0


def waterfall(reasons: list[dict[str, Any]]) -> list[Bar]:
    running, points = 0.0, [0.0]
    for r in reasons:
        running += r["matchWeight"]
        points.append(running)
    lo, hi = min(points), max(points)
    span = (hi - lo) or 1.0
    bars, running = [], 0.0
    for r in reasons:
        start, end = running, running + r["matchWeight"]
        running = end
        bars.append(Bar(r["comparison"].replace("_", " "), r["level"], r["matchWeight"],
                        round((min(start, end) - lo) / span * 100, 1), round(max(abs(end - start) / span * 100, 0.5), 1)))
    return bars


@router.get("/duplicates")
async def duplicates(request: Request, session: Annotated[ConsoleSession, Depends(with_purpose)],
                     after: str | None = None, done: str | None = None) -> Response:
    data = await request.app.state.console_gateway.run(request, session, "ConsoleIdentityCandidates",
                                                       {"first": PAGE_SIZE, "after": after})
    page = data["identityCandidates"]
    can_review = session.principal.has(Scope.IDENTITY_REVIEW)
    pairs = [{**n, "bars": waterfall(n["reasons"] or []),
              "decidable": can_review and n["low"]["child"] is not None and n["high"]["child"] is not None,
              "key": str(uuid.uuid4())} for n in page["nodes"]]
    return render(request, "pages/duplicates.html", pairs=pairs, page_info=page["pageInfo"],
                  done=DONE.get(done or ""), can_review=can_review)


@router.post("/duplicates/{candidate_id}/{decision}")
async def decide(request: Request, candidate_id: str, decision: str,
                 form: Annotated[dict[str, str], Depends(checked_form)],
                 session: Annotated[ConsoleSession, Depends(with_purpose)]) -> Response:
    if decision not in DECISIONS:
        return render(request, "pages/not_found.html", 404)
    note = form.get("note", "").strip() or None
    # The key comes from the page the button was on, so a double click or a resubmitted form is one
    # decision (the API answers the retry with the first result).
    key = form.get("key") or str(uuid.uuid4())
    try:
        data = await request.app.state.console_gateway.run(
            request, session, DECISIONS[decision],
            {"input": {"candidateId": candidate_id, "note": note}, "key": f"console-{key}"})
    except ConsoleError as exc:
        if exc.code not in ("CONFLICT", "BAD_USER_INPUT"):
            raise
        return render(request, "pages/error.html", 409 if exc.code == "CONFLICT" else 400,
                      title="This pair could not be decided", message=exc.message[:1].upper() + exc.message[1:])
    status = next(iter(data.values()))["status"].lower()
    return redirect(f"/duplicates?done={status}")
