"""Whether the API can reach Neo4j, and what a caller gets when it cannot.

* `readiness(driver, database, budget_s)`: the /readyz answer (503 until Neo4j answers and the
  schema is current).
* `watch_database(...)`: the lifespan's background probe. The API starts serving at once (/healthz,
  /readyz) whether or not Neo4j is up, and the log says which: "mpdb API degraded: Neo4j
  unreachable" until it can connect, "mpdb API ready" once it can, and each change after that.
* `unavailable_response(...)`: the exception handler for `ServiceUnavailable` raised outside a
  GraphQL result (the agency registry read while authenticating, POST /import): 503 with
  `Retry-After`; on /graphql in the GraphQL error shape with SERVICE_UNAVAILABLE. Inside GraphQL the
  same error is a coded GraphQL error and mpdb/api/graphql_router.py sets the 503.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import Request
from fastapi.responses import JSONResponse
from neo4j import AsyncDriver

from mpdb.api.graphql_router import SERVICE_UNAVAILABLE, error_response
from mpdb.domain.errors import ServiceUnavailable
from mpdb.graph.migrations import schema_is_current

log = logging.getLogger("mpdb.api")

# How often the probe looks: soon after a failure (to log "ready" promptly when Neo4j is back),
# rarely while all is well (requests notice an outage by themselves).
PROBE_WHILE_DOWN_S = 1.0
PROBE_WHILE_UP_S = 15.0


async def readiness(driver: AsyncDriver, database: str, budget_s: float,
                    *, log_failure: bool = True) -> tuple[int, dict[str, str]]:
    """(HTTP status, body) of /readyz."""
    try:
        async with asyncio.timeout(budget_s):
            await driver.verify_connectivity()
            current = await schema_is_current(driver, database)
    except Exception as exc:  # noqa: BLE001 - any failure to reach Neo4j means not ready
        if log_failure:
            log.warning("readiness check failed: %s", type(exc).__name__)
        return 503, {"status": "unavailable", "neo4j": "unreachable"}
    if not current:
        return 503, {"status": "unavailable", "neo4j": "ok", "schema": "pending migrations"}
    return 200, {"status": "ready", "neo4j": "ok", "schema": "current"}


async def watch_database(driver: AsyncDriver, database: str, budget_s: float, describe: str) -> None:
    """Log the API's state at start and on every change, until cancelled (at shutdown)."""
    state: str | None = None
    while True:
        status, body = await readiness(driver, database, budget_s, log_failure=False)
        now = "ready" if status == 200 else ("unreachable" if body.get("neo4j") != "ok" else "schema")
        if now != state:
            if now == "ready":
                log.info("mpdb API ready (%s)", describe)
            elif now == "unreachable":
                log.warning("mpdb API degraded: Neo4j unreachable (%s); answering 503 until it connects", describe)
            else:
                log.warning("mpdb API degraded: the graph schema has pending migrations (run `mpdb schema "
                            "apply`); answering 503 on /readyz until it is current (%s)", describe)
            state = now
        await asyncio.sleep(PROBE_WHILE_UP_S if now == "ready" else PROBE_WHILE_DOWN_S)


async def unavailable_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceUnavailable)
    headers = {"Retry-After": str(exc.retry_after_s)}
    if request.url.path.startswith("/graphql"):
        return error_response(503, SERVICE_UNAVAILABLE, exc.message, headers=headers)
    return JSONResponse({"code": SERVICE_UNAVAILABLE, "message": exc.message}, status_code=503, headers=headers)
