"""Prometheus metrics, served at GET /metrics (docs/OPERATIONS.md lists them).

Labels are bounded and carry no personal data: operations are schema root fields or route
templates (anything else is "other"), queries are the names of the Cypher constants in
mpdb/graph/queries/, import kinds come from a fixed list. Never ids, names or agency codes.

With `mpdb serve --workers N` each worker is its own process: `serve` points
PROMETHEUS_MULTIPROC_DIR at an emptied directory before the workers start, each worker writes its
samples there (prometheus-client's multiprocess mode) and a scrape of any worker sums them all.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter("mpdb_requests", "HTTP requests by operation and outcome "
                   "(ok, client_error, server_error, unavailable).", ["operation", "outcome"])
REQUEST_SECONDS = Histogram("mpdb_request_duration_seconds", "HTTP request latency by operation.",
                            ["operation"], buckets=_FAST)
NEO4J_QUERY_SECONDS = Histogram("mpdb_neo4j_query_duration_seconds",
                                "Time of one Cypher statement (run and fetch) by query constant name.",
                                ["query"], buckets=_FAST)
NEO4J_QUERY_FAILURES = Counter("mpdb_neo4j_query_failures", "Cypher statements that raised, by query name.",
                               ["query"])
AUDIT_APPEND_SECONDS = Histogram("mpdb_audit_append_duration_seconds",
                                 "Time to append one audit event (hash chain included).", buckets=_FAST)
IMPORT_ROWS = Counter("mpdb_import_rows", "Rows of bulk imports (CLI and HTTP) by kind and result.",
                      ["kind", "result"])
RATE_LIMIT_REFUSALS = Counter("mpdb_rate_limit_refusals", "Requests refused by the per-agency rate limit "
                              "(HTTP 429), by agency kind.", ["agency_kind"])


def count_import_rows(kind: str, loaded: int, rejected: int) -> None:
    """After an import (a kind from mpdb.ingest.csv_formats.ImportKind, or ssda903)."""
    IMPORT_ROWS.labels(kind, "loaded").inc(loaded)
    IMPORT_ROWS.labels(kind, "rejected").inc(rejected)


def prepare_multiprocess_dir(default: Path) -> Path:
    """For `mpdb serve --workers N`, before any worker starts: PROMETHEUS_MULTIPROC_DIR (or
    `default`) emptied of a previous run's samples, and exported to the workers."""
    path = Path(os.environ.get(MULTIPROC_ENV) or default)
    if path.exists():
        for stale in path.glob("*.db"):  # only prometheus-client's files: the operator may share the dir
            stale.unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def render() -> bytes:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_router(token: str | None) -> APIRouter:
    """GET /metrics; with a token (MPDB_METRICS_TOKEN), only for `Authorization: Bearer <token>`."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if token is not None:
            supplied = request.headers.get("authorization", "")
            if not hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
                raise HTTPException(401, "metrics need the scrape token", headers={"WWW-Authenticate": "Bearer"})
        return Response(render(), media_type=CONTENT_TYPE_LATEST)

    return router

