"""The offline seed folds its episode blocks as they arrive (mpdb/ingest/bulk/synthetic.py): each
block's buckets are spilled as (children, episode COUNT, multi) and added up per partition at the
end, and each block's children are written as soon as the block is in. What is written must equal
a from-scratch computation over every episode at once. No database: the CSV files are read back."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from mpdb.ingest.bulk import derive
from mpdb.ingest.bulk.csvgraph import SENTINEL, GraphCsv
from mpdb.ingest.bulk.synthetic import SeedCsvWriter, export_seed
from mpdb.ingest.reference import read_reference_data
from mpdb.ingest.synthetic.generator import SyntheticGenerator
from mpdb.ingest.synthetic.profiles import get_profile

# `tiny` in blocks of 20 children: 15 blocks, so many buckets gather children of several blocks
PROFILE = replace(get_profile("tiny"), chunk_children=20)


def _list(cell: str) -> list[str]:
    return [] if cell == SENTINEL else cell.split(";")


def _written(paths: list[Path]) -> dict[str, tuple[list[str], int, list[str]]]:
    out: dict[str, tuple[list[str], int, list[str]]] = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            rows = csv.reader(f)
            header = [h.split(":")[0] for h in next(rows)]
            for row in rows:
                r = dict(zip(header, row, strict=True))
                assert r["id"] not in out, f"bucket {r['id']} written twice"
                out[r["id"]] = (_list(r["children"]), int(r["episodes"]), _list(r["multi"]))
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("seed") / "csv"
    manifest, _ = export_seed(PROFILE, 42, read_reference_data(), directory, workers=2)
    return directory, manifest


@pytest.fixture(scope="module")
def from_scratch(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Every episode in ONE block: one BucketBuilder with sets of episode ids, nothing folded."""
    gen = SyntheticGenerator(PROFILE, 42, read_reference_data())
    for _ in gen.static_chunks():
        pass
    writer = SeedCsvWriter(GraphCsv(tmp_path_factory.mktemp("scratch")))
    writer.index(gen)
    writer.bucket_parts = 1
    result = writer.block(0, [ch for i in gen.block_starts() for ch in gen.episode_block(i)])
    buckets = {row["id"]: (row["children"], row["episodes"], row["multi"])
               for row in map(derive.bucket_row, result.buckets.read(0))}
    return buckets, writer.block_children


def test_folded_buckets_equal_a_count_over_every_episode_at_once(exported, from_scratch) -> None:  # type: ignore[no-untyped-def]
    _, manifest = exported
    expected, blocks = from_scratch
    written = _written([p for labels, p in manifest.nodes if labels == "HotspotBucket"])
    assert written == expected
    # the fold was exercised: buckets holding children of several blocks, counted across blocks
    block_of = {cid: start for start, ids in blocks.items() for cid in ids}
    spanning = [b for b in expected.values() if len({block_of[c] for c in b[0]}) > 1]
    assert len(spanning) >= 20
    assert sum(b[1] for b in written.values()) == sum(b[1] for b in expected.values())


def test_buckets_are_written_by_one_job_per_partition(exported) -> None:  # type: ignore[no-untyped-def]
    _, manifest = exported
    files = [p for labels, p in manifest.nodes if labels == "HotspotBucket"]
    assert len(files) == 2  # bucket_partitions(15 blocks)
    assert all(p.name.startswith("fin") for p in files)


def _child_ids(manifest) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids: dict[str, int] = defaultdict(int)
    for labels, path in manifest.nodes:
        if labels == "Child":
            with open(path, newline="", encoding="utf-8") as f:
                for row in list(csv.reader(f))[1:]:
                    ids[row[0]] += 1
    return ids


def test_every_child_is_written_once_and_no_scratch_file_is_left(exported) -> None:  # type: ignore[no-untyped-def]
    directory, manifest = exported
    ids = _child_ids(manifest)
    assert len(ids) == PROFILE.n_children
    assert set(ids.values()) == {1}
    assert not (directory / "spill").exists()
    assert all(p.suffix == ".csv" for p in directory.iterdir())


def test_children_in_no_block_are_written_at_the_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # duplicates (issue 12) are child rows after the generator's children: no block holds them
    profile = PROFILE.with_duplicates(0.1)
    manifest, _ = export_seed(profile, 42, read_reference_data(), tmp_path, workers=1)
    expected = [r["props"]["id"] for r in SyntheticGenerator(profile, 42, read_reference_data()).child_rows_only()]
    assert len(expected) > PROFILE.n_children
    assert _child_ids(manifest) == dict.fromkeys(expected, 1)


def test_fold_adds_episode_counts_and_unites_ids() -> None:
    key = ("went_to", "c1", "E1", "F1", None)
    folded = derive.fold_partials([(key, ["C2"], 2, ["E9"]), (key, ["C1"], 1, []),  # type: ignore[list-item]
                                   (("went_to", "c2", "E1", "F1", None), ["C3"], 1, [])])  # type: ignore[list-item]
    assert folded[key] == (key, ["C1", "C2"], 3, ["E9"])
    assert len(folded) == 2
