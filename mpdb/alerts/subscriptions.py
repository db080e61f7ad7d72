"""An agency's alert stream: replay from an alert id, then live from the tailer, each alert re-checked
for access and audited as a disclosure before it is sent.

Exactly once per alert over reconnects: the client keeps the id of the last alert it received and
subscribes again with `after: <that id>`; the stream replays every later alert of the agency from
the outbox (in seq order), then switches to the live feed without a gap or a repeat (the
subscriber joins the tailer BEFORE the replay reads, and anything at or below the last seq sent
is dropped).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from mpdb.alerts.tailer import OutboxTailer, Subscriber
from mpdb.audit.trail import AuditAction, new_event, record
from mpdb.auth.principal import Scope
from mpdb.domain.errors import Forbidden, InvalidInput
from mpdb.graph.repositories import delivery, outbox
from mpdb.services.context import ServiceContext

REPLAY_BATCH = 200


def require_alerts_scope(ctx: ServiceContext) -> None:
    if not ctx.principal.has(Scope.ALERTS_READ) or ctx.scope.aggregates_only:
        raise Forbidden(f"Forbidden: needs scope {Scope.ALERTS_READ}")


async def seq_of_alert(ctx: ServiceContext, alert_id: str, field: str = "after") -> int:
    """The outbox seq of one of the caller's agency's alerts; the same refusal whether the id does
    not exist or belongs to another agency (no existence oracle)."""
    event = await outbox.event_by_id(ctx.graph, alert_id) if alert_id.startswith("al-") else None
    if event is None or event["recipient"] != ctx.principal.agency_id:
        raise InvalidInput(f"{field}: no alert of your agency has this id", field=field)
    return int(event["seq"])


async def disclose(ctx: ServiceContext, events: list[dict[str, Any]], operation: str) -> None:
    """One disclosure event per alert sent (committed before it is sent: group commit batches the
    events of every stream of this process that are being sent at the same moment)."""
    await record(ctx.graph, [
        new_event(ctx.audit_context, AuditAction.DISCLOSURE, operation,
                  [i for i in (e.get("childId"), e.get("episodeId"), e.get("subjectId"), e["id"]) if i],
                  [e["recipient"]])
        for e in events])


async def alert_stream(ctx: ServiceContext, tailer: OutboxTailer, after: str | None) -> AsyncIterator[dict[str, Any]]:
    require_alerts_scope(ctx)
    ctx.require_purpose()
    last = await seq_of_alert(ctx, after) if after is not None else None
    sub = await tailer.subscribe(ctx.scope)
    try:
        if last is None:
            last = sub.start_seq
        async for event in _replay(ctx, last):
            last = event["seq"]
            yield event
        while True:
            if sub.behind:
                _reset(sub)
                async for event in _replay(ctx, last):
                    last = event["seq"]
                    yield event
                continue
            event = await sub.queue.get()
            if event["seq"] <= last:
                continue
            await disclose(ctx, [event], "alerts.subscription")
            last = event["seq"]
            yield event
    finally:
        tailer.unsubscribe(sub)


def _reset(sub: Subscriber) -> None:
    while not sub.queue.empty():
        sub.queue.get_nowait()
    sub.behind = False


async def _replay(ctx: ServiceContext, after: int) -> AsyncIterator[dict[str, Any]]:
    while True:
        batch = await outbox.events_of_recipient_after(ctx.graph, ctx.principal.agency_id, after, REPLAY_BATCH)
        if not batch:
            return
        allowed = await delivery.deliverable_ids(ctx.graph, ctx.scope, batch)
        for event in batch:
            after = event["seq"]
            if event["id"] in allowed:
                await disclose(ctx, [event], "alerts.subscription")
                yield event


async def recent_alerts(ctx: ServiceContext, first: int) -> list[dict[str, Any]]:
    """The agency's newest alerts it may still read, newest first (the console's first page before
    it goes live), each audited as a disclosure like a streamed one."""
    require_alerts_scope(ctx)
    ctx.require_purpose()
    shown: list[dict[str, Any]] = []
    before: int | None = None
    while len(shown) < first:
        batch = await delivery.recent_events_of_recipient(ctx.graph, ctx.scope, before, first * 2)
        if not batch:
            break
        allowed = await delivery.deliverable_ids(ctx.graph, ctx.scope, batch)
        shown.extend(e for e in batch if e["id"] in allowed)
        before = batch[-1]["seq"]
    shown = shown[:first]
    if shown:
        await disclose(ctx, shown, "alerts.recent")
    return shown
