"""The per-request GraphQL context: the verified (and rate-limited) principal wrapped in a ServiceContext."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from strawberry.fastapi import BaseContext

from mpdb.api.rate_limit import rate_limited_principal
from mpdb.auth.principal import Principal
from mpdb.services.context import ServiceContext

PURPOSE_HEADER = "X-MPDB-Purpose"


class Context(BaseContext):
    def __init__(self, service: ServiceContext) -> None:
        super().__init__()
        self.service = service


async def get_context(
    request: Request, principal: Annotated[Principal, Depends(rate_limited_principal)]
) -> Context:
    state = request.app.state
    purpose = request.headers.get(PURPOSE_HEADER)
    return Context(
        ServiceContext(
            graph=state.graph,
            settings=state.settings,
            principal=principal,
            purpose=purpose[:500] if purpose else None,
            request_id=request.state.request_id,
        )
    )
