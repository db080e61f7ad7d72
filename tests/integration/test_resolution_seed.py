"""`mpdb seed --duplicates`: the offline importer and the transactional loader build the same graph
with the second records in it, and the truth stays out of the graph."""

from __future__ import annotations

import shutil

import pytest

from mpdb.graph.driver import create_driver
from mpdb.graph.fingerprint import fingerprint
from mpdb.graph.local_server import LocalNeo4j
from mpdb.ingest.bulk.seed import bulk_seed
from mpdb.ingest.synthetic.generator import SyntheticGenerator
from mpdb.ingest.synthetic.loader import seed_dataset
from mpdb.ingest.synthetic.profiles import get_profile
from mpdb.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration

# The audit trail and the alert outbox are not the data set: a reset keeps them, and earlier tests in
# the session's database add to them (docs/ALERTS.md), so the seeds are compared without them.
AUDIT = frozenset({"AuditEvent", "AuditHead", "AuditBatch", "AuditSeal", "OutboxEvent", "OutboxHead"})
PROFILE = get_profile("tiny").with_duplicates(0.2)


@pytest.fixture(scope="module")
def bulk_settings():  # type: ignore[no-untyped-def]
    state = PROJECT_ROOT / ".mpdb" / f"test-bulk-dup-{free_port()}"
    settings = Settings(env="test", state_dir=state, local_bolt_port=free_port(), local_heap="1g",
                        local_pagecache="256m")
    try:
        yield settings
    finally:
        LocalNeo4j(settings).stop()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def bulk_dup(bulk_settings):  # type: ignore[no-untyped-def]
    # a fresh state dir: imported before the server's first start (bulk_seed runs its own event loop)
    return bulk_seed(bulk_settings, PROFILE, 42, show_progress=False, workers=2)


async def _fingerprint(settings: Settings):  # type: ignore[no-untyped-def]
    driver = create_driver(settings)
    try:
        return await fingerprint(driver, settings.neo4j_database, exclude=AUDIT)
    finally:
        await driver.close()


async def test_both_load_paths_give_the_same_graph_with_duplicates(bulk_dup, bulk_settings, neo4j_driver,
                                                                   neo4j_settings, graph) -> None:  # type: ignore[no-untyped-def]
    gen = SyntheticGenerator(PROFILE, 42)
    gen.child_rows_only()
    truth = gen.duplicate_truth.pairs
    assert len(truth) > 40

    assert bulk_dup.seed.status == "seeded"
    await seed_dataset(neo4j_driver, neo4j_settings.neo4j_database, PROFILE, 42, reset=True, show_progress=False)
    offline, transactional = await _fingerprint(bulk_settings), await _fingerprint(neo4j_settings)
    assert offline.differences(transactional) == []
    assert offline.nodes["Child"].count == 300 + len(truth)

    dup_ids = [d for d, _ in truth]
    rows = await graph.read(
        "MATCH (c:Child) WHERE c.id IN $ids OPTIONAL MATCH (c)-[:HAD]->(e:Episode) "
        "RETURN c.id AS id, c.recordedBy AS by, size(c.accessAgencies) > 0 AS visible, count(e) AS episodes, "
        "keys(c) AS keys ORDER BY id", {"ids": dup_ids})
    assert len(rows) == len(dup_ids)
    assert all(r["visible"] and r["episodes"] == 0 for r in rows)  # the recording agency sees its record
    # nothing on a second record points at its original
    originals = {o for _, o in truth}
    props = await graph.read("MATCH (c:Child) WHERE c.id IN $ids RETURN properties(c) AS p", {"ids": dup_ids})
    for r in props:
        assert not any(str(v) in originals for v in r["p"].values())
    info = await graph.read_one("MATCH (d:DatasetInfo {id: 'seed'}) RETURN d.profile AS profile")
    assert info is not None and info["profile"] == "tiny+dup0.2"
