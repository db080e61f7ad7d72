"""GraphQL execution without per-field overhead where a field is a plain attribute.

A national riskProfile completes ~1,300 fields and coMissing ~800; nearly all are scalars (or lists of
scalars) read straight off a strawberry type, with no resolver and no permission. graphql-core
still builds a resolve-info object, looks up middleware and walks the generic completion for each,
which profiled as the largest share of the API's own CPU per request. `PlainFieldsExecutionContext`
(strawberry's `execution_context_class` option) completes those fields of an object itself: the
attribute, then the scalar's own `coerce_output_value`, the value checked against the field's
nullability; graphql-core executes the object's other fields, and the entries are put back in the
order of the selection. Anything
unusual (a null where the type forbids it, a scalar refusing a value, a value that is not a list
where one is expected, an awaitable) goes back to graphql-core's own path for that field, so errors,
their messages and their paths are graphql-core's. Fields with a resolver, with arguments, of object
or abstract type, and every field while a resolve middleware is installed (tracing), take the
ordinary path.

Root fields of a query run with their audit commit deferred (DEFERRED_AUDIT, mpdb/services/context.py):
the read's consultation events are sent to Neo4j when the service records them, the field's value is
completed while the commit waits for its log flush, and the field's value joins the response only
once that commit is durable; when it fails, the field fails with it (null and a located error, as
when the service awaited the commit itself). Mutations keep the service's own wait.

String arguments are checked here too (`check_arguments`, mpdb/api/extensions/inputs.py), before the
field's resolver runs, as a resolve middleware did before: a middleware wraps every field, and only
fields with arguments need it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from mpdb.api.extensions.inputs import check_arguments
from mpdb.services.context import DEFERRED_AUDIT


class _Slow(Exception):
    """A plain field's value needs graphql-core's own completion (an error, most likely)."""


# Values a scalar's coerce_output_value can take without first ruling out an exception or an
# awaitable (which graphql-core raises or awaits).
_VALUE_TYPES = frozenset({str, int, float, bool})

Completion = Callable[[Any], Any]
DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
_NOT_PLAIN = object()
# Where a field's (read the attribute, complete the value), or _NOT_PLAIN, is kept: in the field's
# own `extensions` dict (graphql-core's place for a field's custom data), so it lives and dies with
# the schema that holds the field.
PLAIN_KEY = "mpdb-plain-field"


def _leaf(leaf: GraphQLLeafType, nonnull: bool) -> Completion:
    coerce = leaf.coerce_output_value

    def complete(value: Any) -> Any:
        if value is None:
            if nonnull:
                raise _Slow
            return None
        if type(value) not in _VALUE_TYPES and (isinstance(value, Exception) or hasattr(value, "__await__")):
            raise _Slow
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _Slow
        return coerced

    return complete


def _list(item: Completion, nonnull: bool) -> Completion:
    def complete(value: Any) -> Any:
        if value is None:
            if nonnull:
                raise _Slow
            return None
        if type(value) is not list and type(value) is not tuple:
            raise _Slow
        return [item(v) for v in value]

    return complete


def _completion(type_: GraphQLOutputType) -> Completion | None:
    nonnull = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if nonnull else type_
    if isinstance(inner, GraphQLList):
        item = _completion(inner.of_type)
        return _list(item, nonnull) if item is not None else None
    return _leaf(inner, nonnull) if is_leaf_type(inner) else None


def _in_order(grouped_field_set: dict[str, Any], plain: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """The object's entries in the order of its selection, as graphql-core builds it (a field
    graphql-core leaves out, e.g. one unknown to the type, stays out)."""
    return {name: plain[name] if name in plain else others[name] for name in grouped_field_set
            if name in plain or name in others}


def _plain_field(field_def: GraphQLField) -> Any:
    extensions = field_def.extensions
    plain = extensions.get(PLAIN_KEY)
    if plain is None:
        plain = _NOT_PLAIN
        # strawberry's resolver of a field declared without one (no resolver, no field extension)
        if getattr(field_def.resolve, "_is_default", False) and not field_def.args:
            complete = _completion(field_def.type)
            if complete is not None:
                definition = extensions.get(DEFINITION_BACKREF)
                resolve = field_def.resolve
                read: Callable[[Any], Any] = lambda source: resolve(source, None)  # noqa: E731
                if (isinstance(definition, StrawberryField) and definition.default_resolver is getattr
                        and not definition.base_resolver):
                    read = attrgetter(definition.python_name)  # what that resolver does
                plain = (read, complete)
        extensions[PLAIN_KEY] = plain
    return plain


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Any,
                       grouped_field_set: dict[str, Any], position_context: Any) -> Any:
        if self._middleware():
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        fields = parent_type.fields
        plain_values: dict[str, Any] = {}
        rest: dict[str, Any] | None = None
        for response_name, field_details_list in grouped_field_set.items():
            field_def = fields.get(field_details_list[0].node.name.value)
            plain = _plain_field(field_def) if field_def is not None else _NOT_PLAIN
            if plain is not _NOT_PLAIN:
                read, complete = plain
                try:
                    plain_values[response_name] = complete(read(source_value))
                    continue
                except Exception:  # noqa: BLE001 - graphql-core's own path raises or records it
                    pass
            if rest is None:
                rest = {}
            rest[response_name] = field_details_list
        if rest is None:
            return plain_values
        if not plain_values:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(others):
            async def in_order() -> dict[str, Any]:
                return _in_order(grouped_field_set, plain_values, await others)

            return in_order()
        return _in_order(grouped_field_set, plain_values, others)

    def execute_field(self, parent_type: GraphQLObjectType, source: Any, field_details_list: Any, path: Any,
                      position_context: Any) -> Any:
        field_def = parent_type.fields.get(field_details_list[0].node.name.value)
        if field_def is not None and field_def.args:
            refused = self._refused_argument(field_def, field_details_list)
            if refused is not None:
                self.handle_field_error(refused, field_def.type, field_details_list, path)
                return None
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    async def complete_awaitable_value(self, return_type: GraphQLOutputType, field_details_list: Any, info: Any,
                                       path: Any, result: Any, position_context: Any) -> Any:
        if path.prev is not None or self.operation.operation is not OperationType.QUERY:
            return await super().complete_awaitable_value(return_type, field_details_list, info, path, result,
                                                          position_context)
        pending: list[asyncio.Future[Any]] = []
        token = DEFERRED_AUDIT.set(pending)
        try:
            completed = await super().complete_awaitable_value(return_type, field_details_list, info, path, result,
                                                               position_context)
        finally:
            DEFERRED_AUDIT.reset(token)
        if pending:
            outcomes = await asyncio.gather(*pending, return_exceptions=True)
            failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if failure is not None:
                if not isinstance(failure, Exception):
                    raise failure
                self.handle_field_error(failure, return_type, field_details_list, path)
                return None
        return completed

    def _middleware(self) -> bool:
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def _refused_argument(self, field_def: GraphQLField, field_details_list: Any) -> Exception | None:
        details = field_details_list[0]
        try:
            args = get_argument_values(field_def, details.node, self.variable_values,
                                       details.fragment_variable_values, self.hide_suggestions)
        except GraphQLError:
            return None  # graphql-core reports it the same way in the field's own execution
        try:
            check_arguments(field_def, args)
        except Exception as exc:  # noqa: BLE001 - located and recorded as the field's error
            return exc
        return None
