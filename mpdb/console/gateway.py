"""How the console reads and writes: the API's own GraphQL operations, run in-process.

Each page names an operation from `mpdb/console/operations/*.graphql` and runs it against the same
Strawberry schema `/graphql` serves, with a ServiceContext built from the signed-in user's verified
principal, the session's purpose and the request id. So the console has no Cypher and no permission
rules of its own: it can show nothing the API would not show that user, every view writes the API's
audit events, and the per-agency rate limit is the API's.

The operations are parsed and validated against the schema when the app starts, so a console page
can never ship a query the API would reject as malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import strawberry
from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast, validate

from mpdb.api.context import Context
from mpdb.api.rate_limit import retry_after
from mpdb.console.sessions import ConsoleSession
from mpdb.services.context import ServiceContext

OPERATIONS_DIR = Path(__file__).resolve().parent / "operations"


class ConsoleError(Exception):
    """A GraphQL error the page shows as such (status, code and the API's message)."""

    status = 400

    def __init__(self, message: str, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class RecordNotFound(ConsoleError):
    """Also what a record the user may not see looks like: the same page as a nonexistent one."""

    status = 404


class NotAllowed(ConsoleError):
    status = 403


class PurposeNeeded(ConsoleError):
    status = 428


class ServiceUnavailable(ConsoleError):
    """Something went wrong on our side (logged with the request id by the API's error masking)."""

    status = 503


class DatabaseUnavailable(ConsoleError):
    """The database could not be reached: a page that says so and when to try again."""

    status = 503

    def __init__(self, retry_after: int = 5) -> None:
        super().__init__("The database is unavailable at the moment. Nothing was changed; try again in a "
                         "few seconds.", "SERVICE_UNAVAILABLE")
        self.retry_after = retry_after


class RateLimited(ConsoleError):
    status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many requests from your agency; wait a few seconds and try again", "RATE_LIMITED")
        self.retry_after = retry_after


_ERRORS_BY_CODE: dict[str, type[ConsoleError]] = {
    "NOT_FOUND": RecordNotFound,
    "FORBIDDEN": NotAllowed,
    "UNAUTHORIZED": NotAllowed,
    "PURPOSE_REQUIRED": PurposeNeeded,
    "INTERNAL": ServiceUnavailable,
}


def load_operations(schema: strawberry.Schema, directory: Path = OPERATIONS_DIR) -> dict[str, str]:
    """Every named operation in `directory`, as a standalone document (with the fragments of its
    file), validated against `schema`. Raises ValueError naming the file and the problem."""
    operations: dict[str, str] = {}
    for file in sorted(directory.glob("*.graphql")):
        document: DocumentNode = parse(file.read_text(encoding="utf-8"))
        errors = validate(schema._schema, document)
        if errors:
            raise ValueError(f"{file.name}: {errors[0].message}")
        fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if definition.name is None:
                raise ValueError(f"{file.name}: every console operation needs a name")
            name = definition.name.value
            if name in operations:
                raise ValueError(f"{file.name}: operation {name} is defined twice")
            operations[name] = "\n".join(print_ast(d) for d in [definition, *fragments])
    return operations


@dataclass
class Gateway:
    schema: strawberry.Schema
    operations: dict[str, str]

    async def run(self, request: Any, session: ConsoleSession, operation: str,
                  variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run `operation` as the session's user; returns `data`, or raises a ConsoleError."""
        document = self.operations[operation]  # a KeyError here is a bug in a page, not user input
        wait = await retry_after(request, session.principal)
        if wait is not None:
            raise RateLimited(wait)
        state = request.app.state
        context = Context(ServiceContext(
            graph=state.graph, settings=state.settings, principal=session.principal,
            purpose=session.purpose, request_id=request.state.request_id,
        ))
        result = await self.schema.execute(
            document, variable_values={k: v for k, v in (variables or {}).items() if v is not None},
            context_value=context, operation_name=operation,
        )
        if result.errors:
            error = result.errors[0]
            extensions = error.extensions or {}
            code = extensions.get("code")
            if code == "SERVICE_UNAVAILABLE":
                raise DatabaseUnavailable(int(extensions.get("retryAfter") or 5))
            cls = _ERRORS_BY_CODE.get(str(code), ConsoleError)
            raise cls(error.message, code=str(code) if code else None, field=extensions.get("field"))
        return result.data or {}
