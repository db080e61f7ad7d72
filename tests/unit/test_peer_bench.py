"""The peer benchmark's pieces that need neither Neo4j nor node: the wire form of parameters and
rows, the row comparison, and the GraphQL operations it sends mpdb (valid against the schema)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from graphql import build_schema, parse, validate
from neo4j.time import DateTime as NeoDateTime

from bench.peer.extract import canonical, compare_rows, tag_param
from bench.peer.run import DEFAULT_QUERIES, http_operation
from bench.queries import QUERIES

SDL = Path(__file__).resolve().parents[2] / "graphql" / "schema.graphql"


def test_parameters_keep_their_neo4j_types_on_the_wire() -> None:
    at = datetime(2026, 5, 1, 9, 30, 15, 250, tzinfo=timezone(timedelta(hours=1)))
    assert tag_param({"n": 3, "b": True, "s": "x", "f": 0.5, "none": None, "at": at, "d": date(2026, 5, 1),
                      "ids": ["a", "b"], "pairs": [[1, 2]]}) == {
        "n": {"$int": "3"}, "b": True, "s": "x", "f": 0.5, "none": None,
        "at": {"$dt": [2026, 5, 1, 9, 30, 15, 250000, 3600]}, "d": {"$date": [2026, 5, 1]},
        "ids": ["a", "b"], "pairs": [[{"$int": "1"}, {"$int": "2"}]]}


def test_driver_values_take_the_form_the_peer_returns() -> None:
    neo = NeoDateTime(2026, 5, 1, 9, 30, 15, 123, tzinfo=UTC)
    assert canonical({"at": neo, "n": [1, 2.5, None]}) == {"at": {"$dt": [2026, 5, 1, 9, 30, 15, 123, 0]},
                                                           "n": [1, 2.5, None]}


def test_rows_compare_exactly_then_as_multisets_and_say_where_they_differ() -> None:
    driver = [{"xs": [{"id": "a"}, {"id": "b"}], "n": 2.0}]
    assert compare_rows([{"xs": [{"id": "a"}, {"id": "b"}], "n": 2}], driver) == ("exact", None)
    assert compare_rows([{"xs": [{"id": "b"}, {"id": "a"}], "n": 2}], driver) == ("unordered", None)
    mode, where = compare_rows([{"xs": [{"id": "a"}, {"id": "c"}], "n": 2}], driver)
    assert mode == "different" and where is not None and where.startswith("[0].xs[1].id")


def test_the_operations_sent_to_mpdb_are_valid_against_its_schema() -> None:
    schema = build_schema(SDL.read_text())
    params = {"asOf": datetime(2026, 12, 1, tzinfo=UTC), "childId": "CH-1", "forceChildId": "CH-2"}
    by_name = {q.name: q for q in QUERIES}
    for name in DEFAULT_QUERIES:
        op = http_operation(by_name[name], params)
        assert validate(schema, parse(op["query"])) == [], name
    risk = http_operation(by_name["riskProfile"], params)
    # adults.children runs a statement per adult that riskProfile's service does not: left out.
    assert "childrenByForce" in risk["query"] and "forces" not in risk["query"]
    assert risk["variables"] == {"childId": "CH-1", "asOf": "2026-12-01T00:00:00+00:00"}
