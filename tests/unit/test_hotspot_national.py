"""The national step 1 kept per force (mpdb/intel/hotspot_national.py) against the whole
computation: one fold over every bucket, then one greedy clustering of every cell."""

from __future__ import annotations

import random

from mpdb.domain.geo import cell_id
from mpdb.intel.hotspot_national import build, merge_stats, update, versions_by_force
from mpdb.intel.hotspots import CellStats, cluster_cells, cluster_counts, fold_bucket_columns

FORCES = ["F1", "F2", "F3", ""]


def random_buckets(rng: random.Random, n: int) -> list[tuple[str, str, bool, list[str], int, list[str]]]:
    """(force, cell, current, children, episodes, multi) rows over a small patch of grid, so cells
    have neighbours, clusters straddle forces, and one cell holds buckets of several forces."""
    out = []
    for _ in range(n):
        lat = 51.30 + rng.random() * 0.05
        lon = 0.50 + rng.random() * 0.08
        cell = cell_id(lat, lon)
        children = sorted({f"c{rng.randrange(60)}" for _ in range(rng.randint(1, 3))})
        episodes = rng.randint(len(children) and 1, 4)
        # an episode with places of the kind in two buckets is in both buckets' multi
        multi = sorted({f"e{rng.randrange(25)}" for _ in range(rng.randint(0, 2))})[:episodes]
        out.append((rng.choice(FORCES), cell, rng.random() < 0.6, children, episodes, multi))
    return out


def columns(rows):  # type: ignore[no-untyped-def]
    return ([r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows],
            [r[5] for r in rows])


def whole(rows) -> set:  # type: ignore[no-untyped-def,type-arg]
    """What `_count_clusters` computes nationally: one fold, one clustering."""
    stats = fold_bucket_columns(columns(rows))
    out = set()
    for cluster in cluster_cells(stats):
        counts = cluster_counts(cluster, stats)
        if counts.children:
            out.add((cluster, counts))
    return out


def by_force(rows) -> dict[str, dict[str, CellStats]]:  # type: ignore[no-untyped-def]
    return {f: fold_bucket_columns(columns([r for r in rows if r[0] == f])) for f in {r[0] for r in rows}}


def test_merging_forces_parts_gives_the_national_fold() -> None:
    rng = random.Random(7)
    for _ in range(20):
        rows = random_buckets(rng, 120)
        national = fold_bucket_columns(columns(rows))
        parts = by_force(rows)
        for cell, expected in national.items():
            merged = merge_stats([p[cell] for p in parts.values() if cell in p])
            assert merged == expected


def test_a_shared_multi_place_episode_is_counted_once_across_forces() -> None:
    a = CellStats(children={"c1"}, episodes=2, multi={"e1"})
    b = CellStats(children={"c1", "c2"}, episodes=1, multi={"e1"})
    assert merge_stats([a, b]) == CellStats(children={"c1", "c2"}, episodes=2, multi={"e1"})


def test_built_whole_it_equals_the_whole_computation() -> None:
    rng = random.Random(11)
    for _ in range(10):
        rows = random_buckets(rng, 150)
        entry = build("g", {}, by_force(rows))
        assert set(entry.counted) == whole(rows)
        assert len(entry.counted) == len(set(entry.counted))


def test_updating_some_forces_equals_recomputing_everything() -> None:
    """Writes that add, change and remove buckets of one or two forces at a time, including
    removing a cell that joined two clusters and adding one that joins them again."""
    rng = random.Random(3)
    rows = random_buckets(rng, 200)
    entry = build("g", {}, by_force(rows))
    for step in range(60):
        forces = rng.sample(FORCES, rng.choice([1, 1, 2]))
        for f in forces:
            mine = [r for r in rows if r[0] == f]
            keep = [r for r in mine if rng.random() > 0.15]
            rows = [r for r in rows if r[0] != f] + keep + [
                (f, *r[1:]) for r in random_buckets(rng, rng.randint(0, 12))]
        parts = by_force(rows)
        entry = update(entry, "g", {}, {f: parts.get(f, {}) for f in forces})
        assert set(entry.counted) == whole(rows), f"step {step}"
    assert entry.forces_read in (1, 2)


def test_an_update_re_clusters_only_the_components_it_touches() -> None:
    far = cell_id(53.0, -2.0)  # far from the patch: its own component
    rows = [("F1", cell_id(51.31, 0.51), True, ["c1"], 1, []), ("F2", far, True, ["c2"], 1, [])]
    entry = build("g", {}, by_force(rows))
    far_unit = entry.unit_of[far]
    rows.append(("F1", cell_id(51.31, 0.51), True, ["c3"], 1, []))
    after = update(entry, "g", {}, {"F1": by_force(rows)["F1"]})
    assert after.unit_of[far] == far_unit  # untouched
    assert set(after.counted) == whole(rows)
    assert entry.counted != after.counted  # the old entry is not modified


def test_versions_are_grouped_by_force() -> None:
    got = versions_by_force(["found_at|F2|2026-01=b", "found_at||2026-01=c", "found_at|F2|2025-12=a"])
    assert got == {"F2": ("found_at|F2|2025-12=a", "found_at|F2|2026-01=b"), "": ("found_at||2026-01=c",)}


def test_a_new_cell_joins_a_peak_that_lists_it_as_a_neighbour_when_it_does_not_list_the_peak() -> None:
    """The grid's columns are not aligned between rows, so `_neighbours` is not symmetric everywhere
    (about 3 in 10,000 pairs): a component must follow the relation both ways."""
    from mpdb.intel.hotspots import _neighbours

    rng = random.Random(5)
    while True:
        peak = cell_id(50 + rng.random() * 5, -5 + rng.random() * 6)
        lonely = next((n for n in _neighbours(peak) if peak not in _neighbours(n)), None)
        if lonely is not None:
            break
    rows = [("F1", peak, True, ["c1", "c2"], 2, [])]
    entry = build("g", {}, by_force(rows))
    rows.append(("F2", lonely, True, ["c3"], 1, []))
    after = update(entry, "g", {}, {"F2": by_force(rows)["F2"]})
    assert set(after.counted) == whole(rows)
    assert [c.cells for c, _ in after.counted] == [(peak, lonely)]
