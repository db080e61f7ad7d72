"""The synthetic data set (mpdb/ingest/synthetic/generator.py) as neo4j-admin CSV files.

The graph written is the one the transactional loader (mpdb/ingest/synthetic/loader.py, Cypher in
mpdb/graph/queries/seed.py) builds from the same rows: the same labels, relationship types and
property values (each `CREATE_*` query is mirrored by one method here), plus the derived data it
computes after loading (REFRESH_ACCESS, the hot-spot buckets, DatasetInfo), computed in Python.

Episode blocks are independent (SyntheticGenerator.episode_block), so they are written by worker
processes forked after the static stages. Memory stays flat in the number of children (issue 10,
point 6: national-3x): a block holds ALL the episodes of its children, so

- the parent writes a block's children (whose access lists need every episode of the child) as soon
  as that block's result arrives, from their rows spilled to disk by the static stage;
- each block folds its hot-spot buckets to (child ids, episode COUNT, multi ids) and spills them to
  disk in partitions by cell; at the end one forked job per partition adds the blocks' counts up
  (no episode is in two blocks) and writes that partition's buckets, so no process holds them all.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import multiprocessing as mp
import os
import pickle
import shutil
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mpdb.ingest.bulk import derive
from mpdb.ingest.bulk.csvgraph import GraphCsv, Manifest, Point
from mpdb.ingest.reference import ReferenceData, reference_rows
from mpdb.ingest.synthetic.generator import STAGES, Chunk, SyntheticGenerator
from mpdb.ingest.synthetic.profiles import Profile

AGENCY = "Agency"  # one id space for Force, LocalAuthority and Agency nodes (ids are distinct)


def reference_nodes(out: GraphCsv, ref: ReferenceData) -> set[str]:
    """MERGE_FORCES / MERGE_LOCAL_AUTHORITIES / MERGE_AGENCIES; returns every agency id."""
    rows = reference_rows(ref)
    out.nodes("Force:Agency", AGENCY, [
        {**r["props"], "id": r["code"], "code": r["code"], "centroid": Point(r["lat"], r["lon"])} for r in rows["forces"]])
    out.nodes("LocalAuthority:Agency", AGENCY, [
        {**r["props"], "id": r["code"], "code": r["code"], "centroid": Point(r["lat"], r["lon"])} for r in rows["las"]])
    out.relationships("IN_FORCE", AGENCY, AGENCY, [
        (r["code"], fs["code"], {"share": fs["share"]}) for r in rows["las"] for fs in r["forces"]])
    out.nodes("Agency", AGENCY, [{**r["props"], "id": r["id"]} for r in rows["agencies"]])
    return {r["code"] for r in rows["forces"]} | {r["code"] for r in rows["las"]} | {r["id"] for r in rows["agencies"]}


@dataclass
class BucketSpill:
    """One block's partial buckets on disk: partition k is the pickle at offsets[k]..offsets[k+1]."""

    path: Path
    offsets: list[int]

    @staticmethod
    def partition(key: derive.BucketKey, parts: int) -> int:
        # by cell (crc32: the same in every process, unlike hash()), so a bucket's parts meet
        return zlib.crc32(key[1].encode()) % parts

    @classmethod
    def write(cls, path: Path, partials: Iterator[derive.BucketPartial], parts: int) -> BucketSpill:
        groups: list[list[derive.BucketPartial]] = [[] for _ in range(parts)]
        for p in partials:
            groups[cls.partition(p[0], parts)].append(p)
        offsets = [0]
        with open(path, "wb") as f:
            for g in groups:
                pickle.dump(g, f, protocol=pickle.HIGHEST_PROTOCOL)
                offsets.append(f.tell())
        return cls(path, offsets)

    def read(self, k: int) -> list[derive.BucketPartial]:
        with open(self.path, "rb") as f:
            f.seek(self.offsets[k])
            return pickle.load(f)  # noqa: S301 - our own file, written by this run


@dataclass
class BlockResult:
    start: int  # index of the block's first child
    manifest: Manifest
    children: dict[str, tuple[list[str], list[str]]]  # child id -> (episodes' area agencies, open forces)
    buckets: BucketSpill


