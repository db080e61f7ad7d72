"""What the access log, the metrics and the traces know of a GraphQL request: the operation label
and the error codes, never the document, its literals or the variables.

The label is "<type> <root field>" (`mutation reportMissing`), or "<type> multiple" when one
document selects several root fields. It is taken only from a document that passed validation,
so every name in it is a name of the schema: the client's own operation name and aliases are free
text (they could be anything, a child's name included) and are never used.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.extensions.tracing.utils import should_skip_tracing

from mpdb.logging import silence_request_content_loggers

# Strawberry logs every GraphQL error with the document and, for a variable that does not fit its
# type, the value; uvicorn's access line has the query string. Internal errors are logged by
# MaskInternalErrors (type and frames only), the others are counted by code in our access line.
# Here, not only in configure_logging: the app may be served by a uvicorn that never calls it.
silence_request_content_loggers()

OPERATION_ATTR = "graphql_operation"
CODES_ATTR = "graphql_error_codes"


def _root_fields(selection_set: SelectionSetNode, document: DocumentNode, seen: set[str]) -> Iterator[str]:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, document, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, document, seen)


def operation_label(document: DocumentNode | None, operation_name: str | None) -> str | None:
    """For a VALIDATED document only (see the module docstring)."""
    if document is None:
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    fields = sorted(set(_root_fields(operation.selection_set, document, set())) - {"__typename"}) or ["__typename"]
    return f"{operation.operation.value} {fields[0] if len(fields) == 1 else 'multiple'}"


def record_error_codes(request: Any, codes: Iterable[object]) -> None:
    """The codes of a GraphQL response's errors, for the access line (GraphQLError without a code:
    GRAPHQL_ERROR)."""
    state = getattr(request, "state", None)
    if state is not None:
        setattr(state, CODES_ATTR, sorted({str(c or "GRAPHQL_ERROR") for c in codes}))


def _request_state(extension: SchemaExtension) -> Any:
    request = getattr(extension.execution_context.context, "request", None)
    return getattr(request, "state", None)


class RecordOperation(SchemaExtension):
    """Puts the operation label and the response's error codes on `request.state` for the access
    log and the request metrics (mpdb/observability/requests.py). First in the schema's list, so
    its end of the operation runs last and sees the errors as masked."""

    def on_execute(self) -> Generator[None, None, None]:
        # Reached only once the document parsed and validated.
        state = _request_state(self)
        if state is not None:
            label = operation_label(self.execution_context.graphql_document, self.execution_context.operation_name)
            if label is not None:
                setattr(state, OPERATION_ATTR, label)
        yield

    def on_operation(self) -> Generator[None, None, None]:
        yield
        state = _request_state(self)
        result = self.execution_context.result
        errors = getattr(result, "errors", None) or self.execution_context.pre_execution_errors or []
        if state is not None and errors:
            record_error_codes(getattr(self.execution_context.context, "request", None),
                               [(e.extensions or {}).get("code") for e in errors])


class SafeOpenTelemetryExtension(OpenTelemetryExtension):
    """Strawberry's spans without anything the client sent: the operation span carries the label
    above instead of the document (strawberry puts the whole query text in it), resolver spans
    carry the schema's field name instead of the path (aliases are client text) and no argument
    values, and a failing resolver marks its span with the exception type, not its message."""

    def on_operation(self) -> Generator[None, None, None]:
        span = self._tracer.start_span("GraphQL operation", kind=SpanKind.INTERNAL)
        span.set_attribute("component", "graphql")
        self._span_holder[LifecycleStep.OPERATION] = span
        yield
        label = operation_label(self.execution_context.graphql_document, self.execution_context.operation_name) \
            if not self.execution_context.pre_execution_errors else None
        if label is not None:
            span.update_name(f"GraphQL {label}")
            span.set_attribute("graphql.operation", label)
        span.end()

    def filter_resolver_args(self, args: dict[str, Any], info: GraphQLResolveInfo) -> dict[str, Any]:
        return {}

    def add_tags(self, span: Any, info: GraphQLResolveInfo, kwargs: Any) -> None:
        span.set_attribute("component", "graphql")
        span.set_attribute("graphql.field", f"{info.parent_type.name}.{info.field_name}")

    async def resolve(self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo,
                      *args: str, **kwargs: Any) -> Any:
        if should_skip_tracing(_next, info):
            result = _next(root, info, *args, **kwargs)
            return await result if isawaitable(result) else result
        with self._tracer.start_as_current_span(
            f"GraphQL Resolving: {info.field_name}",
            context=trace.set_span_in_context(self._span_holder[LifecycleStep.OPERATION]),
            record_exception=False, set_status_on_exception=False,
        ) as span:
            self.add_tags(span, info, kwargs)
            try:
                result = _next(root, info, *args, **kwargs)
                return await result if isawaitable(result) else result
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
