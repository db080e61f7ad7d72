"""The project-managed local Neo4j: Neo4j 5.26 LTS Community + APOC Core from Maven Central jars.

No Docker and no Neo4j package are needed, only Java 17+ (and Maven for the one-time provision).
Two directories, kept apart so several instances share one copy of the jars:

* the **dist** (read-only once provisioned), shared by every instance of this Neo4j version::

      $MPDB_NEO4J_DIST_DIR  or  ~/.cache/mpdb/neo4j-<version>/
          lib/*.jar          Neo4j and every third-party jar (one Maven dependency graph)
          plugins/*.jar      apoc-core, apoc-common (procedure jars; also put on the classpath)
          launcher/          Launcher.class compiled from neo4j_runtime/Launcher.java
          PROVISIONED        stamp: versions + hashes of pom.xml and Launcher.java

* the **instance** (one DBMS, one store lock, one port), under ``settings.state_dir``::

      <state_dir>/neo4j/
          conf/neo4j.conf    rewritten on every start from Settings (memory, port)
          data/              the store
          logs/              console.log (launcher stdout/stderr), debug.log, security.log, ...
          neo4j.pid          pid of the running JVM
          instance.json      how the running JVM was started (port, version, dist)
          password           generated on first use, mode 600, the only copy of the password

The JVM runs detached (own session), survives the CLI that started it, and is stopped with SIGTERM
(clean shutdown via the launcher's hook), then SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mpdb.settings import PROJECT_ROOT, Settings, get_settings

NEO4J_VERSION = "5.26.19"  # keep equal to <neo4j.version> in neo4j_runtime/pom.xml
APOC_VERSION = "5.26.19"
RUNTIME_DIR = PROJECT_ROOT / "neo4j_runtime"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
PLUGIN_ARTIFACTS = ("apoc-core", "apoc-common")
USER = "neo4j"
BOLT_HOST = "127.0.0.1"
READY_MARK = "MPDB-NEO4J READY"
FAILED_MARK = "MPDB-NEO4J FAILED"

JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)


class LocalNeo4jError(RuntimeError):
    """Base of every error raised by the managed local Neo4j."""


class MissingToolError(LocalNeo4jError):
    """`java` or `mvn` is not installed."""


class ProvisionError(LocalNeo4jError):
    """Maven could not fetch/copy the jars, or the launcher did not compile."""


class PortInUseError(LocalNeo4jError):
    """The Bolt port is held by something that is not this instance."""


class StartupError(LocalNeo4jError):
    """The JVM exited, or did not become ready in time."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    bolt_uri: str
    version: str
    home: Path
    dist: Path
    provisioned: bool


def default_dist_dir(version: str = NEO4J_VERSION) -> Path:
    """Where the jars of `version` live, shared by every instance (and every checkout) on the machine."""
    if env := os.environ.get("MPDB_NEO4J_DIST_DIR"):
        return Path(env)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mpdb" / f"neo4j-{version}"


def _size_bytes(size: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)b?\s*", size.lower())
    if not m:
        raise ValueError(f"not a memory size: {size!r} (use e.g. 512m or 2g)")
    return int(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " ")


def _find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise MissingToolError(
            "`java` not found: the local Neo4j needs Java 17 or 21. Install OpenJDK 17 "
            "(Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`), or set NEO4J_URI to use an "
            "existing Neo4j server instead."
        )
    return java


def _find_mvn() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise MissingToolError(
            "`mvn` not found: provisioning the local Neo4j downloads its jars with Maven 3.8+. "
            "Install Maven (Debian/Ubuntu: `apt-get install maven`), or set NEO4J_URI to use an "
            "existing Neo4j server instead."
        )
    return mvn


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    """An exclusive advisory lock (between processes) for provision/start/stop."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    """True when `pid` runs and is not a zombie (reaps it when it is our own exited child)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (macOS): kill(0) said it exists


