"""`mpdb seed` through neo4j-admin's offline importer builds the graph the transactional loader
builds: `tiny` both ways, compared with the graph fingerprint (counts and content hashes per
label and relationship type). The offline load needs a server of its own (it replaces the store);
the transactional one goes into the session's database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mpdb.graph.driver import create_driver
from mpdb.graph.fingerprint import fingerprint
from mpdb.graph.local_server import LocalNeo4j
from mpdb.graph.offline_import import OfflineImportError
from mpdb.ingest.bulk.csvgraph import GraphCsv
from mpdb.ingest.bulk.seed import BulkPhase, bulk_seed, load_manifest, offline_reason, precheck, store_state
from mpdb.ingest.synthetic.loader import seed_dataset
from mpdb.ingest.synthetic.profiles import get_profile
from mpdb.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration

AUDIT = frozenset({"AuditEvent", "AuditHead", "AuditBatch", "AuditSeal"})


@pytest.fixture(scope="module")
def bulk_settings():  # type: ignore[no-untyped-def]
    state = PROJECT_ROOT / ".mpdb" / f"test-bulk-{free_port()}"
    settings = Settings(env="test", state_dir=state, local_bolt_port=free_port(), local_heap="1g",
                        local_pagecache="256m")
    server = LocalNeo4j(settings)
    try:
        yield settings
    finally:
        server.stop()
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def bulk_tiny(bulk_settings):  # type: ignore[no-untyped-def]
    # a fresh state dir: imported before the server's first start
    return bulk_seed(bulk_settings, get_profile("tiny"), 42, show_progress=False, workers=2)


async def _fingerprint(settings: Settings):  # type: ignore[no-untyped-def]
    driver = create_driver(settings)
    try:
        return await fingerprint(driver, settings.neo4j_database, exclude=AUDIT)
    finally:
        await driver.close()


@pytest.fixture(scope="module")
async def both(bulk_tiny, bulk_settings, neo4j_driver, neo4j_settings):  # type: ignore[no-untyped-def]
    await seed_dataset(neo4j_driver, neo4j_settings.neo4j_database, get_profile("tiny"), 42, reset=True,
                       show_progress=False)
    return await _fingerprint(bulk_settings), await _fingerprint(neo4j_settings)


async def test_offline_seed_builds_the_transactional_graph(both, bulk_tiny) -> None:  # type: ignore[no-untyped-def]
    offline, transactional = both
    assert bulk_tiny.seed.status == "seeded"
    assert [p.name for p in bulk_tiny.phases] == ["generate + write CSV", "neo4j-admin import",
                                                  "restart on the new store", "schema, fix-ups, indexes"]
    assert offline.nodes["Child"].count == 300
    assert offline.nodes["Agency:Force"].count == 44
    assert offline.nodes["DatasetInfo"].count == 1
    diff = [d for d in offline.differences(transactional) if not d.startswith("nodes HotspotBucket")]
    assert diff == []


@pytest.mark.xfail(reason="the transactional loader maintains HotspotBucket nodes only once branch `hot` "
                          "(helper B) is merged", strict=False)
async def test_offline_hotspot_buckets_equal_the_transactional_ones(both) -> None:  # type: ignore[no-untyped-def]
    offline, transactional = both
    assert offline.nodes["HotspotBucket"].count > 0
    assert offline.nodes.get("HotspotBucket") == transactional.nodes.get("HotspotBucket")


async def test_seeding_the_same_data_set_again_is_a_no_op(bulk_tiny, bulk_settings) -> None:  # type: ignore[no-untyped-def]
    state = await store_state(bulk_settings)
    assert state[1] is True and state[2] is False
    again = precheck(state, get_profile("tiny"), 42, reset=False)
    assert again is not None and again.status == "already seeded"
    assert offline_reason(bulk_settings, state, reset=False) == "the graph already holds data"
    assert offline_reason(bulk_settings, state, reset=True) is None


async def test_a_failed_import_keeps_the_old_store_and_the_server_running(bulk_tiny, bulk_settings,
                                                                          tmp_path: Path) -> None:
    before = await _fingerprint(bulk_settings)
    out = GraphCsv(tmp_path / "csv")
    out.nodes("Thing", "Thing", [{"id": "a"}])
    out.relationships("POINTS_AT", "Thing", "Thing", [("a", "nowhere", None)])
    phases: list[BulkPhase] = []
    with pytest.raises(OfflineImportError, match=r"neo4j-admin import failed(.|\n)*referring to missing node nowhere"):
        load_manifest(bulk_settings, out.manifest, work=tmp_path / "work", phases=phases)
    assert LocalNeo4j(bulk_settings).status().running
    assert (await _fingerprint(bulk_settings)).differences(before) == []


def test_only_an_empty_local_server_is_loaded_offline() -> None:
    remote = Settings(env="test", neo4j_uri="bolt://db.example:7687")
    local = Settings(env="test")
    assert offline_reason(remote, (None, False, False), reset=False).startswith("NEO4J_URI")  # type: ignore[union-attr]
    assert offline_reason(local, (None, False, False), reset=False) is None
    assert offline_reason(local, (None, True, True), reset=True).startswith("the graph holds an audit trail")  # type: ignore[union-attr]
    assert offline_reason(local, None, reset=False) == "the local server is not running"
