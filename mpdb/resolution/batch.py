"""`mpdb resolve`: compare every Child in the graph and propose the likely duplicates for review.

1. read every child into model rows: pages of ids fixed first, then read in parallel read
   transactions (READ_CONCURRENCY at once);
2. predict with Splink on DuckDB in this process (blocking, comparison, scoring);
3. write the pairs at or above the review threshold as POSSIBLY_SAME_AS (UPSERT_PROPOSALS, in
   batches): new pairs are created, pairs still 'proposed' refreshed, decided pairs and pairs
   already in one identity left alone, so a second run over the same graph writes nothing;
4. one audit event for the run (combination: records compared to find the same person), with
   counts only, in the transaction of the last batch.
Logs and the event carry counts, never a name or a date of birth.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from mpdb.audit.trail import AuditAction, AuditContext, append_in_tx
from mpdb.auth.principal import Principal
from mpdb.graph.db import Graph
from mpdb.graph.repositories.resolution import (
    Proposal,
    UpsertCounts,
    children_for_resolution,
    count_children,
    upsert_proposals,
)
from mpdb.resolution.explain import reasons_to_json
from mpdb.resolution.model import ChildModel, ScoredPair
from mpdb.resolution.records import child_row

PROPOSED_BY = "mpdb resolve"
# Page reads at once: Neo4j runs them on its own threads while this process converts rows. Pages
# of 5,000 keep each read transaction well inside the query timeout on a cold national store (20,000
# took 20-25 s at load ~17, close to the 30 s default, and main's sequential read timed out there).
READ_CONCURRENCY = 4
# The batch's transactions may take longer than an API request's (mpdb resolve and the bench build
# their Graph with this): a page on a cold store under load is tens of seconds, and a timed-out page
# fails the whole run (a client-side timeout is not retried).
BATCH_TX_TIMEOUT_S = 300.0
log = logging.getLogger(__name__)


@dataclass(slots=True)
class RunResult:
    model_version: str
    threshold: float
    children: int = 0
    candidate_pairs: int = 0
    above_threshold: int = 0
    guarded: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    seconds: dict[str, float] = field(default_factory=dict)
    scored: list[ScoredPair] = field(default_factory=list)  # with `keep_from`: every pair scored >= it


Tick = Callable[[str, int, int | None], None]  # stage, advance, total


async def run_batch(graph: Graph, model: ChildModel, principal: Principal, *, threshold: float | None = None,
                    write_batch: int = 1_000, page_size: int = 5_000, dry_run: bool = False,
                    tick: Tick | None = None, keep_from: float | None = None) -> RunResult:
    """The batch (see the module). `keep_from` (bench/resolution.py) keeps every pair scored at or
    above it in the result, to measure other thresholds than the one written."""
    tick = tick or (lambda stage, n, total: None)
    res = RunResult(model.version, model.review_threshold if threshold is None else threshold)
    t0 = time.perf_counter()
    total = await count_children(graph)
    tick("read", 0, total)
    rows = []
    async for page in children_for_resolution(graph, page_size, READ_CONCURRENCY):
        rows += [child_row(c) for c in page]
        tick("read", len(page), total)
    res.children = len(rows)
    res.seconds["read"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    tick("compare", 0, 1)
    low = res.threshold if keep_from is None else min(keep_from, res.threshold)
    pred = model.predict(rows, low) if rows else None
    tick("compare", 1, 1)
    res.seconds["compare"] = time.perf_counter() - t1
    if keep_from is not None and pred:
        res.scored = pred.pairs
    pairs = [p for p in pred.pairs if p.match_probability >= res.threshold] if pred else []
    res.candidate_pairs = pred.candidate_pairs if pred else 0
    res.guarded = pred.guarded if pred else 0
    res.above_threshold = len(pairs)
    log.info("resolve: %d children, %d candidate pairs, %d at or above %.3f (%d excluded as likely siblings)",
             res.children, res.candidate_pairs, len(pairs), res.threshold, res.guarded)
    if dry_run:
        return res

    t2 = time.perf_counter()
    proposals = [Proposal(p.low_id, p.high_id, p.match_probability, p.match_weight, model.version,
                          reasons_to_json(p.reasons)) for p in pairs]
    audit = AuditContext(principal, _purpose(res), str(uuid.uuid4()))
    tick("write", 0, len(proposals))
    batches = [proposals[i:i + write_batch] for i in range(0, len(proposals), write_batch)] or [[]]
    for i, batch in enumerate(batches):
        last = i == len(batches) - 1

        async def work(tx, batch=batch, last=last):  # type: ignore[no-untyped-def]
            counts = await upsert_proposals(tx, batch, PROPOSED_BY)
            if last:
                final = res.counts + counts
                ctx = AuditContext(principal, _purpose(res, final), audit.request_id)
                await append_in_tx(tx, ctx, AuditAction.COMBINATION, "resolve", [])
            return counts

        res.counts = res.counts + await graph.in_write_tx(work)
        tick("write", len(batch), len(proposals))
    res.seconds["write"] = time.perf_counter() - t2
    log.info("resolve: created %d, refreshed %d, unchanged %d, left decided %d, already one identity %d",
             res.counts.created, res.counts.refreshed, res.counts.unchanged, res.counts.decided,
             res.counts.same_identity)
    return res


def _purpose(res: RunResult, counts: UpsertCounts | None = None) -> str:
    text = (f"entity resolution batch (model {res.model_version}, threshold {res.threshold:g}): "
            f"{res.children} children compared, {res.candidate_pairs} candidate pairs, "
            f"{res.above_threshold} at or above the threshold")
    if counts is not None:
        text += (f"; proposals created {counts.created}, refreshed {counts.refreshed}, unchanged {counts.unchanged}, "
                 f"decided left alone {counts.decided}, already one identity {counts.same_identity}")
    return text


__all__ = ["BATCH_TX_TIMEOUT_S", "PROPOSED_BY", "READ_CONCURRENCY", "RunResult", "run_batch"]
