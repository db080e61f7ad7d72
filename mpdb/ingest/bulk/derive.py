"""Derived data, computed in Python before an offline import, equal to what Cypher computes.

- Access lists: `REFRESH_ACCESS` (mpdb/graph/queries/access.py), rule for rule. The lists are
  sets (only `x IN list` is ever asked of them); their order here follows the Cypher's UNION
  order, but the store may give another, so comparisons treat them as sets
  (mpdb/graph/fingerprint.py).
- Hot-spot buckets: /work/notes/bucket-spec.md ("HotspotBucket"), one node per (kind, cell,
  laCode, forceCode, day) with at least one episode.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

HOTSPOT_KINDS = ("missing_from", "last_seen", "went_to", "found_at")


@dataclass(slots=True)
class EpisodeFacts:
    """What the access lists and the buckets need to know about one episode."""

    id: str
    child_id: str
    open: bool
    reported_at: datetime
    reported_to: str | None = None
    found_by: str | None = None
    placement_id: str | None = None  # MISSING_FROM
    placement_force: str | None = None  # the MISSING_FROM placement's IN_FORCE_AREA force
    placement_location: str | None = None  # ... and its AT_LOCATION
    from_location: str | None = None  # MISSING_FROM_LOCATION
    last_seen_location: str | None = None
    found_location: str | None = None
    went_to: list[str] = field(default_factory=list)  # one per WENT_TO relationship
    rhi_by: list[str] = field(default_factory=list)  # agencies of FOLLOWED_BY interviews (BY)


@dataclass(slots=True)
class ChildFacts:
    id: str
    recorded_by: str | None
    looked_after_by: str | None = None
    home_la: str | None = None  # HOME_AT location's laCode
    placement_las: list[str] = field(default_factory=list)  # PLACED_BY, HOSTED_BY of each placement
    placement_forces: list[str] = field(default_factory=list)  # IN_FORCE_AREA of each placement
    area: list[str] = field(default_factory=list)  # union of the child's episodes' areaAgencies
    open_forces: list[str] = field(default_factory=list)  # REPORTED_TO of each open episode


def _union(*groups: Iterable[str | None]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for g in groups:
        for a in g:
            if a is not None and a not in seen:
                seen.add(a)
                out.append(a)
    return out


def episode_area_agencies(e: EpisodeFacts, loc_force: dict[str, str | None]) -> list[str]:
    """`Episode.areaAgencies`."""
    return _union(
        (e.reported_to, e.found_by),
        (loc_force.get(x) for x in (e.from_location, e.last_seen_location, e.found_location) if x),
        (e.placement_force,),
        e.rhi_by,
    )


def add_episode(c: ChildFacts, e: EpisodeFacts, area: list[str]) -> None:
    c.area = _union(c.area, area)
    if e.open and e.reported_to is not None:
        c.open_forces.append(e.reported_to)


def child_access(c: ChildFacts, agencies: set[str]) -> dict[str, list[str]]:
    """`historyAgencies`, `openEpisodeForces`, `accessAgencies` of a child (`agencies`: ids of
    every Agency node, for the `recordedBy` rule)."""
    las = _union((c.looked_after_by, c.home_la), c.placement_las)
    others = _union(c.placement_forces, c.area)
    reach = las + [a for a in others if a not in las]
    recorded = [c.recorded_by] if c.recorded_by in agencies and c.recorded_by not in reach else []
    return {
        "historyAgencies": las + [f for f in c.open_forces if f not in las],
        "openEpisodeForces": list(c.open_forces),
        "accessAgencies": reach + recorded,  # type: ignore[list-item]
    }


# --- hot-spot buckets -----------------------------------------------------------------------------

BucketKey = tuple[str, str, str, str, date]  # kind, cell, laCode, forceCode, day


def episode_places(e: EpisodeFacts) -> dict[str, tuple[list[str], bool]]:
    """kind -> (locations reached, more than one place of that kind?), per the spec's paths."""
    mf = [x for x in (e.from_location, e.placement_location) if x]
    # relationships are counted: a MISSING_FROM placement counts even without an AT_LOCATION
    n_mf = (e.from_location is not None) + (e.placement_id is not None)
    return {
        "missing_from": (mf, n_mf > 1),
        "last_seen": ([e.last_seen_location] if e.last_seen_location else [], False),
        "went_to": (list(e.went_to), len(e.went_to) > 1),
        "found_at": ([e.found_location] if e.found_location else [], False),
    }


class BucketBuilder:
    """Accumulates episodes into buckets; `rows()` gives the HotspotBucket nodes."""

    def __init__(self, locations: dict[str, tuple[str, str, str]]) -> None:
        self.locations = locations  # location id -> (cell, laCode, forceCode)
        self.buckets: dict[BucketKey, tuple[set[str], set[str], set[str]]] = {}

    def add(self, e: EpisodeFacts) -> None:
        day = e.reported_at.astimezone(UTC).date()
        for kind, (locs, multi) in episode_places(e).items():
            for loc in locs:
                cell, la, force = self.locations[loc]
                key = (kind, cell, la or "", force or "", day)
                b = self.buckets.get(key)
                if b is None:
                    b = self.buckets[key] = (set(), set(), set())
                b[0].add(e.child_id)
                b[1].add(e.id)
                if multi:
                    b[2].add(e.id)

    def partials(self) -> Iterator[BucketPartial]:
        """Each bucket as what its node needs (in no particular order): sorted child ids, the NUMBER
        of episodes (their ids are only ever counted) and the sorted multi-place episode ids."""
        for key, (ch, ep, mu) in self.buckets.items():
            yield key, sorted(ch), len(ep), sorted(mu)

    def rows(self) -> list[dict[str, Any]]:
        """Every bucket's node, sorted by key."""
        return [bucket_row(p) for p in sorted(self.partials(), key=lambda p: p[0])]


# A bucket as one part of the episodes wrote it: (key, sorted child ids, episodes, sorted multi ids).
BucketPartial = tuple[BucketKey, list[str], int, list[str]]


def fold_partials(parts: Iterable[BucketPartial]) -> dict[BucketKey, BucketPartial]:
    """One bucket per key from partial buckets of DISJOINT sets of episodes (the synthetic seed's
    blocks, each all the episodes of its children): the child and multi lists are united, the
    episode counts added (an episode is in one part only, so no episode is counted twice)."""
    out: dict[BucketKey, BucketPartial] = {}
    for p in parts:
        key = p[0]
        b = out.get(key)
        if b is None:
            out[key] = p
        else:
            out[key] = (key, sorted({*b[1], *p[1]}), b[2] + p[2], sorted({*b[3], *p[3]}))
    return out


def bucket_row(p: BucketPartial) -> dict[str, Any]:
    (kind, cell, la, force, day), children, episodes, multi = p
    return {"id": f"{kind}|{cell}|{la}|{force}|{day.isoformat()}", "kind": kind, "cell": cell,
            "laCode": la, "forceCode": force, "day": day, "children": children,
            "episodes": episodes, "multi": multi}
