"""The pieces behind the access line, the log renderer and the progress lines (no database):
operation labels from schema names only, outcomes, exceptions without their messages."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from graphql import parse
from rich.console import Console
from structlog.testing import capture_logs

from mpdb.logging import configure_logging, safe_exception
from mpdb.observability.graphql import operation_label
from mpdb.observability.progress import Progress
from mpdb.observability.requests import outcome_of


@pytest.mark.parametrize(("document", "name", "label"), [
    ('{ child(id: "X") { id } }', None, "query child"),
    ('{ Quillonia: child(id: "X") { id } }', None, "query child"),  # aliases are client text
    ('query Quillonia_2011 { forces { code } }', None, "query forces"),  # so are operation names
    ('mutation M($i: ReportMissingInput!) { reportMissing(input: $i, idempotencyKey: "k") { episodeId } }', None,
     "mutation reportMissing"),
    ("{ forces { code } localAuthorities { code } }", None, "query multiple"),
    ("{ forces { code } __typename }", None, "query forces"),
    ("{ __typename }", None, "query __typename"),
    ("query A { forces { code } } query B { episode(id: \"E\") { id } }", "B", "query episode"),
    ("query { ...Root } fragment Root on Query { child(id: \"X\") { id } }", None, "query child"),
    ("query { ... on Query { forces { code } } }", None, "query forces"),
    ("query A { forces { code } }", "Nope", None),
])
def test_operation_label_uses_schema_names_only(document: str, name: str | None, label: str | None) -> None:
    assert operation_label(parse(document), name) == label


@pytest.mark.parametrize(("status", "codes", "outcome"), [
    (200, [], "ok"), (302, [], "ok"), (200, ["NOT_FOUND"], "client_error"), (200, ["BAD_USER_INPUT"], "client_error"),
    (401, ["UNAUTHENTICATED"], "client_error"), (429, ["RATE_LIMITED"], "client_error"),
    (200, ["INTERNAL"], "server_error"), (200, ["FORBIDDEN", "INTERNAL"], "server_error"), (500, [], "server_error"),
    (503, [], "unavailable"), (200, ["SERVICE_UNAVAILABLE"], "unavailable"),
    (200, ["INTERNAL", "SERVICE_UNAVAILABLE"], "unavailable"),
])
def test_outcome(status: int, codes: list[str], outcome: str) -> None:
    assert outcome_of(status, codes) == outcome


class _Neo4jLike(Exception):
    code = "Neo.ClientError.Schema.ConstraintValidationFailed"


def _failure() -> BaseException:
    try:
        try:
            raise _Neo4jLike("Node(7) already exists with givenName = 'Quillonia' and dateOfBirth = 2011-07-23")
        except _Neo4jLike as exc:
            secret = "Quillonia"  # a local: never rendered  # noqa: F841
            raise RuntimeError("could not write Quillonia 2011-07-23") from exc
    except RuntimeError as exc:
        return exc


def test_exceptions_are_type_code_and_frames_without_message_or_locals() -> None:
    rendered = safe_exception(_failure())
    assert rendered["type"] == "builtins.RuntimeError" and "neo4j_code" not in rendered
    assert rendered["cause"]["neo4j_code"] == "Neo.ClientError.Schema.ConstraintValidationFailed"
    assert rendered["frames"][0].endswith(" _failure")
    assert "Quillonia" not in json.dumps(rendered) and "2011" not in json.dumps(rendered)


@pytest.fixture
def restored_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_log_lines_of_every_logger_render_exceptions_safely(fmt: str, restored_logging, capsys) -> None:  # type: ignore[no-untyped-def]
    configure_logging(logging.INFO, fmt)
    logging.getLogger("some.library").error("failed", exc_info=_failure())
    structlog.get_logger("mpdb.test").info("request", operation="query child", codes=["INTERNAL"])
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /search?name=Quillonia HTTP/1.1" 200')
    logging.getLogger("strawberry.execution").error("Variable '$input' got invalid value 'Quillonia'")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and not any("Quillonia" in line or "2011" in line for line in lines), lines
    if fmt == "json":
        first, second = map(json.loads, lines)
        assert (first["logger"], first["level"], first["event"]) == ("some.library", "error", "failed")
        assert first["exception"]["cause"]["neo4j_code"].startswith("Neo.ClientError")
        assert (second["logger"], second["operation"], second["codes"]) == ("mpdb.test", "query child", ["INTERNAL"])
    else:
        assert "logger=some.library" in lines[0] and "event=failed" in lines[0] and "level=error" in lines[0]
        assert "operation=\"query child\"" in lines[1]


def test_progress_is_logged_when_not_on_a_terminal() -> None:
    with capture_logs() as logs:
        with Progress(console=Console(file=io.StringIO(), force_terminal=False), log_every=3600) as bar:
            task = bar.add_task("children", total=200)
            for _ in range(200):
                bar.advance(task, 1)
            bar.update(task, total=200, completed=200)  # a repeated final update is not a new line
    assert [e["percent"] for e in logs] == [0.5, *[float(p) for p in range(10, 101, 10)]]
    assert {e["event"] for e in logs} == {"progress"} and logs[-1]["completed"] == 200


def test_progress_shrinking_total_completes_and_terminal_draws_bars_instead() -> None:
    with capture_logs() as logs:
        with Progress(console=Console(file=io.StringIO(), force_terminal=False), log_every=3600) as bar:
            task = bar.add_task("episodes", total=1000)
            bar.advance(task, 894)
            bar.update(task, total=894, completed=894)  # planned totals are upper bounds
    assert [(e["completed"], e["percent"]) for e in logs] == [(894, 89.4), (894, 100.0)]
    out = io.StringIO()
    with capture_logs() as logs:
        with Progress(console=Console(file=out, force_terminal=True), log_every=0) as bar:
            task = bar.add_task("episodes", total=10)
            bar.advance(task, 10)
    assert logs == [] and out.getvalue()


def test_metrics_are_private_by_default_in_prod() -> None:
    from mpdb.settings import Settings

    prod = dict(_env_file=None, env="prod", oauth_issuer="https://idp.example", oauth_jwks_url="https://idp.example/jwks",
                neo4j_uri="bolt://db.example:7687", neo4j_password="x")
    assert Settings(_env_file=None, env="dev").metrics_enabled
    assert Settings(_env_file=None, env="test").metrics_enabled
    assert not Settings(**prod).metrics_enabled
    assert Settings(**prod, metrics_token="scrape-secret").metrics_enabled
    assert Settings(**prod, metrics=True).metrics_enabled
    assert not Settings(_env_file=None, env="dev", metrics=False).metrics_enabled

