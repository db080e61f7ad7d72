"""GraphQL execution without per-field overhead where a field is a plain attribute.

A national riskProfile completes ~1,300 fields and coMissing ~800; nearly all are scalars (or lists of
scalars) read straight off a strawberry type, with no resolver and no permission. graphql-core
still builds a resolve-info object, looks up middleware and walks the generic completion for each,
which profiled as the largest share of the API's own CPU per request. `PlainFieldsExecutionContext`
(strawberry's `execution_context_class` option) completes those fields of an object itself: the
attribute, then the scalar's own `coerce_output_value`, the value checked against the field's
nullability. A plain field of object type (or a list of them, nested lists included: `nodes`,
`evidence`, `episodes`) is read the same way and its object(s) go straight to the execution of
their own selection, without graphql-core's per-field resolve info, resolver call and generic
completion (round 4 of issue 10: that was most of what remained of the API's own CPU for
coMissing). Fields run in the order of the selection, the others through graphql-core's own
`execute_field`. Anything unusual (a null where the type forbids it, a scalar refusing a value, a
value that is not a list where one is expected, an exception or an awaitable as the value, an
object type with an `is_type_of` check) goes back to graphql-core's own path for that field before
any of it ran, so errors, their messages and their paths are graphql-core's; an error inside an
object's selection is located and propagated as graphql-core does (`handle_field_error` at the
list item and at the field). Fields with a resolver, with arguments, of abstract type, and every
field while a resolve middleware is installed (tracing), take the ordinary path.

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
from graphql.pyutils import Path, Undefined, gather_with_cancel
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


# The shape of a plain field of object type, outside in: (NONNULL, inner), (LIST, inner, item
# type), (OBJECT, object type).
NONNULL, LIST, OBJECT = 0, 1, 2
Shape = tuple[Any, ...]


def _object_shape(type_: GraphQLOutputType) -> Shape | None:
    if isinstance(type_, GraphQLNonNull):
        inner = _object_shape(type_.of_type)
        return (NONNULL, inner) if inner is not None else None
    if isinstance(type_, GraphQLList):
        inner = _object_shape(type_.of_type)
        return (LIST, inner, type_.of_type) if inner is not None else None
    # An object type that checks its values (strawberry: one with interfaces) keeps graphql-core's path.
    if isinstance(type_, GraphQLObjectType) and type_.is_type_of is None:
        return (OBJECT, type_)
    return None


def _fits(shape: Shape, value: Any) -> bool:
    """The value can be completed without an error at this level: no null where the type forbids
    it, a list (or tuple) where one is expected, no exception or awaitable in an object's place."""
    kind = shape[0]
    if kind == NONNULL:
        return value is not None and _fits(shape[1], value)
    if value is None:
        return True
    if kind == LIST:
        if type(value) is not list and type(value) is not tuple:
            return False
        item = shape[1]
        return all(_fits(item, v) for v in value)
    return not isinstance(value, Exception) and not hasattr(value, "__await__")


# A plain field: (LEAF, read, complete) or (OBJECT_FIELD, read, shape); else _NOT_PLAIN.
LEAF, OBJECT_FIELD = 0, 1


def _plain_field(field_def: GraphQLField) -> Any:
    extensions = field_def.extensions
    plain = extensions.get(PLAIN_KEY)
    if plain is None:
        plain = _NOT_PLAIN
        # strawberry's resolver of a field declared without one (no resolver, no field extension)
        if getattr(field_def.resolve, "_is_default", False) and not field_def.args:
            definition = extensions.get(DEFINITION_BACKREF)
            resolve = field_def.resolve
            read: Callable[[Any], Any] = lambda source: resolve(source, None)  # noqa: E731
            if (isinstance(definition, StrawberryField) and definition.default_resolver is getattr
                    and not definition.base_resolver):
                read = attrgetter(definition.python_name)  # what that resolver does
            complete = _completion(field_def.type)
            if complete is not None:
                plain = (LEAF, read, complete)
            elif (shape := _object_shape(field_def.type)) is not None:
                plain = (OBJECT_FIELD, read, shape)
        extensions[PLAIN_KEY] = plain
    return plain


