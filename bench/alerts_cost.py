"""What the alert outbox costs the mutations (issue 13, point 6: <= 10%): this tree and another
(`main` by default, before the producers) serve the same Neo4j side by side, interleaved.

    MPDB_STATE_DIR=.mpdb/bench .venv/bin/python -m bench.alerts_cost           # vs main, 1 and 4 clients
    .venv/bin/python -m bench.alerts_cost --base main --rounds 6 --children 15 --clients 1,4

`--base` is checked out with `git archive` into a temporary directory and served by uvicorn on this
venv (its `mpdb` package first on the path); this tree is served by a second uvicorn. Both run the
mutations of bench/mutations.py (reportMissing -> updateEpisode -> recordFound -> recordReturn ->
recordReturnInterview, each child in turn, as Kent Police and Kent CC) on children of their own
(`BENCH-ALC-<run>-<side><round>-<clients>-<client>-<i>`, looked after and placed by Kent CC), so on this tree
reportMissing, updateEpisode (a regrade to high) and recordFound each append outbox events for Kent
CC, the others none. Every round runs both sides once per client count, the side that goes first
alternating, so the machine's changing load hits both alike. With N clients, N threads each take
their own children, one request at a time: the outbox head lock, which orders all appends, is held
from a write's append to its commit, so concurrency is where it could cost most.

Printed per client count: mutations/s of each side (all mutations / the side's summed wall time),
the overhead (1 - this / base), p50 and p95 per mutation kind, the outbox events appended per side
(the base appends none), and the load average before and after. The synthetic records are deleted
afterwards (the audit events and outbox events, append-only, stay).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Timing, _free_port, start_server
from bench.mutations import (CLEANUP, DELETE_KEYS, DELETE_LOCATION, KENT_CC, KENT_POLICE, RUN_EPISODES, SETUP,
                             STEPS, Runner)
from mpdb.auth.dev_idp import dev_idp_issuer, mint_dev_token
from mpdb.graph.db import Graph, run
from mpdb.graph.driver import create_driver
from mpdb.graph.migrations import apply_migrations
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.hotspot_buckets import keys_of_episodes, refresh_keys
from mpdb.graph.repositories.outbox import head_seq
from mpdb.settings import PROJECT_ROOT, get_settings

SIDES = ("base", "this")


def checkout(ref: str) -> Path:
    """`ref`'s tree in a temporary directory, with this tree's installed console assets (not in git)."""
    where = Path(tempfile.mkdtemp(prefix="mpdb-alerts-cost-"))
    archive = subprocess.run(["git", "archive", ref], cwd=PROJECT_ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    vendor = Path("mpdb/console/static/vendor")
    if (PROJECT_ROOT / vendor).is_dir() and not (where / vendor).exists():
        shutil.copytree(PROJECT_ROOT / vendor, where / vendor)
    return where


def segment(url: str, tokens: tuple[str, str], prefixes: list[str], children: int,
            samples: dict[str, list[float]]) -> float:
    """One thread per prefix, each through its own children's lifecycles; returns the wall time."""
    errors: list[BaseException] = []
    runners: list[Runner] = []

    def client(prefix: str) -> None:
        try:
            with httpx.Client(timeout=120) as http:
                r = Runner(http, url, tokens[0], tokens[1], prefix)
                runners.append(r)
                for i in range(1, children + 1):
                    r.lifecycle(f"{prefix}{i}", f"{prefix}P{i}")
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(p,)) for p in prefixes]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    for r in runners:
        for step in STEPS:
            samples[step].extend(r.samples[step])
    segment.locations.extend(loc for r in runners for loc in r.created_locations)  # type: ignore[attr-defined]
    return wall


segment.locations = []  # type: ignore[attr-defined]


