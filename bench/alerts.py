"""Alert latency: from the commit of the transaction that raised an alert to its arrival at a
subscriber, at a steady write rate (issue 13 point 6: p95 <= 1 s at 50 writes/s on `demo`).

    MPDB_STATE_DIR=.mpdb/dev MPDB_LOCAL_BOLT_PORT=7799 \\
      flock /tmp/mpdb-bench.lock .venv/bin/python -m bench.alerts --rate 50 --seconds 30

The API runs as its own process (uvicorn, started here on MPDB_PORT or a free port, MPDB_ENV=dev),
so its outbox tailer polls as in a deployment (MPDB_ALERTS_POLL_SECONDS, default 0.25 s; `--poll`
runs one round per value, side by side). Subscribers are real websockets speaking
graphql-transport-ws, one per local authority (the `--agencies` LAs looking after the most
children), each a missing lead with a dev token. The writer appends one alert per transaction
(`append_events` on a write transaction, as every write path does), about a child the recipient
LA looks after, at `--rate` per second; the clock starts when the commit returns. Latency =
arrival - commit, in this process (one clock). Printed per poll interval: alerts written and
received, p50, p95, max (ms), with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import connect

from bench.harness import PURPOSE, Timing, _free_port, start_server
from mpdb.alerts.events import AlertEvent, AlertKind
from mpdb.auth.dev_idp import mint_dev_token
from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.graph.repositories.outbox import append_events
from mpdb.settings import get_settings

SUBSCRIBE = "subscription { alerts { id } }"
CHILDREN_BY_LA = """
MATCH (c:Child)-[:LOOKED_AFTER_BY]->(la:LocalAuthority)
WITH la.code AS la, collect(c.id)[..500] AS children, count(*) AS n
RETURN la, children ORDER BY n DESC LIMIT $agencies
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def subscriber(url: str, token: str, arrivals: dict[str, float], ready: asyncio.Event) -> None:
    async with connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {token}", "purpose": PURPOSE}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        ready.set()
        async for raw in ws:
            now = time.perf_counter()
            msg = json.loads(raw)
            if msg.get("type") == "next" and msg["payload"].get("data"):
                arrivals[msg["payload"]["data"]["alerts"]["id"]] = now
            else:
                print(f"subscription ended: {str(msg)[:300]}", file=sys.stderr)
                return


async def writer(graph: Graph, targets: list[tuple[str, list[str]]], rate: float, seconds: float,
                 commits: dict[str, float]) -> None:
    interval = 1.0 / rate
    start = time.perf_counter()
    n = 0
    while (elapsed := time.perf_counter() - start) < seconds:
        la, children = random.choice(targets)  # noqa: S311 - load generation
        child = random.choice(children)  # noqa: S311
        event = AlertEvent(kind=AlertKind.CHILD_FOUND, key=f"bench|{uuid.uuid4().hex}|{la}", recipient=la,
                           reason="responsible_la", subject_type="Child", subject_id=child,
                           occurred_at=datetime.now(UTC), child_id=child)

        async def work(tx: Any, event: AlertEvent = event) -> Any:
            return await append_events(tx, [event])

        await graph.in_write_tx(work)
        commits[event.id] = time.perf_counter()
        n += 1
        await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))
    del elapsed


async def one_round(poll: float, args: argparse.Namespace, graph: Graph,
                    targets: list[tuple[str, list[str]]]) -> tuple[int, int, Timing]:
    settings = get_settings()
    port = args.port or _free_port()
    os.environ["MPDB_ALERTS_POLL_SECONDS"] = str(poll)
    proc = start_server(port)
    try:
        arrivals: dict[str, float] = {}
        commits: dict[str, float] = {}
        readies = []
        tasks = []
        for la, _ in targets:
            ready = asyncio.Event()
            readies.append(ready)
            token = mint_dev_token(settings.model_copy(update={"port": port}), la, "la_missing_lead")
            tasks.append(asyncio.create_task(subscriber(f"ws://127.0.0.1:{port}/graphql", token, arrivals, ready)))
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
        await asyncio.sleep(1.0)  # the subscriptions have joined the tailer
        await writer(graph, targets, args.rate, args.seconds, commits)
        await asyncio.sleep(3.0)  # the last ones arrive
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        latencies = [(arrivals[i] - c) * 1000 for i, c in commits.items() if i in arrivals]
        return len(commits), len(latencies), Timing(latencies)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="alerts committed per second (default 50)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to write (default 30)")
    parser.add_argument("--agencies", type=int, default=5, help="subscribed LAs, one websocket each (default 5)")
    parser.add_argument("--poll", type=float, nargs="+", default=[0.25],
                        help="tailer poll intervals to compare, one API process each (default 0.25)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MPDB_PORT", "0")) or None)
    args = parser.parse_args(argv)
    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database)
    try:
        rows = await graph.read(CHILDREN_BY_LA, {"agencies": args.agencies})
        if not rows:
            print("no looked-after children: seed first (mpdb seed --profile demo)", file=sys.stderr)
            return 2
        targets = [(r["la"], r["children"]) for r in rows]
        print(f"alert latency, commit -> subscriber; {args.rate:g} alerts/s for {args.seconds:g} s; "
              f"{len(targets)} LAs subscribed; load before {load()}")
        print(f"{'poll s':>7} {'written':>8} {'received':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for poll in args.poll:
            written, received, timing = await one_round(poll, args, graph, targets)
            print(f"{poll:>7g} {written:>8} {received:>9} {timing.p50:>8.0f} {timing.p95:>8.0f} {timing.max:>8.0f}")
        print(f"load after {load()}")
    finally:
        await driver.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
