"""mpdb next to @neo4j/graphql serving the same Cypher, and next to the bare driver: one run.

    .venv/bin/python -m bench.peer                                   # starts mpdb (uvicorn) and the peer
    .venv/bin/python -m bench.peer --clients 1,4,16 --duration 6 --rounds 3
    .venv/bin/python -m bench.peer --url http://127.0.0.1:8000         # an mpdb already running (workers...)
    .venv/bin/python -m bench.peer --only riskProfile,"coMissing 1 hop"

Needs the Neo4j that mpdb is configured for (MPDB_STATE_DIR / MPDB_LOCAL_BOLT_PORT, or NEO4J_URI),
loaded with a data set, and the peer's node modules (`cd bench/peer && npm ci`).

1. For each query (bench/queries.py), mpdb's service runs once in-process on a recording graph
   (bench/peer/extract.py): the statements it sends and their parameters are the ones the peer
   serves and the driver runs. The peer server (bench/peer/server.mjs) is built from them.
2. Check: the peer's rows equal the driver's rows for every statement, and mpdb's HTTP answer has no
   error and agrees with the in-process answer. Any difference stops the run.
3. Measure three targets at each client count, interleaved: `--rounds` rounds, each giving every
   target `--duration / --rounds` seconds in turn (the order rotates every round), so drift in the
   machine's load hits all three alike. Targets:
   - mpdb: POST /graphql over HTTP with a dev token (auth, rate limit, Strawberry, post-processing,
     the audit write), the operation a client sends (see OPERATIONS);
   - peer: @neo4j/graphql over HTTP, one request asking every read statement of the query, each
     an @cypher field (no auth, no audit);
   - raw: the same read statements through the Python async driver in this process, in the same
     transactions as mpdb groups them, records fetched, nothing else.
   Clients are asyncio tasks in this process, each sending its next request when the previous one
   is answered. CPU columns: CPU time used per request by the mpdb server (with its workers), the
   peer, Neo4j and this process, from /proc (blank when the process is not ours to see).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from graphql import REMOVE, FieldNode, OperationDefinitionNode, Visitor, parse, print_ast, visit

from bench.peer.extract import (
    Extracted,
    compare_rows,
    extract,
    field_name,
    peer_document,
    peer_request,
)
from bench.queries import QUERIES, BenchQuery, pick_params
from mpdb.auth.dev_idp import mint_dev_token
from mpdb.graph.db import Graph
from mpdb.graph.driver import connection_params, create_driver
from mpdb.settings import PROJECT_ROOT, Settings, get_settings

PEER_DIR = Path(__file__).resolve().parent
# Seconds a server has to answer its first request: two uvicorn workers importing the app took over
# 90 s on the shared 2-core box at load ~20 (round 4).
START_TIMEOUT_S = 300
PURPOSE = "benchmark: synthetic data"
DEFAULT_QUERIES = ["riskProfile", "coMissing 1 hop", "coMissing 2 hops", "coMissing 1 hop force",
                   "hotspots force 90d", "sharedAssociates national"]
TARGETS = ("mpdb", "peer", "raw")

# --- what mpdb is asked over HTTP ----------------------------------------------------------------
# The operations clients send, from the project's own documents, so mpdb does the work a real client
# makes it do (every field resolved and serialised), not a __typename-only answer. riskProfile's
# selection is the console's child page (mpdb/console/operations/child.graphql) without
# `adults.children`, which runs a further statement per adult (and audits it) that riskProfile's
# service does not: with it, mpdb would run more statements than the peer is given.
RISK_PROFILE_SELECTION_FROM = PROJECT_ROOT / "mpdb" / "console" / "operations" / "child.graphql"
LINK_OPERATIONS = PROJECT_ROOT / "graphql" / "operations" / "intel_links.graphql"
AREA_OPERATIONS = PROJECT_ROOT / "graphql" / "operations" / "intel_areas.graphql"


def _operation(path: Path, name: str) -> OperationDefinitionNode:
    for d in parse(path.read_text()).definitions:
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name:
            return d
    raise LookupError(f"no operation {name} in {path}")


class _DropAdultChildren(Visitor):
    def enter_field(self, node: FieldNode, *args: Any) -> Any:
        ancestors = args[3] if len(args) > 3 else ()
        parents = [a for a in ancestors if isinstance(a, FieldNode)]
        if node.name.value == "children" and parents and parents[-1].name.value == "adults":
            return REMOVE
        return None


def risk_profile_document() -> str:
    op = _operation(RISK_PROFILE_SELECTION_FROM, "ConsoleChildWithIntel")
    field_ = next(s for s in op.selection_set.selections if s.name.value == "riskProfile")
    selection = visit(field_.selection_set, _DropAdultChildren())
    return ("query RiskProfile($childId: ID!, $asOf: DateTime) {\n  riskProfile(childId: $childId, asOf: $asOf) "
            + print_ast(selection) + "\n}")


def http_operation(q: BenchQuery, params: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL request for `q` (chosen by the root field of bench/queries.py's operation), with
    the arguments bench/queries.py gives its service."""
    (op,) = parse(q.graphql).definitions
    root = op.selection_set.selections[0].name.value  # type: ignore[attr-defined]
    v = q.variables(params)
    if root == "riskProfile":
        return {"query": risk_profile_document(), "variables": {"childId": v["id"], "asOf": v["asOf"]}}
    if root == "coMissing":
        return {"query": print_ast(_operation(LINK_OPERATIONS, "CoMissing")),
                "variables": {"childId": v["id"], "hops": v["hops"], "asOf": v["asOf"], "since": v.get("since"),
                              "first": 20}}
    if root == "sharedAssociates":
        return {"query": print_ast(_operation(LINK_OPERATIONS, "SharedAssociates")),
                "variables": {"minChildren": 3, "minForces": 2, "asOf": v["asOf"], "first": 20}}
    if root == "hotspots":
        return {"query": print_ast(_operation(AREA_OPERATIONS, "Hotspots")),
                "variables": {**v, "kind": "FOUND_AT", "first": 20}}
    raise LookupError(f"no HTTP operation for {q.name} ({root})")


