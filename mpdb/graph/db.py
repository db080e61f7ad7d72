"""The one wrapper every repository uses to talk to Neo4j.

Reads run in read transactions (routed to followers on a cluster), writes in write transactions,
each with the configured timeout; the driver retries transient errors for managed transactions.
With a retry budget (the API's), connecting and retrying stop after that many seconds and the
caller gets `ServiceUnavailable` (SERVICE_UNAVAILABLE, HTTP 503) instead of waiting for the driver's
own 30-60 s; the query itself is bounded by the timeout, not the budget. Queries are
`LiteralString` constants from `mpdb/graph/queries/`, so user input can only ever arrive as
parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from typing import Any, LiteralString, TypeVar

from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession, Query, RoutingControl, unit_of_work
from neo4j.exceptions import DriverError, Neo4jError
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import Point
from neo4j.time import Date, DateTime, Duration, Time

from mpdb.graph.errors import UNAVAILABLE, is_timed_out, unavailable
from mpdb.observability.queries import observed_query

T = TypeVar("T")


_PLAIN = frozenset({str, int, float, bool, type(None), datetime, date})


def to_native(value: Any) -> Any:
    """A value as `Record.data()` exports it (nodes as property maps, relationships as
    (start, type, end), paths as lists), with Neo4j temporal values as datetime/date and points as
    {longitude, latitude}: in one pass over the row instead of two."""
    kind = type(value)
    # Exact-type checks first: this walks every value of every row (thousands per request), and
    # isinstance against the driver's ABC-registered types is several times slower.
    if kind in _PLAIN:
        return value
    # Plain members are taken as they are, without a call each (most of a row's values are).
    if kind is dict:
        return {k: v if type(v) in _PLAIN else to_native(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else to_native(v) for v in value]
    if isinstance(value, (DateTime, Date, Time)):
        return value.to_native()
    if isinstance(value, Point):
        return {"longitude": value[0], "latitude": value[1]}
    if isinstance(value, Duration):
        return value
    if isinstance(value, Node):
        return to_native(dict(value))
    if isinstance(value, Relationship):
        return (to_native(dict(value.start_node)), type(value).__name__, to_native(dict(value.end_node)))
    if isinstance(value, Path):
        path = [to_native(value.start_node)]
        for i, rel in enumerate(value.relationships):
            path.extend((type(rel).__name__, to_native(value.nodes[i + 1])))
        return path
    if isinstance(value, Mapping):
        return {k: to_native(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(map(to_native, value))
    return value


def unavailable_as_domain_error(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """A Graph method whose driver failures that mean "unavailable" become `ServiceUnavailable`."""

    @functools.wraps(method)
    async def wrapper(self: Graph, *args: Any, **kwargs: Any) -> T:
        try:
            return await method(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            raise unavailable(exc, self.retry_budget_s or self.timeout_s) from exc
        except Neo4jError as exc:
            if not is_timed_out(exc):
                raise
            raise unavailable(exc, self.retry_budget_s or self.timeout_s) from exc

    return wrapper


class Graph:
    def __init__(self, driver: AsyncDriver, database: str, timeout_s: float = 30.0,
                 retry_budget_s: float | None = None) -> None:
        self.driver = driver
        self.database = database
        self.timeout_s = timeout_s
        self.retry_budget_s = retry_budget_s
        # Read transactions of this process under way: the audit's group commit waits a little for
        # their consultations while there are any (mpdb/audit/trail.py).
        self.reads_in_flight = 0

    async def read(self, text: LiteralString, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            return await run(tx, text, params)

        return await self.in_read_tx(work)

    async def read_one(self, text: LiteralString, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        rows = await self.read(text, params)
        return rows[0] if rows else None

    async def write(self, text: LiteralString, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            return await run(tx, text, params)

        return await self.in_write_tx(work)

    async def in_write_tx(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        """Run several statements as ONE transaction: all of it is written, or none of it."""
        return await self._managed("WRITE", work)

    async def in_read_tx(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        self.reads_in_flight += 1
        try:
            return await self._managed("READ", work)
        finally:
            self.reads_in_flight -= 1

    @unavailable_as_domain_error
    async def _managed(self, mode: str, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        async with self.driver.session(database=self.database, default_access_mode=mode) as s:
            with pipelined_begin(s) if mode == "READ" else contextlib.nullcontext():
                return await self._execute(s, mode, work)

    async def _execute(self, s: AsyncSession, mode: str, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        execute = s.execute_write if mode == "WRITE" else s.execute_read
        budget = self.retry_budget_s
        if budget is None:
            return await execute(unit_of_work(timeout=self.timeout_s)(work))
        deadline = asyncio.get_running_loop().time() + budget
        async with asyncio.timeout_at(deadline) as guard:
            async def within_budget(tx: AsyncManagedTransaction) -> T:
                # The budget counts time spent connecting and between retries, never a running
                # query (the transaction timeout bounds that) nor its commit.
                guard.reschedule(None)
                try:
                    return await work(tx)
                except (DriverError, Neo4jError) as exc:
                    if exc.is_retryable():  # the driver retries: only within what is left
                        guard.reschedule(deadline)
                    raise

            return await execute(unit_of_work(timeout=self.timeout_s)(within_budget))

    @unavailable_as_domain_error
    async def write_statement(self, text: LiteralString, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """ONE statement in a write transaction of its own, retried like `write`, with its BEGIN sent
        together with the statement (the driver's `execute_query` pipelines them): a round trip,
        ~0.3 ms of client CPU and ~1 ms of Neo4j CPU fewer than `write` (measured), for the audit's
        commits, which every read waits for. No bookmarks: nothing reads its own write here."""
        with observed_query(text):
            records, _, _ = await self.driver.execute_query(
                Query(text, timeout=self.timeout_s), params or {}, routing_=RoutingControl.WRITE,
                database_=self.database, bookmark_manager_=None)
        return [record_as_dict(record) for record in records]

    @unavailable_as_domain_error
    async def auto_commit(self, text: LiteralString, params: dict[str, Any] | None = None) -> None:
        """For `CALL { ... } IN TRANSACTIONS` and schema statements, which need auto-commit."""
        async with self.driver.session(database=self.database) as s:
            with observed_query(text):
                result = await s.run(text, params or {})
                await result.consume()


def pipelined_begin(session: AsyncSession) -> contextlib.AbstractContextManager[Any]:
    """Inside it, a transaction's BEGIN is sent with its first statement instead of in a round trip
    of its own: what the driver's public `execute_query` does for its one statement, for the
    transaction functions of a read, which may run several. Measured on a national coMissing read:
    ~0.4-0.8 ms less client CPU and one round trip fewer per read (bench/RESULTS.md, "Issue 10,
    round 4"). A failed BEGIN then surfaces from the first `tx.run`, as a retryable error where it
    is one, which the managed transaction retries as before. The driver has no public switch for
    it: `_pipelined_begin` is its own (neo4j 6.4.1, pinned; tests/unit/test_temporal_hydration.py
    checks the version, tests/integration/test_pipelined_reads.py that reads still run through it)."""
    return session._pipelined_begin  # type: ignore[attr-defined,no-any-return]


def record_as_dict(record: Any) -> dict[str, Any]:
    """One record as a plain dict of native values (`to_native` over its values)."""
    return {k: to_native(v) for k, v in zip(record.keys(), record)}


async def run(tx: AsyncManagedTransaction, text: LiteralString, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One statement inside a transaction function, returning plain dicts (timed and traced by
    the name of its query constant: mpdb/observability/queries.py)."""
    with observed_query(text):
        result = await tx.run(text, params or {})
        return [record_as_dict(record) async for record in result]
