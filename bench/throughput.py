"""Throughput with concurrent clients: the API served by 1, 2 and 4 worker processes next to the
same work in-process through the driver, at 1, 4 and 16 clients, interleaved in one run.

    .venv/bin/python -m bench.throughput                        # riskProfile and coMissing 1 hop
    .venv/bin/python -m bench.throughput --clients 1 4 16 --workers 1 2 4 --seconds 8 --rounds 2
    .venv/bin/python -m bench.throughput --only riskProfile

For each query and client count, each round runs every target for `--seconds` (after a warm-up of
one request per client): "api wN" is `mpdb serve --workers N` (started here, MPDB_ENV=dev, on the
configured Neo4j), N clients each posting to /graphql in a loop on its own keep-alive connection;
"driver" is the service function (bench/queries.py) called by N concurrent tasks in this process,
on a driver of its own (the same Cypher, post-processing and audit write; no HTTP, GraphQL or token
checks). Rounds interleave the targets, so a burst of load on the shared machine hits them alike.
Prints requests/s and p50/p95 latency (ms) per target, and the load average before and after.
The load generator shares the machine's cores with the servers: compare the rows, not the
absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import PURPOSE, Timing, _free_port
from bench.queries import QUERIES, BenchQuery, pick_params
from mpdb.auth.dev_idp import mint_dev_token
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import Principal
from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.services.context import ServiceContext
from mpdb.settings import get_settings

DEFAULT_QUERIES = ("riskProfile", "coMissing 1 hop")


def start_workers(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """`mpdb serve --workers N` on a free port (not waited for: see `wait_ready`)."""
    port = _free_port()
    env = {**os.environ, "MPDB_ENV": os.environ.get("MPDB_ENV", "dev"), "MPDB_PORT": str(port),
           "MPDB_WORKERS": str(workers)}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "mpdb"), "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc: subprocess.Popen[bytes], url: str, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mpdb serve at {url} exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"mpdb serve at {url} did not start within {timeout_s:.0f} s")


async def _loop(call: Any, clients: int, seconds: float) -> tuple[float, Timing, str | None]:
    """`clients` concurrent loops of `call` for `seconds` each: requests/s, latencies, first error."""
    samples: list[float] = []
    errors: list[str] = []

    async def worker(i: int) -> None:
        await call(i)  # warm-up: one request per client, not counted
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and not errors:
            t0 = time.perf_counter()
            try:
                await call(i)
            except Exception as exc:  # report, stop this target; the others go on
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
                return
            samples.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return len(samples) / seconds, Timing(samples), errors[0] if errors else None


async def run_api(url: str, token: str, q: BenchQuery, params: dict[str, Any], clients: int,
                  seconds: float) -> tuple[float, Timing, str | None]:
    headers = {"Authorization": f"Bearer {token}", "X-MPDB-Purpose": PURPOSE}
    body = {"query": q.graphql, "variables": q.variables(params)}
    conns = [httpx.AsyncClient(base_url=url, timeout=120) for _ in range(clients)]

    async def call(i: int) -> None:
        resp = await conns[i].post("/graphql", json=body, headers=headers)
        payload = resp.json()
        if resp.status_code != 200 or payload.get("errors"):
            raise RuntimeError(str(payload.get("errors") or resp.text)[:300])

    try:
        return await _loop(call, clients, seconds)
    finally:
        for c in conns:
            await c.aclose()


async def run_driver(graph: Graph, q: BenchQuery, params: dict[str, Any], clients: int,
                     seconds: float) -> tuple[float, Timing, str | None]:
    settings = get_settings()
    scopes = get_policy(settings.policy_file).scopes_for(q.agency_kind, q.role)
    principal = Principal(subject="bench", client_id="bench", agency_id=q.agency, agency_kind=q.agency_kind,
                          role=q.role, scopes=frozenset(scopes))

    async def call(_: int) -> None:
        ctx = ServiceContext(graph=graph, settings=settings, principal=principal, purpose=PURPOSE,
                             request_id=str(uuid.uuid4()))
        await q.service(ctx, params)

    return await _loop(call, clients, seconds)


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seconds", type=float, default=6.0, help="per target, per round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", help="the queries whose name contains this text (default: riskProfile, coMissing 1 hop)")
    ap.add_argument("--as-of", help="reference time (default: the seeded data set's asOf)")
    args = ap.parse_args(argv)

    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s)
    servers: dict[int, tuple[subprocess.Popen[bytes], str]] = {}
    print(f"load average at start: {_loadavg()}")
    try:
        params = await pick_params(graph, datetime.fromisoformat(args.as_of) if args.as_of else None)
        print(f"data set: {params.get('profile') or 'unknown'}; child {params['childId']} "
              f"({params['childLinks']} co-missing links)")
        for w in args.workers:
            servers[w] = start_workers(w)
        for proc, url in servers.values():
            wait_ready(proc, url)
        queries = [q for q in QUERIES
                   if (args.only.lower() in q.name.lower() if args.only else q.name in DEFAULT_QUERIES)]
        results: dict[tuple[str, int, str], list[tuple[float, Timing]]] = {}
        errors: dict[tuple[str, int, str], str] = {}
        for q in queries:
            for clients in args.clients:
                for _round in range(args.rounds):
                    targets = [f"api w{w}" for w in args.workers] + ["driver"]
                    if _round % 2:
                        targets.reverse()  # alternate the order: no target always runs first
                    for target in targets:
                        if target == "driver":
                            out = await run_driver(graph, q, params, clients, args.seconds)
                        else:
                            w = int(target.removeprefix("api w"))
                            url = servers[w][1]
                            parsed = httpx.URL(url)
                            token_settings = settings.model_copy(update={"host": parsed.host, "port": parsed.port})
                            token = mint_dev_token(token_settings, q.agency, q.role)
                            out = await run_api(url, token, q, params, clients, args.seconds)
                        rps, timing, err = out
                        results.setdefault((q.name, clients, target), []).append((rps, timing))
                        if err:
                            errors[(q.name, clients, target)] = err
                print(f"  {q.name} x{clients}: done (load {_loadavg()})", file=sys.stderr)
        print(f"\n{args.rounds} interleaved rounds of {args.seconds:.0f} s per target; req/s summed over rounds' "
              f"means; latency in ms over all samples\n")
        head = f"{'query':18} {'clients':>7} {'target':>8} {'req/s':>8} {'p50':>8} {'p95':>8} {'vs driver':>9}"
        print(head)
        print("-" * len(head))
        for q in queries:
            for clients in args.clients:
                drv = results.get((q.name, clients, "driver"), [])
                drv_rps = sum(r for r, _ in drv) / len(drv) if drv else float("nan")
                for target in [f"api w{w}" for w in args.workers] + ["driver"]:
                    runs = results.get((q.name, clients, target), [])
                    rps = sum(r for r, _ in runs) / len(runs) if runs else float("nan")
                    allsamples = Timing([s for _, t in runs for s in t.samples_ms])
                    err = errors.get((q.name, clients, target))
                    print(f"{q.name:18} {clients:7d} {target:>8} {rps:8.1f} {allsamples.p50:8.1f} "
                          f"{allsamples.p95:8.1f} {rps / drv_rps:8.2f}x" + (f"  ERROR {err}" if err else ""))
        print(f"\nload average at end: {_loadavg()}")
    finally:
        await driver.close()
        for proc, _ in servers.values():
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
