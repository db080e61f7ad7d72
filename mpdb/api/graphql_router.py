"""The /graphql endpoint: strawberry's FastAPI router with the request-body checks and the HTTP
status of each response.

Every refusal here has a GraphQL-style JSON body, `{"errors": [{"message", "extensions": {"code"}}]}`,
so a client reads one shape whatever went wrong:

| what                                                     | status | code                      |
|----------------------------------------------------------|--------|---------------------------|
| body larger than MPDB_MAX_BODY_BYTES (counted as read)   | 413    | PAYLOAD_TOO_LARGE         |
| Content-Type not application/json                        | 415    | UNSUPPORTED_MEDIA_TYPE    |
| body not UTF-8, not JSON, nested too deeply, not an object, no `query`, `query`/`variables`/`operationName` of the wrong type | 400 | BAD_REQUEST |
| document does not parse (incl. the token limit)          | 400    | GRAPHQL_PARSE_FAILED      |
| document invalid (incl. depth/alias limits, several operations without operationName) | 400 | GRAPHQL_VALIDATION_FAILED |
| variables of the wrong type                              | 400    | BAD_USER_INPUT            |

Errors raised while resolving fields keep HTTP 200 (the GraphQL convention: partial data is
possible), except one: when any field could not reach the database within the retry budget
(MPDB_NEO4J_RETRY_BUDGET_S), the response is 503 with `Retry-After` and that error carries
SERVICE_UNAVAILABLE (whatever data was read is still in the body). The codes follow Apollo Server's.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from cross_web import HTTPException
from graphql import GraphQLError, GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET

from mpdb.api.subscriptions import TextWebSocket, TransportWSHandler, authenticate_connection
from mpdb.domain import values
from mpdb.observability.graphql import record_error_codes

# JSON nesting a GraphQL request can legitimately need: the deepest input object of the schema
# (reportMissingTogether > children > companions > newPersons > ...) is well under this.
MAX_JSON_DEPTH = 32

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"

# The HTTP status for a response whose errors carry these codes and that has no data: the request
# was refused before anything ran.
_PRE_EXECUTION_STATUS = {PARSE_FAILED: 400, VALIDATION_FAILED: 400, BAD_USER_INPUT: 400}


class RequestRefused(Exception):
    """A request refused before GraphQL saw it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status, headers=headers)


