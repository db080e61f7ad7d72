"""Internal errors reach the client as "Unexpected error." with the request id, and the server
log with everything; client errors (MpdbError, validation, permission) keep their message and code."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from mpdb.domain.errors import MpdbError

log = logging.getLogger("mpdb.api.errors")


def _is_internal(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:  # parse/validation errors and permission errors raised as GraphQLError
        return False
    if (error.extensions or {}).get("code"):  # classified as a client error (mpdb/api/extensions/inputs.py)
        return False
    return not isinstance(original, (MpdbError, GraphQLError))


class MaskInternalErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_internal, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = None
        ctx = self.execution_context.context
        if ctx is not None and hasattr(ctx, "service"):
            request_id = ctx.service.request_id
        log.error("internal error in %s (request %s)", error.path, request_id, exc_info=error.original_error)
        return GraphQLError(
            self.error_message, nodes=error.nodes, source=error.source, positions=error.positions,
            path=error.path, extensions={"code": "INTERNAL", "requestId": request_id},
        )