def bucket_partitions(blocks: int) -> int:
    """Partitions of the buckets: ~8 blocks' worth each, so a partition's fold holds about as many
    buckets whatever the profile (~300k nationally; 8 for national, 24 for national-3x)."""
    return max(2, -(-blocks // 8))


class SeedCsvWriter:
    def __init__(self, out: GraphCsv, spill: Path | None = None) -> None:
        self.out = out
        self.spill = spill or out.dir / "spill"  # scratch files, not for the importer
        self.loc_force: dict[str, str | None] = {}
        self.locations: dict[str, tuple[str, str, str]] = {}  # id -> (cell, laCode, forceCode)
        self.placements: dict[str, tuple[str, str]] = {}  # id -> (IN_FORCE_AREA force, AT_LOCATION location)
        self.bucket_parts = 2
        self.children: dict[str, derive.ChildFacts] = {}  # until the child is written
        self.block_children: dict[int, list[str]] = {}  # block start -> its children's ids, in row order
        self.other_child_rows: list[dict[str, Any]] = []  # rows of children in no block (duplicates)
        self._child_rows_seen = 0

    def index(self, gen: SyntheticGenerator) -> None:
        """Locations and placements as the episode blocks need them, from the generator's state
        (complete once the first static chunk is out), so blocks need not wait for the rows."""
        for r in gen._loc_rows:
            p = r["props"]
            self.loc_force[p["id"]] = p.get("forceCode")
            self.locations[p["id"]] = (p.get("cell"), p.get("laCode"), p.get("forceCode"))
        for c in gen.children:
            for pl in c.placements:
                self.placements[pl.id] = (pl.force, pl.location)
        step = gen.profile.chunk_children
        self.block_children = {i: [c.id for c in gen.children[i:i + step]] for i in gen.block_starts()}
        self.bucket_parts = bucket_partitions(len(self.block_children))
        self.spill.mkdir(parents=True, exist_ok=True)

    # -- static stages (parent) ------------------------------------------------------------------
    def static(self, chunk: Chunk) -> None:
        getattr(self, f"_{chunk.stage}")(chunk.rows)

    def _location(self, rows: list[dict[str, Any]]) -> None:
        nodes = []
        for r in rows:
            p = r["props"]
            nodes.append({**p, "point": Point(r["lat"], r["lon"])})
        self.out.nodes("Location", "Location", nodes)
        self.out.relationships("IN_LA", "Location", AGENCY, [(p["id"], p["laCode"], None) for p in (r["props"] for r in rows)])
        self.out.relationships("IN_FORCE", "Location", AGENCY, [(p["id"], p["forceCode"], None) for p in (r["props"] for r in rows)])

    def _establishment(self, rows: list[dict[str, Any]]) -> None:
        self.out.nodes("Establishment", "Establishment", [r["props"] for r in rows])
        self.out.relationships("AT_LOCATION", "Establishment", "Location", [(r["props"]["id"], r["locationId"], None) for r in rows])

    def _person(self, rows: list[dict[str, Any]]) -> None:
        self.out.nodes("Person", "Person", [r["props"] for r in rows])

    def _child(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            p = r["props"]
            home = self.locations.get(r["homeLocationId"]) if r["homeLocationId"] else None
            self.children[p["id"]] = derive.ChildFacts(p["id"], p.get("recordedBy"), r["lookedAfterBy"],
                                                       home[1] if home else None)
        self._spill_child_rows([r["props"] for r in rows])
        self.out.relationships("HOME_AT", "Child", "Location", [(r["props"]["id"], r["homeLocationId"], None) for r in rows])
        self.out.relationships("LOOKED_AFTER_BY", "Child", AGENCY, [(r["props"]["id"], r["lookedAfterBy"], None) for r in rows])

    def _spill_child_rows(self, props: list[dict[str, Any]]) -> None:
        """Rows come in the generator's child order (duplicates, in no block, after them): each
        block's rows go to a file of their own until the block's episodes are in."""
        at = self._child_rows_seen
        self._child_rows_seen += len(props)
        ids = [p["id"] for p in props]
        for start, block in self.block_children.items():
            lo, hi = max(start, at), min(start + len(block), at + len(props))
            if lo >= hi:
                continue
            if ids[lo - at:hi - at] != block[lo - start:hi - start]:
                raise AssertionError(f"child rows out of the generator's order near row {lo}")
            with open(self.spill / f"children-{start:08d}.pkl", "ab") as f:
                pickle.dump(props[lo - at:hi - at], f, protocol=pickle.HIGHEST_PROTOCOL)
        end = max((s + len(b) for s, b in self.block_children.items()), default=0)
        self.other_child_rows += props[max(0, end - at):]

    def _placement(self, rows: list[dict[str, Any]]) -> None:
        self.out.nodes("Placement", "Placement", [r["props"] for r in rows])
        for r in rows:
            c = self.children[r["childId"]]
            c.placement_las += [r["placingLa"], r["hostLa"]]
            c.placement_forces.append(r["forceCode"])
        pid = [r["props"]["id"] for r in rows]
        out = self.out
        out.relationships("PLACED_IN", "Child", "Placement", [(r["childId"], i, None) for r, i in zip(rows, pid, strict=True)])
        out.relationships("AT_LOCATION", "Placement", "Location", [(i, r["locationId"], None) for r, i in zip(rows, pid, strict=True)])
        out.relationships("PLACED_BY", "Placement", AGENCY, [(i, r["placingLa"], None) for r, i in zip(rows, pid, strict=True)])
        out.relationships("HOSTED_BY", "Placement", AGENCY, [(i, r["hostLa"], None) for r, i in zip(rows, pid, strict=True)])
        out.relationships("IN_FORCE_AREA", "Placement", AGENCY, [(i, r["forceCode"], None) for r, i in zip(rows, pid, strict=True)])
        out.relationships("AT", "Placement", "Establishment", [(i, r["establishmentId"], None) for r, i in zip(rows, pid, strict=True)])

    def _notifications(self, rows: list[dict[str, Any]], about: str) -> None:
        self.out.nodes("Notification", "Notification", [r["props"] for r in rows])
        self.out.relationships("ABOUT", "Notification", about, [(r["props"]["id"], r["aboutId"], None) for r in rows])
        self.out.relationships("FROM", "Notification", AGENCY, [(r["props"]["id"], r["from"], None) for r in rows])
        self.out.relationships("TO", "Notification", AGENCY, [(r["props"]["id"], r["to"], None) for r in rows])

    def _placement_notification(self, rows: list[dict[str, Any]]) -> None:
        self._notifications(rows, "Placement")

    def _flag(self, rows: list[dict[str, Any]]) -> None:
        self.out.nodes("Flag", "Flag", [r["props"] for r in rows])
        self.out.relationships("HAS_FLAG", "Child", "Flag", [(r["childId"], r["props"]["id"], None) for r in rows])
        self.out.relationships("RAISED_BY", "Flag", AGENCY, [(r["props"]["id"], r["raisedBy"], None) for r in rows])

    def _association(self, rows: list[dict[str, Any]]) -> None:
        self.out.relationships("ASSOCIATES_WITH", "Child", "Person", [(r["childId"], r["personId"], r["props"]) for r in rows])

    # -- an episode block (worker) -----------------------------------------------------------------
    def block(self, start: int, chunks: list[Chunk]) -> BlockResult:
        by: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for ch in chunks:
            by[ch.stage].extend(ch.rows)
        out = self.out
        facts: dict[str, derive.EpisodeFacts] = {}
        for r in by["episode"]:
            p = r["props"]
            pl = self.placements.get(r["placementId"]) if r["placementId"] else None
            facts[p["id"]] = derive.EpisodeFacts(
                p["id"], r["childId"], p["status"] == "open", p["reportedAt"], r["reportedTo"], r["foundBy"],
                r["placementId"], pl[0] if pl else None, pl[1] if pl else None, r["fromLocationId"],
                r["lastSeenLocationId"], r["foundLocationId"])
        for r in by["went_to"]:
            facts[r["episodeId"]].went_to.append(r["locationId"])
        for r in by["return_interview"]:
            facts[r["episodeId"]].rhi_by.append(r["by"])
        kids: dict[str, derive.ChildFacts] = {}
        buckets = derive.BucketBuilder(self.locations)
        nodes = []
        for r in by["episode"]:
            e = facts[r["props"]["id"]]
            area = derive.episode_area_agencies(e, self.loc_force)
            nodes.append({**r["props"], "areaAgencies": area})
            c = kids.get(e.child_id)
            if c is None:
                c = kids[e.child_id] = derive.ChildFacts(e.child_id, None)
            derive.add_episode(c, e, area)
            buckets.add(e)
        eps = by["episode"]
        out.nodes("Episode", "Episode", nodes)
        out.relationships("HAD", "Child", "Episode", [(r["childId"], r["props"]["id"], None) for r in eps])
        for rtype, key, space in (("MISSING_FROM", "placementId", "Placement"),
                                  ("MISSING_FROM_LOCATION", "fromLocationId", "Location"),
                                  ("LAST_SEEN_AT", "lastSeenLocationId", "Location"),
                                  ("FOUND_AT", "foundLocationId", "Location"),
                                  ("REPORTED_TO", "reportedTo", AGENCY), ("FOUND_BY", "foundBy", AGENCY)):
            out.relationships(rtype, "Episode", space, [(r["props"]["id"], r[key], None) for r in eps])
        out.relationships("WITH_CHILD", "Episode", "Child",
                          [(r["episodeId"], r["childId"], {"source": r["source"]}) for r in by["with_child"]])
        out.relationships("WITH_PERSON", "Episode", "Person",
                          [(r["episodeId"], r["personId"], {"source": r["source"]}) for r in by["with_person"]])
        out.relationships("WENT_TO", "Episode", "Location",
                          [(r["episodeId"], r["locationId"], {"at": r["at"], "source": r["source"]}) for r in by["went_to"]])
        for stage, label, rtype, reverse in (("risk_assessment", "RiskAssessment", "ASSESSED_IN", False),
                                             ("return_interview", "ReturnInterview", "FOLLOWED_BY", False),
                                             ("referral", "Referral", "TRIGGERED", False),
                                             ("episode_record", "EpisodeRecord", "RECORD_OF", True)):
            rows = by[stage]
            out.nodes(label, label, [r["props"] for r in rows])
            pairs = [(r["props"]["id"], r["episodeId"]) if reverse else (r["episodeId"], r["props"]["id"]) for r in rows]
            out.relationships(rtype, label if reverse else "Episode", "Episode" if reverse else label,
                              [(a, b, None) for a, b in pairs])
        out.relationships("BY", "ReturnInterview", AGENCY, [(r["props"]["id"], r["by"], None) for r in by["return_interview"]])
        if by["episode_notification"]:
            self._notifications(by["episode_notification"], "Episode")
        spill = BucketSpill.write(self.spill / f"buckets-{start:08d}.pkl", buckets.partials(), self.bucket_parts)
        return BlockResult(start, out.manifest, {k: (c.area, c.open_forces) for k, c in kids.items()}, spill)

    # -- the parent, as each block's result arrives, then at the end (and its forks) -------------------
    def block_done(self, res: BlockResult, agencies: set[str]) -> None:
        """Write the block's children: each child's episodes are all in this block, so its access
        lists are complete (`agencies`: every Agency id, for the recordedBy rule)."""
        for cid, (area, open_forces) in res.children.items():
            c = self.children[cid]
            c.area = derive._union(c.area, area)
            c.open_forces += open_forces
        rows: list[dict[str, Any]] = []
        path = self.spill / f"children-{res.start:08d}.pkl"
        with open(path, "rb") as f:
            with contextlib.suppress(EOFError):
                while True:
                    rows += pickle.load(f)  # noqa: S301 - our own file, written by this run
        path.unlink()
        self.out.nodes("Child", "Child", [{**p, **derive.child_access(self.children.pop(p["id"]), agencies)}
                                          for p in rows])

    def finish(self, spills: list[BucketSpill], agencies: set[str], workers: int = 1) -> Manifest:
        """The children in no block, then the buckets: one forked job per partition folds every
        block's part of it and writes its nodes; returns what they wrote."""
        self.out.nodes("Child", "Child", [{**p, **derive.child_access(self.children.pop(p["id"]), agencies)}
                                          for p in self.other_child_rows])
        self.other_child_rows = []

        def bucket_job(k: int) -> Callable[[GraphCsv], None]:
            def job(out: GraphCsv) -> None:
                folded = derive.fold_partials(p for spill in spills for p in spill.read(k))
                out.nodes("HotspotBucket", "HotspotBucket", [derive.bucket_row(folded[key]) for key in sorted(folded)])
            return job

        return _run_jobs(self.out.dir, "fin", [bucket_job(k) for k in range(self.bucket_parts)], max(1, workers))


def _run_jobs(directory: Path, prefix: str, jobs: list[Callable[[GraphCsv], None]], workers: int) -> Manifest:
    """Run each job with a GraphCsv of its own (prefix + index), in `workers` forked processes when
    more than one; returns the merged manifest, in job order."""
    def one(i: int) -> Manifest:
        out = GraphCsv(directory, prefix=f"{prefix}{i:04d}-")
        jobs[i](out)
        return out.manifest

    manifest = Manifest()
    if workers > 1 and len(jobs) > 1:
        _FORK_STATE["job"] = one
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                for m in pool.imap(_job_worker, range(len(jobs))):
                    manifest.merge(m)
        finally:
            _FORK_STATE.pop("job", None)
    else:
        for i in range(len(jobs)):
            manifest.merge(one(i))
    return manifest


def _job_worker(i: int) -> Manifest:
    return _FORK_STATE["job"](i)


# Set in the parent before the worker processes fork; read by `_block_worker` in each of them.
_FORK_STATE: dict[str, Any] = {}


def _block_worker(i: int) -> BlockResult:
    return _block_worker_in(_FORK_STATE["gen"], _FORK_STATE["writer"], i)


def _block_worker_in(gen: SyntheticGenerator, parent: SeedCsvWriter, i: int) -> BlockResult:
    w = SeedCsvWriter(GraphCsv(parent.out.dir, prefix=f"ep{i:08d}-"), parent.spill)
    w.loc_force, w.locations, w.placements = parent.loc_force, parent.locations, parent.placements
    w.bucket_parts = parent.bucket_parts
    return w.block(i, list(gen.episode_block(i)))


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Millions of rows stay alive while the files are written: the cyclic collector would walk
    them all again and again for nothing (no cycles are made here); measured ~30% of the CPU time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def export_seed(profile: Profile, seed: int, ref: ReferenceData, directory: Path, *, workers: int | None = None,
                generated_at: datetime | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> tuple[Manifest, dict[str, int]]:
    """Write the data set as CSV files into `directory`; returns the manifest and the node counts
    DatasetInfo records. `progress(stage, done, total)` is called as blocks finish."""
    with _no_gc():
        return _export_seed(profile, seed, ref, directory, workers=workers, generated_at=generated_at,
                            progress=progress)


def _export_seed(profile: Profile, seed: int, ref: ReferenceData, directory: Path, *, workers: int | None,
                 generated_at: datetime | None,
                 progress: Callable[[str, int, int], None] | None) -> tuple[Manifest, dict[str, int]]:
    gen = SyntheticGenerator(profile, seed, ref)
    out = GraphCsv(directory, prefix="st-")
    agencies = reference_nodes(out, ref)
    writer = SeedCsvWriter(out)
    static = gen.static_chunks()
    first = next(static)  # the world and the children now exist: episode blocks can start
    writer.index(gen)
    starts = list(gen.block_starts())
    total = len(gen.children)
    manifest = Manifest()
    spills: list[BucketSpill] = []
    workers = workers if workers is not None else max(1, min(len(starts), os.cpu_count() or 1))
    done = 0
    if progress:
        progress("episodes", 0, total)

    def fold(res: BlockResult) -> None:
        nonlocal done
        manifest.merge(res.manifest)
        writer.block_done(res, agencies)
        spills.append(res.buckets)
        done = min(total, done + profile.chunk_children)
        if progress:
            progress("episodes", done, total)

    if workers > 1 and len(starts) > 1:
        _FORK_STATE.update(gen=gen, writer=writer)
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                pending = pool.imap(_block_worker, starts)  # the workers start on the blocks now...
                # ...while this process writes the static stages, one chunk at a time (a tuple of
                # them all would hold every static row, the children's above all, until the end)
                for chunk in itertools.chain((first,), static):
                    writer.static(chunk)
                for res in pending:
                    fold(res)
        finally:
            _FORK_STATE.clear()
    else:
        for chunk in itertools.chain((first,), static):
            writer.static(chunk)
        for i in starts:
            fold(_block_worker_in(gen, writer, i))
    manifest.merge(writer.finish(spills, agencies, workers))
    shutil.rmtree(writer.spill)
    counts: dict[str, int] = {}
    both = Manifest()
    both.merge(out.manifest)
    both.merge(manifest)
    for labels, n in both.node_counts.items():
        label = labels.split(":")[0]
        if label in STAGES.values():
            counts[label] = counts.get(label, 0) + n
    counts["Force"] = len(ref.forces)
    counts["LocalAuthority"] = len(ref.las)
    counts["Agency"] = len(ref.forces) + len(ref.las) + len(ref.agencies)
    info = {
        "id": "seed", "profile": profile.name, "seed": seed, "asOf": profile.as_of, "windowStart": profile.start,
        "generatedAt": generated_at or datetime.now(UTC), "counts": json.dumps(dict(sorted(counts.items()))),
        "sourceSystem": "synthetic", "author": "mpdb-seed",
    }
    out.nodes("DatasetInfo", "DatasetInfo", [info])
    final = Manifest()
    final.merge(out.manifest)
    final.merge(manifest)
    return final, counts
