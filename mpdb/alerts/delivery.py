"""The delivery side of one API process, started and stopped by the app's lifespan (mpdb/api/app.py):
the outbox tailer for this process's subscribers, and, when MPDB_ALERTS_DISPATCHER is on, a
dispatcher that works only while it holds the cluster's lease."""

from __future__ import annotations

from dataclasses import dataclass

from mpdb.alerts.dispatcher import Clock, Dispatcher, _utcnow
from mpdb.alerts.tailer import OutboxTailer
from mpdb.graph.db import Graph
from mpdb.settings import Settings


@dataclass
class AlertDelivery:
    tailer: OutboxTailer
    dispatcher: Dispatcher | None

    @classmethod
    async def start(cls, graph: Graph, settings: Settings, clock: Clock = _utcnow) -> AlertDelivery:
        tailer = OutboxTailer(graph, settings.alerts_poll_seconds)
        await tailer.start()
        dispatcher = Dispatcher(graph, settings, clock) if settings.alerts_dispatcher else None
        if dispatcher is not None:
            await dispatcher.start()
        return cls(tailer, dispatcher)

    async def stop(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        await self.tailer.stop()
