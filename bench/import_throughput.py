"""Bulk-import throughput: generate a synthetic episodes file (~50k rows) and time its import.

    .venv/bin/python bench/import_throughput.py [--episodes 50000] [--per-child 5] [--batch-size 1000]
                                                [--no-matching] [--names realistic|pathological]
                                                [--run NAME] [--children-only]

`--no-matching` switches off the scoring of imported children for likely duplicates (issue 12:
candidate look-up, one Splink call per batch, POSSIBLY_SAME_AS proposals), to measure what it costs.
`--names realistic` (default) names the children as the synthetic generator does (given names by
sex, family names long-tailed: mpdb.ingest.synthetic.duplicates), so the model's blocks hold what
they hold in real data; `pathological` is the first wave's file, every child "Bench Synthetic-<n>",
which shares a name part with every other (thousands of proposals): a worst case, not a workload.
`--run` puts a name in the references (`BENCH-<run>-C...`) and seeds the names with it, so runs
with and without matching write distinct children and each first pass is a first import.

Uses the Neo4j from the environment (NEO4J_URI, or the project-managed local server) and writes
as Kent CC (E10000016) with `BENCH-` references, so it never collides with other data; a second
run finds every row unchanged and measures the no-op re-import. Prints one table; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import time
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.graph.db import Graph
from mpdb.graph.driver import create_driver
from mpdb.ingest.csv_formats import ImportKind
from mpdb.ingest.importer import Importer
from mpdb.ingest.synthetic.duplicates import GIVEN_F, GIVEN_M, pick_surname, surname_pool
from mpdb.settings import get_settings

AGENCY = "E10000016"
FORCES = ("E23000032", "E23000015", "E23000001")


def children_csv(n: int, names: str = "realistic", run: str = "") -> str:
    out = io.StringIO()
    out.write("child_ref,given_name,family_name,date_of_birth,sex,looked_after,responsible_la\n")
    rnd = random.Random(f"1{run}" if run else 1)
    pool = surname_pool()
    for i in range(n):
        dob = datetime(2006, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 6))
        sex = rnd.choice("FM")
        if names == "pathological":
            given, family = "Bench", f"Synthetic-{i}"
        else:
            given, family = rnd.choice(GIVEN_F if sex == "F" else GIVEN_M), pick_surname(rnd, pool)
        out.write(f"{ref(run, 'C')}{i:06d},{given},{family},{dob:%Y-%m-%d},{sex},true,{AGENCY}\n")
    return out.getvalue()


def ref(run: str, kind: str) -> str:
    return f"BENCH-{run}-{kind}" if run else f"BENCH-{kind}"


def episodes_csv(children: int, per_child: int, run: str = "") -> str:
    out = io.StringIO()
    out.write("episode_ref,child_ref,reported_at,found_at,returned_at,reporting_force,reporter_type,"
              "risk_grade,grade_scheme\n")
    rnd = random.Random(2)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for c in range(children):
        t = start + timedelta(hours=rnd.randrange(0, 24 * 60))
        for k in range(per_child):
            found = t + timedelta(hours=rnd.randrange(2, 40))
            returned = found + timedelta(hours=1)
            out.write(f"{ref(run, 'E')}{c:06d}-{k},{ref(run, 'C')}{c:06d},{t:%Y-%m-%dT%H:%M:%SZ},{found:%Y-%m-%dT%H:%M:%SZ},"
                      f"{returned:%Y-%m-%dT%H:%M:%SZ},{rnd.choice(FORCES)},carer,"
                      f"{rnd.choice(('low', 'medium', 'high'))},2017\n")
            t = returned + timedelta(days=rnd.randrange(3, 60))
    return out.getvalue()


async def _no_matching(self: Importer, tx: object, written: object) -> tuple[list, list]:  # type: ignore[type-arg]
    return [], []


async def main(args: argparse.Namespace) -> None:
    if args.no_matching:
        Importer._propose_duplicates = _no_matching  # type: ignore[method-assign]
    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, timeout_s=600)
    principal = Principal(subject="bench", client_id="bench", agency_id=AGENCY,
                          agency_kind=AgencyKind.LOCAL_AUTHORITY, role=Role.LA_MISSING_LEAD,
                          scopes=frozenset({Scope.IMPORT_WRITE}))
    n_children = max(1, args.episodes // args.per_child)
    files = {ImportKind.CHILDREN: children_csv(n_children, args.names, args.run)}
    if not args.children_only:
        files[ImportKind.EPISODES] = episodes_csv(n_children, args.per_child, args.run)
    title = (f"bulk import throughput (batch size {args.batch_size}, {args.names} names"
             f"{', no duplicate matching' if args.no_matching else ''})")
    table = Table(title=title)
    for col in ("file", "pass", "rows", "loaded", "unchanged", "rejected", "proposals", "seconds", "rows/s"):
        table.add_column(col, justify="right")
    try:
        for run in ("first", "re-run"):
            for kind, text in files.items():
                importer = Importer(graph, principal, batch_size=args.batch_size, purpose="benchmark")
                t0 = time.perf_counter()
                s = await importer.import_csv(kind, io.StringIO(text), file=f"{kind}.csv")
                secs = time.perf_counter() - t0
                table.add_row(str(kind), run, f"{s.rows:,}", f"{s.loaded:,}", f"{s.unchanged:,}",
                              f"{s.rejected:,}", f"{s.proposals:,}", f"{secs:.1f}", f"{s.rows / secs:,.0f}")
    finally:
        await driver.close()
    Console().print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=50_000)
    parser.add_argument("--per-child", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--no-matching", action="store_true", help="switch off the duplicate scoring")
    parser.add_argument("--names", choices=("realistic", "pathological"), default="realistic")
    parser.add_argument("--run", default="", help="a name for this run's references and name seed")
    parser.add_argument("--children-only", action="store_true", help="import the children file only")
    asyncio.run(main(parser.parse_args()))
