"""A per-process cache of hot spots' step 1 (the clustered, counted cells of one kind, area and
window), valid only while the buckets it was folded from are unchanged in Neo4j.

Why: nationally, step 1 reads a year and its previous year of buckets (~276k) and folds them in
Python, seconds of work whose inputs change only when a bucket does. Writes are rare next to reads
for a window that ends at a past midnight (today's reports are not in it), so one result can serve
many requests, from any caller: step 1 holds aggregates only, and the caller's visibility is applied
in step 2, which always reads the episodes.

How it stays exact, across worker processes and a cluster: every write that refreshes a bucket
gives the `HotspotStamp` of the bucket's (kind, forceCode, UTC month) a new random version in its
own transaction, and a rebuild, a reset or an offline import gives the `generation` stamp a new one
(mpdb/graph/queries/hotspot_buckets.py, migration 0009). Before each use the service reads, in one
small query, the generation and every stamp of the kind over the window's months, and uses an entry
only when all of them equal what it read before folding the entry. That read comes first, in its
own transaction: a write committed between it and the bucket reads only makes the entry look older
than it is (recomputed once more), never newer. Without a generation (a store not migrated to 0009,
or one being reset) nothing is cached. Every force's stamps are compared, not only the area's: the
ring of cells around a force or LA reads other forces' buckets, and a new one can appear there.

The first request after a write recomputes step 1 for a force or an LA from the buckets. Nationally
the entry is kept per force instead (mpdb/intel/hotspot_national.py, issue 10 round 3), so that
request re-reads only the forces whose stamps changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Versions:
    generation: str | None
    stamps: tuple[str, ...]

    @property
    def cacheable(self) -> bool:
        return self.generation is not None


class StepOneCache:
    """Least recently used entries, each with the versions it was computed under. Entries are
    treated as immutable by their users (tuples of frozen dataclasses)."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._data: OrderedDict[Hashable, tuple[Versions, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, versions: Versions) -> Any | None:
        if not versions.cacheable or self.entries <= 0:
            return None
        with self._lock:
            found = self._data.get(key)
            if found is None or found[0] != versions:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Hashable, versions: Versions, value: Any) -> None:
        if not versions.cacheable or self.entries <= 0:
            return
        with self._lock:
            self._data[key] = (versions, value)
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    # For entries that carry their own versions and may be brought up to date in part
    # (mpdb/intel/hotspot_national.py): the latest value whatever the versions now, and its store.
    def latest(self, key: Hashable) -> Any | None:
        if self.entries <= 0:
            return None
        with self._lock:
            found = self._data.get(key)
            if found is None:
                return None
            self._data.move_to_end(key)
            return found[1]

    def store(self, key: Hashable, value: Any) -> None:
        self.put(key, Versions("own", ()), value)

    def count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_caches: dict[int, StepOneCache] = {}


def cache_for(entries: int) -> StepOneCache:
    """The process's cache (one per configured size, so tests with their own settings get their own)."""
    c = _caches.get(entries)
    if c is None:
        c = _caches[entries] = StepOneCache(entries)
    return c
