from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mpdb.api.permissions import requires
from mpdb.api.types.locate import LocateProfile
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
                      description="A child's locate profile (docs/ACCESS.md): for any police force while the child "
                                  "is missing, and for whoever may read the child in full; null otherwise (also when "
                                  "no such child exists). Its open episodes are the ones a force may record a "
                                  "sighting, the finding and the return on.")
    async def locate_profile(self, info: strawberry.Info, child_id: strawberry.ID) -> LocateProfile | None:
        row = await svc.locate_profile(info.context.service, str(child_id))
        return LocateProfile.from_row(row, datetime.now(UTC).date()) if row else None

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
