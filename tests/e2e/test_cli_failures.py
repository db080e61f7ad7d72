"""The real `mpdb` command failing for real reasons: one line on stderr, its own exit status.

Real conditions only: a closed port, a running Neo4j given the wrong password, a PATH without
java, ports held by real sockets. `mpdb --verbose` adds the traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import free_port, graph_connection
from mpdb.cli_errors import EXIT_AUTH, EXIT_CONFIG, EXIT_NO_JAVA, EXIT_PORT_IN_USE, EXIT_UNREACHABLE
from mpdb.settings import Settings

pytestmark = pytest.mark.integration

MPDB = str(Path(sys.executable).parent / "mpdb")


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None, path: str | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`mpdb *args` with none of this process's MPDB_/NEO4J_ settings, in an empty directory (no .env)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MPDB_", "NEO4J_", "JAVA_HOME"))}
    clean |= {"MPDB_STATE_DIR": str(tmp_path / "state"), **(env or {})}
    if path is not None:
        clean["PATH"] = path
    return subprocess.run([MPDB, *args], env=clean, cwd=tmp_path, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def listening() -> Iterator[int]:
    """A port held by a real listening socket (not a Neo4j, not an mpdb)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


@pytest.mark.parametrize(("uri", "problem"), [
    ("bolt:/127.0.0.1:7705", "'bolt:/127.0.0.1:7705' has no '//' after 'bolt:'"),
    ("bolt://127.0.0.1:99999", "'bolt://127.0.0.1:99999': the port is not a number from 1 to 65535"),
    ("http://127.0.0.1:7474", "'http://127.0.0.1:7474': unknown scheme 'http'"),
    ("bolt://:7687", "'bolt://:7687' names no host"),
])
def test_malformed_neo4j_uri(tmp_path: Path, uri: str, problem: str) -> None:
    result = run(tmp_path, "schema", "status", env={"NEO4J_URI": uri, "NEO4J_PASSWORD": "x"})
    assert result.returncode == EXIT_CONFIG
    line = one_line(result)
    assert line.startswith(f"error: invalid configuration: NEO4J_URI: {problem}")
    assert "localhost:7687" not in line


@pytest.mark.parametrize("managed", [False, True], ids=["NEO4J_URI", "managed"])
def test_unreachable_server_fails_fast(tmp_path: Path, managed: bool) -> None:
    closed = free_port()  # bound and released: nothing listens there
    env = {"MPDB_LOCAL_BOLT_PORT": str(closed)} if managed else \
        {"NEO4J_URI": f"bolt://127.0.0.1:{closed}", "NEO4J_PASSWORD": "x"}
    started = time.monotonic()
    result = run(tmp_path, "schema", "status", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == EXIT_UNREACHABLE
    line = one_line(result)
    assert f"bolt://127.0.0.1:{closed}" in line and "is unreachable (connection refused)" in line
    assert ("start it with `mpdb db start`" in line) == managed
    assert elapsed < 20, f"took {elapsed:.1f} s"  # ~2 s of it is starting Python; was 38-66 s


def wrong_password_env(neo4j_settings: Settings) -> dict[str, str]:
    conn = graph_connection(neo4j_settings)
    if "neo4j_password" not in conn:
        pytest.skip("the test database has no authentication")
    return {"NEO4J_URI": str(conn["neo4j_uri"]), "NEO4J_USERNAME": str(conn["neo4j_user"]),
            "NEO4J_PASSWORD": "not-" + str(conn["neo4j_password"])}


def test_wrong_password(tmp_path: Path, neo4j_settings: Settings) -> None:
    env = wrong_password_env(neo4j_settings)
    result = run(tmp_path, "schema", "status", env=env)
    assert result.returncode == EXIT_AUTH
    assert one_line(result) == (f"error: Neo4j at {env['NEO4J_URI']} refused the credentials of user "
                                f"{env['NEO4J_USERNAME']!r}: check NEO4J_USERNAME and NEO4J_PASSWORD")


def test_verbose_adds_the_traceback(tmp_path: Path, neo4j_settings: Settings) -> None:
    result = run(tmp_path, "--verbose", "schema", "status", env=wrong_password_env(neo4j_settings))
    assert result.returncode == EXIT_AUTH
    assert "Traceback (most recent call last)" in result.stderr
    assert "neo4j.exceptions.AuthError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: Neo4j at ")


def test_missing_java(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent  # python and mpdb, no java
    assert not (bin_dir / "java").exists()
    result = run(tmp_path, "db", "start", env={"MPDB_LOCAL_BOLT_PORT": str(free_port())}, path=str(bin_dir))
    assert result.returncode == EXIT_NO_JAVA
    assert one_line(result).startswith("error: `java` not found: the local Neo4j needs Java 17 or 21.")


def test_bolt_port_taken(tmp_path: Path, listening: int) -> None:
    result = run(tmp_path, "db", "start", env={"MPDB_LOCAL_BOLT_PORT": str(listening)})
    assert result.returncode == EXIT_PORT_IN_USE
    assert one_line(result).startswith(f"error: Bolt port 127.0.0.1:{listening} is already in use by another process")
    assert not (tmp_path / "state" / "neo4j" / "neo4j.pid").exists()  # no JVM was started


def test_http_port_taken(tmp_path: Path, listening: int) -> None:
    result = run(tmp_path, "serve", "--port", str(listening), env={"NEO4J_URI": "bolt://127.0.0.1:1"})
    assert result.returncode == EXIT_PORT_IN_USE
    assert one_line(result) == (f"error: HTTP port 127.0.0.1:{listening} is already in use by another process: "
                                "stop it, or choose another port with --port or MPDB_PORT")


def test_success_is_unchanged(tmp_path: Path, neo4j_settings: Settings, neo4j_driver) -> None:  # type: ignore[no-untyped-def]
    """The handler only speaks on failure: a working command prints its result and exits 0."""
    conn = graph_connection(neo4j_settings)
    env = {"NEO4J_URI": str(conn["neo4j_uri"])}
    if "neo4j_password" in conn:
        env |= {"NEO4J_USERNAME": str(conn["neo4j_user"]), "NEO4J_PASSWORD": str(conn["neo4j_password"])}
    result = run(tmp_path, "schema", "status", env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[0].startswith("0001_") and result.stdout.count("PENDING") == 0
