"""linkedChildren(localAuthority): an LA missing lead's view.

Three kinds of entry, in this order:
- LOOKED_AFTER: children the LA looks after, wherever placed (with their current placement);
- PLACED_IN: children other LAs have placed in its area (placement current at asOf);
- LINKED: children linked to any of those by co-missing evidence (explicit or inferred, see
  mpdb/intel/co_missing.py), a shared adult associate, or a shared hot spot (found in the same
  ~500 m cell since `since`).

Linked children of other LAs come in SUMMARY form (pseudonym, age band, responsible LA, active
flags, and the link evidence with dates, places and forces but without the ids of episodes the LA
may not open and with the other child's private places as grid cells; docs/ACCESS.md, linked risk),
as DOMAIN.md "Who may see what" gives an LA; the full record only when the caller may see it.
Only the LA itself (or a national agency) may ask for an LA's view.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mpdb.domain.errors import Forbidden, InvalidInput
from mpdb.graph.repositories.intel_links import IntelLinkRepository
from mpdb.intel.co_missing import (
    Link,
    age_band,
    identity_representatives,
    keyset_page,
    links_from_rows,
    require_named_child_access,
    resolve_window,
)
from mpdb.services.context import ServiceContext

RELATION_ORDER = {"LOOKED_AFTER": 0, "PLACED_IN": 1, "LINKED": 2}


@dataclass
class LinkedEntry:
    relation: str
    child: dict[str, Any]  # always has id (internal), pseudonym, dateOfBirth, responsibleAuthority
    visible: bool
    placements: list[dict[str, Any]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # LINKED only: one per anchor child

    @property
    def strength(self) -> float:
        return max((lk.strength for lk in self.links), default=0.0)

    def visible_episode_ids(self) -> set[str]:
        return {e["id"] for lk in self.links for ev in lk.evidence for e in ev.episodes if e.get("visible")}


@dataclass
class LinkedChildrenResult:
    local_authority: str
    entries: list[LinkedEntry]
    has_more: bool
    total: int
    as_of: datetime
    since: datetime


def entry_key(e: LinkedEntry) -> tuple[Any, ...]:
    return (RELATION_ORDER[e.relation], -e.strength, e.child["pseudonym"])


async def linked_children(ctx: ServiceContext, local_authority: str, relation: str | None, since: datetime | None,
                          as_of: datetime | None, limit: int, after: list[Any] | None) -> LinkedChildrenResult:
    require_named_child_access(ctx.scope)
    if relation is not None and relation not in RELATION_ORDER:
        raise InvalidInput("`relation` must be LOOKED_AFTER, PLACED_IN or LINKED", field="relation")
    as_of, since = resolve_window(as_of, since, default_days=365)
    repo = IntelLinkRepository(ctx.graph)
    if not await repo.local_authority_exists(local_authority):
        raise InvalidInput(f"unknown local authority {local_authority!r}", field="localAuthority")
    if not (ctx.scope.national or ctx.scope.agency_id == local_authority):
        raise Forbidden("only the local authority itself (or a national unit) may see its linked children",
                        field="localAuthority")
    ctx.require_purpose()
    anchors = await repo.la_anchors(ctx.scope, local_authority, as_of)
    entries: dict[str, LinkedEntry] = {}
    for a in anchors:  # LOOKED_AFTER wins when a child is both (placed in its own LA's area)
        cid = a["child"]["id"]
        if cid not in entries or a["relation"] == "LOOKED_AFTER":
            entries[cid] = LinkedEntry(relation=a["relation"], child=a["child"], visible=True,
                                       placements=a["placements"])
    anchor_ids = sorted(entries)
    if relation in (None, "LINKED") and anchor_ids:
        # Identities (graph_schema/MODEL.md): an anchor's other records link for it, and are never
        # linked to it; two records of one linked child are one entry.
        rep = identity_representatives(await repo.same_as_pairs())
        anchor_of = {rep[a]: a for a in reversed(anchor_ids) if a in rep}
        roots = anchor_ids + sorted(m for m, r in rep.items() if r in anchor_of and m not in entries)
        rows = await repo.co_missing_rows(ctx.scope, roots, since, as_of, unopened_evidence=True)
        rows += await repo.shared_hotspot_rows(ctx.scope, roots, since, as_of)
        rows = _as_identities(rows, rep, anchor_of, entries)
        by_other: dict[str, list[Link]] = defaultdict(list)
        for link in links_from_rows(rows, as_of).values():
            link.from_child = entries[link.from_child["id"]].child
            by_other[link.to_child["id"]].append(link)
        for other_id, links in by_other.items():
            links.sort(key=lambda lk: (-lk.strength, lk.from_child["pseudonym"]))
            other = links[0].to_child
            entries[other_id] = LinkedEntry(relation="LINKED", child=other, visible=bool(other.get("visible")),
                                            links=links)
    selected = [e for e in entries.values() if relation is None or e.relation == relation]
    page, more = keyset_page(selected, entry_key, limit, after)
    ids: set[str] = set()
    summaries: set[str] = set()
    for e in page:
        (ids if e.visible else summaries).add(e.child["id"])
        ids |= {lk.from_child["id"] for lk in e.links} | e.visible_episode_ids()
    await ctx.consulted("linkedChildren", sorted(ids), summaries=summaries)
    return LinkedChildrenResult(local_authority=local_authority, entries=page, has_more=more, total=len(selected),
                                as_of=as_of, since=since)


def _as_identities(rows: list[dict[str, Any]], rep: dict[str, str], anchor_of: dict[str, str],
                   entries: dict[str, LinkedEntry]) -> list[dict[str, Any]]:
    """Link rows with every record named as its identity: rows from an anchor's other record count
    as the anchor's, a linked child's records as its first-seen record; rows to an anchor or
    within one identity are dropped. Unchanged when nothing is merged."""
    if not rep:
        return [r for r in rows if r["other"]["id"] not in entries]
    first: dict[str, dict[str, Any]] = {}
    out = []
    for r in rows:
        frm = r["fromId"]
        frm = anchor_of.get(rep.get(frm, ""), frm)
        other_rep = rep.get(r["other"]["id"], r["other"]["id"])
        if r["other"]["id"] in entries or other_rep in anchor_of or other_rep == rep.get(frm, frm):
            continue
        other = first.setdefault(other_rep, r["other"])
        out.append(r if (frm, other) == (r["fromId"], r["other"]) else {**r, "fromId": frm, "other": other})
    return out


__all__ = ["LinkedChildrenResult", "LinkedEntry", "age_band", "entry_key", "linked_children"]
