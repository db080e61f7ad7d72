"""Root fields of the link queries. All need intel:read; callers limited to aggregates are refused;
every child and episode returned in full is audited by the service, one event per call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from mpdb.api.pagination import PageInfo, decode_cursor, encode_cursor, page_size
from mpdb.api.permissions import requires
from mpdb.api.types.intel_links import (
    STRENGTH_DOC,
    ChildSummary,
    CoMissingGroup,
    CoMissingGroupPage,
    CoMissingLink,
    CoMissingPage,
    ForceChildCount,
    LinkedChildEntry,
    LinkedChildRef,
    LinkedChildrenPage,
    LinkedPlacement,
    LinkedRelation,
    LinkEvidence,
    LinkPerson,
    LinkToAnchor,
    RiskProfile,
    SharedAssociate,
    SharedAssociatePage,
    associate_child_from,
    risk_profile_from,
)
from mpdb.auth.principal import Scope
from mpdb.intel import associates, linked_children, risk_profile
from mpdb.intel import co_missing as cm


def _after(after: str | None, arity: int) -> list[Any] | None:
    return decode_cursor(after, arity) if after else None


def _page_info(more: bool, last_key: tuple[Any, ...] | None) -> PageInfo:
    return PageInfo(has_next_page=more, end_cursor=encode_cursor(*last_key) if last_key is not None else None)


@strawberry.type
class IntelLinkQueries:
    @strawberry.field(
        extensions=requires(Scope.CHILD_READ, Scope.INTEL_READ),
        description="A child's cross-force picture at asOf (default now): prior episodes by force, flags raised "
                    "by any agency, placements, peers and adults they went missing or were found with, where they "
                    "were found before, return interviews (shareable summary only) and the rules they currently "
                    "trigger. Peers you may not read in full are in summary form, never left out; adults carry "
                    "their children per force across all forces. Null when no such child is visible to you.",
    )
    async def risk_profile(self, info: strawberry.Info, child_id: strawberry.ID,
                           as_of: datetime | None = None) -> RiskProfile | None:
        p = await risk_profile.risk_profile(info.context.service, str(child_id), as_of)
        return risk_profile_from(p) if p else None

    @strawberry.field(
        extensions=requires(Scope.CHILD_READ, Scope.INTEL_READ),
        description="Who goes missing with this child: explicit links (WITH_CHILD) and inferred ones (overlapping "
                    "missing windows at the same place, cell or adult; a shared adult associate), 1 or 2 hops, "
                    "ordered by hop then strength. " + STRENGTH_DOC + " since defaults to asOf - 365 days. A linked "
                    "child you may not read in full is in summary form (toChild null, toSummary), never left "
                    "out; hop 2 starts from the hop-1 children you may read. Null when no such child is visible "
                    "to you.",
    )
    async def co_missing(self, info: strawberry.Info, child_id: strawberry.ID, since: datetime | None = None,
                         hops: int = 1, as_of: datetime | None = None, first: int | None = None,
                         after: str | None = None) -> CoMissingPage | None:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        res = await cm.co_missing(ctx, str(child_id), since, hops, as_of, limit, _after(after, 4))
        if res is None:
            return None
        return CoMissingPage(
            child=LinkedChildRef.from_row(res.child, res.as_of), as_of=res.as_of, since=res.since, hops=res.hops,
            total_count=res.total, nodes=[CoMissingLink.from_link(lk, res.as_of) for lk in res.links],
            page_info=_page_info(res.has_more, cm.link_key(res.links[-1]) if res.links else None),
        )

    @strawberry.field(
        extensions=requires(Scope.CHILD_READ, Scope.INTEL_READ),
        description="Groups of children who go missing together (connected components of links that are explicit "
                    "or have strength >= 0.5, since `since`), largest first, with the forces and LAs each spans. "
                    "area: a force or LA code (groups touching it), or null for national.",
    )
    async def co_missing_groups(self, info: strawberry.Info, area: str | None = None, since: datetime | None = None,
                                min_size: int = 3, as_of: datetime | None = None, first: int | None = None,
                                after: str | None = None) -> CoMissingGroupPage:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        res = await cm.co_missing_groups(ctx, area, since, min_size, as_of, limit, _after(after, 3))
        return CoMissingGroupPage(
            as_of=res.as_of, since=res.since, total_count=res.total,
            nodes=[CoMissingGroup.from_group(g, res.as_of, res.named) for g in res.groups],
            page_info=_page_info(res.has_more, cm.group_key(res.groups[-1]) if res.groups else None),
        )

    @strawberry.field(
        extensions=requires(Scope.CHILD_READ, Scope.INTEL_READ),
        description="Adults linked (named in an episode, or a recorded association) to at least minChildren "
                    "children across at least minForces forces since `since` (default asOf - 365 days), with the "
                    "children and records behind each link. Most children first. Counted over every child in every "
                    "force; you get an adult when at least one of its links is a record you may open, with the "
                    "children you may read named and the others in summary form.",
    )
    async def shared_associates(self, info: strawberry.Info, min_children: int = 3, min_forces: int = 2,
                                since: datetime | None = None, as_of: datetime | None = None,
                                first: int | None = None, after: str | None = None) -> SharedAssociatePage:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        res = await associates.shared_associates(ctx, min_children, min_forces, since, as_of, limit, _after(after, 3))
        nodes = [SharedAssociate(
            person=LinkPerson.from_row(a.person), child_count=len(a.children), force_count=len(a.forces),
            forces=a.forces,
            children_by_force=[ForceChildCount(force=r["force"], children=r["children"]) for r in a.children_by_force],
            children=[associate_child_from(c, res.as_of) for c in a.children],
        ) for a in res.associates]
        return SharedAssociatePage(
            as_of=res.as_of, since=res.since, total_count=res.total, nodes=nodes,
            page_info=_page_info(res.has_more, associates.associate_key(res.associates[-1]) if res.associates else None),
        )

    @strawberry.field(
        extensions=requires(Scope.CHILD_READ, Scope.INTEL_READ),
        description="For a local authority's missing lead: its looked-after children wherever placed, other LAs' "
                    "children placed in its area, and children linked to either (co-missing, shared adult, "
                    "shared hot spot since `since`); linked children of other LAs in summary form unless you may "
                    "see them. Only the LA itself or a national unit may ask.",
    )
    async def linked_children(self, info: strawberry.Info, local_authority: str,
                              relation: LinkedRelation | None = None, since: datetime | None = None,
                              as_of: datetime | None = None, first: int | None = None,
                              after: str | None = None) -> LinkedChildrenPage:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        res = await linked_children.linked_children(ctx, local_authority, relation.value if relation else None,
                                                    since, as_of, limit, _after(after, 3))
        nodes = []
        for e in res.entries:
            nodes.append(LinkedChildEntry(
                relation=LinkedRelation(e.relation),
                summary=ChildSummary.from_row(e.child, res.as_of),
                child=LinkedChildRef.from_row(e.child, res.as_of) if e.visible else None,
                strength=e.strength if e.relation == "LINKED" else None,
                placements=[LinkedPlacement.from_row(p) for p in e.placements],
                links=[LinkToAnchor(anchor=LinkedChildRef.from_row(lk.from_child, res.as_of), strength=lk.strength,
                                    explicit=lk.explicit,
                                    evidence=[LinkEvidence.from_evidence(ev) for ev in lk.evidence])
                       for lk in e.links],
            ))
        return LinkedChildrenPage(
            local_authority=res.local_authority, as_of=res.as_of, since=res.since, total_count=res.total, nodes=nodes,
            page_info=_page_info(res.has_more, linked_children.entry_key(res.entries[-1]) if res.entries else None),
        )
