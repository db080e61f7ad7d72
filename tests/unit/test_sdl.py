"""The checked-in SDL is the public contract: it must match the code exactly."""

from pathlib import Path

from mpdb.api.schema import export_sdl
from mpdb.settings import PROJECT_ROOT


def test_checked_in_sdl_matches_the_code() -> None:
    checked_in = (PROJECT_ROOT / "graphql" / "schema.graphql").read_text(encoding="utf-8")
    assert checked_in == export_sdl(), (
        "graphql/schema.graphql is out of date: run `make sdl` (mpdb export-schema) and commit it"
    )


def test_example_operations_parse_against_the_schema() -> None:
    from graphql import parse, validate

    schema = __import__("mpdb.api.schema", fromlist=["build_schema"]).build_schema(
        __import__("mpdb.settings", fromlist=["Settings"]).Settings(env="dev")
    )
    ops = sorted(Path(PROJECT_ROOT / "graphql" / "operations").glob("*.graphql"))
    assert ops, "graphql/operations/ holds the example operations users copy"
    for op in ops:
        errors = validate(schema._schema, parse(op.read_text(encoding="utf-8")))
        assert not errors, f"{op.name}: {errors}"
