"""sharedAssociates: adults linked to several children across several forces.

A child is linked to a person by an episode of the child naming the person (WITH_PERSON, the
episode reported since `since`) or by a recorded association (ASSOCIATES_WITH, recorded since
`since`). The forces of a link are the forces the linking episodes were reported to, and the
force that recorded an association.

Cross-force (issue 8, docs/ACCESS.md "linked risk in summary form"): an adult is ranked and
counted over ALL its links, every child in every force, and is given to every caller that can see
the adult at all (one link through a record it may open; see SHARED_ASSOCIATE_COUNTS), so each of
the forces an adult of concern operates in learns the adult's whole reach. Children the caller
may read are named; the others are listed in summary form (pseudonym, age band, responsible LA,
active flags); links through an episode the caller may not open keep their kind, date and force
but not the episode id. Counts per force: children with at least one link in that force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mpdb.domain.errors import InvalidInput
from mpdb.graph.repositories.intel_links import IntelLinkRepository
from mpdb.intel.co_missing import keyset_page, require_named_child_access, resolve_window
from mpdb.services.context import ServiceContext


@dataclass
class SharedAssociate:
    person: dict[str, Any]
    children: list[dict[str, Any]]  # {child, links, forces}
    forces: list[str]

    @property
    def episode_ids(self) -> set[str]:
        """The linking episodes the caller may open."""
        return {li["episodeId"] for c in self.children for li in c["links"] if li["episodeId"] and li["visible"]}

    @property
    def children_by_force(self) -> list[dict[str, Any]]:
        """[{force, children}]: children with a link in each force, most first."""
        counts: dict[str, int] = {}
        for c in self.children:
            for f in c["forces"]:
                counts[f] = counts.get(f, 0) + 1
        return [{"force": f, "children": n} for f, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]


@dataclass
class SharedAssociatesResult:
    associates: list[SharedAssociate]
    has_more: bool
    total: int
    as_of: datetime
    since: datetime


def associate_key(a: SharedAssociate) -> tuple[Any, ...]:
    return (-len(a.children), -len(a.forces), a.person["id"])


def _by_identity(children: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per child identity (graph_schema/MODEL.md): the links of every record of a child,
    under the record its identity is named by (or the first one)."""
    merged: dict[str, dict[str, Any]] = {}
    for c in sorted(children, key=lambda c: c["child"]["id"]):
        key = c.get("identity") or c["child"]["id"]
        if key in merged:
            merged[key] = {**merged[key], "links": merged[key]["links"] + c["links"]}
        else:
            merged[key] = c
    return list(merged.values())


def build_associates(rows: list[dict[str, Any]], min_children: int, min_forces: int) -> list[SharedAssociate]:
    out = []
    for row in rows:
        children = []
        for c in _by_identity(row["children"]):
            links = sorted(c["links"], key=lambda li: (li["at"], li["episodeId"] or ""), reverse=True)
            children.append({"child": c["child"], "links": links,
                             "forces": sorted({li["force"] for li in links if li["force"]})})
        forces = sorted({f for c in children for f in c["forces"]})
        if len(children) >= min_children and len(forces) >= min_forces:
            children.sort(key=lambda c: c["child"]["pseudonym"])
            out.append(SharedAssociate(person=row["person"], children=children, forces=forces))
    return out


async def shared_associates(ctx: ServiceContext, min_children: int, min_forces: int, since: datetime | None,
                            as_of: datetime | None, limit: int, after: list[Any] | None) -> SharedAssociatesResult:
    require_named_child_access(ctx.scope)
    if not 2 <= min_children <= 500:
        raise InvalidInput("`minChildren` must be between 2 and 500", field="minChildren")
    if not 1 <= min_forces <= 50:
        raise InvalidInput("`minForces` must be between 1 and 50", field="minForces")
    as_of, since = resolve_window(as_of, since, default_days=365)
    ctx.require_purpose()
    # Ranked on counts alone; links and children are read for the page's persons only.
    picked: dict[str, Any] = {}

    def select(counts: list[tuple[str, int, int]]) -> list[str]:
        page_keys, picked["more"] = keyset_page(counts, lambda c: (-c[1], -c[2], c[0]), limit, after)
        return [pid for pid, _, _ in page_keys]

    counts, rows = await IntelLinkRepository(ctx.graph).shared_associates(
        ctx.scope, min_children, min_forces, since, as_of, select)
    page = sorted(build_associates(rows, min_children, min_forces), key=associate_key)
    more = bool(picked.get("more"))
    total = len(counts)
    ids: set[str] = set()
    summaries: set[str] = set()
    for a in page:
        ids |= {a.person["id"]} | a.episode_ids
        for c in a.children:
            (ids if c["child"]["visible"] else summaries).add(c["child"]["id"])
    await ctx.consulted("sharedAssociates", sorted(ids), summaries=summaries)
    return SharedAssociatesResult(associates=page, has_more=more, total=total, as_of=as_of, since=since)


_BEGINNING = datetime(1900, 1, 1, tzinfo=UTC)


async def adult_children(ctx: ServiceContext, person_id: str, as_of: datetime) -> list[dict[str, Any]]:
    """Every child linked to an adult up to `as_of` (riskProfile's RiskAdult.children): named when
    the caller may read the child, else in summary form, like sharedAssociates. Empty unless the
    caller can see the adult (one link through a record it may open), so the id alone discloses
    nothing. Audited per call: the records returned in full, and the summaries."""
    require_named_child_access(ctx.scope)
    rows = await IntelLinkRepository(ctx.graph).adult_links(ctx.scope, person_id, _BEGINNING, as_of)
    found = build_associates(rows, 0, 0)
    if not found or not any(li["visible"] for c in found[0].children for li in c["links"]):
        return []
    a = found[0]
    await ctx.consulted("riskProfile.adult.children",
                        sorted({c["child"]["id"] for c in a.children if c["child"]["visible"]} | a.episode_ids),
                        summaries=[c["child"]["id"] for c in a.children if not c["child"]["visible"]])
    return a.children
