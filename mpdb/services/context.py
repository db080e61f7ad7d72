"""What every service call receives: who is asking, what they may see, why, and the graph.

`consulted()` is the one door personal data leaves by: it demands a purpose, writes the
consultation event (failing the read if the event cannot be written) and only then lets the
caller return the records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mpdb.audit.trail import AuditAction, AuditContext, append
from mpdb.auth.access import AccessScope, access_scope_for
from mpdb.auth.principal import Principal
from mpdb.domain.errors import PurposeRequired
from mpdb.graph.db import Graph
from mpdb.settings import Settings


@dataclass
class ServiceContext:
    graph: Graph
    settings: Settings
    principal: Principal
    purpose: str | None
    request_id: str
    scope: AccessScope = field(init=False)

    def __post_init__(self) -> None:
        self.scope = access_scope_for(self.principal)

    @property
    def audit_context(self) -> AuditContext:
        return AuditContext(self.principal, self.purpose, self.request_id)

    def require_purpose(self) -> None:
        if not self.purpose or not self.purpose.strip():
            raise PurposeRequired(
                "consulting a child's record needs a purpose: send it in the X-MPDB-Purpose header"
            )

    async def consulted(self, operation: str, record_ids: Iterable[str]) -> None:
        ids = [i for i in record_ids if i]
        if not ids:
            return  # nothing personal is being returned, so nothing was consulted
        self.require_purpose()
        await append(self.graph, self.audit_context, AuditAction.CONSULTATION, operation, ids)

    async def consulted_summaries(self, operation: str, child_ids: Iterable[str]) -> None:
        """The summary form of children the caller may not read in full was disclosed to it (a
        linked child: pseudonym, age band, responsible LA, active flags, the link's evidence): one
        event of its own, operation `<operation>.summary`, so the consultation event keeps listing
        only records returned in full. It names the children by internal id, not pseudonym, so an
        auditor asking "who learnt anything about this child" (auditEvents(recordId)) finds it."""
        await self.consulted(operation + ".summary", sorted(set(child_ids)))
