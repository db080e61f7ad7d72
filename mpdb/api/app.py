"""The FastAPI application: /graphql, /healthz, /readyz, and the dev identity provider in dev."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mpdb.alerts.delivery import AlertDelivery
from mpdb.api.availability import readiness, unavailable_response, watch_database
from mpdb.api.context import get_context
from mpdb.api.graphql_router import MpdbGraphQLRouter
from mpdb.api.pagination import configure_cursor_key
from mpdb.api.schema import build_schema
from mpdb.console import close_console, mount_console
from mpdb.auth.dependencies import close_verifier, create_verifier, graph_agency_registry
from mpdb.domain.errors import ServiceUnavailable
from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.observability.metrics import metrics_router
from mpdb.observability.requests import AccessLogMiddleware
from mpdb.observability.tracing import configure_tracing
from mpdb.services.entry_match import warm_entry_scorer
from mpdb.settings import Settings, get_settings

log = logging.getLogger("mpdb.api")


def _acceptable_request_id(value: str) -> bool:
    return 8 <= len(value) <= 64 and value.replace("-", "").isalnum()


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
        # The record-linkage model (Splink + DuckDB) loads once per process, off the event loop.
        warm = asyncio.create_task(warm_entry_scorer())
        # Push alerts: this process's outbox tailer (subscriptions) and, while it holds the
        # cluster's lease, the webhook dispatcher (mpdb/alerts/delivery.py).
        app.state.alerts = await AlertDelivery.start(app.state.graph, settings)
        try:
            yield
        finally:
            await app.state.alerts.stop()
            if not warm.done():
                warm.cancel()
            if tracer_provider is not None:
                tracer_provider.shutdown()  # flushes the spans still queued
            await close_verifier(app)
            await close_console(app)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await driver.close()

    app = FastAPI(title="mpdb", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json" if settings.env == "dev" else None)
    app.state.settings = settings

    # The request id (X-Request-ID, kept when it looks like one, else a new UUID) is in every log
    # line of the request and at request.state.request_id; one access line per request.
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID", generator=lambda: str(uuid.uuid4()),
                       validator=_acceptable_request_id)
    if settings.metrics_enabled:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        app.include_router(metrics_router(token))
    tracer_provider = configure_tracing(app, settings.tracing, settings.otlp_endpoint)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        status, body = await readiness(request.app.state.driver, settings.neo4j_database,
                                       settings.neo4j_retry_budget_s)
        return JSONResponse(body, status_code=status)

    app.add_exception_handler(ServiceUnavailable, unavailable_response)  # 503 + Retry-After (availability.py)

    configure_cursor_key(settings)
    schema = build_schema(settings)
    if settings.console:
        mount_console(app, settings, schema)  # the web console at / (mpdb/console), GraphiQL at GET /graphql
    graphql = MpdbGraphQLRouter(
        schema,
        max_body_bytes=settings.max_body_bytes,
        context_getter=get_context,
        graphql_ide=None,  # the console serves GraphiQL from vendored files (mpdb/console/routes/graphiql.py)
        allowed_origins=settings.ws_allowed_origins,  # cross-origin pages may not open the alerts WebSocket
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
