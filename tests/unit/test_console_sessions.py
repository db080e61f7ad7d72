"""Console sessions and sign-ins in progress: expiry, one use, bounded memory (an injectable clock)."""

from __future__ import annotations

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.console import sessions
from mpdb.console.sessions import LOGIN_TTL_SECONDS, SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


PRINCIPAL = Principal(subject="u", client_id="mpdb-console", agency_id="E10000016",
                      agency_kind=AgencyKind.LOCAL_AUTHORITY, role=Role.LA_MISSING_LEAD,
                      scopes=frozenset({Scope.CHILD_READ}))


def make(store: SessionStore, clock: Clock, lifetime: float = 900):  # type: ignore[no-untyped-def]
    return store.create(principal=PRINCIPAL, access_token="t", id_token="i", user_name="n", agency_name="a",
                        expires_at=clock.now + lifetime)


def test_a_session_ends_at_token_expiry_idle_time_or_sign_out() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=1800, clock=clock)
    s = make(store, clock)
    assert store.get(s.id) == s and len(s.csrf_token) >= 40 and s.purpose is None
    clock.now += 899
    assert store.get(s.id).id == s.id
    clock.now += 1
    assert store.get(s.id) is None  # the access token expired
    idle = make(store, clock, lifetime=7200)
    clock.now += 1801
    assert store.get(idle.id) is None  # idle too long
    gone = make(store, clock)
    assert store.delete(gone.id) == gone and store.get(gone.id) is None
    assert store.get(None) is None and store.get("") is None and store.get("no-such-id") is None


def test_a_sign_in_state_is_good_once_and_for_ten_minutes() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=1800, clock=clock)
    pending = store.begin_login("http://127.0.0.1:1/auth/callback", "/search")
    assert len({pending.state, pending.nonce, pending.code_verifier}) == 3 and len(pending.code_verifier) >= 43
    assert store.finish_login(pending.state) == pending
    assert store.finish_login(pending.state) is None  # used
    late = store.begin_login("http://127.0.0.1:1/auth/callback", "/")
    clock.now += LOGIN_TTL_SECONDS + 1
    assert store.finish_login(late.state) is None  # expired


def test_sign_ins_in_progress_cannot_grow_without_bound(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sessions, "_MAX_PENDING_LOGINS", 100)
    clock = Clock()
    store = SessionStore(idle_seconds=1800, clock=clock)
    states = [store.begin_login("http://127.0.0.1:1/auth/callback", "/").state for _ in range(250)]
    assert store.pending_logins() <= 100
    assert store.finish_login(states[-1]) is not None  # the newest survive
    assert store.finish_login(states[0]) is None


def test_a_session_and_its_purpose_are_seen_by_every_worker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two stores on one file stand for two worker processes: what one records, the other reads."""
    clock = Clock()
    path = tmp_path / "console-sessions.sqlite"
    one, two = (SessionStore(idle_seconds=1800, clock=clock, path=path) for _ in range(2))
    pending = one.begin_login("http://127.0.0.1:1/auth/callback", "/search")
    assert two.finish_login(pending.state) == pending and one.finish_login(pending.state) is None
    s = one.create(principal=PRINCIPAL, access_token="t", id_token="i", user_name="n", agency_name="a",
                   expires_at=clock.now + 3000)
    seen = two.get(s.id)
    assert seen == s and seen.principal == PRINCIPAL and seen.csrf_token == s.csrf_token
    two.set_purpose(seen, "Locating a missing child")
    assert one.get(s.id).purpose == "Locating a missing child"
    clock.now += 1000
    assert two.get(s.id) is not None
    clock.now += 1000  # 2000 s since `one` saw it, but `two` did 1000 s ago: last_seen is shared
    assert one.get(s.id) is not None
    clock.now += 1000
    assert two.get(s.id) is None  # the access token expired
    assert two.delete(s.id) is None and one.get(s.id) is None
    assert oct(path.stat().st_mode & 0o777) == "0o600"
