"""State the API's worker processes share: one SQLite file per store, or process memory.

`mpdb serve --workers N` runs N uvicorn processes; a browser's sign-in and later requests, and an
agency's requests, land on any of them. The console's sessions and sign-ins in progress
(mpdb/console/sessions.py), the dev IdP's authorization codes (mpdb/auth/dev_idp.py) and the
per-agency rate limit (mpdb/api/rate_limit.py) therefore keep their state here: in a SQLite file
under `Settings.shared_dir` when there is one (several processes on one host; SQLite's own file
locking serialises writers, `BEGIN IMMEDIATE` makes each read-modify-write atomic), otherwise in an
in-memory SQLite database private to the process (one worker, and the unit tests).

Several hosts cannot share a SQLite file: docs/DEPLOY.md says what such a deployment needs.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A writer waits this long for another process's transaction; every transaction here is a few
# statements on one row, so waiting this long means something is wrong.
_BUSY_TIMEOUT_MS = 5_000


class SharedDb:
    """One SQLite connection, used under a thread lock (uvicorn runs sync dependencies in a thread
    pool) and, for a file, across processes through SQLite's locking."""

    def __init__(self, path: Path | None, schema: str) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Holds access tokens and session ids: readable by the service account only.
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
        self._conn = sqlite3.connect(str(path) if path is not None else ":memory:",
                                     isolation_level=None, check_same_thread=False,
                                     timeout=_BUSY_TIMEOUT_MS / 1000)
        self._lock = threading.Lock()
        with self._lock:
            if path is not None:
                # WAL: readers never wait for the writer. synchronous=NORMAL: a power cut may lose the
                # last transactions, which signs users out or forgets spent tokens; both are safe.
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction: no other process writes until it ends."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def shared_file(shared_dir: Path | None, name: str) -> Path | None:
    return None if shared_dir is None else Path(shared_dir) / f"{name}.sqlite"


def reset_shared_dir(shared_dir: Path) -> None:
    """Forget every session, sign-in in progress, code and bucket: `mpdb serve` calls this once
    before starting its workers, so restarting the server signs everyone out, as one process did."""
    if shared_dir.is_dir():
        for entry in shared_dir.iterdir():
            if entry.suffix in (".sqlite", ".sqlite-wal", ".sqlite-shm"):
                entry.unlink(missing_ok=True)
