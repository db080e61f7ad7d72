"""Entity resolution accuracy and speed (issue 12): precision, recall and F1 of `mpdb resolve`.

    # against the graph of the state dir (seeded with duplicates first), the real batch:
    mpdb seed --profile demo --duplicates 0.05 --seed 42
    .venv/bin/python -m bench.resolution --profile demo --seed 42 --duplicates 0.05
    # without Neo4j: the generator's children straight into the model (no read, no write)
    .venv/bin/python -m bench.resolution --profile demo --offline
    # what a `mpdb resolve` run (timed on its own, e.g. with /usr/bin/time -v) wrote, against the truth
    .venv/bin/python -m bench.resolution --profile national --seed 42 --written

The truth (which records are one child) comes from the CSV `mpdb seed --duplicates` wrote in the
state dir, or is regenerated from profile + seed (deterministic). The model was trained on its
own seed (mpdb/resolution/training.py), never the one measured here. Printed: precision, recall and
F1 at the review threshold and at other thresholds, candidate pairs, seconds per stage, time per
100k records, the load average before and after, and the kinds of error behind the pairs it
misses and the pairs it proposes wrongly. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mpdb.resolution.model import ScoredPair, load_child_model

console = Console()
THRESHOLDS = (0.5, 0.8, 0.95, 0.99)


def truth_of(state_dir: Path, profile, seed: int) -> tuple[set[frozenset[str]], dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    from mpdb.resolution.training import truth_path, write_truth

    path = truth_path(state_dir, profile.name, seed)
    if not path.exists():
        path = write_truth(state_dir, profile, seed)
    pairs, errors = set(), {}
    with path.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            pairs.add(frozenset((r["duplicate_id"], r["original_id"])))
            errors[r["duplicate_id"]] = [e for e in r["errors"].split("|") if e]
    return pairs, errors


def scores(pairs: list[ScoredPair], truth: set[frozenset[str]], threshold: float) -> tuple[float, float, float, int]:
    chosen = {frozenset((p.low_id, p.high_id)) for p in pairs if p.match_probability >= threshold}
    tp = len(chosen & truth)
    precision = tp / len(chosen) if chosen else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, len(chosen)


async def graph_run(model, keep_from: float):  # type: ignore[no-untyped-def]
    from mpdb.auth.principal import Principal
    from mpdb.graph.db import Graph
    from mpdb.graph.driver import create_driver, verify_reachable
    from mpdb.resolution.batch import BATCH_TX_TIMEOUT_S, run_batch
    from mpdb.settings import get_settings

    settings = get_settings()
    driver = create_driver(settings)
    try:
        await verify_reachable(driver, settings)
        graph = Graph(driver, settings.neo4j_database, max(settings.neo4j_query_timeout_s, BATCH_TX_TIMEOUT_S))
        return await run_batch(graph, model, Principal.system(subject="bench:resolution"), keep_from=keep_from)
    finally:
        await driver.close()


def offline_run(model, profile, seed: int, keep_from: float):  # type: ignore[no-untyped-def]
    from mpdb.resolution.batch import RunResult
    from mpdb.resolution.training import synthetic_set

    t0 = time.perf_counter()
    data = synthetic_set(profile.name.split("+")[0], None, seed, profile.duplicate_share, profile.as_of)
    t1 = time.perf_counter()
    pred = model.predict(data.rows, keep_from)
    res = RunResult(model.version, model.review_threshold, children=len(data.rows),
                    candidate_pairs=pred.candidate_pairs, guarded=pred.guarded, scored=pred.pairs,
                    seconds={"generate (not the batch)": t1 - t0, "compare": time.perf_counter() - t1})
    res.above_threshold = sum(p.match_probability >= model.review_threshold for p in pred.pairs)
    truth = {frozenset(t) for t in data.truth}
    console.print(f"distinct children indistinguishable on given + family name, date of birth and sex (no model "
                  f"can tell them apart without a reference or a home): {ambiguous_pairs(data.rows, truth):,} pairs")
    return res, truth, data.errors


def ambiguous_pairs(rows, truth: set[frozenset[str]]) -> int:  # type: ignore[no-untyped-def]
    """Pairs of records of DIFFERENT children that agree on both names, date of birth and sex."""
    groups: dict[tuple, list[str]] = {}
    for r in rows:
        if r["given_name"] and r["family_name"] and r["dob"]:
            groups.setdefault((r["given_name"], r["family_name"], r["dob"], r["sex"]), []).append(r["unique_id"])
    n = 0
    for ids in groups.values():
        if len(ids) > 1:
            n += sum(frozenset((a, b)) not in truth for i, a in enumerate(ids) for b in ids[i + 1:])
    return n


async def written_pairs() -> list[ScoredPair]:
    """The proposals in the graph (any status), as scored pairs without reasons."""
    from mpdb.graph.db import Graph
    from mpdb.graph.driver import create_driver, verify_reachable
    from mpdb.graph.repositories.resolution import proposal_ids
    from mpdb.settings import get_settings

    settings = get_settings()
    driver = create_driver(settings)
    try:
        await verify_reachable(driver, settings)
        rows = await proposal_ids(Graph(driver, settings.neo4j_database, 300.0))
    finally:
        await driver.close()
    return [ScoredPair(r["lowId"], r["highId"], float(r["matchProbability"]), 0.0, []) for r in rows]


def written_report(profile, seed: int, threshold: float) -> int:  # type: ignore[no-untyped-def]
    from mpdb.settings import get_settings

    pairs = asyncio.run(written_pairs())
    truth, errors = truth_of(get_settings().state_dir, profile, seed)
    p, r, f, n = scores(pairs, truth, threshold)
    console.print(f"written proposals {len(pairs):,}; at or above {threshold:g}: {n:,}; precision {p:.4f}, "
                  f"recall {r:.4f}, F1 {f:.4f} (true pairs {len(truth):,})")
    chosen = {frozenset((x.low_id, x.high_id)) for x in pairs if x.match_probability >= threshold}
    alone: Counter[str] = Counter()
    for t in truth - chosen:
        alone[" + ".join(sorted(next((errors[i] for i in t if i in errors), []))) or "(none)"] += 1
    console.print("most common combinations missed: " + "; ".join(f"{k}: {v}" for k, v in alone.most_common(8)))
    return 0


def main(argv: list[str] | None = None) -> int:
    from mpdb.ingest.synthetic.profiles import get_profile
    from mpdb.settings import get_settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="demo")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--duplicates", type=float, default=0.05)
    ap.add_argument("--offline", action="store_true", help="no Neo4j: generator -> model")
    ap.add_argument("--model", default=None)
    ap.add_argument("--examples", type=int, default=8, help="missed and wrong pairs to print (ids and error kinds)")
    ap.add_argument("--written", action="store_true", help="no run: measure the proposals already in the graph "
                                                           "(a timed `mpdb resolve`'s) against the truth")
    args = ap.parse_args(argv)

    profile = get_profile(args.profile)
    profile = profile.at(profile.default_as_of()).with_duplicates(args.duplicates)
    model = load_child_model(args.model)
    if args.written:
        return written_report(profile, args.seed, model.review_threshold)
    load_before = os.getloadavg()
    keep_from = min((*THRESHOLDS, model.review_threshold))
    t0 = time.perf_counter()
    if args.offline:
        res, truth, errors = offline_run(model, profile, args.seed, keep_from)
    else:
        res = asyncio.run(graph_run(model, keep_from))
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()
    if not args.offline:
        truth, errors = truth_of(get_settings().state_dir, profile, args.seed)

    batch_s = sum(v for k, v in res.seconds.items() if not k.startswith("generate"))
    table = Table(title=f"entity resolution: {profile.name} seed {args.seed}, model {model.version}, "
                        f"{'offline (no graph)' if args.offline else 'mpdb resolve on the graph'}")
    for col in ("threshold", "precision", "recall", "F1", "pairs"):
        table.add_column(col, justify="right")
    for th in sorted({*THRESHOLDS, model.review_threshold}):
        p, r, f, n = scores(res.scored, truth, th)
        label = f"{th:g}" + (" (review)" if th == model.review_threshold else "")
        table.add_row(label, f"{p:.4f}", f"{r:.4f}", f"{f:.4f}", f"{n:,}")
    console.print(table)
    console.print(f"records {res.children:,}; true duplicate pairs {len(truth):,}; candidate pairs "
                  f"{res.candidate_pairs:,} ({res.candidate_pairs / max(1, res.children):.1f} per record); "
                  f"excluded as likely siblings {res.guarded:,}")
    console.print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in res.seconds.items())
                  + f"; batch {batch_s:.1f} = {batch_s / max(1, res.children) * 100_000:.1f} s per 100k records "
                  f"(wall {wall:.1f})")
    if not args.offline:
        c = res.counts
        console.print(f"written: created {c.created:,}, refreshed {c.refreshed:,}, unchanged {c.unchanged:,}, "
                      f"decided left alone {c.decided:,}, already one identity {c.same_identity:,}")
    console.print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
                  f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} ({os.cpu_count()} cores)")

    chosen = {frozenset((p.low_id, p.high_id)): p for p in res.scored if p.match_probability >= model.review_threshold}
    missed = [t for t in truth if t not in chosen]
    kinds: Counter[str] = Counter()
    alone: Counter[str] = Counter()
    for t in missed:
        errs = next((errors[i] for i in t if i in errors), [])
        kinds.update(errs)
        alone[" + ".join(sorted(errs)) or "(none)"] += 1
    console.print(f"missed at the review threshold: {len(missed):,}; errors behind them: "
                  + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    console.print("most common combinations missed: " + "; ".join(f"{k}: {v}" for k, v in alone.most_common(args.examples)))
    wrong = [p for k, p in chosen.items() if k not in truth]
    levels: Counter[str] = Counter()
    for p in wrong:
        levels[", ".join(f"{r.comparison}={r.level}" for r in p.reasons if r.comparison in ("given_name", "family_name", "dob", "postcode"))] += 1
    console.print(f"proposed wrongly: {len(wrong):,}; their comparison levels: "
                  + "; ".join(f"({k}) x{v}" for k, v in levels.most_common(args.examples)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
