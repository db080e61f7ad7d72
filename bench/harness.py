"""Benchmark the intelligence queries over real HTTP, next to the same work through the driver.

    .venv/bin/python -m bench.harness                      # start uvicorn on the local Neo4j
    .venv/bin/python -m bench.harness --url http://host:8000 --iterations 50
    .venv/bin/python -m bench.harness --only hotspots      # names containing 'hotspots'

For each query (bench/queries.py): `--warmup` runs, then `--iterations` timed runs, one client, one
request at a time. "API" is the wall time of the HTTP POST to /graphql (keep-alive connection,
token minted beforehand); "driver" is the same service function called in-process on a driver
of its own, i.e. the same Cypher plus the same post-processing and audit write, minus HTTP,
GraphQL and token checks. The table shows p50 / p95 / max of both, the API/driver ratio of the
p50s (target <= 1.3x) and whether the API p95 meets its target. Tokens come from the dev identity
provider (mpdb/auth/dev_idp.py): the server must run with MPDB_ENV=dev or test and share its
state dir with this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from bench.queries import QUERIES, BenchQuery, pick_params
from mpdb.auth.dev_idp import mint_dev_token
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import Principal
from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.services.context import ServiceContext
from mpdb.settings import get_settings

PURPOSE = "benchmark: synthetic data"


@dataclass
class Timing:
    samples_ms: list[float]

    def pct(self, p: float) -> float:
        s = sorted(self.samples_ms)
        if not s:
            return float("nan")
        k = (len(s) - 1) * p
        lo, hi = int(k), min(int(k) + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (k - lo)

    @property
    def p50(self) -> float:
        return self.pct(0.50)

    @property
    def p95(self) -> float:
        return self.pct(0.95)

    @property
    def max(self) -> float:
        return max(self.samples_ms) if self.samples_ms else float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, source: str | None = None) -> subprocess.Popen[bytes]:
    """uvicorn on `port`; `source`: another checkout's root whose `mpdb` package the server runs
    (bench/alerts_cost.py runs main's tree beside this one), on this venv."""
    env = {**os.environ, "MPDB_ENV": os.environ.get("MPDB_ENV", "dev"), "MPDB_PORT": str(port)}
    if source is not None:
        env["PYTHONPATH"] = source
    # stderr to a file, not a pipe: nobody reads a pipe while the bench runs, and a server whose
    # log filled it (64 KiB) would block in its next write, with its transactions open.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "mpdb.api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=log, cwd=source,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"uvicorn exited: {log.read().decode(errors='replace')[-4000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("uvicorn did not start within 60 s")


def time_api(client: httpx.Client, url: str, q: BenchQuery, params: dict[str, Any], token: str,
             warmup: int, iterations: int) -> tuple[Timing, str | None]:
    headers = {"Authorization": f"Bearer {token}", "X-MPDB-Purpose": PURPOSE}
    body = {"query": q.graphql, "variables": q.variables(params)}
    samples, error = [], None
    for i in range(warmup + iterations):
        t0 = time.perf_counter()
        resp = client.post(url, json=body, headers=headers)
        elapsed = (time.perf_counter() - t0) * 1000
        payload = resp.json()
        if resp.status_code != 200 or payload.get("errors"):
            error = str(payload.get("errors") or resp.text)[:300]
            break
        if i >= warmup:
            samples.append(elapsed)
    return Timing(samples), error


async def time_driver(graph: Graph, q: BenchQuery, params: dict[str, Any], warmup: int,
                      iterations: int) -> tuple[Timing, str | None]:
    settings = get_settings()
    # The same scopes the policy grants the token the API request carries.
    scopes = get_policy(settings.policy_file).scopes_for(q.agency_kind, q.role)
    principal = Principal(subject="bench", client_id="bench", agency_id=q.agency, agency_kind=q.agency_kind,
                          role=q.role, scopes=frozenset(scopes))
    samples = []
    for i in range(warmup + iterations):
        ctx = ServiceContext(graph=graph, settings=settings, principal=principal, purpose=PURPOSE,
                             request_id=str(uuid.uuid4()))
        t0 = time.perf_counter()
        try:
            await q.service(ctx, params)
        except Exception as exc:  # report and move on: one broken query must not hide the others
            return Timing(samples), f"{type(exc).__name__}: {exc}"[:300]
        if i >= warmup:
            samples.append((time.perf_counter() - t0) * 1000)
    return Timing(samples), None


def _fmt(v: float) -> str:
    return f"{'-':>8}" if v != v else f"{v:8.1f}"


def print_table(rows: list[tuple[BenchQuery, Timing, Timing, str | None]]) -> None:
    head = (f"{'query':34} {'api p50':>8} {'api p95':>8} {'api max':>8} {'drv p50':>8} {'drv p95':>8} "
            f"{'drv max':>8} {'ratio':>6} {'target':>7}  result")
    print(head)
    print("-" * len(head))
    for q, api, drv, err in rows:
        ratio = api.p50 / drv.p50 if api.samples_ms and drv.samples_ms and drv.p50 > 0 else float("nan")
        target = f"{q.target_ms:.0f}" if q.target_ms else "-"
        if err:
            verdict = f"ERROR {err}"
        elif q.target_ms is None:
            verdict = "(no target)"
        else:
            verdict = "ok" if api.p95 <= q.target_ms else f"MISSED by {api.p95 - q.target_ms:.0f} ms"
        print(f"{q.name:34} {_fmt(api.p50)} {_fmt(api.p95)} {_fmt(api.max)} {_fmt(drv.p50)} {_fmt(drv.p95)} "
              f"{_fmt(drv.max)} {ratio:6.2f} {target:>7}  {verdict}")


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="base URL of a running mpdb API (default: start uvicorn here)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--only", help="run the queries whose name contains this text")
    ap.add_argument("--as-of", help="reference time (default: the seeded data set's asOf)")
    args = ap.parse_args(argv)

    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s)
    proc = None
    try:
        params = await pick_params(graph, datetime.fromisoformat(args.as_of) if args.as_of else None)
        print(f"data set: {params.get('profile') or 'unknown'}; asOf {params['asOf'].isoformat()}; "
              f"child {params['childId']} ({params['childLinks']} co-missing links)")
        url = args.url
        if not url:
            port = _free_port()
            proc = start_server(port)
            url = f"http://127.0.0.1:{port}"
        # Dev tokens name the issuer by host and port: mint them for the server actually used.
        parsed = httpx.URL(url)
        token_settings = settings.model_copy(update={"host": parsed.host, "port": parsed.port or 80})
        queries = [q for q in QUERIES if not args.only or args.only.lower() in q.name.lower()]
        rows = []
        with httpx.Client(timeout=120) as client:
            for q in queries:
                token = mint_dev_token(token_settings, q.agency, q.role)
                api, api_err = time_api(client, f"{url.rstrip('/')}/graphql", q, params, token, args.warmup,
                                        args.iterations)
                drv, drv_err = await time_driver(graph, q, params, args.warmup, args.iterations)
                rows.append((q, api, drv, api_err or drv_err))
                print(f"  {q.name}: done", file=sys.stderr)
        print(f"\n{args.iterations} iterations after {args.warmup} warm-up runs, one client; times in ms\n")
        print_table(rows)
    finally:
        await driver.close()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