def _wait_gone(pid: int, timeout: float) -> None:
    """Wait while `pid` is a zombie: a SIGKILLed JVM's leader turns zombie before its other threads
    finish exiting, and its sockets (the Bolt port) and store lock are released only after that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return  # our own child, now fully reaped
        except ChildProcessError:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                return  # gone (or no /proc)
            if stat.rsplit(")", 1)[1].split()[0] != "Z":
                return  # a live process: not a dying JVM of ours (pid reused)
        time.sleep(0.05)


def _cmdline(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None


class LocalNeo4j:
    """One managed Neo4j instance: `settings.state_dir`/neo4j on 127.0.0.1:`settings.local_bolt_port`."""

    def __init__(self, settings: Settings | None = None, *, dist_dir: Path | None = None) -> None:
        self.settings = settings or get_settings()
        self.port = self.settings.local_bolt_port
        self.home = (self.settings.state_dir / "neo4j").resolve()
        self.dist = (dist_dir or default_dist_dir()).resolve()
        self.conf_file = self.home / "conf" / "neo4j.conf"
        self.logs_dir = self.home / "logs"
        self.console_log = self.logs_dir / "console.log"
        self.pid_file = self.home / "neo4j.pid"
        self.instance_file = self.home / "instance.json"
        self.password_file = self.home / "password"
        self._lock_file = self.home / ".lock"

    # --- public API -----------------------------------------------------------------------

    @property
    def bolt_uri(self) -> str:
        return f"bolt://{BOLT_HOST}:{self.port}"

    def credentials(self) -> tuple[str, str, str]:
        """(uri, user, password) of this instance; generates the password on first use."""
        return self.bolt_uri, USER, self._password()

    def is_provisioned(self) -> bool:
        stamp = self.dist / "PROVISIONED"
        return stamp.is_file() and stamp.read_text() == self._stamp()

    def provision(self, *, force: bool = False) -> bool:
        """Copy the jars into the dist (Maven) and compile the launcher. Returns False when the dist
        already holds this exact version (a stamp file says so), True when it (re)built it."""
        if not force and self.is_provisioned():
            return False
        with _locked(self.dist.parent / f".{self.dist.name}.lock"):
            if not force and self.is_provisioned():
                return False  # another process provisioned it while we waited
            mvn = _find_mvn()
            java = _find_java()
            staging = self.dist.with_name(f"{self.dist.name}.tmp-{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            (staging / "plugins").mkdir(parents=True)
            cmd = [
                mvn, "-B", "-q", "-f", str(RUNTIME_DIR / "pom.xml"),
                f"{MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies",
                "-DincludeScope=runtime", f"-DoutputDirectory={staging / 'lib'}",
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if proc.returncode != 0:
                shutil.rmtree(staging, ignore_errors=True)
                raise ProvisionError(
                    f"Maven could not fetch Neo4j {NEO4J_VERSION} (exit {proc.returncode}):\n"
                    + (proc.stdout + proc.stderr)[-3000:]
                )
            for jar in (staging / "lib").glob("*.jar"):
                if jar.name.startswith(tuple(f"{a}-" for a in PLUGIN_ARTIFACTS)):
                    jar.rename(staging / "plugins" / jar.name)
            if len(list((staging / "plugins").glob("*.jar"))) != len(PLUGIN_ARTIFACTS):
                raise ProvisionError(f"APOC jars missing after the Maven copy in {staging}")
            self._build_launcher(java, staging)
            (staging / "PROVISIONED").write_text(self._stamp())
            old = self.dist.with_name(f"{self.dist.name}.old-{os.getpid()}")
            if self.dist.exists():
                self.dist.rename(old)
            staging.rename(self.dist)
            shutil.rmtree(old, ignore_errors=True)
            return True

    def status(self) -> ServerStatus:
        pid = self._running_pid()
        info = self._instance_info() if pid else {}
        port = int(info.get("port", self.port))
        return ServerStatus(
            running=pid is not None,
            pid=pid,
            bolt_uri=f"bolt://{BOLT_HOST}:{port}",
            version=str(info.get("version", NEO4J_VERSION)),
            home=self.home,
            dist=self.dist,
            provisioned=self.is_provisioned(),
        )

    def start(self, *, wait: bool = True, timeout: float = 180.0) -> ServerStatus:
        """Start the DBMS (provisioning first if needed). A no-op when this instance already runs.
        With `wait`, returns once `RETURN 1` succeeds over Bolt with the stored password."""
        java = _find_java()
        self.provision()
        with _locked(self._lock_file):
            pid = self._running_pid()
            if pid is None:
                pid = self._spawn(java)
        if wait:
            self.wait_ready(timeout=timeout, pid=pid)
        return self.status()

    def stop(self, *, timeout: float = 60.0) -> bool:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns False when nothing was running."""
        with _locked(self._lock_file):
            pid = self._running_pid()
            if pid is None:
                self._clear_run_files()
                return False
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._wait_exit(pid, 10.0)
            _wait_gone(pid, 15.0)
            self._clear_run_files()
            return True

    def wait_ready(self, *, timeout: float = 180.0, pid: int | None = None) -> None:
        """Wait for the launcher's ready line, then for `RETURN 1` over Bolt."""
        import neo4j
        from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired

        pid = pid or self._running_pid()
        deadline = time.monotonic() + timeout
        offset = int(self._instance_info().get("log_offset", 0))
        while True:
            if pid is None or not _pid_alive(pid):
                self._clear_run_files()
                raise StartupError(f"Neo4j exited during startup; see {self.logs_dir}.\n{self._log_tail()}")
            text = self._read_log(offset)
            if FAILED_MARK in text:
                self.stop()
                raise StartupError(f"Neo4j failed to start; see {self.logs_dir}.\n{self._log_tail()}")
            if READY_MARK in text:
                break
            if time.monotonic() > deadline:
                self.stop()
                raise StartupError(f"Neo4j not ready within {timeout:.0f}s; stopped it.\n{self._log_tail()}")
            time.sleep(0.2)
        _, user, password = self.credentials()
        uri = f"bolt://{BOLT_HOST}:{self._instance_info().get('port', self.port)}"
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with neo4j.GraphDatabase.driver(uri, auth=(user, password)) as driver:
                    with driver.session() as session:  # no retries: we loop here
                        session.run("RETURN 1").consume()
                return
            except AuthError:
                raise
            except (ServiceUnavailable, SessionExpired, OSError) as e:
                last = e
                time.sleep(0.3)
        raise StartupError(f"Neo4j logged ready but Bolt at {uri} did not answer: {last}")

    def wipe_data(self) -> None:
        """Delete the store (data/) of a stopped instance; the password and logs stay."""
        if self._running_pid() is not None:
            raise LocalNeo4jError(f"refusing to wipe the data of the running Neo4j at {self.home}")
        shutil.rmtree(self.home / "data", ignore_errors=True)

    # --- internals --------------------------------------------------------------------------

    def _stamp(self) -> str:
        return json.dumps(
            {
                "neo4j": NEO4J_VERSION,
                "apoc": APOC_VERSION,
                "pom": _sha256(RUNTIME_DIR / "pom.xml"),
                "launcher": _sha256(RUNTIME_DIR / "Launcher.java"),
            },
            sort_keys=True,
        )

    def _build_launcher(self, java: str, dist: Path) -> None:
        out = dist / "launcher"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(RUNTIME_DIR / "Launcher.java", out / "Launcher.java")
        javac = Path(java).with_name("javac")
        javac_cmd = str(javac) if javac.is_file() else shutil.which("javac")
        if not javac_cmd:
            return  # a JRE only: started in single-file source mode instead (slower, same result)
        proc = subprocess.run(
            [javac_cmd, "-proc:none", "-nowarn", "-d", str(out), "-cp", self._classpath(dist),
             str(out / "Launcher.java")],
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise ProvisionError(f"compiling the Neo4j launcher failed:\n{proc.stdout}{proc.stderr}")

    @staticmethod
    def _classpath(dist: Path) -> str:
        return os.pathsep.join([str(dist / "launcher"), str(dist / "plugins" / "*"), str(dist / "lib" / "*")])

    def _password(self) -> str:
        if not self.password_file.is_file():
            self.home.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(24) + "\n")
        return self.password_file.read_text().strip()

    def _instance_info(self) -> dict:
        try:
            return json.loads(self.instance_file.read_text())
        except (OSError, ValueError):
            return {}

    def _running_pid(self) -> int | None:
        """The pid of this instance's JVM, or None (a stale pid file is treated as not running)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not _pid_alive(pid):
            return None
        cmd = _cmdline(pid)
        if cmd is not None and str(self.home) not in cmd:
            return None  # the pid was reused by an unrelated process
        return pid

    def _clear_run_files(self) -> None:
        for f in (self.pid_file, self.instance_file):
            with contextlib.suppress(FileNotFoundError):
                f.unlink()

    def _check_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((BOLT_HOST, self.port))
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
                raise PortInUseError(
                    f"Bolt port {BOLT_HOST}:{self.port} is already in use by another process (not the "
                    f"managed Neo4j of {self.home}). Stop that process, choose another port with "
                    f"MPDB_LOCAL_BOLT_PORT, or set NEO4J_URI to use the server that is listening there."
                ) from None

    def _write_conf(self) -> None:
        heap = _size_bytes(self.settings.local_heap)
        tx_max_mb = max(256, heap // 2 // 1024**2)
        lines = [
            "# Written by mpdb/graph/local_server.py on every start: edits are lost.",
            f"server.directories.plugins={self.dist / 'plugins'}",
            f"server.directories.import={self.home / 'import'}",
            f"server.memory.pagecache.size={self.settings.local_pagecache}",
            f"dbms.memory.transaction.total.max={tx_max_mb}m",
            "db.tx_log.rotation.retention_policy=100M size",
            "db.tx_log.rotation.size=64M",
            "db.tx_log.preallocate=false",
            "dbms.usage_report.enabled=false",
            "dbms.security.procedures.unrestricted=apoc.*",
            # Bolt's netty shutdown otherwise idles 2 x 5 s before the JVM can exit.
            "internal.dbms.bolt.netty_server_shutdown_quiet_period=0",
        ]
        self.conf_file.parent.mkdir(parents=True, exist_ok=True)
        self.conf_file.write_text("\n".join(lines) + "\n")

    def _spawn(self, java: str) -> int:
        with contextlib.suppress(OSError, ValueError):
            _wait_gone(int(self.pid_file.read_text().strip()), 15.0)  # a crashed JVM still exiting
        self._clear_run_files()
        self._check_port_free()
        password = self._password()
        assert password
        for d in (self.logs_dir, self.home / "import", self.home / "data"):
            d.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        launcher = self.dist / "launcher"
        main = "Launcher" if (launcher / "Launcher.class").is_file() else str(launcher / "Launcher.java")
        cmd = [
            java, f"-Xms{self.settings.local_heap}", f"-Xmx{self.settings.local_heap}", *JVM_FLAGS,
            "-cp", self._classpath(self.dist), main,
            "--home", str(self.home), "--config", str(self.conf_file),
            "--bolt", f"{BOLT_HOST}:{self.port}", "--password-file", str(self.password_file),
        ]
        with open(self.console_log, "ab") as log:
            offset = log.tell()
            log.write(f"\n=== mpdb: starting Neo4j {NEO4J_VERSION} at {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                cmd, cwd=self.home, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        self.instance_file.write_text(json.dumps({
            "pid": proc.pid, "port": self.port, "version": NEO4J_VERSION, "dist": str(self.dist),
            "log_offset": offset, "started_at": time.time(),
        }))
        return proc.pid

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return True
            time.sleep(0.1)
        return not _pid_alive(pid)

    def _read_log(self, offset: int) -> str:
        try:
            with open(self.console_log, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    def _log_tail(self, lines: int = 30) -> str:
        text = self._read_log(int(self._instance_info().get("log_offset", 0)))
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- {self.console_log} (tail) ---\n{tail}" if tail else ""
