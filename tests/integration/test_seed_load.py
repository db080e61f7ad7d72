"""Loading the `tiny` synthetic data set into a real Neo4j."""

from __future__ import annotations

import pytest

from mpdb.ingest.synthetic.loader import SeedConflictError, seed_dataset
from mpdb.ingest.synthetic.profiles import get_profile

pytestmark = pytest.mark.integration

DB_COUNTS = """
MATCH (n) WHERE NOT n:SchemaMigration AND NOT n:AuditEvent AND NOT n:AuditHead AND NOT n:HotspotBucket
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
    assert (r["profile"], r["seed"], r["asOf"].to_native()) == ("tiny", 42, get_profile("tiny").as_of)
    assert r["reportedType"].startswith("ZONED DATETIME") and r["dobType"].startswith("DATE")
