from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from mpdb.api.pagination import Page, PageInfo, decode_cursor, encode_cursor, page_size
from mpdb.api.permissions import requires
from mpdb.audit.trail import AuditAction as DomainAuditAction
from mpdb.auth.principal import Scope
from mpdb.graph.repositories.audit import AuditRepository

AuditAction = strawberry.enum(
    Enum("AuditAction", {a.name: a.value for a in DomainAuditAction}),  # type: ignore[misc]
    description="DPA 2018 s.62 processing operations.",
)


@strawberry.type(description="One append-only audit event. `hash` chains it to the previous event of its chain.")
class AuditEvent:
    shard: int | None = strawberry.field(
        description="The hash chain the event belongs to (one of several, so concurrent appends do not queue "
                    "on one lock); null for events of the original single chain, written before chains were sharded.")
    seq: int = strawberry.field(description="The event's position in its chain (shard), from 1.")
    id: strawberry.ID
    at: datetime
    action: str
    operation: str | None
    subject: str
    client_id: str | None
    agency_id: str
    role: str | None
    purpose: str | None
    request_id: str | None
    record_ids: list[str]
    recipients: list[str]
    prev_hash: str
    hash: str


def _decode_after(after: str | None) -> tuple[datetime, str] | None:
    """The cursor is the (at, id) of the last event seen: stable however many events are appended."""
    if not after:
        return None
    when, event_id = decode_cursor(after, datetime, str)
    return when, event_id


@strawberry.type
class AuditQueries:
    @strawberry.field(extensions=requires(Scope.AUDIT_READ),
                      description="Audit events, newest first (by `at`, then `id`): your agency's, or all for "
                                  "national bodies.")
    async def audit_events(
        self,
        info: strawberry.Info,
        record_id: str | None = None,
        action: AuditAction | None = None,  # type: ignore[valid-type]
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Page[AuditEvent]:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        rows = await AuditRepository(ctx.graph).search(
            ctx.scope, record_id=record_id, action=action.value if action else None,
            since=since, until=until, before=_decode_after(after), limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        events = [
            AuditEvent(
                shard=r.get("shard"), seq=r["seq"], id=r["id"], at=datetime.fromisoformat(r["at"].replace("Z", "+00:00")),
                action=r["action"], operation=r.get("operation"), subject=r["subject"],
                client_id=r.get("clientId"), agency_id=r["agencyId"], role=r.get("role"),
                purpose=r.get("purpose"), request_id=r.get("requestId"), record_ids=r.get("recordIds") or [],
                recipients=r.get("recipients") or [], prev_hash=r.get("prevHash") or "", hash=r["hash"],
            )
            for r in rows
        ]
        end = encode_cursor(rows[-1]["at"], rows[-1]["id"]) if rows else None
        return Page(nodes=events, page_info=PageInfo(has_next_page=more, end_cursor=end))
