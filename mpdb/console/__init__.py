"""The web console at `/`: server-rendered pages for LA missing leads, investigators, analysts and
auditors, over the API's own operations (see gateway.py). `mount_console(app, settings, schema)`
adds its routes, static files and error pages to the API's FastAPI app."""

from __future__ import annotations

import logging

import strawberry
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from mpdb.console.gateway import (
    ConsoleError,
    DatabaseUnavailable,
    Gateway,
    PurposeNeeded,
    RateLimited,
    RecordNotFound,
    load_operations,
)
from mpdb.console.oidc import OidcClient
from mpdb.console.sessions import SessionStore
from mpdb.console.web import GOVUK_ASSETS_DIR, GOVUK_ASSETS_URL, STATIC_DIR, STATIC_URL, CsrfFailure, NeedsPurpose, NeedsSignIn, redirect, render, sign_in_url
from mpdb.settings import Settings
from mpdb.shared_state import shared_file

log = logging.getLogger("mpdb.console")


def mount_console(app: FastAPI, settings: Settings, schema: strawberry.Schema) -> None:
    from mpdb.console.routes import ROUTERS

    app.state.console_sessions = SessionStore(idle_seconds=settings.console_session_idle_minutes * 60,
                                              path=shared_file(settings.shared_dir, "console-sessions"))
    app.state.console_gateway = Gateway(schema, load_operations(schema))
    app.state.console_oidc = OidcClient(settings)
    for router in ROUTERS:
        app.include_router(router)
    if settings.graphiql_enabled:
        from mpdb.console.routes.graphiql import router as graphiql_router

        app.include_router(graphiql_router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.mount(GOVUK_ASSETS_URL, StaticFiles(directory=GOVUK_ASSETS_DIR, check_dir=False), name="govuk-assets")

    @app.exception_handler(NeedsSignIn)
    async def _sign_in(request: Request, exc: NeedsSignIn) -> Response:
        return redirect(sign_in_url(exc.next_url))

    @app.exception_handler(NeedsPurpose)
    async def _purpose(request: Request, exc: NeedsPurpose) -> Response:
        from urllib.parse import quote

        return redirect(f"/purpose?next={quote(exc.next_url, safe='')}")

    @app.exception_handler(CsrfFailure)
    async def _csrf(request: Request, exc: CsrfFailure) -> Response:
        return render(request, "pages/error.html", 403, title="This form has expired",
                      message="The form was not sent from this session (it may be old, or from another "
                              "site). Go back, reload the page and try again.")

    @app.exception_handler(ConsoleError)
    async def _console_error(request: Request, exc: ConsoleError) -> Response:
        if isinstance(exc, PurposeNeeded):
            query = request.url.query
            return await _purpose(request, NeedsPurpose(request.url.path + (f"?{query}" if query else "")))
        if isinstance(exc, RecordNotFound):
            return render(request, "pages/not_found.html", 404)
        title = "The database is unavailable" if isinstance(exc, DatabaseUnavailable) else \
            _TITLES.get(exc.status, "There is a problem")
        response = render(request, "pages/error.html", exc.status, title=title, message=exc.message)
        if isinstance(exc, (RateLimited, DatabaseUnavailable)):
            response.headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
        return response


_TITLES = {
    403: "You do not have access to this",
    429: "Too many requests",
    503: "Sorry, there is a problem with the service",
}


async def close_console(app: FastAPI) -> None:
    oidc = getattr(app.state, "console_oidc", None)
    if oidc is not None:
        await oidc.aclose()
