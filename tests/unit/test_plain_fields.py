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


# --- plain fields of object type (and lists of them) -------------------------------------------


@strawberry.type
class Leaf:
    name: str
    n: int | None
    fail: strawberry.Private[str] = ""

    @strawberry.field
    async def later(self) -> str:
        if self.fail == "later":
            raise ValueError("later failed")
        return self.name + "!"

    @strawberry.field
    def soft(self) -> str | None:
        if self.fail == "soft":
            raise ValueError("soft failed")
        return self.name

    @strawberry.field
    def strict(self) -> str:
        if self.fail == "strict":
            raise ValueError("strict failed")
        return self.name


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Tagged(Named):
    tag: str


@strawberry.type
class Box:
    label: str
    leaf: Leaf | None
    must: Leaf
    leaves: list[Leaf]
    maybe: list[Leaf | None] | None
    grid: list[list[Leaf]]
    tagged: Tagged | None


def _leaf(name: str = "l", **kw: Any) -> Leaf:
    return Leaf(name=name, n=kw.pop("n", 1), fail=kw.pop("fail", ""))


def _box(**change: Any) -> Box:
    fields = dict(label="b", leaf=_leaf("a"), must=_leaf("m"), leaves=[_leaf("x"), _leaf("y")],
                  maybe=[_leaf("p"), None], grid=[[_leaf("g1")], [], [_leaf("g2"), _leaf("g3")]],
                  tagged=Tagged(name="t", tag="T"))
    fields.update(change)
    return Box(**fields)


BOX_QUERY = """{ boxes {
  label
  leaf { name n later soft strict }
  must { strict name }
  leaves { name later }
  maybe { soft n __typename }
  grid { name }
  tagged { name tag }
  again: leaf { n }
} }"""

# Each replaces one field of a good box; the comment says what graphql-core does with it.
BOX_CASES: list[dict[str, Any]] = [
    {},
    {"leaf": None},                                          # a null object
    {"must": None},                                          # null in a non-null object field: the box is nulled
    {"leaves": [_leaf("x"), None]},                          # null item in a list of non-null
    {"leaves": None},                                        # null non-null list
    {"leaves": _leaf("x")},                                  # not a list
    {"maybe": None},
    {"maybe": (None, _leaf("q"))},                           # a tuple
    {"grid": [[_leaf("g")], None]},                          # null inner list of a non-null list
    {"leaf": _leaf("a", n="x")},                             # a leaf error inside the object
    {"leaf": _leaf(None)},                                   # non-null leaf null inside: the object is nulled
    {"leaf": _leaf("a", fail="soft")},                       # a resolver error inside, nullable
    {"leaf": _leaf("a", fail="strict")},                     # ... non-null: the object is nulled
    {"must": _leaf("m", fail="strict")},                     # ... inside a non-null object: the box is nulled
    {"leaves": [_leaf("x"), _leaf("y", fail="later")]},      # an async resolver fails in a list item
    {"leaves": [_leaf("x", fail="later"), _leaf(None)]},     # two errors under one list
    {"maybe": [_leaf("p", fail="soft"), _leaf("q", n=2**40)]},
    {"grid": [[_leaf("g", fail="strict")], [_leaf(None)]]},
    {"leaf": ValueError("boom")},                            # an exception as the value
    {"tagged": Tagged(name=None, tag="T")},                  # an object type with is_type_of (interface)
]


def _box_schema(plain: bool) -> strawberry.Schema:
    boxes: list[Box | None] = []

    @strawberry.type
    class Query:
        @strawberry.field
        def boxes(self) -> list[Box | None]:
            return boxes

    schema = strawberry.Schema(query=Query, types=[Tagged],
                               execution_context_class=PlainFieldsExecutionContext if plain else None)
    schema._test_boxes = boxes  # type: ignore[attr-defined]
    return schema


def _run_boxes(schema: strawberry.Schema, boxes: list[Box]) -> tuple[str, list[tuple[str, Any]]]:
    schema._test_boxes[:] = boxes  # type: ignore[attr-defined]
    result = asyncio.run(schema.execute(BOX_QUERY))
    return json.dumps(result.data), [(e.message, e.path) for e in result.errors or ()]


@pytest.mark.parametrize("change", BOX_CASES, ids=[f"{next(iter(c), 'good')}-{i}" for i, c in enumerate(BOX_CASES)])
def test_object_fields_same_answer_and_errors_as_graphql_core(change: dict[str, Any]) -> None:
    boxes = [_box(), _box(**change), _box(label="c")]
    expected = _run_boxes(_box_schema(plain=False), boxes)
    assert _run_boxes(_box_schema(plain=True), boxes) == expected


def test_object_fields_take_the_fast_path() -> None:
    schema = _box_schema(plain=True)
    _run_boxes(schema, [_box()])
    box = schema._schema.type_map["Box"]
    kinds = {name: f.extensions.get(execution.PLAIN_KEY) for name, f in box.fields.items()}
    fast = {name for name, p in kinds.items() if p not in (None, execution._NOT_PLAIN)
            and p[0] == execution.OBJECT_FIELD}
    assert fast == {"leaf", "must", "leaves", "maybe", "grid"}  # `tagged` has an is_type_of check
    assert kinds["tagged"] is execution._NOT_PLAIN
