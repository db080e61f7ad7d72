"""Loading the `tiny` synthetic data set into a real Neo4j."""

from __future__ import annotations

import pytest

from mpdb.ingest.synthetic.loader import SeedConflictError, seed_dataset
from mpdb.ingest.synthetic.profiles import get_profile

pytestmark = pytest.mark.integration

# Hot-spot buckets are derived from the loaded records, not generated: test_hotspot_buckets.py
# checks them exactly.
DB_COUNTS = """
MATCH (n) WHERE NOT n:SchemaMigration AND NOT n:AuditEvent AND NOT n:AuditHead AND NOT n:HotspotBucket AND NOT n:HotspotStamp
  AND NOT n:AlertLease AND NOT n:OutboxHead AND NOT n:OutboxEvent  // a reset keeps the outbox (docs/ALERTS.md)
UNWIND labels(n) AS label
RETURN label, count(*) AS n
"""


@pytest.fixture(scope="module")
async def seeded(neo4j_driver, neo4j_settings):  # type: ignore[no-untyped-def]
    result = await seed_dataset(neo4j_driver, neo4j_settings.neo4j_database, get_profile("tiny"), 42,
                                reset=True, show_progress=False)
    return result


async def _rows(driver, settings, text, **params):  # type: ignore[no-untyped-def]
    records, _, _ = await driver.execute_query(text, params, database_=settings.neo4j_database)
    return [r.data() for r in records]


async def test_node_counts_equal_the_generators(seeded, neo4j_driver, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    assert seeded.status == "seeded"
    rows = await _rows(neo4j_driver, neo4j_settings, DB_COUNTS)
    in_db = {r["label"]: r["n"] for r in rows}
    expected = dict(seeded.node_counts, DatasetInfo=1)
    assert in_db == expected


async def test_loading_twice_is_a_no_op(seeded, neo4j_driver, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    before = await _rows(neo4j_driver, neo4j_settings, DB_COUNTS)
    again = await seed_dataset(neo4j_driver, neo4j_settings.neo4j_database, get_profile("tiny"), 42,
                               show_progress=False)
    assert again.status == "already seeded"
    assert await _rows(neo4j_driver, neo4j_settings, DB_COUNTS) == before


async def test_another_dataset_is_refused_without_reset(seeded, neo4j_driver, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SeedConflictError):
        await seed_dataset(neo4j_driver, neo4j_settings.neo4j_database, get_profile("tiny"), 43,
                           show_progress=False)


async def test_every_location_has_la_and_force(seeded, neo4j_driver, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    rows = await _rows(neo4j_driver, neo4j_settings, """
        MATCH (l:Location)
        RETURN count(l) AS total,
               count { MATCH (l) WHERE NOT (l)-[:IN_LA]->(:LocalAuthority) } AS noLa,
               count { MATCH (l) WHERE NOT (l)-[:IN_FORCE]->(:Force) } AS noForce,
               count { MATCH (l)-[:IN_LA]->(la:LocalAuthority) WHERE la.code <> l.laCode } AS laMismatch
    """)
    assert rows[0]["total"] > 0
    assert rows[0]["noLa"] == rows[0]["noForce"] == rows[0]["laMismatch"] == 0


async def test_every_child_has_access_agencies(seeded, neo4j_driver, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    rows = await _rows(neo4j_driver, neo4j_settings, """
        MATCH (c:Child)
        RETURN count(c) AS total,
               count { MATCH (c) WHERE c.accessAgencies IS NULL OR size(c.accessAgencies) = 0 } AS empty
    """)
    assert rows[0]["total"] == 300
    assert rows[0]["empty"] == 0


async def test_dataset_info_and_temporal_types(seeded, neo4j_driver, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    rows = await _rows(neo4j_driver, neo4j_settings, """
        MATCH (d:DatasetInfo {id: 'seed'})
        MATCH (e:Episode) WITH d, e LIMIT 1
        MATCH (c:Child)-[:HAD]->(e)
        RETURN d.profile AS profile, d.seed AS seed, d.asOf AS asOf,
               valueType(e.reportedAt) AS reportedType, valueType(c.dateOfBirth) AS dobType
    """)
    r = rows[0]
    # DATE comes back as datetime.date (mpdb/graph/temporal.py decodes it directly in this process)
    as_of = r["asOf"].to_native() if hasattr(r["asOf"], "to_native") else r["asOf"]
    assert (r["profile"], r["seed"], as_of) == ("tiny", 42, get_profile("tiny").as_of)
    assert r["reportedType"].startswith("ZONED DATETIME") and r["dobType"].startswith("DATE")


def test_seed_progress_is_logged_when_stderr_is_not_a_terminal(seeded, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    """`mpdb seed` with stderr piped (a log file, `docker logs`): rich draws no bars there, so the
    progress comes as log lines (mpdb/observability/progress.py). Same profile and seed as the
    module's data set: the graph is the same afterwards."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import TEST_STATE_DIR, graph_connection

    conn = graph_connection(neo4j_settings)
    env = {**os.environ, "MPDB_ENV": "test", "MPDB_STATE_DIR": str(TEST_STATE_DIR), "MPDB_LOG_FORMAT": "json",
           "NEO4J_URI": str(conn["neo4j_uri"])}
    if "neo4j_user" in conn:
        env |= {"NEO4J_USERNAME": str(conn["neo4j_user"]), "NEO4J_PASSWORD": str(conn["neo4j_password"])}
    done = subprocess.run([str(Path(sys.executable).parent / "mpdb"), "seed", "--profile", "tiny", "--seed", "42",
                           "--reset"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    progress = [e for e in events if e.get("logger") == "mpdb.progress"]
    tasks = {e["task"].strip() for e in progress}
    assert {"child", "episode", "refresh_access"} <= tasks, tasks
    for task in tasks:  # each task: lines as it advances, the last one at 100 %
        lines = [e for e in progress if e["task"].strip() == task]
        completed = [e["completed"] for e in lines]
        assert completed == sorted(completed), lines
        assert lines[-1]["percent"] == 100.0 and lines[-1]["completed"] == lines[-1]["total"], lines[-1]
    assert len(progress) > len(tasks), progress  # some tasks were seen part-way too
    assert "\x1b[" not in done.stderr  # no terminal control sequences (no bars drawn)
