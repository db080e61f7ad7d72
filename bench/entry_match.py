"""What scoring likely duplicates adds to registerChild (issue 12): p50/p95 of the whole mutation and
of its matching step (candidate look-up through the blocking indexes + one Splink call).

    .venv/bin/python bench/entry_match.py [--background 20000] [--calls 200]

Uses the Neo4j from the environment (NEO4J_URI, or the project-managed local server). Set-up (not
timed): `--background` synthetic children (`BENCH-EM-` ids) of three agencies, names drawn from
small pools so the date-of-birth and name blocks hold candidates, as at national scale. Then
`--calls` registrations by Kent CC through the service layer (one transaction each, as over
HTTP, without the HTTP): three in four a new child (no likely record: created), one in four a
background child with a typo in the family name (candidates returned, nothing created). The
scorer is loaded before the clock starts (the API loads it at start-up). Afterwards the
synthetic records are deleted (the audit events, append-only, stay). Prints one table.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from datetime import date, timedelta

from rich.console import Console
from rich.table import Table

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.domain import commands as cmd
from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.writes import WriteRepository
from mpdb.ingest.reference import load_reference
from mpdb.services import entry_match as em
from mpdb.services import writes
from mpdb.services.context import ServiceContext
from mpdb.settings import get_settings

KENT_CC = "E10000016"
AGENCIES = ("E10000016", "E23000032", "E06000021")
GIVEN = ("Olivia", "Amelia", "Isla", "Ava", "Mia", "Noah", "Oliver", "George", "Leo", "Arthur", "Muhammad",
         "Freya", "Lily", "Jack", "Harry", "Sophia", "Ella", "Grace", "Oscar", "Charlie")
FAMILY = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
          "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
          "Khan", "Ali", "Hussain", "Clarke", "Lewis", "Kowalski", "Nowak", "Okafor", "Mensah", "Begum")

SETUP = """
UNWIND $rows AS row
MATCH (la:LocalAuthority {code: $la})
CREATE (c:Child {id: row.id, pseudonym: 'P-' + row.id, givenName: row.given, familyName: row.family,
                 dateOfBirth: date(row.dob), sex: row.sex, lookedAfter: true, recordedBy: row.agency,
                 recordedAt: datetime(), sourceSystem: 'synthetic', author: 'bench'})
CREATE (c)-[:LOOKED_AFTER_BY]->(la)
"""
CLEANUP = """
MATCH (c:Child) WHERE c.id STARTS WITH 'BENCH-EM-'
CALL (c) { DETACH DELETE c } IN TRANSACTIONS OF 5000 ROWS
"""
DELETE_KEYS = "MATCH (k:IdempotencyKey) WHERE k.key STARTS WITH $prefix CALL (k) { DELETE k } IN TRANSACTIONS OF 5000 ROWS"


def pct(xs: list[float], p: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(p) - 1] if len(xs) > 1 else xs[0]


async def main(args: argparse.Namespace) -> None:
    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, timeout_s=600)
    rnd = random.Random(12)
    start = date(2008, 1, 1)
    background = [{"id": f"BENCH-EM-{i:06d}", "given": rnd.choice(GIVEN), "family": rnd.choice(FAMILY),
                   "dob": (start + timedelta(days=rnd.randrange(0, 365 * 10))).isoformat(),
                   "sex": rnd.choice("FM"), "agency": rnd.choice(AGENCIES)} for i in range(args.background)]
    principal = Principal(subject="bench", client_id="bench", agency_id=KENT_CC,
                          agency_kind=AgencyKind.LOCAL_AUTHORITY, role=Role.LA_MISSING_LEAD,
                          scopes=frozenset({Scope.PLACEMENT_WRITE, Scope.CHILD_READ}))
    matching: list[float] = []
    scoring: list[float] = []  # the Splink part alone (one scoring call, when there are candidates)
    orig_candidates, orig_score = WriteRepository.entry_candidates, em.EntryScorer.score

    async def timed_candidates(self, *a, **kw):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return await orig_candidates(self, *a, **kw)
        finally:
            matching.append(time.perf_counter() - t0)

    async def timed_score(self, *a, **kw):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return await orig_score(self, *a, **kw)
        finally:
            matching[-1] += time.perf_counter() - t0
            scoring.append(time.perf_counter() - t0)

    WriteRepository.entry_candidates = timed_candidates  # type: ignore[method-assign]
    em.EntryScorer.score = timed_score  # type: ignore[method-assign]
    prefix = f"{KENT_CC}|bench-em-{uuid.uuid4().hex[:8]}-"
    totals: dict[str, list[float]] = {"new child": [], "likely duplicate": []}
    found = 0
    try:
        await load_reference(driver, settings.neo4j_database)
        for i in range(0, len(background), 5000):
            await graph.write(SETUP, {"rows": background[i:i + 5000], "la": KENT_CC})
            await graph.write(REFRESH_ACCESS, {"childIds": [r["id"] for r in background[i:i + 5000]]})
        await em.get_entry_scorer()
        for n in range(args.calls):
            dup = n % 4 == 3
            if dup:
                b = rnd.choice(background)
                family = b["family"][:-1] + ("x" if b["family"][-1] != "x" else "y")  # one typo
                inp = {"id": f"BENCH-EM-N{n:05d}", "given_name": b["given"], "family_name": family,
                       "date_of_birth": b["dob"], "sex": b["sex"], "looked_after_by": KENT_CC}
            else:
                inp = {"id": f"BENCH-EM-N{n:05d}", "given_name": rnd.choice(GIVEN) + "ette",
                       "family_name": rnd.choice(FAMILY) + "-" + uuid.uuid4().hex[:5],
                       "date_of_birth": (start + timedelta(days=rnd.randrange(0, 3650))).isoformat(),
                       "sex": "F", "looked_after_by": KENT_CC}
            command = cmd.parse_command(cmd.RegisterChild, inp)
            ctx = ServiceContext(graph, settings, principal, "benchmark: synthetic data", str(uuid.uuid4()))
            t0 = time.perf_counter()
            result = await writes.register_child(ctx, command, prefix.split("|", 1)[1] + str(n))
            totals["likely duplicate" if dup else "new child"].append(time.perf_counter() - t0)
            found += bool(result["candidates"])
    finally:
        WriteRepository.entry_candidates, em.EntryScorer.score = orig_candidates, orig_score  # type: ignore[method-assign]
        await graph.auto_commit(CLEANUP)
        await graph.auto_commit(DELETE_KEYS, {"prefix": prefix})
        await driver.close()
    table = Table(title=f"registerChild with duplicate scoring ({args.background:,} background children, "
                        f"{args.calls} calls, {found} answered with candidates)")
    for col in ("what", "calls", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="right")
    for name, xs in (*totals.items(), ("matching step (look-up + Splink)", matching),
                     ("  of which scoring (calls with candidates)", scoring)):
        if not xs:
            continue
        ms = [x * 1000 for x in xs]
        table.add_row(name, str(len(ms)), f"{pct(ms, 50):.1f}", f"{pct(ms, 95):.1f}", f"{max(ms):.1f}")
    Console().print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--background", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