async def _settled(results: Any, keys: list[Any]) -> Any:
    """`results` (a dict of an object's entries, or a list's items) with the awaitables at `keys`
    replaced by their values, as graphql-core settles them: one awaited directly, several gathered
    (the others cancelled when one fails)."""
    if len(keys) == 1:
        results[keys[0]] = await results[keys[0]]
    else:
        for key, value in zip(keys, await gather_with_cancel(*(results[k] for k in keys)), strict=True):
            results[key] = value
    return results


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Any,
                       grouped_field_set: dict[str, Any], position_context: Any) -> Any:
        """graphql-core's `execute_fields` (the same loop, order, awaitables and failure handling),
        with plain fields completed here."""
        if self._middleware():
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        fields = parent_type.fields
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                field_def = fields.get(field_details_list[0].node.name.value)
                plain = _plain_field(field_def) if field_def is not None else _NOT_PLAIN
                result: Any = _NOT_PLAIN
                if plain is not _NOT_PLAIN:
                    kind, read, how = plain
                    if kind == LEAF:
                        try:
                            result = how(read(source_value))
                        except Exception:  # noqa: BLE001 - graphql-core's own path raises or records it
                            pass
                    else:
                        result = self._object_field(parent_type, source_value, response_name, field_details_list,
                                                    field_def, read, how, path, position_context)
                if result is _NOT_PLAIN:
                    result = self.execute_field(parent_type, source_value, field_details_list,
                                                Path(path, response_name, parent_type.name), position_context)
                    if result is Undefined:
                        continue
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[f] for f in awaitable_fields])
            raise
        return _settled(results, awaitable_fields) if awaitable_fields else results

    def _object_field(self, parent_type: GraphQLObjectType, source: Any, response_name: str, field_details_list: Any,
                      field_def: GraphQLField, read: Callable[[Any], Any], shape: Shape, path: Any,
                      position_context: Any) -> Any:
        """A plain field of object type: its value completed as graphql-core's `execute_field` +
        `complete_value` would, or _NOT_PLAIN (nothing ran) for graphql-core's own path."""
        if any(details.node.directives for details in field_details_list):
            return _NOT_PLAIN  # @stream and the like: graphql-core's
        try:
            value = read(source)
        except Exception:  # noqa: BLE001 - graphql-core's path raises or records it
            return _NOT_PLAIN
        if not _fits(shape, value):
            return _NOT_PLAIN
        field_path = Path(path, response_name, parent_type.name)
        return_type = field_def.type
        try:
            completed = self._complete_shape(shape, value, field_details_list, field_path, position_context)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, field_path)
            return None
        if self.is_awaitable(completed):
            async def await_completed() -> Any:
                try:
                    return await completed
                except Exception as raw_error:
                    self.handle_field_error(raw_error, return_type, field_details_list, field_path)
                    return None

            return await_completed()
        return completed

    def _complete_shape(self, shape: Shape, value: Any, field_details_list: Any, path: Any,
                        position_context: Any) -> Any:
        kind = shape[0]
        if kind == NONNULL:
            return self._complete_shape(shape[1], value, field_details_list, path, position_context)
        if value is None:
            return None
        if kind == OBJECT:
            return self.collect_and_execute_subfields(shape[1], field_details_list, path, value, position_context)
        # A list: complete_iterable_value + complete_list_item_value of graphql-core, items known to fit.
        item_shape, item_type = shape[1], shape[2]
        is_awaitable = self.is_awaitable
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(value):
                item_path = path.add_key(index, None)
                try:
                    done = self._complete_shape(item_shape, item, field_details_list, item_path, position_context)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    done = None
                if is_awaitable(done):
                    done = self._await_item(done, item_type, field_details_list, item_path)
                    awaitable_indices.append(index)
                completed.append(done)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed[i] for i in awaitable_indices])
            raise
        return _settled(completed, awaitable_indices) if awaitable_indices else completed

    async def _await_item(self, done: Any, item_type: GraphQLOutputType, field_details_list: Any,
                          item_path: Any) -> Any:
        try:
            return await done
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, field_details_list, item_path)
            return None

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
