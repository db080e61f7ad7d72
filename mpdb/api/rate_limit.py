"""Per-agency rate limit: a token bucket per verified agency id, checked before any resolver runs.

Keyed on the agency of the verified token, not on the client address: many officers of one force
sit behind one proxy, and one agency's runaway integration must not starve the others. Each
GraphQL request costs one token; a request is bounded in work by the depth, alias and token limits
(mpdb/api/schema.py), so counting requests bounds the work too. An agency may burst up to its
budget per minute and is refilled at that rate. The budget is `rate_limit_per_minute`, or the one
auth/policy.toml gives the agency's kind (`[rate_limits]`: the national unit works for every force).

The algorithm is pyrate-limiter's TokenBucket (GCRA: one "theoretical arrival time" per agency,
and the wait in closed form for Retry-After). Its state is shared by every worker process:
* one host (`mpdb serve --workers N`): a SQLite file in `Settings.shared_dir`, through
  `SQLiteStateStore`, pyrate-limiter's StateStore extension point over mpdb.shared_state
  (pyrate-limiter's own SQLiteBucket is a sliding-window log: a row per request, and a Retry-After
  of up to a whole minute instead of the token bucket's next token);
* several hosts: Redis (`MPDB_RATE_LIMIT_REDIS_URL`), through pyrate-limiter's RedisStateStore
  (an atomic Lua script);
* one worker: the same SQLite store, in memory.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from inspect import isawaitable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from pyrate_limiter import Decision, Duration, Rate, StateStore, TokenBucket, WallClock
from pyrate_limiter.abstracts.algorithm import State, StateAlgorithm

from mpdb.auth.dependencies import authenticate
from mpdb.auth.principal import AgencyKind, Principal
from mpdb.observability.metrics import RATE_LIMIT_REFUSALS
from mpdb.shared_state import SharedDb, shared_file

log = logging.getLogger(__name__)

STATE_ATTR = "rate_limiter"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limit (
    agency TEXT PRIMARY KEY,
    state TEXT NOT NULL,          -- the algorithm's numbers, comma-separated
    full_at_ms INTEGER NOT NULL   -- from then on the bucket is full again: the row can go
);
"""
# Full buckets carry no information: drop them every this many acquisitions.
_PRUNE_EVERY = 4096
_ALGORITHM = TokenBucket()


class SQLiteStateStore(StateStore):
    """One agency's token-bucket state in a SQLite table, read, stepped and written in one
    immediate transaction, so two workers can never both spend the last token."""

    is_async = False
    default_clock = WallClock()  # shared between processes: a monotonic clock would mean nothing

    def __init__(self, db: SharedDb, agency: str) -> None:
        self._db = db
        self.agency = agency

    def check(self, algorithm: StateAlgorithm, rates: list[Rate], now: int, weight: int) -> Decision:
        with self._db.transaction() as conn:
            state = self._load(conn, algorithm, rates)
            new_state, decision = algorithm.step(rates, state, now, weight)
            if decision.allowed:
                full_at_ms = max(int(v) for v in new_state) // 1000  # GCRA keeps microseconds
                conn.execute(
                    "INSERT INTO rate_limit (agency, state, full_at_ms) VALUES (?, ?, ?) "
                    "ON CONFLICT (agency) DO UPDATE SET state = excluded.state, full_at_ms = excluded.full_at_ms",
                    (self.agency, ",".join(str(int(v)) for v in new_state), full_at_ms),
                )
        return decision

    def _load(self, conn: Any, algorithm: StateAlgorithm, rates: Sequence[Rate]) -> State:
        row = conn.execute("SELECT state FROM rate_limit WHERE agency = ?", (self.agency,)).fetchone()
        if row is None:
            return algorithm.initial(list(rates))
        state = algorithm.decode(row[0].split(","))
        return state if len(state) == len(rates) else algorithm.initial(list(rates))

    def read(self, algorithm: StateAlgorithm, rates: list[Rate]) -> State:
        with self._db.transaction() as conn:
            return self._load(conn, algorithm, rates)

    def reset(self) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM rate_limit WHERE agency = ?", (self.agency,))


class AgencyRateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.time, *,
                 per_kind: Mapping[AgencyKind, int] | None = None, db: SharedDb | None = None,
                 redis: Any = None) -> None:
        """`clock` is wall-clock seconds (the state is shared between processes and hosts)."""
        budgets = [per_minute, *(per_kind or {}).values()]
        if min(budgets) < 1:
            raise ValueError("rate_limit_per_minute must be at least 1")
        self._rate = [Rate(per_minute, Duration.MINUTE)]
        self._rates_by_kind = {kind: [Rate(n, Duration.MINUTE)] for kind, n in (per_kind or {}).items()}
        self._clock = clock
        self._db = db if db is not None or redis is not None else SharedDb(None, _SCHEMA)
        self._redis = redis
        self._acquired = 0

    def per_minute(self, kind: AgencyKind | None = None) -> int:
        return self._rates(kind)[0].limit

    def _rates(self, kind: AgencyKind | None) -> list[Rate]:
        return self._rates_by_kind.get(kind, self._rate) if kind is not None else self._rate

    def _store(self, agency_id: str) -> StateStore:
        if self._redis is not None:
            from pyrate_limiter import RedisStateStore

            return RedisStateStore(self._redis, key=f"mpdb:rate-limit:{agency_id}")
        assert self._db is not None
        return SQLiteStateStore(self._db, agency_id)

    def acquire(self, agency_id: str, kind: AgencyKind | None = None) -> float | None | Awaitable[float | None]:
        """Take one token for `agency_id`: None when allowed, else seconds until one is available
        (an awaitable of that with an asyncio Redis client)."""
        now_ms = int(self._clock() * 1000)
        self._acquired += 1
        if self._db is not None and self._acquired % _PRUNE_EVERY == 0:
            with self._db.transaction() as conn:
                conn.execute("DELETE FROM rate_limit WHERE full_at_ms <= ?", (now_ms,))
        decision = self._store(agency_id).check(_ALGORITHM, self._rates(kind), now_ms, 1)
        if isawaitable(decision):
            async def _wait() -> float | None:
                return _seconds(await decision)
            return _wait()
        return _seconds(decision)  # type: ignore[arg-type]


def _seconds(decision: Decision) -> float | None:
    if decision.allowed:
        return None
    return (decision.retry_after_ms or 0) / 1000.0


def create_rate_limiter(settings: Any) -> AgencyRateLimiter:
    """The limiter for these settings: Redis when configured, else a SQLite file shared by this
    host's workers, else process memory."""
    from mpdb.auth.policy import get_policy

    per_kind = get_policy(settings.policy_file).rate_limits
    if settings.rate_limit_redis_url is not None:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.rate_limit_redis_url.get_secret_value())
        return AgencyRateLimiter(settings.rate_limit_per_minute, per_kind=per_kind, redis=redis)
    path = shared_file(settings.shared_dir, "rate-limit")
    return AgencyRateLimiter(settings.rate_limit_per_minute, per_kind=per_kind,
                             db=SharedDb(path, _SCHEMA))


def get_rate_limiter(request: Request) -> AgencyRateLimiter:
    state = request.app.state
    limiter = getattr(state, STATE_ATTR, None)
    if limiter is None:  # no await between check and set: one limiter per app
        limiter = create_rate_limiter(state.settings)
        setattr(state, STATE_ATTR, limiter)
    return limiter


async def retry_after(request: Request, principal: Principal) -> float | None:
    """Spend one of the principal's agency's tokens: None, or the seconds until one is free."""
    wait = get_rate_limiter(request).acquire(principal.agency_id, principal.agency_kind)
    if isawaitable(wait):
        wait = await wait
    if wait is not None:  # refused: the API answers 429, the console its "too many requests" page
        RATE_LIMIT_REFUSALS.labels(principal.agency_kind.value).inc()
    return wait  # type: ignore[return-value]


async def rate_limited_principal(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Principal:
    """FastAPI dependency: the verified principal, or HTTP 429 with Retry-After when its agency is
    over the limit. Runs after authentication (so unauthenticated floods cost no agency tokens and
    are refused by the 401 path) and before the GraphQL document is even parsed."""
    wait = await retry_after(request, principal)
    if wait is not None:
        retry = max(1, math.ceil(wait))
        log.warning("rate limit exceeded agency=%s retry_after=%s request=%s", principal.agency_id,
                    retry, getattr(request.state, "request_id", None))
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"rate limit exceeded for agency {principal.agency_id}: retry after {retry}s",
            headers={"Retry-After": str(retry)},
        )
    return principal
