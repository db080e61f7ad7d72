"""Latency of the episode-lifecycle mutations over real HTTP: one synthetic child at a time goes
reportMissing -> updateEpisode -> recordFound -> recordReturn -> recordReturnInterview.

    .venv/bin/python -m bench.mutations                     # start uvicorn here, on the local Neo4j
    .venv/bin/python -m bench.mutations --url http://127.0.0.1:8000 --children 500
    .venv/bin/python -m bench.mutations --keep              # leave the synthetic children in the graph

Set-up (not timed): N looked-after children of Kent CC (`BENCH-MUT-<run>-<i>`), each with a Kent
children's-home placement, written straight through the driver with their access lists. Then,
for each child in turn, the five mutations as Kent Police (investigator) and Kent CC (RHI
practitioner), one keep-alive client, one request at a time, tokens minted beforehand; every
mutation does its full work (idempotency key, scoped locks, rules, writes, access refresh, audit
chain), and recordFound also sends the found_to_responsible_la notification. Prints p50 / p95 /
max / mean per mutation in ms. Afterwards the synthetic records are deleted (the audit events,
append-only, stay), unless --keep.

Tokens come from the dev identity provider: the server must run with MPDB_ENV=dev or test and
share its state dir with this process. A server started here gets a rate limit high enough not
to throttle the run; a server given by --url must allow >= 5 x N requests a minute per agency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.harness import Timing, _free_port, start_server
from mpdb.auth.dev_idp import dev_idp_issuer, mint_dev_token
from mpdb.graph.db import Graph, run
from mpdb.graph.driver import create_driver
from mpdb.graph.migrations import apply_migrations
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.hotspot_buckets import keys_of_episodes, refresh_keys
from mpdb.ingest.reference import load_reference
from mpdb.settings import get_settings

KENT_POLICE, KENT_CC = "E23000032", "E10000016"
PURPOSE = "benchmark: synthetic data"
STEPS = ("reportMissing", "updateEpisode", "recordFound", "recordReturn", "recordReturnInterview")

SETUP = """
MATCH (kcc:LocalAuthority {code: $la}), (kent:Force {code: $force})
MERGE (home:Location {id: $prefix + 'HOME'})
  ON CREATE SET home += {name: 'bench children\\'s home', kind: 'childrens_home', laCode: $la, forceCode: $force,
                         point: point({latitude: 51.2802, longitude: 1.0789}), recordedBy: $la,
                         recordedAt: datetime(), sourceSystem: 'synthetic', author: 'bench'}
MERGE (home)-[:IN_LA]->(kcc)
MERGE (home)-[:IN_FORCE]->(kent)
WITH kcc, kent, home
UNWIND range(1, $n) AS i
CREATE (c:Child {id: $prefix + i, pseudonym: 'P-' + $prefix + i, sex: 'F', lookedAfter: true,
                 dateOfBirth: date('2010-06-01'), recordedBy: $la, recordedAt: datetime(),
                 sourceSystem: 'synthetic', author: 'bench'})
CREATE (c)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (c)-[:PLACED_IN]->(p:Placement {id: $prefix + 'P' + i, startDate: date('2026-01-01'), placementType: 'K2',
                                       outOfArea: false, crossForce: false, recordedBy: $la,
                                       recordedAt: datetime(), sourceSystem: 'synthetic', author: 'bench'})
CREATE (p)-[:AT_LOCATION]->(home), (p)-[:PLACED_BY]->(kcc), (p)-[:HOSTED_BY]->(kcc), (p)-[:IN_FORCE_AREA]->(kent)
RETURN collect(c.id) AS ids
"""

# Everything the run wrote about its children, except the append-only audit trail: episodes and
# what hangs off them, placements and the bench's home location. (The places the mutations
# created are deleted by id: DELETE_LOCATION.)
CLEANUP = """
MATCH (c:Child) WHERE c.id STARTS WITH $prefix
OPTIONAL MATCH (c)-[:HAD]->(e:Episode)
OPTIONAL MATCH (e)-[:ASSESSED_IN|FOLLOWED_BY]->(x)
OPTIONAL MATCH (r:EpisodeRecord)-[:RECORD_OF]->(e)
OPTIONAL MATCH (n:Notification)-[:ABOUT]->(e)
OPTIONAL MATCH (c)-[:PLACED_IN]->(p:Placement)
WITH collect(DISTINCT c) + collect(DISTINCT e) + collect(DISTINCT x) + collect(DISTINCT r) + collect(DISTINCT n)
     + collect(DISTINCT p) + COLLECT { MATCH (h:Location {id: $prefix + 'HOME'}) RETURN h } AS doomed
