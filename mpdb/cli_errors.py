"""What the `mpdb` command prints and exits with when it fails for a reason the operator can fix.

One table, used by the one handler around every command (mpdb/cli.py `MpdbTyper`): the failure
becomes one line on stderr naming the problem and the fix, and a distinct exit status
(README.md, "Exit status"). `mpdb --verbose ...` prints the traceback as well. A command that
reports its own outcome (`mpdb import`: 1 rows rejected, 2 file refused, 75 interrupted) exits
through `typer.Exit` and never reaches this table.

The codes follow sysexits(3) where one fits.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

EXIT_UNREACHABLE = 69  # EX_UNAVAILABLE: Neo4j does not answer
EXIT_PORT_IN_USE = 71  # EX_OSERR: the OS refused to bind the port (something else holds it)
EXIT_NO_JAVA = 72  # EX_OSFILE: a program the local Neo4j needs (java, mvn) is not installed
EXIT_AUTH = 77  # EX_NOPERM: Neo4j refused the user name / password
EXIT_CONFIG = 78  # EX_CONFIG: a setting is malformed (NEO4J_URI, MPDB_*)


@dataclass(frozen=True)
class Failure:
    code: int
    message: str


class PortInUse(Exception):
    """The HTTP port `mpdb serve` was asked to listen on is taken."""


def explain(exc: BaseException) -> Failure | None:
    """The one-line report of `exc`, or None when it is not a failure the operator can fix (a bug)."""
    from neo4j.exceptions import AuthError
    from pydantic import ValidationError

    from mpdb.graph.errors import is_unavailable
    from mpdb.graph.local_server import MissingToolError, PortInUseError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return Failure(EXIT_CONFIG, "invalid configuration: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()))
    if isinstance(exc, MissingToolError):
        return Failure(EXIT_NO_JAVA, str(exc))
    if isinstance(exc, (PortInUseError, PortInUse)):
        return Failure(EXIT_PORT_IN_USE, str(exc))
    if isinstance(exc, AuthError) or _cause(exc, AuthError) is not None:
        return Failure(EXIT_AUTH, f"Neo4j at {_where()} refused the credentials of user {_user()!r}: "
                                  f"{_credentials_hint()}")
    if is_unavailable(exc):
        return Failure(EXIT_UNREACHABLE, f"Neo4j at {_where()} is unreachable ({_reason(exc)}): "
                                         f"{_unreachable_hint()}")
    return None


def port_in_use(host: str, port: int) -> PortInUse | None:
    """A PortInUse error when `host:port` cannot be bound now, else None."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                return None  # let the server report anything else itself
            return PortInUse(f"HTTP port {host}:{port} is already in use by another process: stop it, or "
                             "choose another port with --port or MPDB_PORT")
    return None


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, kind):
            return current
        current = current.__cause__
    return None


def _settings():  # type: ignore[no-untyped-def]
    from mpdb.settings import get_settings

    try:
        return get_settings()
    except Exception:  # noqa: BLE001 - describing a failure must not fail
        return None


def _where() -> str:
    settings = _settings()
    if settings is None:
        return "the configured server"
    if settings.neo4j_uri:
        return settings.neo4j_uri
    return f"bolt://127.0.0.1:{settings.local_bolt_port} (the managed local Neo4j)"


def _user() -> str:
    settings = _settings()
    return settings.neo4j_user if settings is not None and settings.neo4j_uri else "neo4j"


def _credentials_hint() -> str:
    settings = _settings()
    if settings is not None and not settings.neo4j_uri:
        return f"the password is the one in {settings.state_dir / 'neo4j' / 'password'}; was the store made with another?"
    return "check NEO4J_USERNAME and NEO4J_PASSWORD"


def _unreachable_hint() -> str:
    settings = _settings()
    if settings is not None and not settings.neo4j_uri:
        return "start it with `mpdb db start`"
    return "check that the server runs and NEO4J_URI names it"


def _reason(exc: BaseException) -> str:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, ConnectionRefusedError) or (
                isinstance(current, OSError) and current.errno == errno.ECONNREFUSED):
            return "connection refused"
        if isinstance(current, TimeoutError):
            return "no answer in time"
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.lower()
        current = current.__cause__ or current.__context__
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Connect call failed" in str(exc) or "Errno 111" in str(exc):
        return "connection refused"
    return text[:160]
