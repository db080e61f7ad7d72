"""Named Cypher statements: the time and trace span of each, by the name of its constant.

Every statement the API runs is a constant in mpdb/graph/queries/*.py; its name (CHILD_BY_ID) is
the label. The text -> name map is built once, on first use, from those modules. Text that is not
a constant (composed at run time) is "other": the label set stays bounded and a span never holds
Cypher text or parameters.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from mpdb.observability.metrics import NEO4J_QUERY_FAILURES, NEO4J_QUERY_SECONDS

OTHER = "other"
_tracer = trace.get_tracer("mpdb.graph")


@cache
def _names() -> dict[str, str]:
    import mpdb.graph.queries as package

    names: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for attr, value in vars(module).items():
            if attr.isupper() and isinstance(value, str):
                names.setdefault(value, attr)
    return names


def query_name(text: str) -> str:
    return _names().get(text, OTHER)


@contextmanager
def observed_query(text: str) -> Iterator[None]:
    """Around one statement (run and fetch): a span `neo4j <NAME>` and the duration histogram.
    A failure is counted and marks the span with the exception's type only: Neo4j's messages
    quote parameter values."""
    name = query_name(text)
    started = time.perf_counter()
    with _tracer.start_as_current_span(f"neo4j {name}", kind=trace.SpanKind.CLIENT,
                                       attributes={"db.system": "neo4j", "db.operation.name": name},
                                       record_exception=False, set_status_on_exception=False) as span:
        try:
            yield
        except BaseException as exc:
            NEO4J_QUERY_FAILURES.labels(name).inc()
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            NEO4J_QUERY_SECONDS.labels(name).observe(time.perf_counter() - started)
