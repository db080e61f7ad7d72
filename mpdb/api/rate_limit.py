"""Per-agency rate limit: a token bucket per verified agency id, checked before any resolver runs.

Keyed on the agency of the verified token, not on the client address: many officers of one force
sit behind one proxy, and one agency's runaway integration must not starve the others. Each
GraphQL request costs one token; a request is bounded in work by the depth, alias and token limits
(mpdb/api/schema.py), so counting requests bounds the work too. An agency may burst up to
`rate_limit_per_minute` requests and is refilled at that rate.

The buckets live in process memory: with N API processes behind a load balancer an agency gets up
to N times the limit. That is deliberate (no shared store on the request path); size the setting
per process.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from mpdb.auth.dependencies import authenticate
from mpdb.auth.principal import Principal

log = logging.getLogger(__name__)

STATE_ATTR = "rate_limiter"
# Full buckets carry no information; drop them once this many agencies are tracked.
_PRUNE_ABOVE = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class AgencyRateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("rate_limit_per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, agency_id: str) -> float | None:
        """Take one token for `agency_id`: None when allowed, else seconds until one is available.

        Synchronous on purpose: with no await between read and write, concurrent requests on the
        event loop cannot both spend the last token."""
        now = self._clock()
        bucket = self._buckets.get(agency_id)
        if bucket is None:
            if len(self._buckets) >= _PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[agency_id] = _Bucket(self.capacity, now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.refill_per_second)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.refill_per_second

    def _prune(self, now: float) -> None:
        full = [a for a, b in self._buckets.items()
                if b.tokens + (now - b.updated) * self.refill_per_second >= self.capacity]
        for agency in full:
            del self._buckets[agency]


def get_rate_limiter(request: Request) -> AgencyRateLimiter:
    state = request.app.state
    limiter = getattr(state, STATE_ATTR, None)
    if limiter is None:  # no await between check and set: one limiter per app
        limiter = AgencyRateLimiter(state.settings.rate_limit_per_minute)
        setattr(state, STATE_ATTR, limiter)
    return limiter


async def rate_limited_principal(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Principal:
    """FastAPI dependency: the verified principal, or HTTP 429 with Retry-After when its agency is
    over the limit. Runs after authentication (so unauthenticated floods cost no agency tokens and
    are refused by the 401 path) and before the GraphQL document is even parsed."""
    wait = get_rate_limiter(request).acquire(principal.agency_id)
    if wait is not None:
        retry_after = max(1, math.ceil(wait))
        log.warning("rate limit exceeded agency=%s retry_after=%s request=%s", principal.agency_id,
                    retry_after, getattr(request.state, "request_id", None))
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"rate limit exceeded for agency {principal.agency_id}: retry after {retry_after}s",
            headers={"Retry-After": str(retry_after)},
        )
    return principal
