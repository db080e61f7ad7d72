"""One access-log line and the request metrics per HTTP request.

The line (logger `mpdb.access`, event "request") carries: request_id, method, operation, status,
outcome, codes, duration_ms, and for an authenticated caller agency and role. Never the path's
query string (console pages take names in it), headers, cookies, tokens, the body or variables.

- operation: the GraphQL label (mpdb/observability/graphql.py) for /graphql, else the matched
  route's method and template (`POST /import/{kind}`), else "other": a bounded set, used as the
  metric label too;
- outcome: unavailable (503 or SERVICE_UNAVAILABLE), server_error (other 5xx or INTERNAL),
  client_error (other 4xx or any other GraphQL error code), ok;
- codes: the GraphQL errors' `extensions.code`s, else one derived from the HTTP status.
Probes and scrapes (/healthz, /readyz, /metrics) are logged at debug level: they are polled.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from asgi_correlation_id import correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mpdb.observability.graphql import CODES_ATTR, OPERATION_ATTR
from mpdb.observability.metrics import REQUEST_SECONDS, REQUESTS

log = structlog.get_logger("mpdb.access")

OTHER = "other"
_QUIET = frozenset({"/healthz", "/readyz", "/metrics"})
_CODES_BY_STATUS = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                    405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
                    422: "BAD_USER_INPUT", 428: "PURPOSE_REQUIRED", 429: "RATE_LIMITED",
                    500: "INTERNAL", 503: "SERVICE_UNAVAILABLE"}


def outcome_of(status: int, codes: list[str]) -> str:
    if status == 503 or "SERVICE_UNAVAILABLE" in codes:
        return "unavailable"
    if status >= 500 or "INTERNAL" in codes:
        return "server_error"
    if status >= 400 or codes:
        return "client_error"
    return "ok"


def _operation(scope: Scope, state: dict[str, Any]) -> str:
    label = state.get(OPERATION_ATTR)
    if label:
        return str(label)
    # FastAPI keeps the full template of a route of an included router (prefix and all) on its
    # "effective route context"; the route itself may only know its own part ("" for /graphql).
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    route = scope.get("route")
    path = getattr(context, "path_format", None) or getattr(route, "path_format", None) or getattr(route, "path", None)
    if not path:
        return OTHER
    return f"{scope.get('method', '')} {path}"


def _principal(state: dict[str, Any]) -> Any:
    principal = state.get("principal")
    if principal is None:
        principal = getattr(state.get("console_session"), "principal", None)
    return principal


class AccessLogMiddleware:
    """Inside CorrelationIdMiddleware (the request id is set) and outside everything else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = correlation_id.get()  # request.state.request_id, as the code reads it
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except BaseException:
            status = 500
            raise
        finally:
            self._record(scope, state, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
        operation = _operation(scope, state)
        codes = list(state.get(CODES_ATTR) or ())
        if not codes and status >= 400:
            codes = [_CODES_BY_STATUS.get(status, "INTERNAL" if status >= 500 else "BAD_REQUEST")]
        outcome = outcome_of(status, codes)
        REQUESTS.labels(operation, outcome).inc()
        REQUEST_SECONDS.labels(operation).observe(seconds)
        fields: dict[str, Any] = {"method": scope.get("method"), "operation": operation, "status": status,
                                  "outcome": outcome, "codes": codes, "duration_ms": round(seconds * 1000, 2)}
        principal = _principal(state)
        if principal is not None:
            fields["agency"] = principal.agency_id
            fields["role"] = getattr(principal.role, "value", principal.role)
        quiet = scope.get("path") in _QUIET and outcome == "ok"
        (log.debug if quiet else log.info)("request", **fields)