def answer_summary(name: str, data: Any) -> dict[str, Any]:
    """A few figures of mpdb's answer, from the API's JSON (`data`) or the service's result."""
    if isinstance(data, dict) and "riskProfile" in data:
        rp = data["riskProfile"]
        return {"ever": rp["priorEpisodes"]["total"]["ever"], "peers": len(rp["peers"]), "adults": len(rp["adults"]),
                "places": len(rp["whereToLook"]), "flags": len(rp["flags"])}
    if isinstance(data, dict) and "priorEpisodes" in data:
        return {"ever": data["priorEpisodes"]["ever"], "peers": len(data["peers"]), "adults": len(data["adults"]),
                "places": len(data["whereToLook"]), "flags": len(data["flags"])}
    if isinstance(data, dict):
        (conn,) = data.values()
        return {"total": conn["totalCount"], "page": len(conn["nodes"])}
    page = next(getattr(data, a) for a in ("links", "associates", "hotspots", "items") if hasattr(data, a))
    return {"total": data.total, "page": len(page)}


# --- processes -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(proc: subprocess.Popen[bytes], url: str, what: str, ok: Callable[[httpx.Response], bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"{what} exited: {err[-2000:]}")
        try:
            if ok(httpx.get(url, timeout=2)):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"{what} did not start within {START_TIMEOUT_S} s")


def start_mpdb(port: int, workers: int) -> subprocess.Popen[bytes]:
    # The default per-agency rate limit (600/min) would measure the limiter, not the server: the
    # peer has none. A server given with --url keeps whatever limit it was started with.
    env = {**os.environ, "MPDB_ENV": os.environ.get("MPDB_ENV", "dev"), "MPDB_PORT": str(port),
           "MPDB_RATE_LIMIT_PER_MINUTE": os.environ.get("MPDB_RATE_LIMIT_PER_MINUTE", "100000000")}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "mpdb.api.app:create_app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_http(proc, f"http://127.0.0.1:{port}/healthz", "uvicorn", lambda r: r.status_code == 200)
    return proc


