"""The per-process outbox tailer: reads alerts as they commit and hands each to this process's
subscribers of its recipient agency, re-checking access at that moment.

No broker: every API process (every uvicorn worker, on every machine) tails the outbox itself
(`seq > cursor`, every `alerts_poll_seconds`, or at once after `nudge()`), so a subscriber may be
connected to any of them. The outbox `seq` is gap-free in commit order (queries/outbox.py), so
reading past the cursor never skips an alert that commits later with a smaller seq.

Access is re-checked per recipient agency for each batch (the visibility of an alert depends only
on the agency: repositories/delivery.deliverable_ids); an alert its recipient may no longer read
is withheld from every subscriber. Subscribers get only what passed, in seq order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mpdb.auth.access import AccessScope
from mpdb.graph.db import Graph
from mpdb.graph.repositories import delivery, outbox

log = logging.getLogger("mpdb.alerts")

BATCH = 500
# A subscriber this far behind is switched back to reading from the outbox (it keeps its place by
# seq), instead of this process holding an ever longer queue for a client that does not read.
MAX_QUEUED = 5_000

_tailers: weakref.WeakSet[OutboxTailer] = weakref.WeakSet()


def nudge() -> None:
    """Tell this process's tailers that an alert was just committed here: they read now instead of
    at their next poll. Cheap (sets an event); safe to call from any write path after commit."""
    for tailer in list(_tailers):
        tailer.wake()


@dataclass(eq=False)
class Subscriber:
    scope: AccessScope
    start_seq: int  # the tailer's cursor when it joined: everything after it arrives here
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    behind: bool = False  # the queue overflowed: read the outbox again from the last seq sent

    @property
    def agency_id(self) -> str:
        return self.scope.agency_id


class OutboxTailer:
    def __init__(self, graph: Graph, poll_seconds: float,
                 on_error_wait: Callable[[int], float] = lambda n: min(5.0, 0.5 * n)) -> None:
        self.graph = graph
        self.poll_seconds = poll_seconds
        self.cursor = 0
        self._on_error_wait = on_error_wait
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mpdb-outbox-tailer")
        _tailers.add(self)

    async def stop(self) -> None:
        _tailers.discard(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    async def subscribe(self, scope: AccessScope) -> Subscriber:
        """A subscriber receiving every deliverable alert of its agency after the current cursor."""
        await self._started.wait()  # the cursor is the outbox head, not 0, once the tailer has read it
        sub = Subscriber(scope=scope, start_seq=self.cursor)
        self._subscribers.setdefault(scope.agency_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._subscribers.get(sub.agency_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.agency_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def _run(self) -> None:
        failures = 0
        while not self._started.is_set():
            try:
                self.cursor = await outbox.head_seq(self.graph)
                self._started.set()
            except Exception as exc:  # noqa: BLE001 - Neo4j not up yet: keep trying, never crash the app
                failures += 1
                log.warning("alert tailer cannot read the outbox head yet: %s", type(exc).__name__)
                await asyncio.sleep(self._on_error_wait(failures))
        failures = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            try:
                while await self._read_once():
                    pass
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a read failed: the cursor stays, the next poll retries
                failures += 1
                log.warning("alert tailer read failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(self._on_error_wait(failures))

    async def _read_once(self) -> bool:
        """Read and fan out one batch; True when a full batch was read (more may be waiting)."""
        events = await outbox.events_after(self.graph, self.cursor, BATCH)
        if not events:
            return False
        by_recipient: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            by_recipient.setdefault(event["recipient"], []).append(event)
        for agency_id, agency_events in by_recipient.items():
            subs = self._subscribers.get(agency_id)
            if not subs:
                continue
            allowed = await delivery.deliverable_ids(self.graph, next(iter(subs)).scope, agency_events)
            for sub in list(subs):
                for event in agency_events:
                    if event["id"] not in allowed or event["seq"] <= sub.start_seq:
                        continue
                    if sub.queue.qsize() >= MAX_QUEUED:
                        sub.behind = True
                        break
                    sub.queue.put_nowait(event)
        self.cursor = events[-1]["seq"]
        return len(events) == BATCH
