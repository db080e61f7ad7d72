"""GraphQL subscriptions over WebSocket: `alerts(after:)`, on `graphql-transport-ws` only.

The legacy `graphql-ws` subprotocol is not served (its handler let clients skip on_ws_connect in
Strawberry <= 0.312.3, CVE-2026-35523; a client offering only it is closed with 4406). A browser
page on another origin is refused at the handshake (403) unless MPDB_WS_ALLOWED_ORIGINS lists it:
browsers apply no CORS to WebSockets (Strawberry's origin check, configured in app.py).

Authentication is in `connection_init`: its payload carries the same bearer token as HTTP
(`{"Authorization": "Bearer …"}` or `{"token": "…"}`) and the purpose (`{"purpose": "…"}` or
`{"X-MPDB-Purpose": "…"}`). The token is verified by the app's verifier (JWKS, policy, agency
registry) and the connection's agency is rate limited like a request; any failure closes the socket
with 4403. When the token expires the server closes the socket with 4401 ("token expired"): the
client reconnects with a fresh token and `after:` its last alert id, and misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from mpdb.alerts.subscriptions import alert_stream
from mpdb.api.context import PURPOSE_HEADER, Context, service_context
from mpdb.api.rate_limit import retry_after
from mpdb.api.types.alerts import Alert
from mpdb.auth.dependencies import get_verifier
from mpdb.auth.tokens import TokenError
from mpdb.domain.errors import ServiceUnavailable

log = logging.getLogger("mpdb.api")

TOKEN_EXPIRED = 4401


@strawberry.type
class Subscription:
    @strawberry.subscription(description=(
        "Your agency's alerts as they are raised, each once, in order. With `after` (the id of the last alert you "
        "received) it first replays every later alert, then continues live: reconnect with it after any "
        "disconnection and nothing is missed or repeated. Needs alerts:read and a purpose (connection_init "
        "payload). Access is re-checked when each alert is sent: an alert about a child your agency may no longer "
        "read is withheld. Each alert sent is audited as a disclosure."))
    async def alerts(self, info: strawberry.Info, after: strawberry.ID | None = None) -> AsyncGenerator[Alert, None]:
        tailer = info.context.request.app.state.alerts.tailer
        async for row in alert_stream(info.context.service, tailer, str(after) if after is not None else None):
            yield Alert.from_row(row)


def _param(params: dict[str, Any], *names: str) -> str | None:
    lowered = {str(k).lower(): v for k, v in params.items()}
    for name in names:
        value = lowered.get(name.lower())
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


async def authenticate_connection(context: Context) -> None:
    """on_ws_connect: verify the connection_init token and fill in the context's service."""
    websocket: WebSocket = context.request  # type: ignore[assignment]
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    token = _param(params, "token")
    if token is None:
        header = _param(params, "authorization") or ""
        scheme, _, value = header.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" and value.strip() else None
    if token is None:
        raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "connection_init needs a bearer token"})
    try:
        principal, expires_at = await get_verifier(websocket).verify_with_expiry(token)  # type: ignore[arg-type]
    except TokenError as exc:
        log.info("websocket token rejected: %s", exc.reason)
        raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": exc.description}) from None
    except ServiceUnavailable:
        raise ConnectionRejectionError({"code": "SERVICE_UNAVAILABLE", "message": "try again shortly"}) from None
    if await retry_after(websocket, principal) is not None:  # type: ignore[arg-type]
        raise ConnectionRejectionError({"code": "RATE_LIMITED", "message": "rate limit exceeded"})
    context.service = service_context(websocket.app.state, principal,
                                      _param(params, "purpose", PURPOSE_HEADER), f"ws-{uuid.uuid4()}")
    context.token_expires_at = expires_at
    delay = max(0.0, expires_at - time.time())
    context.expiry_timer = asyncio.get_running_loop().call_later(
        delay, lambda: asyncio.ensure_future(_close_expired(websocket)))


async def _close_expired(websocket: WebSocket) -> None:
    with contextlib.suppress(Exception):  # already closed by the client: nothing to do
        await websocket.close(code=TOKEN_EXPIRED, reason="token expired")


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def shutdown(self) -> None:
        timer = getattr(self.context, "expiry_timer", None)
        if timer is not None:
            timer.cancel()
        await super().shutdown()


class TextWebSocket(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames: the router's JSON encoder gives bytes (orjson),
    which Strawberry would send as binary frames that browsers' graphql-ws refuses (4004). And a
    message that is JSON but not an object is refused like one that is not JSON (4400), instead of
    reaching the protocol handler, which assumes an object."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                try:
                    message = json.loads(text)
                except ValueError:
                    message = None
                if not isinstance(message, dict):
                    if ignore_parsing_errors:
                        continue
                    raise NonJsonMessageReceived
                yield message
        except KeyError as exc:  # a binary frame
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Any) -> None:
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
