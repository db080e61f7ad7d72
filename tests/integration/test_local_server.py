"""The project-managed local Neo4j, for real: a JVM on a free port in a throwaway state dir.

The jars come from the shared dist (~/.cache/mpdb/neo4j-<version>, or MPDB_NEO4J_DIST_DIR), so only
the first run on a machine pays for the Maven download; each test instance has its own conf, data,
logs, pid file and password.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import neo4j
import pytest
from neo4j.exceptions import AuthError

from mpdb.graph.driver import connection_params, create_driver
from mpdb.graph.local_server import (
    NEO4J_VERSION,
    LocalNeo4j,
    LocalNeo4jError,
    MissingToolError,
    PortInUseError,
)
from mpdb.settings import Settings

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(state_dir: Path, port: int | None = None) -> Settings:
    return Settings(env="test", state_dir=state_dir, local_bolt_port=port or free_port(),
                    local_heap="1g", local_pagecache="256m", neo4j_uri=None)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    srv = LocalNeo4j(make_settings(tmp_path / "state"))
    yield srv
    srv.stop(timeout=30)


def run_return_1(uri: str, auth: tuple[str, str]) -> int:
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver, driver.session() as session:
        return session.run("RETURN 1 AS one").single()["one"]


def test_lifecycle(server: LocalNeo4j) -> None:
    assert not server.status().running

    st = server.start(timeout=180)
    assert st.running and st.pid
    assert st.bolt_uri == f"bolt://127.0.0.1:{server.port}"
    assert st.version == NEO4J_VERSION
    assert server.status().running

    # start again: a no-op on the same JVM
    assert server.start().pid == st.pid

    # the stored password works (through the driver module too), a wrong one does not
    uri, user, password = server.credentials()
    assert (server.password_file.stat().st_mode & 0o777) == 0o600
    assert run_return_1(uri, (user, password)) == 1
    assert connection_params(server.settings) == (uri, (user, password))
    with pytest.raises(AuthError):
        run_return_1(uri, (user, password + "-wrong"))

    # APOC Core is loaded
    with neo4j.GraphDatabase.driver(uri, auth=(user, password)) as driver, driver.session() as session:
        assert session.run("RETURN apoc.version() AS v").single()["v"] == NEO4J_VERSION

    # the async driver the app uses
    async def via_async_driver() -> int:
        driver = create_driver(server.settings)
        try:
            records, _, _ = await driver.execute_query("RETURN 1 AS one")
            return records[0]["one"]
        finally:
            await driver.close()

    assert asyncio.run(via_async_driver()) == 1

    with pytest.raises(LocalNeo4jError):
        server.wipe_data()  # refused while running

    assert server.stop(timeout=60) is True
    assert not server.status().running
    assert not server.pid_file.exists()
    assert server.stop() is False  # stopping a stopped server is a no-op
    assert (server.home / "logs" / "debug.log").is_file()


def test_stale_pid_file_and_crash_do_not_block_start(server: LocalNeo4j) -> None:
    # a pid file left behind by a process that is gone
    server.home.mkdir(parents=True, exist_ok=True)
    server.pid_file.write_text(f"{dead_pid()}\n")
    assert not server.status().running
    first = server.start(timeout=180)
    assert first.running

    # a crash: SIGKILL leaves the pid file and data/databases/store_lock behind
    os.kill(first.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.status().running and time.monotonic() < deadline:
        time.sleep(0.05)  # the kill is delivered asynchronously
    assert server.pid_file.exists()
    assert (server.home / "data" / "databases" / "store_lock").exists()
    assert not server.status().running

    second = server.start(timeout=180)
    assert second.running and second.pid != first.pid
    uri, user, password = server.credentials()
    assert run_return_1(uri, (user, password)) == 1
    assert server.stop() is True


def test_port_taken_by_something_else(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        srv = LocalNeo4j(make_settings(tmp_path / "state", port))
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port} is already in use"):
            srv.start(timeout=30)
        assert not srv.status().running
        assert not srv.pid_file.exists()


def test_missing_java_and_maven_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    srv = LocalNeo4j(make_settings(tmp_path / "state"), dist_dir=tmp_path / "dist")
    with pytest.raises(MissingToolError, match="apt-get install openjdk-17"):
        srv.start()
    with pytest.raises(MissingToolError, match="apt-get install maven"):
        srv.provision()
