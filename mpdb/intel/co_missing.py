"""Who goes missing together: link evidence -> links with a strength -> groups.

Evidence kinds and their weights (how much one incident of that kind says "these two go missing
together"):

| kind | meaning | weight |
|---|---|---|
| EXPLICIT | an episode records the other child (WITH_CHILD: reported/found/sighted together) | 0.8 |
| SAME_ADULT | overlapping missing windows, both episodes WITH_PERSON the same person | 0.5 |
| SAME_PLACE | overlapping missing windows, both FOUND_AT/WENT_TO the same location | 0.4 |
| SAME_CELL | overlapping missing windows, FOUND_AT/WENT_TO different locations in one ~500 m cell | 0.25 |
| SHARED_ASSOCIATE | both children ASSOCIATES_WITH the same adult of concern (no time link) | 0.15 |
| SHARED_HOTSPOT | found in the same cell at any time (linkedChildren only) | 0.1 |

A missing window is [reportedAt, coalesce(foundAt, returnedAt, asOf)].

**Strength** (in [0, 1)): evidence items that share an episode describe the same incident (e.g.
"found together" on both children's records, plus the same found-at place), so they are first
merged into incidents; an incident weighs as its strongest item, decayed by age with a one-year
half-life; incidents combine as a noisy-OR:

    strength = 1 - prod_over_incidents(1 - w_max(incident) * 0.5 ** (age_days(incident) / 365))

so explicit > inferred for one incident, every further independent incident makes the link
stronger, repeated descriptions of one incident do not, and old incidents count less.
`age_days` is asOf minus the incident's latest reportedAt (or the association's recordedAt).

**Groups** are connected components over the links that are explicit or have strength >= 0.5
(two recent same-place or same-adult incidents; one inferred incident alone is not enough).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from mpdb.auth.principal import Scope
from mpdb.domain.errors import Forbidden, InvalidInput
from mpdb.graph.repositories.intel_links import IntelLinkRepository
from mpdb.services.context import ServiceContext

WEIGHTS: dict[str, float] = {
    "EXPLICIT": 0.8,
    "SAME_ADULT": 0.5,
    "SAME_PLACE": 0.4,
    "SAME_CELL": 0.25,
    "SHARED_ASSOCIATE": 0.15,
    "SHARED_HOTSPOT": 0.1,
}
HALF_LIFE_DAYS = 365.0
GROUP_MIN_STRENGTH = 0.5
MAX_WINDOW_DAYS = 3 * 365  # the longest `since`..asOf span a link query accepts


def decay(at: datetime | None, as_of: datetime) -> float:
    if at is None:
        return 1.0
    age_days = max(0.0, (as_of - at).total_seconds() / 86400.0)
    return float(0.5 ** (age_days / HALF_LIFE_DAYS))


def _place_key(place: dict[str, Any]) -> str:
    """A place's identity in evidence: its id, or its cell when it is shown as a cell only (a
    linked child's private place, see _EVIDENCE_PLACES)."""
    return place["id"] if place.get("id") is not None else "cell:" + str(place.get("cell"))


@dataclass
class Evidence:
    kind: str
    source: str | None
    episodes: list[dict[str, Any]]  # episode briefs (both children's), `visible` flag on each
    places: list[dict[str, Any]] = field(default_factory=list)
    person: dict[str, Any] | None = None
    at: datetime | None = None  # when no episode dates it (associations)

    @property
    def weight(self) -> float:
        return WEIGHTS[self.kind]

    @property
    def date(self) -> datetime | None:
        dates = [e["reportedAt"] for e in self.episodes if e.get("reportedAt")]
        return max(dates) if dates else self.at

    @property
    def episode_ids(self) -> frozenset[str]:
        return frozenset(e["id"] for e in self.episodes)

    def key(self) -> tuple[Any, ...]:
        return (self.kind, self.source, tuple(sorted(self.episode_ids)),
                tuple(sorted(_place_key(p) for p in self.places)), (self.person or {}).get("id"))


