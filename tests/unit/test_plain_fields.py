"""mpdb/api/execution.py completes plain fields itself: the answers, errors, messages and paths must
be exactly graphql-core's own, for good values and for every kind of bad one."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry

from mpdb.api import execution
from mpdb.api.execution import PlainFieldsExecutionContext


@strawberry.enum
class Colour(Enum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.type
class Item:
    name: str
    note: str | None
    count: int
    ratio: float | None
    id: strawberry.ID
    colour: Colour
    at: datetime | None
    day: date | None
    tags: list[str]
    maybe_tags: list[str | None] | None
    ids: list[strawberry.ID] | None

    @strawberry.field
    def shout(self, word: str) -> str:
        return word.upper()

    @strawberry.field
    async def later(self) -> str:
        return self.name * 2 if isinstance(self.name, str) else "-"


GOOD = dict(name="a", note=None, count=3, ratio=0.5, id=strawberry.ID("x1"), colour=Colour.BLUE,
            at=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC), day=date(2026, 1, 2), tags=["p", "q"],
            maybe_tags=["r", None], ids=[strawberry.ID("i1")])

# Each replaces one attribute of GOOD with something graphql-core must refuse or coerce.
BAD: list[dict[str, Any]] = [
    {"name": None},                  # null in a non-null field
    {"count": "three"},              # Int cannot represent a string
    {"count": 2**40},                # Int out of 32 bits
    {"ratio": "nan?"},               # Float refuses text
    {"colour": "GREEN"},             # not an enum value
    {"tags": ["p", None]},           # null item in a list of non-null
    {"tags": None},                  # null non-null list
    {"tags": "pq"},                  # a string is not a list
    {"maybe_tags": ({"k": 1},)},     # a tuple with an uncoercible item
    {"at": "yesterday"},             # the DateTime scalar's serialize fails
    {"count": ValueError("boom")},   # an exception as the value
]

# Values graphql-core accepts by coercion, without an error.
COERCED: list[dict[str, Any]] = [
    {"maybe_tags": [1, None]},       # an int item as a string
    {"ids": (1, 2)},                 # a tuple of ints as IDs
    {"ratio": 2},                    # an int as a Float
]

# Plain fields around a resolver, an async resolver and __typename: the entries must keep this order.
QUERY = """{ items { name note __typename count shout(word: "hi") ratio id colour later at day tags maybeTags ids }
             first: items { later name } }"""


def _schema(plain: bool) -> strawberry.Schema:
    items: list[Item] = []

    @strawberry.type
    class Query:
        @strawberry.field
        def items(self) -> list[Item | None]:
            return items

    schema = strawberry.Schema(query=Query,
                               execution_context_class=PlainFieldsExecutionContext if plain else None)
    schema._test_items = items  # type: ignore[attr-defined]
    return schema


def _run(schema: strawberry.Schema, rows: list[dict[str, Any]]) -> tuple[str, list[tuple[str, Any]]]:
    schema._test_items[:] = [Item(**row) for row in rows]  # type: ignore[attr-defined]
    result = asyncio.run(schema.execute(QUERY))
    # As text: the order of every object's entries is part of the answer.
    return json.dumps(result.data), [(e.message, e.path) for e in result.errors or ()]


CASES = [({}, False)] + [(c, True) for c in BAD] + [(c, False) for c in COERCED]


@pytest.mark.parametrize(("change", "refused"), CASES,
                         ids=[f"{next(iter(c), 'good')}-{i}" for i, (c, _) in enumerate(CASES)])
def test_same_answer_and_errors_as_graphql_core(change: dict[str, Any], refused: bool) -> None:
    rows = [GOOD, {**GOOD, **change}, GOOD]
    expected = _run(_schema(plain=False), rows)
    assert _run(_schema(plain=True), rows) == expected
    assert bool(expected[1]) == refused


def test_plain_fields_take_the_fast_path() -> None:
    schema = _schema(plain=True)
    _run(schema, [GOOD])
    item = schema._schema.type_map["Item"]
    plain = {name for name, f in item.fields.items()
             if f.extensions.get(execution.PLAIN_KEY) not in (None, execution._NOT_PLAIN)}
    # `shout` and `later` have resolvers (and `shout` an argument): graphql-core's own path.
    assert plain == {"name", "note", "count", "ratio", "id", "colour", "at", "day", "tags", "maybeTags", "ids"}