class MpdbGraphQLRouter(GraphQLRouter):
    # Subscriptions (mpdb/api/subscriptions.py): graphql-transport-ws only, authenticated in
    # connection_init; the handler stops the token-expiry timer when the socket goes.
    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = TextWebSocket  # type: ignore[assignment]

    def __init__(self, *args: Any, max_body_bytes: int, **kwargs: Any) -> None:
        kwargs.setdefault("subscription_protocols", [GRAPHQL_TRANSPORT_WS_PROTOCOL])
        super().__init__(*args, **kwargs)
        self.max_body_bytes = max_body_bytes

    async def on_ws_connect(self, context: Any) -> Any:
        await authenticate_connection(context)
        return UNSET

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:  # type: ignore[override]
        if isinstance(request, Request) and request.method == "POST":
            try:
                self._check_content_type(request)
                await self._read_body(request)
            except RequestRefused as exc:
                record_error_codes(request, [exc.code])
                return error_response(exc.status, exc.code, exc.message)
        try:
            return await super().run(request, context=context, root_value=root_value)
        except RequestRefused as exc:
            record_error_codes(request, [exc.code])
            return error_response(exc.status, exc.code, exc.message)
        except HTTPException as exc:  # strawberry's own refusals (wrong method, unknown operationName...)
            code = "METHOD_NOT_ALLOWED" if exc.status_code == 405 else BAD_REQUEST
            record_error_codes(request, [code])
            return error_response(exc.status_code, code, exc.reason)

    # --- the body ---------------------------------------------------------------------------

    @staticmethod
    def _check_content_type(request: Request) -> None:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise RequestRefused(415, UNSUPPORTED_MEDIA_TYPE, "the body must be application/json")

    async def _read_body(self, request: Request) -> None:
        """Read the body with the cap applied as it arrives: Content-Length may be absent (chunked)
        or wrong, so it only lets an oversized body be refused before reading any of it."""
        limit = self.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestRefused(413, PAYLOAD_TOO_LARGE, f"the body is larger than {limit} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise RequestRefused(413, PAYLOAD_TOO_LARGE, f"the body is larger than {limit} bytes")
        request._body = bytes(body)  # what Request.body() returns from now on (starlette's cache)

    def decode_json(self, data: str | bytes) -> object:
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise RequestRefused(400, BAD_REQUEST, "the body is not UTF-8 text") from None
        try:
            parsed = json.loads(data, parse_constant=_not_json)
        except RecursionError:
            raise RequestRefused(400, BAD_REQUEST, f"the JSON body is nested more than {MAX_JSON_DEPTH} levels") from None
        except ValueError:
            raise RequestRefused(400, BAD_REQUEST, "the body is not valid JSON") from None
        if _depth_exceeds(parsed, MAX_JSON_DEPTH):
            raise RequestRefused(400, BAD_REQUEST, f"the JSON body is nested more than {MAX_JSON_DEPTH} levels")
        if not isinstance(parsed, dict):
            raise RequestRefused(400, BAD_REQUEST,
                                 "the body must be a JSON object with `query` (batched requests are not supported)")
        return parsed

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData):
            if not isinstance(data.query, str) or not data.query.strip():
                raise RequestRefused(400, BAD_REQUEST, "the body has no `query`")
            if data.operation_name is not None:
                if not isinstance(data.operation_name, str):
                    raise RequestRefused(400, BAD_REQUEST, "`operationName` must be a string")
                try:
                    values.check_text(data.operation_name, "operationName", values.NAME)
                except values.BadValue as exc:
                    raise RequestRefused(400, BAD_REQUEST, exc.message) from None
        return data

    # --- the response -----------------------------------------------------------------------

    def encode_json(self, data: object) -> str | bytes:
        # orjson: a national riskProfile is ~40 kB of JSON, which the json module took ~1 ms of CPU
        # to encode. The same JSON value (UTF-8 instead of \u escapes). What orjson refuses (an
        # integer beyond 64 bits, a lone surrogate) goes to the json module as before.
        try:
            return orjson.dumps(data)
        except (TypeError, orjson.JSONEncodeError):
            return super().encode_json(data)


    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Parse errors can escape the schema extensions (the parser cache raises them before the
        # operation hooks see a result), so they get their code here.
        for error in result.errors or ():
            if isinstance(error, GraphQLSyntaxError):
                _set_code(error, PARSE_FAILED)
            elif isinstance(result, PreExecutionError) and error.original_error is None:
                _set_code(error, VALIDATION_FAILED)
        if result.errors:  # for the access line and metrics (mpdb/observability/requests.py)
            record_error_codes(request, [(e.extensions or {}).get("code") for e in result.errors])
        return process_result(result)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.status_code is None and isinstance(response_data, dict):
            status = refused_status(response_data)
            if status is not None:
                response.status_code = status
            retry_after = unavailable_retry_after(response_data)
            if retry_after is not None:
                response.status_code = 503
                response.headers["Retry-After"] = str(retry_after)
        return response


def refused_status(response_data: dict[str, Any]) -> int | None:
    """The HTTP status of a GraphQL response that ran nothing (no `data`): 400 when its errors are
    client errors of the document or the variables; None keeps 200."""
    errors = response_data.get("errors") or ()
    # Errors with a path were raised by a resolver: execution ran, the GraphQL convention is 200.
    if response_data.get("data") is not None or not errors or any("path" in e for e in errors):
        return None
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    statuses = {_PRE_EXECUTION_STATUS.get(c) for c in codes}
    if len(statuses) == 1 and None not in statuses:
        return statuses.pop()
    return None


def unavailable_retry_after(response_data: dict[str, Any]) -> int | None:
    """Seconds for `Retry-After` when an error says the database was unavailable, else None."""
    waits = [int((e.get("extensions") or {}).get("retryAfter") or 1)
             for e in response_data.get("errors") or ()
             if (e.get("extensions") or {}).get("code") == SERVICE_UNAVAILABLE]
    return max(waits) if waits else None


def _not_json(constant: str) -> None:
    # Python's json module accepts NaN and Infinity; JSON (RFC 8259) does not, nor does GraphQL.
    raise ValueError(f"{constant} is not JSON")


def _set_code(error: GraphQLError, code: str) -> None:
    if error.extensions is None:
        error.extensions = {}
    error.extensions.setdefault("code", code)


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children)
    return False
