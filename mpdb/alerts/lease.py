"""One dispatcher per cluster: a lease node in Neo4j (`AlertLease`), held by renewing it.

Every API process with MPDB_ALERTS_DISPATCHER on asks for the lease every third of its lifetime;
the holder renews it, the others get it only once it has expired (its holder died or lost
Neo4j), so at most one process works as the dispatcher at a time, give or take one lease period
after a holder stalls without dying. That overlap is harmless by construction: deliveries are
queued with MERGE (one per webhook and alert) and an attempt's outcome is recorded only if the
delivery is still at the attempt it was sent with, so two dispatchers at once can send an alert
twice (same webhook-id: receivers dedupe) but never lose one.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from mpdb.graph.db import Graph
from mpdb.graph.repositories import delivery

log = logging.getLogger("mpdb.alerts")

DISPATCHER_LEASE = "dispatcher"


def holder_name() -> str:
    """Unique per process start, and says where it runs (for an operator reading the lease node)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, graph: Graph, ttl_s: float, name: str = DISPATCHER_LEASE, holder: str | None = None) -> None:
        self.graph = graph
        self.ttl_s = ttl_s
        self.name = name
        self.holder = holder or holder_name()
        self.held = False

    async def renew(self) -> bool:
        """Take or renew the lease; False when another live process holds it (or Neo4j is away)."""
        try:
            held = await delivery.take_lease(self.graph, self.name, self.holder, self.ttl_s)
        except Exception as exc:  # noqa: BLE001 - cannot tell: act as if not held (no double dispatcher)
            log.warning("alert dispatcher lease could not be renewed: %s", type(exc).__name__)
            held = False
        if held != self.held:
            log.info("alert dispatcher lease %s by %s", "taken" if held else "lost", self.holder)
        self.held = held
        return held

    async def release(self) -> None:
        if self.held:
            self.held = False
            try:
                await delivery.release_lease(self.graph, self.name, self.holder)
            except Exception as exc:  # noqa: BLE001 - it expires on its own
                log.warning("alert dispatcher lease not released: %s", type(exc).__name__)
