"""The FastAPI application: /graphql, /healthz, /readyz, and the dev identity provider in dev."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from mpdb.api.availability import readiness, unavailable_response, watch_database
from mpdb.api.context import get_context
from mpdb.api.graphql_router import MpdbGraphQLRouter
from mpdb.api.schema import build_schema
from mpdb.console import close_console, mount_console
from mpdb.auth.dependencies import close_verifier, create_verifier, graph_agency_registry
from mpdb.domain.errors import ServiceUnavailable
from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.settings import Settings, get_settings

log = logging.getLogger("mpdb.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = create_driver(settings)
        app.state.driver = driver
        app.state.graph = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s,
                                settings.neo4j_retry_budget_s)
        app.state.verifier = create_verifier(settings, graph_agency_registry(settings, app.state.graph))
        # Serving starts now, Neo4j or not: the watcher logs "degraded" or "ready" (availability.py).
        watcher = asyncio.create_task(watch_database(
            driver, settings.neo4j_database, settings.neo4j_retry_budget_s,
            f"env={settings.env}, neo4j database={settings.neo4j_database}"))
        try:
            yield
        finally:
            await close_verifier(app)
            await close_console(app)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await driver.close()

    app = FastAPI(title="mpdb", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json" if settings.env == "dev" else None)
    app.state.settings = settings

    @app.middleware("http")
    async def request_id(request: Request, call_next):  # type: ignore[no-untyped-def]
        supplied = request.headers.get("X-Request-ID", "")
        rid = supplied if 8 <= len(supplied) <= 64 and supplied.replace("-", "").isalnum() else str(uuid.uuid4())
        request.state.request_id = rid
        response: Response = await call_next(request)
        response.headers["X-Request-ID"] = rid
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        status, body = await readiness(request.app.state.driver, settings.neo4j_database,
                                       settings.neo4j_retry_budget_s)
        return JSONResponse(body, status_code=status)

    app.add_exception_handler(ServiceUnavailable, unavailable_response)  # 503 + Retry-After (availability.py)

    schema = build_schema(settings)
    if settings.console:
        mount_console(app, settings, schema)  # the web console at / (mpdb/console), GraphiQL at GET /graphql
    graphql = MpdbGraphQLRouter(
        schema,
        max_body_bytes=settings.max_body_bytes,
        context_getter=get_context,
        graphql_ide=None,  # the console serves GraphiQL from vendored files (mpdb/console/routes/graphiql.py)
        allow_queries_via_get=False,
        multipart_uploads_enabled=False,
    )
    app.include_router(graphql, prefix="/graphql")

    from mpdb.api.import_routes import router as import_router

    app.include_router(import_router)  # POST /import/{kind}: multipart bulk import (docs/IMPORT.md)

    if settings.dev_idp_enabled:
        from mpdb.auth.dev_idp import create_dev_idp_router

        app.include_router(create_dev_idp_router(settings))  # routes carry /dev-idp
    return app


def create_worker_app() -> FastAPI:
    """The app in one of `mpdb serve --workers N`'s processes (started by uvicorn, settings from
    the environment the command prepared): the same app, with the command's logging."""
    import logging as _logging

    from mpdb.logging import configure_logging

    configure_logging(_logging.DEBUG if os.environ.get("MPDB_VERBOSE") == "1" else _logging.INFO)
    return create_app()
