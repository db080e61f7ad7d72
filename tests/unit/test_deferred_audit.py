"""Root query fields wait for the audit commits their service started (DEFERRED_AUDIT,
mpdb/api/execution.py): the value is built meanwhile, but it joins the answer only once the commit
is done, and a failed commit fails the field exactly as a commit awaited inside the service did."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from mpdb.api.execution import PlainFieldsExecutionContext
from mpdb.services.context import DEFERRED_AUDIT

commits: list[asyncio.Future[Any]] = []
seen: dict[str, Any] = {}


@strawberry.type
class Record:
    name: str


def _commit() -> None:
    pending = DEFERRED_AUDIT.get()
    seen["pending"] = pending
    if pending is not None:  # what ServiceContext.consulted does inside a query
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        commits.append(fut)
        pending.append(fut)


@strawberry.type
class Query:
    @strawberry.field
    async def record(self, name: str) -> Record | None:
        _commit()
        return Record(name=name)

    @strawberry.field
    async def plain(self) -> str:
        return "no audit"


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def touch(self) -> str:
        _commit()
        return "done"


schema = strawberry.Schema(query=Query, mutation=Mutation, execution_context_class=PlainFieldsExecutionContext)


async def test_the_field_joins_the_answer_only_once_its_commit_is_done() -> None:
    commits.clear()
    run = asyncio.ensure_future(schema.execute('{ a: record(name: "x") { name } b: plain }'))
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(commits) == 1 and not run.done()  # the value is built, the commit still pending
    commits[0].set_result([])
    result = await run
    assert result.errors is None
    assert result.data == {"a": {"name": "x"}, "b": "no audit"}


async def test_a_failed_commit_fails_its_field_and_only_its_field() -> None:
    commits.clear()
    run = asyncio.ensure_future(schema.execute('{ a: record(name: "x") { name } b: record(name: "y") { name } }'))
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(commits) == 2 and not run.done()
    commits[0].set_exception(RuntimeError("audit events not recorded"))
    commits[1].set_result([])
    result = await run
    assert result.data == {"a": None, "b": {"name": "y"}}
    assert [(e.message, e.path) for e in result.errors or ()] == [("audit events not recorded", ["a"])]


async def test_mutations_keep_the_services_own_wait() -> None:
    commits.clear()
    result = await schema.execute("mutation { touch }")
    assert result.data == {"touch": "done"}
    assert seen["pending"] is None and commits == []
