"""GraphiQL at GET /graphql, from vendored files (no CDN), in dev and test only (MPDB_GRAPHIQL).

The page itself loads without a token; queries are sent with the signed-in console user's access
token and purpose, so a developer or analyst explores the API as exactly that user. Without a
console session the page still loads and says how to get a token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mpdb.console.web import current_session, render

router = APIRouter(include_in_schema=False)


@router.get("/graphql")
async def graphiql(request: Request) -> Response:
    session = current_session(request)
    if session is not None:
        request.state.console_session = session
    config = {"url": "/graphql", "headers": {}}
    if session is not None:
        config["headers"]["Authorization"] = f"Bearer {session.access_token}"
        if session.purpose:
            config["headers"]["X-MPDB-Purpose"] = session.purpose
    return render(request, "pages/graphiql.html", title="GraphiQL", config=config)
