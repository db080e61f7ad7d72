"""The agency registry a token's agency is checked against: which agencies exist, and of what kind.

The registry is the graph's `Agency` nodes (the reference data `mpdb seed` loads: forces, local
authorities, return-interview providers, the national unit and the inspectorate, plus any agency an
operator adds). A token naming an agency that is not in it, or claiming a kind the registry does not
give that agency, is refused (TokenVerifier): an identity provider that mislabels a force as the
national unit must not hand it national reach.

Lookups are served from memory: the whole registry (a few hundred rows) is read at first use and
again every `refresh_seconds`; an unknown id triggers an early re-read at most every
`miss_refresh_seconds`, so an agency added a moment ago is accepted promptly while a stream of
tokens naming nonexistent agencies cannot turn into a stream of database reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from mpdb.auth.principal import AgencyKind


class AgencyRegistry(Protocol):
    async def kind_of(self, agency_id: str) -> AgencyKind | None:
        """The registered kind of `agency_id`, None when the registry does not know it."""
        ...

    async def aclose(self) -> None: ...


class StaticAgencyRegistry:
    """A fixed registry (unit tests, tools that have no database)."""

    def __init__(self, kinds: Mapping[str, AgencyKind | str]) -> None:
        self._kinds = {k: AgencyKind(v) for k, v in kinds.items()}

    async def kind_of(self, agency_id: str) -> AgencyKind | None:
        return self._kinds.get(agency_id)

    async def aclose(self) -> None:
        return None


class CachedAgencyRegistry:
    """The registry read through `load` (id -> kind), cached as described in the module docstring."""

    def __init__(
        self,
        load: Callable[[], Awaitable[Mapping[str, str]]],
        *,
        refresh_seconds: float = 60.0,
        miss_refresh_seconds: float = 5.0,
        close: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._close = close
        self._refresh = refresh_seconds
        self._miss_refresh = miss_refresh_seconds
        self._clock = clock
        self._kinds: dict[str, AgencyKind] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def _reload(self, min_age: float) -> None:
        async with self._lock:
            # Another caller may have reloaded while this one waited for the lock.
            if self._loaded_at is not None and self._clock() - self._loaded_at < min_age:
                return
            rows = await self._load()
            # An agency of a kind mpdb has no policy for can never be a caller, nor can the CLI
            # operator's pseudo-agency (kind `system`, id MPDB).
            callers = {k.value for k in AgencyKind} - {AgencyKind.SYSTEM.value}
            self._kinds = {a: AgencyKind(k) for a, k in rows.items() if k in callers and a != "MPDB"}
            self._loaded_at = self._clock()

    async def kind_of(self, agency_id: str) -> AgencyKind | None:
        if self._loaded_at is None or self._clock() - self._loaded_at >= self._refresh:
            await self._reload(self._refresh)
        kind = self._kinds.get(agency_id)
        if kind is None and self._loaded_at is not None and self._clock() - self._loaded_at >= self._miss_refresh:
            await self._reload(self._miss_refresh)
            kind = self._kinds.get(agency_id)
        return kind

    async def aclose(self) -> None:
        if self._close is not None:
            await self._close()
