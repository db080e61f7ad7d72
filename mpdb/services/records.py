"""Reading children and episodes, with the consultation audited."""

from __future__ import annotations

from typing import Any

from mpdb.graph.repositories.records import RecordRepository, ReferenceRepository
from mpdb.services.context import ServiceContext


async def get_child(ctx: ServiceContext, child_id: str) -> dict[str, Any] | None:
    ctx.require_purpose()
    child = await RecordRepository(ctx.graph).child(ctx.scope, child_id)
    if child is not None:
        await ctx.consulted("child", [child["id"]])
    return child


async def episodes_of_child(
    ctx: ServiceContext, child_id: str, limit: int, after: Any = None
) -> list[dict[str, Any]]:
    episodes = await RecordRepository(ctx.graph).episodes_of_child(ctx.scope, child_id, limit, after)
    await ctx.consulted("child.episodes", [e["id"] for e in episodes])
    return episodes


async def get_episode(ctx: ServiceContext, episode_id: str) -> dict[str, Any] | None:
    ctx.require_purpose()
    episode = await RecordRepository(ctx.graph).episode(ctx.scope, episode_id)
    if episode is not None:
        await ctx.consulted("episode", [episode["id"], episode["childId"]])
    return episode


async def forces(ctx: ServiceContext) -> list[dict[str, Any]]:
    return await ReferenceRepository(ctx.graph).forces()


async def local_authorities(ctx: ServiceContext, force_code: str | None) -> list[dict[str, Any]]:
    return await ReferenceRepository(ctx.graph).local_authorities(force_code)
