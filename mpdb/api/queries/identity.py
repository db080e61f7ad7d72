"""Root fields for reviewing possible duplicates (docs/ACCESS.md, "Possible duplicates")."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mpdb.api.pagination import PageInfo, decode_cursor, encode_cursor, page_size
from mpdb.api.permissions import requires
from mpdb.api.types.identity import IdentityCandidate, IdentityCandidatePage, IdentityCandidateStatus
from mpdb.auth.principal import Scope
from mpdb.services import identity as svc
from mpdb.services.context import ServiceContext


async def candidate_page(ctx: ServiceContext, status: IdentityCandidateStatus | None, child_id: str | None,
                         first: int | None, after: str | None) -> IdentityCandidatePage:
    """One page of pairs, best first (match probability, then id); shared with Child.identityCandidates."""
    limit = page_size(first, ctx.settings.max_page_size)
    key = None
    if after:
        p, pair_id = decode_cursor(after, float, str)
        key = (p, pair_id)
    views = await svc.candidates(ctx, status.value if status else None, child_id, limit + 1, key)
    more = len(views) > limit
    views = views[:limit]
    end = encode_cursor(float(views[-1]["matchProbability"] or 0.0), views[-1]["id"]) if views else None
    now = datetime.now(UTC)
    return IdentityCandidatePage(nodes=[IdentityCandidate.from_view(v, now) for v in views],
                                 page_info=PageInfo(has_next_page=more, end_cursor=end))


@strawberry.type
class IdentityQueries:
    @strawberry.field(
        extensions=requires(Scope.CHILD_READ),
        description="Possible duplicates (pairs of records that may be one child) you may know of: pairs where you "
                    "may read at least one record (the national unit: all), best first. status defaults to "
                    "PROPOSED (the review queue); null for every status. childId: only the pairs of that child "
                    "(one you may read). A record you may not read is in summary form; the reasons and the "
                    "decision note only when you may read both. Audited (consultation; disclosure for summaries).",
    )
    async def identity_candidates(self, info: strawberry.Info,
                                  status: IdentityCandidateStatus | None = IdentityCandidateStatus.PROPOSED,
                                  child_id: strawberry.ID | None = None, first: int | None = None,
                                  after: str | None = None) -> IdentityCandidatePage:
        return await candidate_page(info.context.service, status, str(child_id) if child_id else None, first, after)

    @strawberry.field(extensions=requires(Scope.CHILD_READ),
                      description="One possible-duplicate pair, or null when you may read neither record (or no such "
                                  "pair exists).")
    async def identity_candidate(self, info: strawberry.Info, id: strawberry.ID) -> IdentityCandidate | None:
        view = await svc.candidate(info.context.service, str(id))
        return IdentityCandidate.from_view(view) if view else None
