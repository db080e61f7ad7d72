"""Server-side console sessions: the browser holds only a random id in an HttpOnly cookie.

The access token, the verified principal, the CSRF token and the purpose stay in this process.
A session ends at the earliest of: sign-out, the access token's expiry (the user signs in again;
no refresh tokens are kept in the browser or here), or `idle` without a request.

Kept in mpdb.shared_state: a SQLite file shared by the workers of `mpdb serve --workers N` on one
host (a browser's requests land on any worker), or process memory with one worker. Several hosts
need sticky sessions at the load balancer, or another store behind this interface (docs/DEPLOY.md).
Restarting `mpdb serve` signs everyone out (it empties the shared files), which is the safe failure
for a system holding children's records.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.shared_state import SharedDb

SESSION_COOKIE = "mpdb_session"
LOGIN_COOKIE = "mpdb_login"  # binds a sign-in in progress to the browser that started it
LOGIN_TTL_SECONDS = 600.0
_MAX_PENDING_LOGINS = 10_000


@dataclass
class ConsoleSession:
    id: str
    principal: Principal
    access_token: str
    id_token: str
    user_name: str
    agency_name: str
    expires_at: float  # the access token's exp
    last_seen: float
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    purpose: str | None = None  # asked once per session; changeable at any time (/purpose)


@dataclass(frozen=True)
class PendingLogin:
    """What the callback must match: the state it was sent, the PKCE verifier and nonce to prove."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_url: str
    created: float


_SCHEMA = """
CREATE TABLE IF NOT EXISTS console_session (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS console_login (
    state TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS console_login_created ON console_login (created);
"""


def _session_json(session: ConsoleSession) -> str:
    data = asdict(session)
    p = session.principal
    data["principal"] = {"subject": p.subject, "client_id": p.client_id, "agency_id": p.agency_id,
                         "agency_kind": p.agency_kind.value, "role": p.role.value,
                         "scopes": sorted(s.value for s in p.scopes)}
    del data["id"], data["expires_at"], data["last_seen"]
    return json.dumps(data)


def _session_from(row: Any) -> ConsoleSession:
    session_id, text, expires_at, last_seen = row
    data = json.loads(text)
    p = data.pop("principal")
    principal = Principal(subject=p["subject"], client_id=p["client_id"], agency_id=p["agency_id"],
                          agency_kind=AgencyKind(p["agency_kind"]), role=Role(p["role"]),
                          scopes=frozenset(Scope(s) for s in p["scopes"]))
    return ConsoleSession(id=session_id, principal=principal, expires_at=expires_at, last_seen=last_seen, **data)


class SessionStore:
    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.time,
                 path: Path | None = None) -> None:
        """`path`: the SQLite file the workers share; None keeps everything in this process."""
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._db = SharedDb(path, _SCHEMA)

    # --- sign-in in progress ----------------------------------------------------------------
    def begin_login(self, redirect_uri: str, next_url: str) -> PendingLogin:
        now = self._clock()
        pending = PendingLogin(
            state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64), redirect_uri=redirect_uri, next_url=next_url, created=now,
        )
        with self._db.transaction() as conn:
            (count,) = conn.execute("SELECT count(*) FROM console_login").fetchone()
            if count >= _MAX_PENDING_LOGINS:
                # Anyone can start a sign-in: bound the space it takes. Expired ones go first, then
                # the oldest, which at worst makes a slow user start again.
                conn.execute("DELETE FROM console_login WHERE created <= ?", (now - LOGIN_TTL_SECONDS,))
                conn.execute("DELETE FROM console_login WHERE state NOT IN "
                             "(SELECT state FROM console_login ORDER BY created DESC, rowid DESC LIMIT ?)",
                             (_MAX_PENDING_LOGINS - 1,))
            conn.execute("INSERT INTO console_login (state, data, created) VALUES (?, ?, ?)",
                         (pending.state, json.dumps(asdict(pending)), now))
        return pending

    def finish_login(self, state: str) -> PendingLogin | None:
        """The pending sign-in for `state`, removed (a state is good for one callback only)."""
        with self._db.transaction() as conn:
            row = conn.execute("DELETE FROM console_login WHERE state = ? RETURNING data", (state,)).fetchone()
        if row is None:
            return None
        pending = PendingLogin(**json.loads(row[0]))
        if self._clock() - pending.created > LOGIN_TTL_SECONDS:
            return None
        return pending

    def pending_logins(self) -> int:
        with self._db.transaction() as conn:
            return int(conn.execute("SELECT count(*) FROM console_login").fetchone()[0])

    # --- sessions ---------------------------------------------------------------------------
    def create(self, *, principal: Principal, access_token: str, id_token: str, user_name: str,
               agency_name: str, expires_at: float) -> ConsoleSession:
        now = self._clock()
        session = ConsoleSession(
            id=secrets.token_urlsafe(32), principal=principal, access_token=access_token, id_token=id_token,
            user_name=user_name, agency_name=agency_name, expires_at=expires_at, last_seen=now,
        )
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM console_session WHERE expires_at <= ? OR last_seen < ?",
                         (now, now - self.idle_seconds))
            conn.execute("INSERT INTO console_session (id, data, expires_at, last_seen) VALUES (?, ?, ?, ?)",
                         (session.id, _session_json(session), session.expires_at, now))
        return session

    def get(self, session_id: str | None) -> ConsoleSession | None:
        if not session_id:
            return None
        now = self._clock()
        with self._db.transaction() as conn:
            row = conn.execute("SELECT id, data, expires_at, last_seen FROM console_session WHERE id = ?",
                               (session_id,)).fetchone()
            if row is None:
                return None
            session = _session_from(row)
            if now >= session.expires_at or now - session.last_seen > self.idle_seconds:
                conn.execute("DELETE FROM console_session WHERE id = ?", (session_id,))
                return None
            conn.execute("UPDATE console_session SET last_seen = ? WHERE id = ?", (now, session_id))
        session.last_seen = now
        return session

    def set_purpose(self, session: ConsoleSession, purpose: str) -> None:
        """Record the purpose the user gave, for every worker's later requests."""
        session.purpose = purpose
        with self._db.transaction() as conn:
            conn.execute("UPDATE console_session SET data = ? WHERE id = ?", (_session_json(session), session.id))

    def delete(self, session_id: str | None) -> ConsoleSession | None:
        if not session_id:
            return None
        with self._db.transaction() as conn:
            row = conn.execute("DELETE FROM console_session WHERE id = ? "
                               "RETURNING id, data, expires_at, last_seen", (session_id,)).fetchone()
        return None if row is None else _session_from(row)

    def close(self) -> None:
        self._db.close()
