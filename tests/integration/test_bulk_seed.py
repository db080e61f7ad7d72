"""`mpdb seed` and `mpdb load` through neo4j-admin's offline importer build the graph the
transactional paths build: `tiny` seeded both ways, and the example CSV files loaded both ways,
compared with the graph fingerprint (counts and content hashes per label and relationship type).
An offline load needs a server of its own (it replaces the store; a fresh state dir, so imported
before the server's first start); the transactional one goes into the session's database."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.graph.driver import create_driver
from mpdb.graph.fingerprint import fingerprint
from mpdb.graph.local_server import LocalNeo4j
from mpdb.graph.offline_import import OfflineImportError
from mpdb.ingest.bulk.agency import find_files, load_files, reference_for, validate
from mpdb.ingest.bulk.csvgraph import GraphCsv
from mpdb.ingest.bulk.seed import BulkPhase, bulk_seed, load_manifest, offline_reason, precheck, store_state
from mpdb.ingest.importer import Importer
from mpdb.ingest.synthetic.loader import seed_dataset
from mpdb.ingest.synthetic.profiles import get_profile
from mpdb.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration

# The audit trail and the alert outbox are not the data set: a reset keeps them, and earlier tests in
# the session's database add to them (docs/ALERTS.md), so the seeds are compared without them.
AUDIT = frozenset({"AuditEvent", "AuditHead", "AuditBatch", "AuditSeal", "OutboxEvent", "OutboxHead"})


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
    assert offline.nodes["HotspotBucket"].count > 0
    assert offline.differences(transactional) == []


_SCHEMA = """
SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, state, owningConstraint
RETURN name, type, entityType, labelsOrTypes, properties, state, owningConstraint IS NOT NULL AS forConstraint
ORDER BY name
"""


async def _schema(settings: Settings) -> list[dict]:  # type: ignore[type-arg]
    driver = create_driver(settings)
    try:
        records, _, _ = await driver.execute_query(_SCHEMA, database_=settings.neo4j_database)
        return [dict(r) for r in records]
    finally:
        await driver.close()


async def test_offline_seed_builds_the_migrations_schema(both, bulk_settings, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    # the offline path applies the migrations with grouped index builds and concurrent constraints
    offline = await _schema(bulk_settings)
    assert {r["name"] for r in offline} >= {"child_id", "hotspot_bucket_kind_day", "child_names", "location_point",
                                            "audit_event_shard_seq"}
    assert "audit_event_seq" in {r["name"] for r in offline if not r["forConstraint"]}
    assert all(r["state"] == "ONLINE" for r in offline)
    assert offline == await _schema(neo4j_settings)


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


# --- mpdb load: an agency's first load, offline vs transactional ----------------------------------

EXAMPLES = PROJECT_ROOT / "seed" / "examples"
LOAD_NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
AUDIT_EVENTS = "MATCH (e:AuditEvent) RETURN e.action AS action, e.operation AS operation, e.recordIds AS ids"


def _importer(batch_size: int = 2) -> Importer:
    principal = Principal(subject="cli:test", client_id="mpdb-cli", agency_id="E10000016",
                          agency_kind=AgencyKind.SYSTEM, role=Role.OPERATOR, scopes=frozenset({Scope.IMPORT_WRITE}))
    return Importer(None, principal, batch_size=batch_size, purpose="test first load",  # type: ignore[arg-type]
                    now=lambda: LOAD_NOW)


@pytest.fixture(scope="module")
def load_settings():  # type: ignore[no-untyped-def]
    state = PROJECT_ROOT / ".mpdb" / f"test-bulk-load-{free_port()}"
    settings = Settings(env="test", state_dir=state, local_bolt_port=free_port(), local_heap="1g",
                        local_pagecache="256m")
    try:
        yield settings
    finally:
        LocalNeo4j(settings).stop()
        shutil.rmtree(state, ignore_errors=True)


async def _audit(settings: Settings) -> list[tuple]:  # type: ignore[type-arg]
    driver = create_driver(settings)
    try:
        records, _, _ = await driver.execute_query(AUDIT_EVENTS, database_=settings.neo4j_database)
        return sorted((r["action"], r["operation"], tuple(r["ids"])) for r in records)
    finally:
        await driver.close()


async def test_first_load_offline_builds_the_transactional_graph(load_settings, neo4j_settings, graph) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import wipe_data

    files = find_files(EXAMPLES)
    # load_files drives its own event loop (it is what the CLI calls): run it beside this one
    offline = await asyncio.to_thread(load_files, load_settings, files, _importer())
    assert offline.path == "offline" and offline.validated.ok
    assert [s.loaded for s in offline.summaries] == [1]  # return interviews: transactional after the import
    await wipe_data(graph)
    transactional = await asyncio.to_thread(load_files, neo4j_settings, files, _importer(), transactional=True)
    assert transactional.path == "transactional"
    assert [s.loaded for s in transactional.summaries] == [3, 2, 2, 2, 1]
    a, b = await _fingerprint(load_settings), await _fingerprint(neo4j_settings)
    assert a.nodes["Child"].count == 3
    assert a.differences(b) == []
    # the same collection events, batch for batch (ids and times aside)
    assert await _audit(load_settings) == await _audit(neo4j_settings)


def test_a_first_load_is_validated_whole_before_anything_is_written(tmp_path: Path) -> None:
    for f in files_of(EXAMPLES):
        shutil.copy(f, tmp_path / f.name)
    children = (tmp_path / "children.csv").read_text().replace("2008-11-02", "2008-13-02")
    (tmp_path / "children.csv").write_text(children)
    with open(tmp_path / "episodes.csv", "a") as f:
        f.write("EP-0001,KCC-0001,,2024-03-02T22:15:00Z,,,,E23000015,,carer,,,,,\n")
    importer = _importer()
    importer._ref = reference_for("E10000016")
    v = validate(importer, find_files(tmp_path), empty_target=True)
    assert [(e.file, e.line, e.column, e.rule) for e in v.errors] == [
        ("children.csv", 3, "date_of_birth", "format"),
        ("placements.csv", 3, "child_ref", "unknown_child"),
        ("flags.csv", 3, "child_ref", "unknown_child"),
        ("episodes.csv", 3, "child_ref", "unknown_child"),
        ("episodes.csv", 4, "episode_ref", "duplicate"),
    ]
    assert v.errors[1].reason == "the child's row (line 3) in the children file was rejected"


def files_of(directory: Path) -> list[Path]:
    return [p for p in directory.glob("*.csv") if not p.name.startswith("ssda903")]


def test_a_first_load_refuses_a_malformed_file_before_reading_its_rows(tmp_path: Path) -> None:
    """The file checks of `mpdb import` (mpdb/ingest/files.py) hold for `mpdb load` too: the first
    problem of each malformed file is reported (file, line, column, rule) and nothing is loaded."""
    for f in files_of(EXAMPLES):
        shutil.copy(f, tmp_path / f.name)
    flags = (tmp_path / "flags.csv").read_text().splitlines(keepends=True)
    flags[2] = flags[2].rstrip("\n") + ",extra\n"
    (tmp_path / "flags.csv").write_text("".join(flags))
    episodes = (tmp_path / "episodes.csv").read_bytes().split(b"\n")
    episodes[1] = episodes[1].replace(b"EP-0001", b"EP-0001\xe9", 1)
    (tmp_path / "episodes.csv").write_bytes(b"\n".join(episodes))
    importer = _importer()
    importer._ref = reference_for("E10000016")
    v = validate(importer, find_files(tmp_path), empty_target=True)
    assert [(e.file, e.line, e.column, e.rule) for e in v.errors] == [
        ("flags.csv", 3, None, "cell_count"),
        ("episodes.csv", 2, "episode_ref", "encoding"),
        ("return_interviews.csv", 2, "episode_ref", "unknown_episode"),  # its episodes file was refused
    ]
    assert not v.ok