def start_peer(doc_path: Path, port: int, settings: Settings, workers: int) -> subprocess.Popen[bytes]:
    if not (PEER_DIR / "node_modules" / "@neo4j" / "graphql").is_dir():
        raise SystemExit("the peer's node modules are missing: cd bench/peer && npm ci")
    uri, auth = connection_params(settings)
    env = {**os.environ, "NEO4J_URI": uri, "NEO4J_DATABASE": settings.neo4j_database}
    if auth:
        env |= {"NEO4J_USERNAME": auth[0], "NEO4J_PASSWORD": auth[1]}
    proc = subprocess.Popen(["node", str(PEER_DIR / "server.mjs"), str(doc_path), str(port), str(workers)], cwd=PEER_DIR,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Apollo answers a GET without a query with 400: enough to know it listens.
    _wait_http(proc, f"http://127.0.0.1:{port}/", "the peer (node)", lambda r: r.status_code < 500)
    return proc


def _cpu_ticks(pid: int) -> int | None:
    """utime + stime of `pid` and of its live descendants (uvicorn workers), in clock ticks."""
    try:
        procs = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    stat = Path(f"/proc/{d}/stat").read_text()
                except OSError:
                    continue
                fields = stat[stat.rindex(")") + 2:].split()
                procs[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        if pid not in procs:
            return None
        total, todo = 0, [pid]
        while todo:
            p = todo.pop()
            total += procs[p][1]
            todo += [c for c, (ppid, _) in procs.items() if ppid == p]
        return total
    except OSError:
        return None


class CpuMeter:
    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = {k: v for k, v in pids.items() if v}
        self.hz = os.sysconf("SC_CLK_TCK")

    def read(self) -> dict[str, float]:
        out = {k: t / self.hz for k, p in self.pids.items() if (t := _cpu_ticks(p)) is not None}
        out["client"] = time.process_time()
        return out


def neo4j_pid(settings: Settings) -> int | None:
    if not settings.managed_neo4j:
        return None
    from mpdb.graph.local_server import LocalNeo4j

    try:
        return int(LocalNeo4j(settings).pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- load ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    samples: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    first_error: str | None = None
    cpu: dict[str, float] = field(default_factory=dict)

    def pct(self, p: float) -> float:
        s = sorted(self.samples)
        if not s:
            return float("nan")
        k = (len(s) - 1) * p
        lo, hi = int(k), min(int(k) + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (k - lo)

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else float("nan")


Call = Callable[[], Awaitable[str | None]]  # None, or what went wrong


async def drive(call: Call, clients: int, seconds: float, tally: Tally | None) -> None:
    """`clients` closed-loop clients for `seconds`; timings go to `tally` (None: warm-up)."""
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            err = await call()
            ms = (time.perf_counter() - t0) * 1000
            if tally is None:
                continue
            if err:
                tally.errors += 1
                tally.first_error = tally.first_error or err
            else:
                tally.samples.append(ms)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    if tally is not None:
        tally.seconds += time.perf_counter() - t0


def http_call(client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]) -> Call:
    content = json.dumps(body).encode()
    headers = {**headers, "content-type": "application/json"}

    async def call() -> str | None:
        resp = await client.post(url, content=content, headers=headers)
        if resp.status_code != 200 or b'"errors"' in resp.content:
            return f"HTTP {resp.status_code}: {resp.text[:200]}"
        return None

    return call


def raw_call(graph: Graph, e: Extracted) -> Call:
    groups: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for s in e.statements:
        groups.setdefault(s.tx, []).append((s.text, s.params))

    async def call() -> str | None:
        for statements in groups.values():
            async def work(tx: Any, statements: list[tuple[str, dict[str, Any]]] = statements) -> None:
                for text, params in statements:
                    result = await tx.run(text, params)
                    _ = [r async for r in result]

            async with graph.driver.session(database=graph.database, default_access_mode="READ") as s:
                await s.execute_read(work)
        return None

    return call


# --- checks ----------------------------------------------------------------------------------------


async def check(client: httpx.AsyncClient, mpdb_url: str, peer_url: str, qi: int, e: Extracted,
                op: dict[str, Any], headers: dict[str, str]) -> str:
    """Peer rows == driver rows for every statement; mpdb's answer == the in-process answer."""
    resp = await client.post(peer_url, json=peer_request(qi, e))
    body = resp.json()
    if resp.status_code != 200 or body.get("errors"):
        raise SystemExit(f"{e.query.name}: the peer failed: {str(body)[:1000]}")
    modes = []
    for si, s in enumerate(e.statements):
        mode, where = compare_rows(body["data"][field_name(qi, si)], s.rows)
        if mode == "different":
            raise SystemExit(f"{e.query.name}: {s.constant}: the peer's rows differ from the driver's at {where}")
        modes.append(mode)
    resp = await client.post(mpdb_url, json=op, headers=headers)
    body = resp.json()
    if resp.status_code != 200 or body.get("errors") or not body.get("data") or None in body["data"].values():
        raise SystemExit(f"{e.query.name}: mpdb failed: HTTP {resp.status_code} {str(body)[:1000]}")
    api, service = answer_summary(e.query.name, body["data"]), answer_summary(e.query.name, e.result)
    if api != service:
        raise SystemExit(f"{e.query.name}: mpdb's HTTP answer {api} differs from its in-process answer {service}")
    rows = sum(len(s.rows) for s in e.statements)
    return (f"same rows ({'/'.join(sorted(set(modes)))}; {len(e.statements)} statement(s), {rows} row(s)); "
            f"mpdb answer {api}")


# --- the run ---------------------------------------------------------------------------------------


def _f(v: float, width: int = 7, digits: int = 1) -> str:
    return f"{'-':>{width}}" if v != v else f"{v:{width}.{digits}f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:6.2f}x" if a == a and b == b and b > 0 else f"{'-':>7}"


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="base URL of a running mpdb API (MPDB_ENV=dev or test, same state dir)")
    ap.add_argument("--port", type=int, help="port for the mpdb server this run starts (default: a free one)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers for the mpdb server this run starts")
    ap.add_argument("--peer-port", type=int, help="port for the peer (default: a free one)")
    ap.add_argument("--peer-workers", type=int, default=1, help="Node processes for the peer (node:cluster)")
    ap.add_argument("--clients", default="1,4,16", help="concurrent clients, comma-separated")
    ap.add_argument("--duration", type=float, default=6.0, help="seconds measured per target per client count")
    ap.add_argument("--rounds", type=int, default=3, help="rounds the duration is split into (interleaving)")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of discarded load per target first")
    ap.add_argument("--only", help=f"comma-separated query names from bench/queries.py (default: {DEFAULT_QUERIES})")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    clients = [int(c) for c in args.clients.split(",")]
    names = [n.strip() for n in args.only.split(",")] if args.only else DEFAULT_QUERIES
    by_name = {q.name: q for q in QUERIES}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown queries {unknown}; known: {sorted(by_name)}")
    queries = [by_name[n] for n in names]

    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s)
    procs: list[subprocess.Popen[bytes]] = []
    doc_path = Path(f"/tmp/mpdb-peer-{os.getpid()}-{uuid.uuid4().hex[:6]}.json")
    try:
        params = await pick_params(graph)
        extracted = await extract(graph, queries, params)
        doc = peer_document(extracted)
        doc_path.write_text(json.dumps(doc))

        peer_port = args.peer_port or _free_port()
        peer = start_peer(doc_path, peer_port, settings, args.peer_workers)
        procs.append(peer)
        if args.url:
            mpdb_base, mpdb_pid = args.url.rstrip("/"), None
        else:
            port = args.port or _free_port()
            mpdb = start_mpdb(port, args.workers)
            procs.append(mpdb)
            mpdb_base, mpdb_pid = f"http://127.0.0.1:{port}", mpdb.pid
        mpdb_url, peer_url = f"{mpdb_base}/graphql", f"http://127.0.0.1:{peer_port}/graphql"
        parsed = httpx.URL(mpdb_base)
        token_settings = settings.model_copy(update={"host": parsed.host, "port": parsed.port or 80})
        meter = CpuMeter({"mpdb": mpdb_pid, "peer": peer.pid, "neo4j": neo4j_pid(settings)})

        print(f"data set: {params.get('profile') or 'unknown'}; asOf {params['asOf'].isoformat()}; "
              f"child {params['childId']}, force child {params['forceChildId']}")
        print(f"mpdb: {mpdb_base}" + ("" if args.url else f" (uvicorn, {args.workers} worker(s), rate limit off)")
              + f"; peer: @neo4j/graphql on Apollo Server, {peer_url}, {args.peer_workers} process(es) (no auth, no audit)"
              + "; raw: Python async driver, in this process")
        print(f"load average at start: {loadavg()}; {os.cpu_count()} CPUs\n")

        results: list[dict[str, Any]] = []
        limits = httpx.Limits(max_connections=max(clients), max_keepalive_connections=max(clients))
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            for qi, e in enumerate(extracted):
                q = e.query
                op = http_operation(q, params)
                headers = {"Authorization": f"Bearer {mint_dev_token(token_settings, q.agency, q.role)}",
                           "X-MPDB-Purpose": PURPOSE}
                verdict = await check(client, mpdb_url, peer_url, qi, e, op, headers)
                print(f"{q.name}: {', '.join(s.constant for s in e.statements)}; not served by the peer: "
                      f"{', '.join(e.skipped_writes) or 'nothing'}\n  check: {verdict}", flush=True)
                calls = {"mpdb": http_call(client, mpdb_url, op, headers),
                         "peer": http_call(client, peer_url, peer_request(qi, e), {}),
                         "raw": raw_call(graph, e)}
                for n in clients:
                    tallies = {t: Tally() for t in TARGETS}
                    for t in TARGETS:
                        await drive(calls[t], n, args.warmup, None)
                    order = list(TARGETS)
                    random.Random(qi * 100 + n).shuffle(order)
                    for r in range(args.rounds):
                        for t in order[r % 3:] + order[:r % 3]:
                            before = meter.read()
                            await drive(calls[t], n, args.duration / args.rounds, tallies[t])
                            after = meter.read()
                            for k in after:
                                tallies[t].cpu[k] = tallies[t].cpu.get(k, 0.0) + after[k] - before.get(k, 0.0)
                    results.append({"query": q.name, "clients": n, "load": loadavg(), "tallies": tallies})
                    m, p, w = tallies["mpdb"], tallies["peer"], tallies["raw"]
                    print(f"  {n:>2} clients: mpdb {m.rate:6.1f}/s p50 {m.pct(.5):6.1f}  peer {p.rate:6.1f}/s "
                          f"p50 {p.pct(.5):6.1f}  raw {w.rate:6.1f}/s p50 {w.pct(.5):6.1f} ms  "
                          f"(load {loadavg()})", file=sys.stderr, flush=True)
        print_tables(results, args)
        if args.json:
            args.json.write_text(json.dumps([
                {"query": r["query"], "clients": r["clients"], "load": r["load"],
                 **{t: {"rate": v.rate, "p50": v.pct(.5), "p95": v.pct(.95), "n": len(v.samples),
                        "errors": v.errors, "cpuPerRequestMs": {k: 1000 * c / max(1, len(v.samples))
                                                                for k, c in v.cpu.items()}}
                    for t, v in r["tallies"].items()}} for r in results], indent=1))
    finally:
        await driver.close()
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        doc_path.unlink(missing_ok=True)
    return 0


def print_tables(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n{args.duration:g} s per target per row in {args.rounds} interleaved rounds, after {args.warmup:g} s "
          f"warm-up each; times in ms; req/s = answers / wall time\n")
    head = (f"{'query':26} {'cl':>3} | {'mpdb/s':>7} {'p50':>7} {'p95':>7} | {'peer/s':>7} {'p50':>7} {'p95':>7} | "
            f"{'raw/s':>7} {'p50':>7} {'p95':>7} | {'mpdb/peer':>9} {'mpdb/raw':>8} | load avg")
    print(head)
    print("-" * len(head))
    errors = []
    for r in results:
        m, p, w = (r["tallies"][t] for t in TARGETS)
        print(f"{r['query']:26} {r['clients']:>3} | {_f(m.rate)} {_f(m.pct(.5))} {_f(m.pct(.95))} | "
              f"{_f(p.rate)} {_f(p.pct(.5))} {_f(p.pct(.95))} | {_f(w.rate)} {_f(w.pct(.5))} {_f(w.pct(.95))} | "
              f"{_ratio(m.rate, p.rate):>9} {_ratio(m.pct(.5), w.pct(.5)):>8} | {r['load']}")
        errors += [f"{r['query']} x{r['clients']} {t}: {v.errors} errors, first: {v.first_error}"
                   for t, v in r["tallies"].items() if v.errors]
    print("\nmpdb/peer = requests per second ratio (>= 1.0x: mpdb keeps up); mpdb/raw = p50 ratio (target <= 1.3x)")
    print("\nCPU ms per answer (server process, Neo4j, this client process), per target:")
    head = f"{'query':26} {'cl':>3} | {'mpdb srv':>8} {'neo4j':>6} {'client':>6} | {'peer srv':>8} {'neo4j':>6} {'client':>6} | {'neo4j':>6} {'client':>6}"
    print(head)
    print("-" * len(head))

    def per(t: Tally, k: str) -> float:
        return 1000 * t.cpu[k] / len(t.samples) if k in t.cpu and t.samples else float("nan")

    for r in results:
        m, p, w = (r["tallies"][t] for t in TARGETS)
        print(f"{r['query']:26} {r['clients']:>3} | {_f(per(m, 'mpdb'), 8)} {_f(per(m, 'neo4j'), 6)} "
              f"{_f(per(m, 'client'), 6)} | {_f(per(p, 'peer'), 8)} {_f(per(p, 'neo4j'), 6)} {_f(per(p, 'client'), 6)} | "
              f"{_f(per(w, 'neo4j'), 6)} {_f(per(w, 'client'), 6)}")
    if errors:
        print("\nERRORS (excluded from the timings):\n  " + "\n  ".join(errors))


def _run() -> int:
    return asyncio.run(main())


if __name__ == "__main__":
    sys.exit(_run())
