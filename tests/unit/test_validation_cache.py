"""mpdb/api/extensions/validation.py: one validation per parsed document, never another document's result."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import pytest
import strawberry
from graphql import parse, specified_rules
from strawberry.extensions import ParserCache

from mpdb.api.extensions import validation
from mpdb.api.extensions.validation import CachedValidation, ValidationResults


RULES = tuple(specified_rules)


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "x") -> str:
        return f"hello {name}"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """validation.validate_document's calls, in order."""
    spy = mock.Mock(wraps=validation.validate_document)
    monkeypatch.setattr(validation, "validate_document", spy)
    return spy.call_args_list  # type: ignore[no-any-return]


def documents(calls: list[Any]) -> list[Any]:
    return [c.args[1] for c in calls]


def test_one_validation_per_document_and_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _counting(monkeypatch)
    schema = strawberry.Schema(query=Query)._schema
    results = ValidationResults(maxsize=8)
    good, bad = parse("{ hello }"), parse("{ nope }")
    assert results.validate(schema, good, RULES) == []
    assert results.validate(schema, good, RULES) == []
    first = results.validate(schema, bad, RULES)
    assert [e.message for e in first] == ["Cannot query field 'nope' on type 'Query'."]
    assert results.validate(schema, bad, RULES) is first
    assert documents(seen) == [good, bad]
    # The same text parsed again is another object: validated again, not matched by content.
    again = parse("{ hello }")
    assert results.validate(schema, again, RULES) == []
    assert documents(seen) == [good, bad, again]
    # Other rules: another entry.
    from graphql.validation import NoDeprecatedCustomRule

    results.validate(schema, good, (*RULES, NoDeprecatedCustomRule))
    assert len(seen) == 4


def test_bounded_least_recently_used_out(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _counting(monkeypatch)
    schema = strawberry.Schema(query=Query)._schema
    results = ValidationResults(maxsize=2)
    a, b, c = parse("{ hello }"), parse('{ hello(name: "b") }'), parse('{ hello(name: "c") }')
    for doc in (a, b, a, c):  # c evicts b (a was used after b)
        results.validate(schema, doc, RULES)
    results.validate(schema, a, RULES)
    assert documents(seen) == [a, b, c]
    results.validate(schema, b, RULES)
    assert documents(seen) == [a, b, c, b]


def test_in_a_schema_each_text_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _counting(monkeypatch)
    results = ValidationResults(maxsize=8)
    schema = strawberry.Schema(query=Query, extensions=[lambda: ParserCache(maxsize=8),
                                                        lambda: CachedValidation(results)])
    for _ in range(3):
        ok = asyncio.run(schema.execute('{ hello(name: "a") }'))
        assert ok.data == {"hello": "hello a"}
        refused = asyncio.run(schema.execute("{ hello nope }"))
        assert refused.data is None
        assert [e.message for e in refused.errors or ()] == ["Cannot query field 'nope' on type 'Query'."]
    assert len(seen) == 2
