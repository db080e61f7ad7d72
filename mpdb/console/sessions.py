"""Server-side console sessions: the browser holds only a random id in an HttpOnly cookie.

The access token, the verified principal, the CSRF token and the purpose stay in this process.
A session ends at the earliest of: sign-out, the access token's expiry (the user signs in again;
no refresh tokens are kept in the browser or here), or `idle` without a request.

Kept in process memory: one uvicorn process serves the console (`mpdb serve`). Behind several
processes, pin the console's users to one (sticky sessions) or put a shared store behind the same
interface; nothing else changes. Restarting the process signs everyone out, which is the safe
failure for a system holding children's records.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mpdb.auth.principal import Principal

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


class SessionStore:
    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._sessions: dict[str, ConsoleSession] = {}
        self._pending: dict[str, PendingLogin] = {}

    # --- sign-in in progress ----------------------------------------------------------------
    def begin_login(self, redirect_uri: str, next_url: str) -> PendingLogin:
        now = self._clock()
        if len(self._pending) >= _MAX_PENDING_LOGINS:
            # Anyone can start a sign-in: bound the memory it takes. Expired ones go first, then the
            # oldest (dicts keep insertion order), which at worst makes a slow user start again.
            live = [(k, p) for k, p in self._pending.items() if now - p.created < LOGIN_TTL_SECONDS]
            self._pending = dict(live[-(_MAX_PENDING_LOGINS - 1):])
        pending = PendingLogin(
            state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64), redirect_uri=redirect_uri, next_url=next_url, created=now,
        )
        self._pending[pending.state] = pending
        return pending

    def finish_login(self, state: str) -> PendingLogin | None:
        """The pending sign-in for `state`, removed (a state is good for one callback only)."""
        pending = self._pending.pop(state, None)
        if pending is None or self._clock() - pending.created > LOGIN_TTL_SECONDS:
            return None
        return pending

    # --- sessions ---------------------------------------------------------------------------
    def create(self, *, principal: Principal, access_token: str, id_token: str, user_name: str,
               agency_name: str, expires_at: float) -> ConsoleSession:
        now = self._clock()
        self._prune(now)
        session = ConsoleSession(
            id=secrets.token_urlsafe(32), principal=principal, access_token=access_token, id_token=id_token,
            user_name=user_name, agency_name=agency_name, expires_at=expires_at, last_seen=now,
        )
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> ConsoleSession | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self._clock()
        if now >= session.expires_at or now - session.last_seen > self.idle_seconds:
            del self._sessions[session_id]
            return None
        session.last_seen = now
        return session

    def delete(self, session_id: str | None) -> ConsoleSession | None:
        return self._sessions.pop(session_id, None) if session_id else None

    def _prune(self, now: float) -> None:
        stale = [k for k, s in self._sessions.items()
                 if now >= s.expires_at or now - s.last_seen > self.idle_seconds]
        for key in stale:
            del self._sessions[key]
