"""What the audit trail costs in throughput: the same reads with audit on and off, side by side.

    MPDB_STATE_DIR=.mpdb/bench .venv/bin/python -m bench.audit_cost          # 1, 4 and 16 clients
    .venv/bin/python -m bench.audit_cost --clients 16 --seconds 8 --rounds 3

Each query (coMissing 1 hop and riskProfile for the national unit, bench/queries.py) runs as the
service function in-process (the same Cypher, post-processing and audit write as the API, without
HTTP), by N concurrent clients (asyncio tasks on one driver, each sending its next request as soon
as the last one returned) for `--seconds`, once per mode, the modes interleaved round by round so
that the machine's changing load hits them alike:

- `off`: `ServiceContext.consulted` replaced by a no-op IN THIS PROCESS ONLY (the bench's own
  switch: nothing a deployment can set turns audit off); the ceiling audit is measured against;
- `now`: audit as it runs (mpdb/audit/trail.py): consultations that arrive together share a
  transaction (group commit), each transaction appends to the next of 64 hash chains;
- `nolinger`: as `now`, but a commit never waits for the reads still under way;
- `r1`: as round 1 of issue 10 left it (tip d99a33d): group commit, each commit on the next shard
  of the rotation, the chain hashes computed in Cypher; kept here so before and after run side by side;
- `sharded`: 64 chains, but one write transaction per read (no group commit);
- `before`: one write transaction per read, every one on the same chain, i.e. serialised on one
  head lock: the trail before this change (issue 10 measured coMissing 59 -> 110 req/s without it).

Printed per query and client count: requests/s of each mode (sum over rounds / time), p50, and
`cost` = 1 - now / off (target < 15% at 16 clients), with the load average before and after.
Audit events written by the run stay in the trail (it is append-only); `mpdb audit verify` after a
run checks them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import PURPOSE
from bench.queries import QUERIES, BenchQuery, pick_params
from mpdb.audit import trail
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import Principal
from mpdb.graph.db import Graph, run
from mpdb.graph.queries import audit as audit_queries
from mpdb.graph.driver import create_driver
from mpdb.services import context
from mpdb.services.context import ServiceContext
from mpdb.settings import get_settings

MODES = ("off", "now", "nolinger", "r1", "sharded", "before")
NAMES = ("coMissing 1 hop", "riskProfile")


class _OneChain(trail._ShardRotation):
    """Every transaction on shard 0: the single head lock of the trail before this change."""

    def for_tx(self, tx: Any) -> int:
        return 0


async def _one_tx_per_read(graph: Graph, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return await graph.in_write_tx(lambda tx: trail.append_events_in_tx(tx, events))


# Round 1's append (issue 10, tip d99a33d): the chain hashes computed in Cypher (apoc.util.sha256
# over a JSON text the service sends beside the event), one statement. Writes still append with it
# in their own transaction; the bench runs it for reads too, to measure against.
R1_APPEND_EVENTS = audit_queries.APPEND_EVENTS


def _r1_body(event: dict[str, Any]) -> str:
    return json.dumps([event[f] for f in trail.HASHED_FIELDS[2:-1]], separators=(",", ":"), default=str)[1:-1]


async def _r1_append_in_tx(tx: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    shard = trail._rotation.for_tx(tx)
    rows = await run(tx, R1_APPEND_EVENTS, {"headId": trail.head_id(shard),  # type: ignore[arg-type]
                                            "events": [{"event": e, "body": _r1_body(e)} for e in events]})
    stored = []
    for event, link in zip(events, rows[0]["chain"], strict=True):
        full = {**event, "shard": rows[0]["shard"], "seq": link["seq"], "prevHash": link["prevHash"]}
        full["hash"] = trail.event_hash(full)
        if full["hash"] != link["hash"]:
            raise trail.AuditAppendFailed("hash mismatch")
        stored.append(full)
    # What the current code expects to find there next (it would re-link otherwise, which is not
    # what `now` is measured for).
    trail._known_heads.set(shard, stored[-1]["seq"], stored[-1]["hash"])
    return stored


class _R1GroupCommit(trail._GroupCommit):
    lingers = False

    async def _append(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return await self.graph.in_write_tx(lambda tx: _r1_append_in_tx(tx, events))


class _NoLinger(trail._GroupCommit):
    lingers = False


_writers: dict[tuple[type, int], trail._GroupCommit] = {}


def _record_with(kind: type[trail._GroupCommit]) -> Any:
    async def record(graph: Graph, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        writer = _writers.get((kind, id(graph)))
        if writer is None:
            writer = _writers[(kind, id(graph))] = kind(graph)
        return await writer.submit(events)
    return record


@contextmanager
def audit_mode(mode: str) -> Iterator[None]:
    saved_consulted, saved_rotation, saved_record = ServiceContext.consulted, trail._rotation, context.record
    if mode == "off":
        async def no_audit(self: ServiceContext, operation: str, record_ids: Any, summaries: Any = ()) -> None:
            self.require_purpose()

        ServiceContext.consulted = no_audit  # type: ignore[method-assign]
    if mode == "r1":
        context.record = _record_with(_R1GroupCommit)
    if mode == "nolinger":
        context.record = _record_with(_NoLinger)
    if mode in ("sharded", "before"):
        context.record = _one_tx_per_read  # type: ignore[assignment]
    if mode == "before":
        trail._rotation = _OneChain(trail.AUDIT_SHARDS)
    try:
        yield
    finally:
        ServiceContext.consulted = saved_consulted  # type: ignore[method-assign]
        trail._rotation = saved_rotation
        context.record = saved_record  # type: ignore[assignment]


def _cpu_s(pid: int | str) -> float:
    """User + system CPU seconds of a process so far (all its threads)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def neo4j_pid() -> int | None:
    """The project-managed Neo4j's JVM, when that is what the bench talks to (else: not measured)."""
    from mpdb.graph.local_server import LocalNeo4j

    settings = get_settings()
    return None if settings.neo4j_uri else LocalNeo4j(settings).status().pid


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


