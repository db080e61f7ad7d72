"""co_missing.incidents groups overlapping explicit records with a sweep: exactly the groups the
pairwise comparison it replaced gives, on random evidence (fixed seeds)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mpdb.intel.co_missing import Evidence, _windows_overlap, incidents

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
KINDS = ("EXPLICIT", "EXPLICIT", "EXPLICIT", "SAME_ADULT", "SAME_PLACE")


def pairwise(evidence: list[Evidence], as_of: datetime) -> list[list[Evidence]]:
    """The previous implementation: every pair of explicit records compared."""
    parent = list(range(len(evidence)))

    def find(i: int) -> int:
        while parent[i] != i:
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
    for i, a in enumerate(evidence):
        for j in range(i + 1, len(evidence)):
            b = evidence[j]
            if a.kind == b.kind == "EXPLICIT" and any(_windows_overlap(x, y, as_of) for x in a.episodes for y in b.episodes):
                union(i, j)
    groups: dict[int, list[Evidence]] = defaultdict(list)
    for i, ev in enumerate(evidence):
        groups[find(i)].append(ev)
    return list(groups.values())


def episode(rng: random.Random, n_ids: int, inverted: bool) -> dict[str, Any]:
    start = AS_OF - timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23))
    end: datetime | None = start + timedelta(hours=rng.choice((0, 1, 5, 30, 200)))
    if inverted:
        end = start - timedelta(hours=3)
    elif rng.random() < 0.15:
        end = None  # still open: ends at asOf
    return {"id": f"E{rng.randint(1, n_ids)}", "reportedAt": start, "endAt": end}


@pytest.mark.parametrize("seed", range(40))
def test_same_incidents_as_comparing_every_pair(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(0, 60)
    inverted = seed % 10 == 9  # a record whose end precedes its start takes the pairwise path
    evidence = [Evidence(kind=rng.choice(KINDS), source=None,
                         episodes=[episode(rng, 3 * n + 1, inverted and rng.random() < 0.1)
                                   for _ in range(rng.randint(1, 2))])
                for _ in range(n)]
    got, expected = incidents(evidence, AS_OF), pairwise(evidence, AS_OF)
    assert [[id(e) for e in g] for g in got] == [[id(e) for e in g] for g in expected]
