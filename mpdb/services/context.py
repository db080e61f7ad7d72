"""What every service call receives: who is asking, what they may see, why, and the graph.

`consulted()` is the one door personal data leaves by: it demands a purpose, writes the
consultation event (failing the read if the event cannot be written) and only then lets the
caller return the records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mpdb.audit.trail import AuditAction, AuditContext, new_event, record, record_soon
from mpdb.auth.access import AccessScope, access_scope_for
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import Principal
from mpdb.domain.errors import PurposeRequired
from mpdb.graph.db import Graph
from mpdb.settings import Settings


# Where a read's audit commit may run while its answer is being built (issue 10, round 3): the
# GraphQL execution sets a list here around each root field of a query and awaits every commit
# in it before that field's value becomes part of the response, failing the field with it
# (mpdb/api/execution.py). So the commit's wait (a log flush) overlaps the GraphQL completion and
# nothing is sent before the events are durable. Unset (None) everywhere else: `consulted` then
# commits before it returns.
DEFERRED_AUDIT: ContextVar[list[asyncio.Future[Any]] | None] = ContextVar("mpdb_deferred_audit", default=None)


@dataclass
class ServiceContext:
    graph: Graph
    settings: Settings
    principal: Principal
    purpose: str | None
    request_id: str
    scope: AccessScope = field(init=False)

    def __post_init__(self) -> None:
        self.scope = access_scope_for(self.principal, get_policy(self.settings.policy_file))

    @property
    def audit_context(self) -> AuditContext:
        return AuditContext(self.principal, self.purpose, self.request_id)

    def require_purpose(self) -> None:
        if not self.purpose or not self.purpose.strip():
            raise PurposeRequired(
                "consulting a child's record needs a purpose: send it in the X-MPDB-Purpose header"
            )

    async def consulted(self, operation: str, record_ids: Iterable[str], summaries: Iterable[str] = ()) -> None:
        """`record_ids`: the records returned in full. `summaries`: children the caller may not read
        in full whose summary form (pseudonym, age band, responsible LA, active flags, and for a
        link its evidence) was shown in the same answer: a DISCLOSURE to the caller's agency of
        records it has no basis to read, event operation `<operation>.summary`, so the consultation
        event keeps listing only records returned in full. Summaries are named by internal id (never
        returned to the caller) so `auditEvents(recordId: <child>)` finds every disclosure about a
        child. Both events are committed in one transaction, before the answer is returned
        (inside a GraphQL query: before the field's value is sent, see DEFERRED_AUDIT)."""
        ids = [i for i in record_ids if i]
        summary_ids = sorted({i for i in summaries if i})
        if not ids and not summary_ids:
            return  # nothing personal is being returned, so nothing was consulted
        self.require_purpose()
        audit = self.audit_context
        events = []
        if ids:
            events.append(new_event(audit, AuditAction.CONSULTATION, operation, ids))
        if summary_ids:
            events.append(new_event(audit, AuditAction.DISCLOSURE, operation + ".summary", summary_ids,
                                    [self.principal.agency_id]))
        # Committed (possibly in one transaction with other reads' events: group commit) before
        # this returns, or, inside a GraphQL query, before the field's value is sent
        # (DEFERRED_AUDIT); when they could not be recorded, the read fails with it.
        pending = DEFERRED_AUDIT.get()
        if pending is None:
            await record(self.graph, events)
            return
        pending.append(record_soon(self.graph, events))
        await asyncio.sleep(0)  # one turn of the loop: the commit is sent before the answer is built
