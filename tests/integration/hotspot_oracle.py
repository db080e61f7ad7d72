"""The hot-spot buckets computed from scratch in Python, independently of the Cypher that maintains
them (mpdb/graph/queries/hotspot_buckets.py): the answer every write path must leave in the graph."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from typing import Any

from mpdb.graph.repositories.hotspot_buckets import all_buckets

# kind -> (Cypher for its episode->location paths, relationship types counted for `multi`)
_PATHS = {
    "missing_from": ["MATCH (e:Episode)-[:MISSING_FROM_LOCATION]->(l:Location)",
                     "MATCH (e:Episode)-[:MISSING_FROM]->(:Placement)-[:AT_LOCATION]->(l:Location)"],
    "last_seen": ["MATCH (e:Episode)-[:LAST_SEEN_AT]->(l:Location)"],
    "went_to": ["MATCH (e:Episode)-[:WENT_TO]->(l:Location)"],
    "found_at": ["MATCH (e:Episode)-[:FOUND_AT]->(l:Location)"],
}
_PLACE_COUNTS = """
MATCH (e:Episode)
RETURN e.id AS id, e.reportedAt AS reportedAt, [(c:Child)-[:HAD]->(e) | c.id] AS children,
       size([(e)-[:MISSING_FROM_LOCATION]->() | 1]) + size([(e)-[:MISSING_FROM]->() | 1]) AS missing_from,
       size([(e)-[:LAST_SEEN_AT]->() | 1]) AS last_seen, size([(e)-[:WENT_TO]->() | 1]) AS went_to,
       size([(e)-[:FOUND_AT]->() | 1]) AS found_at
"""


async def expected_buckets(graph) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    episodes = {r["id"]: r for r in await graph.read(_PLACE_COUNTS)}
    places: set[tuple[str, str, str, str, str]] = set()  # kind, episode, cell, la, force
    for kind, paths in _PATHS.items():
        for path in paths:
            for r in await graph.read(path + " RETURN e.id AS e, l.cell AS cell, l.laCode AS la, l.forceCode AS force"):
                if r["cell"] is not None:
                    places.add((kind, r["e"], r["cell"], r["la"] or "", r["force"] or ""))
    buckets: dict[str, dict[str, Any]] = {}
    members: dict[str, set[str]] = defaultdict(set)
    for kind, eid, cell, la, force in places:
        e = episodes[eid]
        if e["reportedAt"] is None or not e["children"]:
            continue
        day = e["reportedAt"].astimezone(UTC).date()
        bid = f"{kind}|{cell}|{la}|{force}|{day.isoformat()}"
        b = buckets.setdefault(bid, {"id": bid, "kind": kind, "cell": cell, "laCode": la, "forceCode": force,
                                     "day": day, "children": set(), "multi": set()})
        b["children"].update(e["children"])
        members[bid].add(eid)
        if e[kind] > 1:
            b["multi"].add(eid)
    return [{**b, "children": sorted(b["children"]), "multi": sorted(b["multi"]), "episodes": len(members[bid])}
            for bid, b in sorted(buckets.items())]


async def stored_buckets(graph) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return await all_buckets(graph)


async def assert_buckets_exact(graph) -> int:  # type: ignore[no-untyped-def]
    """The stored buckets are exactly the from-scratch ones; returns how many there are."""
    expected = await expected_buckets(graph)
    stored = await stored_buckets(graph)
    exp_by_id = {b["id"]: b for b in expected}
    got_by_id = {b["id"]: b for b in stored}
    missing = sorted(set(exp_by_id) - set(got_by_id))
    extra = sorted(set(got_by_id) - set(exp_by_id))
    wrong = [i for i in exp_by_id if i in got_by_id and exp_by_id[i] != got_by_id[i]]
    assert (missing[:5], extra[:5], [(exp_by_id[i], got_by_id[i]) for i in wrong[:3]]) == ([], [], [])
    return len(expected)
