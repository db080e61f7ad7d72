"""The per-request GraphQL context: the verified (and rate-limited) principal wrapped in a ServiceContext.

Over HTTP the principal comes from the request's bearer token before GraphQL runs. A WebSocket
(subscriptions, graphql-transport-ws) carries no token in its handshake: its context starts
without a service and `MpdbGraphQLRouter.on_ws_connect` fills it in from the `connection_init`
payload (mpdb/api/subscriptions.py), with the same verifier and the same purpose rule."""

from __future__ import annotations

from typing import Any, cast

from fastapi import Request
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from mpdb.api.rate_limit import rate_limited_principal
from mpdb.auth.dependencies import authenticate
from mpdb.auth.principal import Principal
from mpdb.services.context import ServiceContext

PURPOSE_HEADER = "X-MPDB-Purpose"


class Context(BaseContext):
    def __init__(self, service: ServiceContext | None) -> None:
        super().__init__()
        self._service = service
        # WebSocket only: what the connection's token allows until it expires (api/subscriptions.py).
        self.token_expires_at: float | None = None
        self.expiry_timer: Any = None

    @property
    def service(self) -> ServiceContext:
        if self._service is None:  # a WebSocket operation before connection_init was accepted
            from mpdb.domain.errors import Forbidden

            raise Forbidden("Forbidden: the connection is not authenticated")
        return self._service

    @service.setter
    def service(self, value: ServiceContext) -> None:
        self._service = value


def service_context(app_state: Any, principal: Principal, purpose: str | None, request_id: str) -> ServiceContext:
    return ServiceContext(
        graph=app_state.graph,
        settings=app_state.settings,
        principal=principal,
        purpose=purpose[:500] if purpose else None,
        request_id=request_id,
    )


async def get_context(connection: HTTPConnection) -> Context:
    if connection.scope["type"] == "websocket":
        return Context(None)  # authenticated by connection_init (MpdbGraphQLRouter.on_ws_connect)
    request = cast(Request, connection)  # FastAPI passes the route's Request as its HTTPConnection
    principal = await rate_limited_principal(request, await authenticate(request))
    return Context(service_context(request.app.state, principal, request.headers.get(PURPOSE_HEADER),
                                   request.state.request_id))