async def run_clients(graph: Graph, q: BenchQuery, params: dict[str, Any], principal: Principal,
                      clients: int, seconds: float) -> tuple[int, list[float]]:
    settings = get_settings()
    deadline = time.perf_counter() + seconds
    samples: list[float] = []

    async def client() -> None:
        while time.perf_counter() < deadline:
            ctx = ServiceContext(graph=graph, settings=settings, principal=principal, purpose=PURPOSE,
                                 request_id=str(uuid.uuid4()))
            t0 = time.perf_counter()
            await q.service(ctx, params)
            samples.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(samples), [time.perf_counter() - t0, *samples]


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    ap.add_argument("--seconds", type=float, default=6.0, help="duration of one measurement")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every mode")
    ap.add_argument("--only", help="only the queries whose name contains this text")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated modes to run (off and now at least)")
    args = ap.parse_args(argv)
    modes = tuple(m for m in MODES if m in args.modes.split(","))

    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s)
    try:
        params = await pick_params(graph)
        db_pid = neo4j_pid()
        print(f"data set: {params.get('profile') or 'unknown'}; child {params['childId']}; "
              f"load average before: {loadavg()}", flush=True)
        queries = [q for q in QUERIES if q.name in NAMES and (not args.only or args.only.lower() in q.name.lower())]
        print(f"{'query':17} {'clients':>7} " + " ".join(f"{m + ' req/s':>15} {'p50':>6}" for m in modes)
              + "".join(f" {'cost ' + m:>13}" for m in modes if m != "off") + "  load", flush=True)
        for q in queries:
            scopes = get_policy(settings.policy_file).scopes_for(q.agency_kind, q.role)
            principal = Principal(subject="bench", client_id="bench", agency_id=q.agency,
                                  agency_kind=q.agency_kind, role=q.role, scopes=frozenset(scopes))
            for mode in modes:  # warm-up: plans, caches, connections
                with audit_mode(mode):
                    await run_clients(graph, q, params, principal, 4, 1.0)
            for clients in (int(c) for c in args.clients.split(",")):
                cpu = {m: [0.0, 0.0] for m in modes}  # client process, Neo4j: CPU seconds
                done = {m: 0 for m in modes}
                elapsed = {m: 0.0 for m in modes}
                lat: dict[str, list[float]] = {m: [] for m in modes}
                for r in range(args.rounds):
                    order = modes if r % 2 == 0 else tuple(reversed(modes))
                    for mode in order:
                        before = (_cpu_s("self"), _cpu_s(db_pid) if db_pid else float("nan"))
                        with audit_mode(mode):
                            n, (secs, *samples) = await run_clients(graph, q, params, principal, clients, args.seconds)
                        cpu[mode][0] += _cpu_s("self") - before[0]
                        cpu[mode][1] += (_cpu_s(db_pid) if db_pid else float("nan")) - before[1]
                        done[mode] += n
                        elapsed[mode] += secs
                        lat[mode] += samples
                rate = {m: done[m] / elapsed[m] for m in modes}
                cells = " ".join(f"{rate[m]:15.1f} {statistics.median(lat[m]):6.1f}" for m in modes)
                costs = "".join(f" {1 - rate[m] / rate['off']:13.1%}" for m in modes if m != "off")
                print(f"{q.name:17} {clients:7d} {cells}{costs}  {loadavg()}", flush=True)
                print(f"{'  CPU ms/request':25} " + " ".join(
                    f"{1000 * cpu[m][0] / max(done[m], 1):8.1f}+{1000 * cpu[m][1] / max(done[m], 1):6.1f}"
                    for m in modes) + "   (client process + Neo4j)", flush=True)
        print(f"\n{args.rounds} interleaved rounds of {args.seconds:.0f} s per mode; p50 in ms; cost <mode> = 1 - mode/off; "
              f"load average after: {loadavg()}")
    finally:
        await driver.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