@dataclass
class Link:
    from_child: dict[str, Any]  # may be just {"id": ...} until filled in
    to_child: dict[str, Any]
    evidence: list[Evidence]
    hop: int = 1
    strength: float = 0.0

    @property
    def explicit(self) -> bool:
        return any(ev.kind == "EXPLICIT" for ev in self.evidence)

    @property
    def episode_ids(self) -> set[str]:
        return {i for ev in self.evidence for i in ev.episode_ids}

    @property
    def visible_episode_ids(self) -> set[str]:
        """The evidence episodes the caller may open (the others are shown without ids)."""
        return {e["id"] for ev in self.evidence for e in ev.episodes if e.get("visible", True)}

    @property
    def summary_only(self) -> bool:
        """The linked child may not be read in full by the caller: shown in summary form."""
        return self.to_child.get("visible") is False


def _windows_overlap(a: dict[str, Any], b: dict[str, Any], as_of: datetime) -> bool:
    a_end = a.get("endAt") or as_of
    b_end = b.get("endAt") or as_of
    return bool(a["reportedAt"] <= b_end and b["reportedAt"] <= a_end)


def incidents(evidence: list[Evidence], as_of: datetime) -> list[list[Evidence]]:
    """Evidence items merged into incidents: items sharing an episode, and explicit records on
    both children's sides whose windows overlap (the same event recorded twice)."""
    parent = list(range(len(evidence)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    by_episode: dict[str, int] = {}
    for i, ev in enumerate(evidence):
        for eid in ev.episode_ids:
            if eid in by_episode:
                union(i, by_episode[eid])
            else:
                by_episode[eid] = i
    # Explicit records whose episode windows overlap: a sweep over the windows sorted by start
    # instead of comparing every pair (thousands of pairs for a busy child). Every window seen so
    # far that overlaps the next one contains its start, as does the one reaching furthest, and
    # windows sharing a point are already joined: joining it to that one alone is enough.
    windows = [(ep["reportedAt"], ep.get("endAt") or as_of, i)
               for i, ev in enumerate(evidence) if ev.kind == "EXPLICIT" for ep in ev.episodes]
    if any(end < start for start, end, _ in windows):  # not an interval: compare every pair
        for i, a in enumerate(evidence):
            for j in range(i + 1, len(evidence)):
                b = evidence[j]
                if a.kind == b.kind == "EXPLICIT" and any(
                    _windows_overlap(x, y, as_of) for x in a.episodes for y in b.episodes
                ):
                    union(i, j)
    else:
        windows.sort(key=lambda w: w[0])
        furthest: tuple[datetime, int] | None = None
        for start, end, i in windows:
            if furthest is not None and furthest[0] >= start:
                union(i, furthest[1])
            if furthest is None or end > furthest[0]:
                furthest = (end, i)
    groups: dict[int, list[Evidence]] = defaultdict(list)
    for i, ev in enumerate(evidence):
        groups[find(i)].append(ev)
    return list(groups.values())


def strength(evidence: list[Evidence], as_of: datetime) -> float:
    remaining = 1.0
    for incident in incidents(evidence, as_of):
        best = max(ev.weight * decay(ev.date, as_of) for ev in incident)
        remaining *= 1.0 - best
    return round(1.0 - remaining, 4)


def evidence_from_row(row: dict[str, Any]) -> Evidence:
    eps = [e for e in (row.get("e1"), row.get("e2")) if e]
    return Evidence(kind=row["kind"], source=row.get("source"), episodes=eps,
                    places=list(row.get("places") or []), person=row.get("person"), at=row.get("at"))


def links_from_rows(rows: Iterable[dict[str, Any]], as_of: datetime, hop: int = 1) -> dict[tuple[str, str], Link]:
    """Link-query rows (see mpdb/graph/queries/intel_links.py) -> one Link per (from, to)."""
    links: dict[tuple[str, str], Link] = {}
    seen: dict[tuple[str, str], set[tuple[Any, ...]]] = defaultdict(set)
    for row in rows:
        pair = (row["fromId"], row["other"]["id"])
        ev = evidence_from_row(row)
        key = ev.key()
        if key in seen[pair]:
            continue
        seen[pair].add(key)
        link = links.get(pair)
        if link is None:
            link = links[pair] = Link(from_child={"id": pair[0]}, to_child=row["other"], evidence=[], hop=hop)
        link.evidence.append(ev)
    for link in links.values():
        link.evidence = _merge_place_roles(link.evidence)
        link.evidence.sort(key=lambda ev: (ev.date or as_of, ev.kind), reverse=True)
        link.strength = strength(link.evidence, as_of)
    return links


def _merge_place_roles(evidence: list[Evidence]) -> list[Evidence]:
    """One SAME_PLACE/SAME_CELL item per (episodes, places), listing every role pair
    (FOUND_AT/WENT_TO ...) that put both episodes there."""
    out: list[Evidence] = []
    index: dict[tuple[Any, ...], Evidence] = {}
    for ev in evidence:
        if ev.kind not in ("SAME_PLACE", "SAME_CELL", "SHARED_HOTSPOT"):
            out.append(ev)
            continue
        k = (ev.kind, tuple(sorted(ev.episode_ids)), tuple(sorted(_place_key(p) for p in ev.places)))
        if k in index:
            roles = set((index[k].source or "").split(",")) | {ev.source or ""}
            index[k].source = ",".join(sorted(r for r in roles if r))
        else:
            index[k] = ev
            out.append(ev)
    return out


def overlapping_place_pairs(rows: list[dict[str, Any]], as_of: datetime) -> list[dict[str, Any]]:
    """Sweep the (place, episode) rows of GROUP_EDGE_IDS for pairs of different children whose
    windows overlap at the same location (SAME_PLACE) or in the same cell (SAME_CELL). Sorted by
    start, each row only meets rows that started before it ended: O(n log n + pairs)."""
    by_cell: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        loc = r["loc"]
        by_cell[loc.get("cell") or "loc:" + loc["id"]].append(r)
    out: list[dict[str, Any]] = []
    for members in by_cell.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda r: r["e1"]["reportedAt"])
        active: list[dict[str, Any]] = []
        for r in members:
            start = r["e1"]["reportedAt"]
            active = [a for a in active if (a["e1"].get("endAt") or as_of) >= start]
            for a in active:
                if a["child"]["id"] == r["child"]["id"]:
                    continue
                same = a["loc"]["id"] == r["loc"]["id"]
                first, second = (a, r) if a["child"]["id"] < r["child"]["id"] else (r, a)
                out.append({
                    "child": first["child"], "other": second["child"],
                    "kind": "SAME_PLACE" if same else "SAME_CELL",
                    "source": f"{first['kind']}/{second['kind']}",
                    "e1": first["e1"], "e2": second["e1"],
                    "places": [first["loc"]] if same else [first["loc"], second["loc"]],
                    "person": None, "at": None,
                })
            active.append(r)
    return out


@dataclass
class Group:
    members: list[dict[str, Any]]
    links: list[Link]

    @property
    def episode_ids(self) -> set[str]:
        return {i for link in self.links for i in link.episode_ids}

    @property
    def episodes(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for link in self.links:
            for ev in link.evidence:
                for e in ev.episodes:
                    out[e["id"]] = e
        return out

    @property
    def forces(self) -> list[str]:
        return sorted({f for e in self.episodes.values() for f in (e.get("reportedTo"), e.get("foundBy")) if f})

    @property
    def local_authorities(self) -> list[str]:
        las = {m["responsibleAuthority"] for m in self.members if m.get("responsibleAuthority")}
        las |= {la for e in self.episodes.values() for la in e.get("placeLas") or [] if la}
        for link in self.links:
            for ev in link.evidence:
                las |= {p["laCode"] for p in ev.places if p.get("laCode")}
        return sorted(las)


def group_links(edge_rows: Iterable[dict[str, Any]], as_of: datetime) -> dict[tuple[str, str], Link]:
    """Edge rows in the GROUP shape (`child`, `other`) -> undirected links keyed (lower, higher)."""
    normalised: list[dict[str, Any]] = []
    children: dict[str, dict[str, Any]] = {}
    for r in edge_rows:
        a, b = r["child"], r["other"]
        children[a["id"]], children[b["id"]] = a, b
        if a["id"] > b["id"]:
            r = {**r, "child": b, "other": a, "e1": r.get("e2"), "e2": r.get("e1")}
        normalised.append({**r, "fromId": r["child"]["id"]})
    links = links_from_rows(normalised, as_of)
    for (a_id, _), link in links.items():
        link.from_child = children[a_id]
    return links


def _strong_components(links: dict[tuple[str, str], Link], min_size: int) -> tuple[list[Link], list[set[str]]]:
    """The links strong enough to group (explicit or >= 0.5) and the connected components over
    them with at least `min_size` children, in order of their smallest child id."""
    adj: dict[str, set[str]] = defaultdict(set)
    kept: list[Link] = []
    for (a, b), link in links.items():
        if not (link.explicit or link.strength >= GROUP_MIN_STRENGTH):
            continue
        kept.append(link)
        adj[a].add(b)
        adj[b].add(a)
    seen: set[str] = set()
    comps: list[set[str]] = []
    for start in sorted(adj):
        if start in seen:
            continue
        comp: set[str] = set()
        stack = [start]
        while stack:
            n = stack.pop()
            if n in comp:
                continue
            comp.add(n)
            stack.extend(adj[n] - comp)
        seen |= comp
        if len(comp) >= min_size:
            comps.append(comp)
    return kept, comps


def components(links: dict[tuple[str, str], Link], min_size: int) -> list[Group]:
    """Connected components over the links strong enough to group (explicit or >= 0.5)."""
    kept, comps = _strong_components(links, min_size)
    people: dict[str, dict[str, Any]] = {}
    for link in kept:
        people[link.from_child["id"]], people[link.to_child["id"]] = link.from_child, link.to_child
    groups: list[Group] = []
    for comp in comps:
        members = sorted((people[i] for i in comp), key=lambda m: m["pseudonym"])
        group_links_ = sorted((lk for lk in kept if lk.from_child["id"] in comp),
                              key=lambda lk: (-lk.strength, lk.from_child["pseudonym"], lk.to_child["pseudonym"]))
        groups.append(Group(members=members, links=group_links_))
    return groups


# --- shared by the link queries -----------------------------------------------------------------


def require_named_child_access(scope: Any) -> None:
    """These queries name children: callers limited to aggregates (analysts, inspectorate) are
    refused outright rather than given an empty answer that looks like 'no links'."""
    if scope.aggregates_only:
        raise Forbidden("this query names children; your access is limited to aggregates")


def resolve_window(as_of: datetime | None, since: datetime | None, default_days: int,
                   since_field: str = "since") -> tuple[datetime, datetime]:
    """(asOf, since) as UTC datetimes: asOf defaults to now, since to asOf - default_days."""
    now = datetime.now(UTC)
    as_of = _utc(as_of, "asOf") if as_of is not None else now
    if as_of > now + timedelta(minutes=5):
        raise InvalidInput("`asOf` cannot be in the future", field="asOf")
    since = _utc(since, since_field) if since is not None else as_of - timedelta(days=default_days)
    if since > as_of:
        raise InvalidInput(f"`{since_field}` must not be after `asOf`", field=since_field)
    if (as_of - since).days > MAX_WINDOW_DAYS:
        raise InvalidInput(f"`{since_field}` may be at most {MAX_WINDOW_DAYS} days before `asOf`", field=since_field)
    return as_of, since


def _utc(value: datetime, field_name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"`{field_name}` needs a time zone (e.g. 2024-05-01T00:00:00Z)", field=field_name)
    return value.astimezone(UTC)


def age_band(date_of_birth: date | None, as_of: datetime) -> str | None:
    """Age band for summary forms (the bands analysts use), never the date of birth itself."""
    if date_of_birth is None:
        return None
    d = as_of.date()
    age = d.year - date_of_birth.year - ((d.month, d.day) < (date_of_birth.month, date_of_birth.day))
    if age < 8:
        return "under 8"
    if age <= 11:
        return "8-11"
    if age <= 14:
        return "12-14"
    if age <= 17:
        return "15-17"
    return "18 and over"


T = TypeVar("T")


def keyset_page(items: list[T], key: Callable[[T], tuple[Any, ...]], limit: int,
                after: list[Any] | None) -> tuple[list[T], bool]:
    """A page of a list computed in memory, in `key` order, starting after the cursor's key."""
    ordered = sorted(items, key=key)
    if after is not None:
        after_t = tuple(after)
        try:
            ordered = [i for i in ordered if key(i) > after_t]
        except TypeError:
            raise InvalidInput("malformed cursor", field="after") from None
    return ordered[:limit], len(ordered) > limit


@dataclass
class CoMissingResult:
    child: dict[str, Any]
    as_of: datetime
    since: datetime
    hops: int
    links: list[Link]
    has_more: bool
    total: int


def link_key(link: Link) -> tuple[Any, ...]:
    return (link.hop, -link.strength, link.to_child["pseudonym"], link.from_child["id"])


async def co_missing(ctx: ServiceContext, child_id: str, since: datetime | None, hops: int,
                     as_of: datetime | None, limit: int, after: list[Any] | None) -> CoMissingResult | None:
    require_named_child_access(ctx.scope)
    if hops not in (1, 2):
        raise InvalidInput("`hops` must be 1 or 2", field="hops")
    as_of, since = resolve_window(as_of, since, default_days=365)
    ctx.require_purpose()
    # One round trip for the root and both hops (see CO_MISSING_FOR_CHILD).
    found = await IntelLinkRepository(ctx.graph).co_missing_for_child(ctx.scope, child_id, hops, since, as_of)
    if found is None:
        return None
    root = found["child"]
    # The child's identity counts as one child: evidence from every record is the root's, and
    # its records are never linked to each other.
    members = set(found.get("memberIds") or ()) | {child_id}
    hop1_rows = [r if r["fromId"] == child_id else {**r, "fromId": child_id}
                 for r in found["hop1"] if r["other"]["id"] not in members]
    first = links_from_rows(hop1_rows, as_of, hop=1)
    for link in first.values():
        link.from_child = root
    links = list(first.values())
    if hops == 2 and first:
        hop1 = {b: link.to_child for (_, b), link in first.items()}
        known = {*members, *hop1}
        second = links_from_rows([r for r in found["hop2"] if r["other"]["id"] not in known], as_of, hop=2)
        for (a, _), link in second.items():
            link.from_child = hop1[a]
        links.extend(second.values())
    page, more = keyset_page(links, link_key, limit, after)
    ids = {child_id}
    summaries: set[str] = set()
    for link in page:
        ids |= {link.from_child["id"]} | link.visible_episode_ids
        (summaries if link.summary_only else ids).add(link.to_child["id"])
    await ctx.consulted("coMissing", sorted(ids), summaries=summaries)
    return CoMissingResult(child=root, as_of=as_of, since=since, hops=hops, links=page, has_more=more,
                           total=len(links))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _at(seconds: int | None, micros: int | None) -> datetime | None:
    return None if seconds is None else _EPOCH + timedelta(seconds=seconds, microseconds=micros or 0)


class _GroupRegistry:
    """One dict per child, episode, place and person id, shared by every row that names it, so the
    details read afterwards fill every reference at once."""

    def __init__(self) -> None:
        self.children: dict[str, dict[str, Any]] = {}
        self.episodes: dict[str, dict[str, Any]] = {}
        self.places: dict[str, dict[str, Any]] = {}
        self.persons: dict[str, dict[str, Any]] = {}

    def _child(self, cid: str) -> dict[str, Any]:
        return self.children.setdefault(cid, {"id": cid})

    def _episode(self, e: list[Any]) -> dict[str, Any]:
        eid, s, us, end_s, end_us = e
        return self.episodes.setdefault(eid, {"id": eid, "reportedAt": _at(s, us), "endAt": _at(end_s, end_us)})

    def rows(self, entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """GROUP_EDGE_IDS entries -> (link rows, place rows) in the shape group_links and
        overlapping_place_pairs take."""
        links, places = [], []
        for r in entries:
            child, e1 = self._child(r["child"]), self._episode(r["e1"])
            if r["row"] == "link":
                person = (self.persons.setdefault(r["person"], {"id": r["person"]})
                          if r["person"] is not None else None)
                links.append({"row": "link", "kind": r["kind"], "source": r["source"], "person": person,
                              "child": child, "other": self._child(r["other"]), "e1": e1,
                              "e2": self._episode(r["e2"]) if r["e2"] is not None else None})
            else:
                lid, cell = r["loc"]
                loc = self.places.setdefault(lid, {"id": lid, "cell": cell})
                places.append({"row": "place", "kind": r["kind"], "child": child, "e1": e1, "loc": loc})
        return links, places

    @staticmethod
    def grouped_ids(links: dict[tuple[str, str], Link], min_size: int) -> tuple[list[str], ...]:
        """(children, episodes, places, persons) named by the groups `components` will build."""
        kept, comps = _strong_components(links, min_size)
        members = set().union(*comps) if comps else set()
        episodes: set[str] = set()
        places: set[str] = set()
        persons: set[str] = set()
        for link in kept:
            if link.from_child["id"] not in members:
                continue
            for ev in link.evidence:
                episodes |= ev.episode_ids
                places |= {p["id"] for p in ev.places}
                if ev.person:
                    persons.add(ev.person["id"])
        return sorted(members), sorted(episodes), sorted(places), sorted(persons)

    def fill(self, details: dict[str, list[dict[str, Any]]]) -> None:
        for key, reg in (("children", self.children), ("episodes", self.episodes), ("places", self.places),
                         ("persons", self.persons)):
            for d in details.get(key) or []:
                if d and d["id"] in reg:
                    reg[d["id"]].update(d)
                    reg[d["id"]]["_filled"] = True

    def complete(self, links: dict[tuple[str, str], Link]) -> dict[tuple[str, str], Link]:
        """Drop links to anything the details read did not return (it changed or went out of the
        caller's sight between the two reads), as a fresh read would have; then strip the markers."""
        def filled(d: dict[str, Any] | None) -> bool:
            return d is None or bool(d.get("_filled"))

        out = {k: lk for k, lk in links.items()
               if filled(lk.from_child) and filled(lk.to_child)
               and all(filled(e) for ev in lk.evidence for e in ev.episodes)
               and all(filled(p) for ev in lk.evidence for p in ev.places)
               and all(filled(ev.person) for ev in lk.evidence)}
        for reg in (self.children, self.episodes, self.places, self.persons):
            for d in reg.values():
                d.pop("_filled", None)
        return out


@dataclass
class GroupsResult:
    groups: list[Group]
    has_more: bool
    total: int
    as_of: datetime
    since: datetime
    named: bool  # False: members by pseudonym only, no episode ids


def identity_representatives(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Child id -> the lowest id of its identity (components over confirmed SAME_AS pairs), for the
    records that have one."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def identity_entries(entries: list[dict[str, Any]], pairs: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """GROUP_EDGE_IDS entries with each child named by its identity's representative record, so
    the records of one child are one member of a group; a link between two records of one child
    is dropped. Unchanged (and free) when nothing is merged."""
    rep = identity_representatives(pairs)
    if not rep:
        return entries
    out = []
    for r in entries:
        child = rep.get(r["child"], r["child"])
        other = rep.get(r["other"], r["other"]) if r.get("other") is not None else None
        if other is not None and other == child:
            continue
        out.append({**r, "child": child, "other": other} if (child, other) != (r["child"], r.get("other")) else r)
    return out


def group_key(group: Group) -> tuple[Any, ...]:
    return (-len(group.members), -len(group.episode_ids), group.members[0]["pseudonym"])


async def co_missing_groups(ctx: ServiceContext, area: str | None, since: datetime | None, min_size: int,
                            as_of: datetime | None, limit: int, after: list[Any] | None) -> GroupsResult:
    require_named_child_access(ctx.scope)
    if not 2 <= min_size <= 1000:
        raise InvalidInput("`minSize` must be between 2 and 1000", field="minSize")
    as_of, since = resolve_window(as_of, since, default_days=365)
    repo = IntelLinkRepository(ctx.graph)
    if area is not None and await repo.area_kind(area) is None:
        raise InvalidInput(f"unknown area {area!r}: give a police force or local authority code", field="area")
    named = ctx.principal.has(Scope.CHILD_READ)
    if named:
        ctx.require_purpose()
    reg = _GroupRegistry()
    entries = identity_entries(await repo.group_edge_ids(ctx.scope, since, as_of), await repo.same_as_pairs())
    link_rows, place_rows = reg.rows(entries)
    link_rows += overlapping_place_pairs(place_rows, as_of)
    links = group_links(link_rows, as_of)
    # Names, episode details and places only for what ends up in a group (see GROUP_EDGE_IDS).
    grouped = reg.grouped_ids(links, min_size)
    reg.fill(await repo.group_details(ctx.scope, *grouped))
    groups = components(reg.complete(links), min_size)
    if area is not None:
        groups = [g for g in groups if area in g.forces or area in g.local_authorities]
    page, more = keyset_page(groups, group_key, limit, after)
    if named:
        ids: set[str] = set()
        for g in page:
            ids |= {m["id"] for m in g.members} | g.episode_ids
        await ctx.consulted("coMissingGroups", sorted(ids))
    return GroupsResult(groups=page, has_more=more, total=len(groups), as_of=as_of, since=since, named=named)
