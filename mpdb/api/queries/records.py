from __future__ import annotations

import strawberry

from mpdb.api.permissions import requires
from mpdb.api.types.records import Child, Episode
from mpdb.api.types.reference import Force, LocalAuthority
from mpdb.auth.principal import Scope
from mpdb.services import records as svc


@strawberry.type
class RecordQueries:
    @strawberry.field(extensions=requires(Scope.CHILD_READ),
                      description="A child you may see, or null (also when no such child exists).")
    async def child(self, info: strawberry.Info, id: strawberry.ID) -> Child | None:
        row = await svc.get_child(info.context.service, str(id))
        return Child.from_row(row) if row else None

    @strawberry.field(extensions=requires(Scope.CHILD_READ),
                      description="An episode you may see, or null (also when no such episode exists).")
    async def episode(self, info: strawberry.Info, id: strawberry.ID) -> Episode | None:
        row = await svc.get_episode(info.context.service, str(id))
        return Episode.from_row(row) if row else None

    @strawberry.field(description="All police forces (reference data).")
    async def forces(self, info: strawberry.Info) -> list[Force]:
        return [Force.from_row(r) for r in await svc.forces(info.context.service)]

    @strawberry.field(description="Local authorities with children's services, optionally in one force area.")
    async def local_authorities(self, info: strawberry.Info, force_code: str | None = None) -> list[LocalAuthority]:
        return [LocalAuthority.from_row(r) for r in await svc.local_authorities(info.context.service, force_code)]