UNWIND doomed AS d
DETACH DELETE d
RETURN count(*) AS deleted
"""

RUN_EPISODES = "MATCH (c:Child)-[:HAD]->(e:Episode) WHERE c.id STARTS WITH $prefix RETURN e.id AS id"
DELETE_LOCATION = "MATCH (l:Location {id: $id}) DETACH DELETE l"
DELETE_KEYS = "MATCH (k:IdempotencyKey) WHERE k.key STARTS WITH $agency + '|' + $prefix DETACH DELETE k"

REPORT = """mutation($input: ReportMissingInput!, $key: String!) {
  reportMissing(input: $input, idempotencyKey: $key) { episodeId category triggers { id fired } } }"""
UPDATE = """mutation($input: UpdateEpisodeInput!, $key: String!) {
  updateEpisode(input: $input, idempotencyKey: $key) { episodeId riskGrade wentToLocationIds } }"""
FOUND = """mutation($input: RecordFoundInput!, $key: String!) {
  recordFound(input: $input, idempotencyKey: $key) { episodeId notificationId foundAtLocationId } }"""
RETURN = """mutation($input: RecordReturnInput!, $key: String!) {
  recordReturn(input: $input, idempotencyKey: $key) { episodeId returnInterviewDueAt } }"""
RHI = """mutation($input: RecordReturnInterviewInput!, $key: String!) {
  recordReturnInterview(input: $input, idempotencyKey: $key) { returnInterviewId status } }"""


def _iso(t: datetime) -> str:
    return t.isoformat()


class Runner:
    def __init__(self, client: httpx.Client, url: str, police: str, rhi: str, prefix: str) -> None:
        self.client, self.url, self.prefix = client, url, prefix
        self.headers = {
            "police": {"Authorization": f"Bearer {police}", "X-MPDB-Purpose": PURPOSE},
            "rhi": {"Authorization": f"Bearer {rhi}", "X-MPDB-Purpose": PURPOSE},
        }
        self.samples: dict[str, list[float]] = {s: [] for s in STEPS}
        self.created_locations: list[str] = []

    def call(self, step: str, who: str, query: str, inp: dict[str, Any]) -> dict[str, Any]:
        body = {"query": query, "variables": {"input": inp, "key": f"{self.prefix}{uuid.uuid4()}"}}
        t0 = time.perf_counter()
        resp = self.client.post(self.url, json=body, headers=self.headers[who])
        elapsed = (time.perf_counter() - t0) * 1000
        payload = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
        if resp.status_code != 200 or payload.get("errors"):
            raise RuntimeError(f"{step}: HTTP {resp.status_code} {str(payload.get('errors') or resp.text)[:400]}")
        self.samples[step].append(elapsed)
        return payload["data"]

    def lifecycle(self, child_id: str, placement_id: str) -> None:
        now = datetime.now(UTC)
        reported = now - timedelta(hours=6)
        ep = self.call("reportMissing", "police", REPORT, {
            "childId": child_id, "reporterType": "childrens_home", "reportedAt": _iso(reported),
            "lastSeenAt": _iso(reported - timedelta(hours=1)), "missingFromPlacementId": placement_id,
            "riskAssessment": {"scheme": "2017", "grade": "medium", "reason": "bench"}})["reportMissing"]["episodeId"]
        upd = self.call("updateEpisode", "police", UPDATE, {
            "episodeId": ep, "riskAssessment": {"scheme": "2017", "grade": "high", "reason": "bench regrade"},
            "wentTo": [{"at": _iso(reported + timedelta(hours=1)),
                        "place": {"kind": "transport_hub", "latitude": 51.2845, "longitude": 1.0752}}]})
        self.created_locations.extend(upd["updateEpisode"]["wentToLocationIds"])
        found = self.call("recordFound", "police", FOUND, {
            "episodeId": ep, "foundAt": _iso(reported + timedelta(hours=3)),
            "foundPlace": {"kind": "park", "latitude": 51.279, "longitude": 1.085}})
        self.created_locations.append(found["recordFound"]["foundAtLocationId"])
        self.call("recordReturn", "police", RETURN, {
            "episodeId": ep, "returnedAt": _iso(reported + timedelta(hours=4)), "returnedToPlacementId": placement_id})
        self.call("recordReturnInterview", "rhi", RHI, {
            "episodeId": ep, "status": "offered", "offeredAt": _iso(reported + timedelta(hours=5)),
            "providerAgencyId": KENT_CC})


def print_table(samples: dict[str, list[float]]) -> None:
    head = f"{'mutation':24} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8} {'mean':>8}"
    print(head)
    print("-" * len(head))
    for step in STEPS:
        t = Timing(samples[step])
        mean = sum(t.samples_ms) / len(t.samples_ms) if t.samples_ms else float("nan")
        print(f"{step:24} {len(t.samples_ms):5d} {t.p50:8.1f} {t.p95:8.1f} {t.max:8.1f} {mean:8.1f}")


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="base URL of a running mpdb API (default: start uvicorn here)")
    ap.add_argument("--children", type=int, default=200, help="synthetic children, one lifecycle each")
    ap.add_argument("--keep", action="store_true", help="leave the synthetic records in the graph")
    args = ap.parse_args(argv)
    if args.children < 1:
        ap.error("--children must be at least 1")

    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s)
    prefix = f"BENCH-MUT-{uuid.uuid4().hex[:8]}-"
    proc = None
    runner: Runner | None = None
    try:
        await apply_migrations(driver, settings.neo4j_database)
        known = await graph.read_one("MATCH (:Force {code: $f}), (:LocalAuthority {code: $la}) RETURN 1 AS ok",
                                     {"f": KENT_POLICE, "la": KENT_CC})
        if known is None:
            print("reference data missing: loading it", file=sys.stderr)
            await load_reference(driver, settings.neo4j_database)
        sizes = await graph.read_one("MATCH (c:Child) WITH count(c) AS children "
                                     "MATCH (e:Episode) RETURN children, count(e) AS episodes")
        ids = (await graph.write(SETUP, {"prefix": prefix, "n": args.children, "la": KENT_CC,
                                         "force": KENT_POLICE}))[0]["ids"]
        await graph.write(REFRESH_ACCESS, {"childIds": ids})
        url = args.url
        if not url:
            os.environ.setdefault("MPDB_RATE_LIMIT_PER_MINUTE", str(max(6000, 20 * args.children)))
            # The server's dev IdP must name the issuer the tokens minted here carry (by default it
            # derives it from its own port, which differs from this process's).
            os.environ.setdefault("MPDB_DEV_IDP_ISSUER", dev_idp_issuer(settings))
            port = _free_port()
            proc = start_server(port)
            url = f"http://127.0.0.1:{port}"
        police = mint_dev_token(settings, KENT_POLICE, "investigator")
        rhi = mint_dev_token(settings, KENT_CC, "rhi_practitioner")
        print(f"graph before the run: {sizes['children'] if sizes else 0} children, "
              f"{sizes['episodes'] if sizes else 0} episodes; {args.children} synthetic children ({prefix}*)",
              file=sys.stderr)
        started = time.perf_counter()
        with httpx.Client(timeout=60) as client:
            runner = Runner(client, f"{url.rstrip('/')}/graphql", police, rhi, prefix)
            for i in range(1, args.children + 1):
                runner.lifecycle(f"{prefix}{i}", f"{prefix}P{i}")
        wall = time.perf_counter() - started
        print(f"\n{args.children} lifecycles ({5 * args.children} mutations) in {wall:.1f} s, one client; "
              "times in ms\n")
        print_table(runner.samples)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        if not args.keep:
            async def cleanup(tx: Any) -> None:
                # The run's episodes leave their hot-spot buckets in the same transaction as they go.
                episodes = [r["id"] for r in await run(tx, RUN_EPISODES, {"prefix": prefix})]
                keys = await keys_of_episodes(tx, episodes)
                await run(tx, CLEANUP, {"prefix": prefix})
                await refresh_keys(tx, keys)

            await graph.in_write_tx(cleanup)
            for loc in runner.created_locations if runner else []:
                await graph.write(DELETE_LOCATION, {"id": loc})
            for agency in (KENT_POLICE, KENT_CC):
                await graph.write(DELETE_KEYS, {"agency": agency, "prefix": prefix})
        await driver.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