def names(run_id: str, side: str, rnd: int, clients: int) -> list[str]:
    """The children's id prefixes of one segment, one per client."""
    return [f"BENCH-ALC-{run_id}-{side}{rnd}-{clients}-{k}-" for k in range(clients)]


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="main", help="git ref to compare with (default: main)")
    ap.add_argument("--rounds", type=int, default=6, help="interleaved rounds (default 6)")
    ap.add_argument("--children", type=int, default=15, help="lifecycles per client per round (default 15)")
    ap.add_argument("--clients", default="1,4", help="comma-separated client counts (default 1,4)")
    args = ap.parse_args(argv)
    try:
        client_counts = [int(c) for c in args.clients.split(",")]
    except ValueError:
        ap.error("--clients: comma-separated whole numbers, e.g. 1,4")
    if args.rounds < 1 or args.children < 1 or any(c < 1 for c in client_counts):
        ap.error("--rounds, --children and every --clients count must be at least 1")

    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s)
    run_id = uuid.uuid4().hex[:8]
    prefixes: list[str] = []
    procs: dict[str, subprocess.Popen[bytes]] = {}
    base_tree = checkout(args.base)
    try:
        await apply_migrations(driver, settings.neo4j_database)
        for side in SIDES:
            for rnd in range(args.rounds):
                for c in client_counts:
                    for prefix in names(run_id, side, rnd, c):
                        prefixes.append(prefix)
                        ids = (await graph.write(SETUP, {"prefix": prefix, "n": args.children, "la": KENT_CC,
                                                         "force": KENT_POLICE}))[0]["ids"]
                        await graph.write(REFRESH_ACCESS, {"childIds": ids})
        os.environ.setdefault("MPDB_RATE_LIMIT_PER_MINUTE", "1000000")
        os.environ.setdefault("MPDB_DEV_IDP_ISSUER", dev_idp_issuer(settings))
        urls = {}
        for side, source in (("base", str(base_tree)), ("this", None)):
            port = _free_port()
            procs[side] = start_server(port, source)
            urls[side] = f"http://127.0.0.1:{port}/graphql"
        tokens = (mint_dev_token(settings, KENT_POLICE, "investigator"), mint_dev_token(settings, KENT_CC,
                                                                                          "rhi_practitioner"))
        samples = {(s, c): {step: [] for step in STEPS} for s in SIDES for c in client_counts}
        wall = {(s, c): 0.0 for s in SIDES for c in client_counts}
        appended = {(s, c): 0 for s in SIDES for c in client_counts}
        load_before = os.getloadavg()
        print(f"{args.base} vs this tree, {args.rounds} rounds x {args.children} lifecycles per client; "
              f"load average {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}", file=sys.stderr)
        for rnd in range(args.rounds):
            for c in client_counts:
                for side in (SIDES if rnd % 2 == 0 else SIDES[::-1]):
                    head = await head_seq(graph)
                    wall[(side, c)] += segment(urls[side], tokens, names(run_id, side, rnd, c), args.children,
                                               samples[(side, c)])
                    appended[(side, c)] += await head_seq(graph) - head
            print(f"round {rnd + 1}/{args.rounds} done, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
        load_after = os.getloadavg()

        print(f"\n{args.base} (base) vs this tree, side by side; load average before "
              f"{load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}, after "
              f"{load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f}\n")
        for c in client_counts:
            n = {s: sum(len(v) for v in samples[(s, c)].values()) for s in SIDES}
            rate = {s: n[s] / wall[(s, c)] for s in SIDES}
            print(f"{c} client(s): base {rate['base']:.1f} mutations/s, this {rate['this']:.1f} mutations/s, "
                  f"overhead {100 * (1 - rate['this'] / rate['base']):+.1f}%; outbox events appended: "
                  f"base {appended[('base', c)]}, this {appended[('this', c)]}")
            head = (f"{'mutation':22} {'n':>4} {'base p50':>9} {'this p50':>9} {'Δp50':>7} "
                    f"{'base p95':>9} {'this p95':>9} {'Δp95':>7}")
            print(head)
            print("-" * len(head))
            for step in STEPS:
                b, t = Timing(samples[("base", c)][step]), Timing(samples[("this", c)][step])
                print(f"{step:22} {len(t.samples_ms):4d} {b.p50:9.1f} {t.p50:9.1f} {100 * (t.p50 / b.p50 - 1):+6.1f}% "
                      f"{b.p95:9.1f} {t.p95:9.1f} {100 * (t.p95 / b.p95 - 1):+6.1f}%")
            allb = Timing([x for v in samples[("base", c)].values() for x in v])
            allt = Timing([x for v in samples[("this", c)].values() for x in v])
            print(f"{'all':22} {len(allt.samples_ms):4d} {allb.p50:9.1f} {allt.p50:9.1f} "
                  f"{100 * (allt.p50 / allb.p50 - 1):+6.1f}% {allb.p95:9.1f} {allt.p95:9.1f} "
                  f"{100 * (allt.p95 / allb.p95 - 1):+6.1f}%\n")
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(base_tree, ignore_errors=True)

        async def cleanup(tx: Any, prefix: str) -> None:
            # The run's episodes leave their hot-spot buckets in the same transaction as they go.
            episodes = [r["id"] for r in await run(tx, RUN_EPISODES, {"prefix": prefix})]
            keys = await keys_of_episodes(tx, episodes)
            await run(tx, CLEANUP, {"prefix": prefix})
            await refresh_keys(tx, keys)

        for prefix in prefixes:
            await graph.in_write_tx(lambda tx, p=prefix: cleanup(tx, p))
            for agency in (KENT_POLICE, KENT_CC):
                await graph.write(DELETE_KEYS, {"agency": agency, "prefix": prefix})
        for loc in segment.locations:  # type: ignore[attr-defined]
            await graph.write(DELETE_LOCATION, {"id": loc})
        await driver.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
