"""The pure parts of the /graphql router: which responses are refusals (HTTP 400) and the JSON
nesting check. The HTTP behaviour itself is tests/e2e/test_bad_input.py's."""

from __future__ import annotations

import pytest

from mpdb.api.graphql_router import MAX_JSON_DEPTH, _depth_exceeds, refused_status


@pytest.mark.parametrize(("response", "status"), [
    ({"data": None, "errors": [{"message": "x", "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}]}, 400),
    ({"data": None, "errors": [{"message": "x", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}, 400),
    ({"errors": [{"message": "x", "extensions": {"code": "BAD_USER_INPUT"}}]}, 400),
    # raised by a resolver (it has a path): execution ran, 200 as GraphQL has it
    ({"data": None, "errors": [{"message": "x", "path": ["child"], "extensions": {"code": "BAD_USER_INPUT"}}]}, None),
    ({"data": {"child": None}, "errors": [{"message": "x", "extensions": {"code": "BAD_USER_INPUT"}}]}, None),
    # not a client error of the document: left alone (another mapping may apply)
    ({"data": None, "errors": [{"message": "x", "extensions": {"code": "INTERNAL"}}]}, None),
    ({"data": None, "errors": [{"message": "x", "extensions": {"code": "GRAPHQL_PARSE_FAILED"}},
                               {"message": "y", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]}, None),
    ({"data": {"forces": []}}, None),
])
def test_refused_status(response: dict, status: int | None) -> None:  # type: ignore[type-arg]
    assert refused_status(response) == status


def test_json_depth_limit_is_exact() -> None:
    def nested(depth: int) -> object:
        value: object = 1
        for _ in range(depth):
            value = [value]
        return value

    assert not _depth_exceeds(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)
    assert _depth_exceeds(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)
    assert _depth_exceeds({"a": {"b": nested(MAX_JSON_DEPTH - 1)}}, MAX_JSON_DEPTH)
    assert not _depth_exceeds("scalar", MAX_JSON_DEPTH)
