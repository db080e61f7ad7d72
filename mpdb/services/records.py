"""Reading children and episodes, with the consultation audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mpdb.domain.deadlines import rhi_timeliness
from mpdb.graph.repositories.records import RecordRepository, ReferenceRepository
from mpdb.services.context import ServiceContext


async def get_child(ctx: ServiceContext, child_id: str) -> dict[str, Any] | None:
    ctx.require_purpose()
    child = await RecordRepository(ctx.graph).child(ctx.scope, child_id)
    if child is not None:
        await ctx.consulted("child", [child["id"]])
    return child


async def locate_profile(ctx: ServiceContext, child_id: str) -> dict[str, Any] | None:
    """The child's locate profile; audited with the child and every episode it names."""
    ctx.require_purpose()
    profile = await RecordRepository(ctx.graph).locate_profile(ctx.scope, child_id)
    if profile is not None:
        episode_ids = [e["id"] for e in profile["openEpisodes"]] + [f["episodeId"] for f in profile["foundBefore"]]
        await ctx.consulted("locateProfile", [profile["id"], *dict.fromkeys(episode_ids)])
    return profile


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


async def return_interviews_of_episode(
    ctx: ServiceContext, episode_id: str, want_confidential: bool, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The interviews of an episode the caller may see, with `overdue` derived as of `now`.

    One consultation event per call, of the interview ids returned. When any child's confidential
    account is among them the operation says so (`episode.returnInterviews.confidential`), so an
    auditor can find every reading of an account; whether it was returned was decided in Cypher,
    and the account is only asked for when the client selected it."""
    rows = await RecordRepository(ctx.graph).return_interviews(ctx.scope, episode_id, want_confidential)
    confidential = any(r["confidentialRead"] for r in rows)
    operation = "episode.returnInterviews.confidential" if confidential else "episode.returnInterviews"
    await ctx.consulted(operation, [r["id"] for r in rows])
    as_of = now or datetime.now(UTC)
    return [{**r, "overdue": rhi_timeliness(r.get("status"), r.get("dueAt"), as_of) == "overdue"} for r in rows]


async def forces(ctx: ServiceContext) -> list[dict[str, Any]]:
    return await ReferenceRepository(ctx.graph).forces()


async def local_authorities(ctx: ServiceContext, force_code: str | None) -> list[dict[str, Any]]:
    return await ReferenceRepository(ctx.graph).local_authorities(force_code)
