"""Bad documents and bad arguments become coded client errors, before anything runs.

- Validation errors get `extensions.code = GRAPHQL_VALIDATION_FAILED`, and variables that do not
  coerce to their type get `BAD_USER_INPUT` (Apollo Server's codes). This must happen before
  MaskInternalErrors looks at them: a literal or variable a custom scalar refuses (a DateTime of
  "yesterday") carries the scalar's ValueError as its original error and would otherwise be
  masked as INTERNAL. Parse errors get their code in mpdb/api/graphql_router.py (the parser cache
  raises them outside these hooks).
- A document with several operations and no `operationName` is refused: which one should run is
  the client's to say, not ours to guess.
- Every string argument is checked before its resolver runs (mpdb/domain/values.py; called from
  the execution context, mpdb/api/execution.py): an `ID` at
  most ID_MAX characters, another scalar string argument at most ARGUMENT_MAX, both with no
  control character; strings inside input objects at most ANY_STRING_MAX with no control character
  but tab and line breaks (the write commands then apply each field's own kind). So an oversized or
  binary id never reaches a Cypher parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from mpdb.domain import values

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
ARGUMENT_MAX = values.CURSOR_MAX  # the longest scalar string argument: a page cursor


class InputRules(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        # Not `ctx.operation_name`: without one given, strawberry names the document's first
        # operation there, and graphql-core then runs that one.
        given = getattr(ctx, "_provided_operation_name", None)
        if not ctx.pre_execution_errors and document is not None and given is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                ctx.pre_execution_errors = [GraphQLError(
                    "the document has several operations: give `operationName` to choose one",
                    nodes=operations, extensions={"code": VALIDATION_FAILED})]
        yield
        for error in ctx.pre_execution_errors or ():
            _set_code(error, VALIDATION_FAILED)

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or getattr(result, "data", None) is not None:
            return
        for error in getattr(result, "errors", None) or ():
            # graphql-core's variable coercion: "Variable '$x' got invalid value ...".
            if error.path is None and error.message.startswith("Variable '$"):
                _set_code(error, BAD_USER_INPUT)


def check_arguments(field: GraphQLField, args: dict[str, Any]) -> None:
    """The arguments graphql-core coerced for one execution of `field`, before its resolver runs
    (called by mpdb/api/execution.py for every field that has arguments)."""
    for name, value in args.items():
        arg = field.args.get(name)
        if arg is not None and value is not None:
            check_argument(name, arg.type, value)


def check_argument(name: str, type_: Any, value: Any) -> None:
    named = type_
    while isinstance(named, (GraphQLNonNull, GraphQLList)):
        named = named.of_type
    if isinstance(named, GraphQLInputObjectType):
        values.check_all_text(value, name, values.ANY_STRING)
        return
    kind = values.ID if named is GraphQLID else _ARGUMENT
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if isinstance(item, str):
            values.check_text(item, name if item is value else f"{name}[{i}]", kind)


_ARGUMENT = values.TextKind("argument", ARGUMENT_MAX)


def _set_code(error: GraphQLError, code: str) -> None:
    if error.extensions is None:
        error.extensions = {}
    error.extensions.setdefault("code", code)
