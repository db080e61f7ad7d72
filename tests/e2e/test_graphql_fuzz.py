"""Property-based: every query and mutation of the real schema, with generated arguments and
selections (schemathesis's GraphQL support, hypothesis-graphql underneath), sent to the live
uvicorn server with real tokens, never gets a 5xx, an INTERNAL error, or an error without a code.

Bounded and reproducible: MAX_EXAMPLES documents per operation, derandomized (the same documents
on every run), no deadline. Mutations write into the test database: the module starts from the
reference data plus a small scenario whose ids the generated ids are drawn towards, and leaves the
reference data only (tests/conftest.py wipe_data), so other modules are unaffected.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.graphql import nodes

from conftest import wipe_data
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 15
KP, KCC = "E23000032", "E10000016"
# Whose token each generated document is sent with: picked by the document's hash, so every
# operation is tried by callers that pass its permission check and by some that do not.
ROLES = [(KP, "investigator"), (KP, "call_handler"), ("NCA-MPU", "investigator"), (KCC, "la_missing_lead"),
         (KP, "analyst"), (KP, "auditor"), ("RHI-KENT-01", "rhi_practitioner")]

SCENARIO = """
MATCH (kent:Force {code: $kp}), (kcc:LocalAuthority {code: $kcc})
MERGE (rhi:Agency {id: 'RHI-KENT-01'}) ON CREATE SET rhi.kind = 'rhi_provider', rhi.name = 'Kent RHI (fuzz)'
CREATE (c:Child {id: 'FZ-A', pseudonym: 'P-FZ-A', givenName: 'Fuzz', familyName: 'Child', sex: 'F', lookedAfter: true,
                 dateOfBirth: date('2011-01-01'), recordedBy: $kcc, recordedAt: datetime('2026-01-01T00:00:00Z'),
                 sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (c)-[:HAD]->(e:Episode {id: 'FZ-E1', status: 'open', reportedAt: datetime('2026-01-03T20:00:00Z')})-[:REPORTED_TO]->(kent)
CREATE (e)-[:LAST_SEEN_AT {at: datetime('2026-01-03T19:00:00Z')}]->(:Location {id: 'FZ-L1', name: 'Fuzz Street',
        kind: 'public_place', laCode: $kcc, forceCode: $kp, point: point({latitude: 51.28, longitude: 1.08})})
CREATE (c)-[:HAS_FLAG]->(:Flag {id: 'FZ-F1', type: 'cse', status: 'active', raisedAt: datetime('2026-01-05T00:00:00Z')})-[:RAISED_BY]->(kcc)
"""

# Generated strings for ID and String arguments: mostly arbitrary, sometimes an id or code that
# exists, so resolvers get past "not found" and into their rules.
KNOWN = ["FZ-A", "FZ-E1", "FZ-L1", "FZ-F1", KP, KCC, "national", "2017", "medium", "high", "cse", "K2", "carer",
         "childrens_home", "public_place", "adult_of_concern", "peer", "offered", "completed", "F", "CT2 8"]
_ids = st.one_of(st.sampled_from(KNOWN), st.uuids().map(str), st.text(max_size=40))
schemathesis.graphql.scalar("ID", _ids.map(nodes.String))
schemathesis.graphql.scalar("String", st.one_of(st.sampled_from(KNOWN), st.text(max_size=60)).map(nodes.String))


def _recent_datetimes() -> st.SearchStrategy[str]:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    return st.integers(min_value=-400 * 24, max_value=24).map(
        lambda h: (now + timedelta(hours=h)).isoformat())


schemathesis.graphql.scalar("DateTime", st.one_of(
    _recent_datetimes(),
    st.tuples(st.dates().map(str), st.times().map(str)).map("T".join).map(lambda s: s + "Z"),
).map(nodes.String))
schemathesis.graphql.scalar("Date", st.one_of(
    st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2027, 1, 1).date()).map(str),
    st.dates().map(str)).map(nodes.String))
# (Malformed dates are validation errors before anything runs: tests/e2e/test_bad_input.py has them;
# here they would spoil most documents, which have several date arguments.)

schema = schemathesis.graphql.from_path(PROJECT_ROOT / "graphql" / "schema.graphql")
# Documents valid against the schema, so every one reaches the resolvers (and the write rules):
# documents the schema refuses are tests/e2e/test_bad_input.py's.
schema.config.generation.update(modes=[GenerationMode.POSITIVE])

OUTCOMES: Counter[str] = Counter()


@pytest.fixture(scope="module")
async def fuzz_data(graph) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await graph.write(SCENARIO, {"kp": KP, "kcc": KCC})
    await graph.write(REFRESH_ACCESS, {"childIds": ["FZ-A"]})
    yield graph
    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)


def _codes(body: dict) -> list[str | None]:  # type: ignore[type-arg]
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or ()]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_generated_document_gets_a_server_error(case, live_server, fuzz_data) -> None:  # type: ignore[no-untyped-def]
    query = case.body["query"] if isinstance(case.body, dict) else str(case.body)
    agency, role = ROLES[zlib.crc32(query.encode()) % len(ROLES)]
    headers = {"Authorization": f"Bearer {live_server.token(agency, role)}", "X-MPDB-Purpose": "test: fuzz",
               "Content-Type": "application/json"}
    response = case.call(base_url=f"{live_server.base_url}/graphql", headers=headers, timeout=60)
    OUTCOMES["requests"] += 1
    assert response.status_code < 500, (response.status_code, query[:2000], response.text[:500])
    body = response.json()
    codes = _codes(body)
    OUTCOMES.update(c or "NO_CODE" for c in codes)
    assert "INTERNAL" not in codes, (query[:2000], body)
    assert None not in codes, (query[:2000], body)  # every error says what kind of failure it is
    if response.status_code != 200:
        assert response.status_code in (400, 413), (response.status_code, body)


def test_report_fuzz_outcomes(fuzz_data) -> None:  # type: ignore[no-untyped-def]
    """Runs after the fuzz cases in this module: shows what they covered (pytest -s), and fails
    if they did not run at all."""
    print(f"\nfuzzed GraphQL requests: {OUTCOMES['requests']}; error codes: "
          f"{dict((k, v) for k, v in OUTCOMES.items() if k != 'requests')}")
    assert OUTCOMES["requests"] >= MAX_EXAMPLES
