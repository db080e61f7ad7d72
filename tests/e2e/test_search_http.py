"""searchChildren / searchPersons over real HTTP with dev-IdP tokens (scenario:
tests/integration/search_scenario.py)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from conftest import wipe_data  # noqa: E402
from search_scenario import ESCC, KCC, KP, MET, SP, build_search_scenario  # noqa: E402
from mpdb.intel.co_missing import age_band  # noqa: E402
from mpdb.settings import PROJECT_ROOT  # noqa: E402

pytestmark = pytest.mark.integration

OPS = (PROJECT_ROOT / "graphql" / "operations" / "search.graphql").read_text(encoding="utf-8")
AUDIT = """query($r: String) { auditEvents(recordId: $r, first: 20) {
  nodes { action operation agencyId purpose recordIds recipients } } }"""


@pytest_asyncio.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await build_search_scenario(graph)
    return graph


def run(live_server, op: str, variables: dict, agency: str = KP, role: str = "investigator",  # type: ignore[no-untyped-def,type-arg]
        purpose: str | None = "test: search") -> dict:  # type: ignore[type-arg]
    body = {"query": OPS, "operationName": op, "variables": variables}
    import httpx

    # Sussex Police has no dev client of its own: its kind is given (it must match the registry's).
    token = live_server.token(agency, role, agency_kind="local_authority" if agency.startswith("E10") else "police_force")
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    if purpose:
        headers["X-MPDB-Purpose"] = purpose
    resp = httpx.post(f"{live_server.base_url}/graphql", json=body, headers=headers, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def nodes(body: dict) -> list[dict]:  # type: ignore[type-arg]
    assert "errors" not in body, body
    return body["data"]["searchChildren"]["nodes"]  # type: ignore[no-any-return]


async def test_ranked_fuzzy_search_in_full_and_in_summary(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    got = nodes(run(live_server, "SearchChildren", {"name": "Kate Wexley", "dateOfBirth": "2010-03-05"}))
    assert [(n["score"], n["nameScore"], n["dateOfBirthMatch"], n["referenceMatch"]) for n in got] == [
        (1.639978, 0.639978, "EXACT", False), (1.6, 1.0, "DAY_MONTH_SWAPPED", False),
        (0.504031, 0.504031, "DIFFERENT", False)]
    # Kent Police's own child in full; East Sussex's and the Sussex resident only in summary.
    assert got[0]["child"] == {"id": "SR-C1", "pseudonym": "P-SR-C1", "givenName": "Katherine",
                               "familyName": "Wexley", "dateOfBirth": "2010-03-05", "responsibleAuthority": KCC,
                               "lookedAfter": True}
    assert got[0]["summary"] is None
    assert got[1]["child"] is None
    assert got[1]["summary"] == {"pseudonym": "P-SR-C2", "ageBand": got[1]["summary"]["ageBand"],
                                 "responsibleAuthority": ESCC,
                                 "activeFlags": [{"type": "cse", "raisedBy": SP, "raisedAt": "2026-05-01T09:00:00+00:00"}]}
    assert got[1]["summary"]["ageBand"] == age_band(date(2010, 5, 3), datetime.now(UTC))  # 15-17 in 2026
    assert (got[2]["child"], got[2]["summary"]["pseudonym"], got[2]["summary"]["responsibleAuthority"]) == (
        None, "P-SR-C3", None)
    assert [n["child"]["id"] for n in nodes(run(live_server, "SearchChildren", {"name": "Zoe Wexley"}))] == ["SR-C4"]
    assert [n["child"]["id"] for n in nodes(run(live_server, "SearchChildren", {"name": "Bill Ashdown"}))] == ["SR-C5"]


async def test_pages_and_audit(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    keys, after = [], None
    while True:
        body = run(live_server, "SearchChildren", {"name": "Wexley", "first": 3, "after": after}, agency=SP,
                   purpose="test: search pages")
        for n in nodes(body):
            keys.append(n["child"]["id"] if n["child"] else n["summary"]["pseudonym"])
        info = body["data"]["searchChildren"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert keys == ["P-SR-C1", "SR-C2", "P-SR-C4", "SR-C3"]
    import httpx

    def audit(record: str) -> list[dict]:  # type: ignore[type-arg]
        r = httpx.post(f"{live_server.base_url}/graphql", json={"query": AUDIT, "variables": {"r": record}},
                       headers={"Authorization": "Bearer " + live_server.token("NCA-MPU", "auditor"),
                                "X-MPDB-Purpose": "audit check"}, timeout=60).json()
        return [e for e in r["data"]["auditEvents"]["nodes"] if e["purpose"] == "test: search pages"]

    assert audit("SR-C2") == [{"action": "consultation", "operation": "searchChildren", "agencyId": SP,
                               "purpose": "test: search pages", "recordIds": ["SR-C2"], "recipients": []}]
    # One consultation and one disclosure per page: page 1 held C2 in full and C1, C4 in summary
    # (summaries are named in the trail by internal id, which the caller never saw).
    assert audit("SR-C4") == [{"action": "disclosure", "operation": "searchChildren.summary", "agencyId": SP,
                               "purpose": "test: search pages", "recordIds": ["SR-C1", "SR-C4"],
                               "recipients": [SP]}]
    assert audit("SR-C3") == [{"action": "consultation", "operation": "searchChildren", "agencyId": SP,
                               "purpose": "test: search pages", "recordIds": ["SR-C3"], "recipients": []}]


async def test_person_search_for_linking(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    body = run(live_server, "SearchPersons", {"name": "Bill Hartley", "first": 1}, agency=MET)
    assert "errors" not in body, body
    page = body["data"]["searchPersons"]
    assert page["nodes"] == [{
        "id": "SR-PA", "name": "William Hartley", "role": "adult_of_concern", "knownToYou": False,
        "dateOfBirth": None, "score": 1.0, "dateOfBirthMatch": None, "linkedChildren": 2,
        "linkedChildrenByForce": [{"forceCode": KP, "children": 1}, {"forceCode": SP, "children": 1}],
        "yourChildren": []}]
    # the peer SR-PB, linked to no child the Met may read, is not findable (docs/ACCESS.md)
    assert page["pageInfo"]["hasNextPage"] is False
    kent = run(live_server, "SearchPersons", {"name": "Bill Hartley", "dateOfBirth": "1980-02-01", "first": 1})
    (pa,) = kent["data"]["searchPersons"]["nodes"]
    assert (pa["knownToYou"], pa["dateOfBirth"], pa["score"], pa["dateOfBirthMatch"], pa["yourChildren"]) == (
        True, "1980-02-01", 2.0, "EXACT",
        [{"id": "SR-C1", "pseudonym": "P-SR-C1", "givenName": "Katherine", "familyName": "Wexley"}])


async def test_refusals(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    no_purpose = run(live_server, "SearchChildren", {"name": "Kate Wexley"}, purpose=None)
    assert no_purpose["data"] is None and no_purpose["errors"][0]["extensions"] == {"code": "PURPOSE_REQUIRED"}
    analyst = run(live_server, "SearchChildren", {"name": "Kate Wexley"}, role="analyst")
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    analyst = run(live_server, "SearchPersons", {"name": "Hartley"}, role="analyst")
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for variables, field in [({}, "name"), ({"name": "*"}, "name"), ({"name": "\\"}, "name"),
                             ({"name": "Kate", "area": "nowhere"}, "area"), ({"name": "Kate", "after": "!!"}, "after"),
                             ({"name": "Kate", "first": 101}, "first")]:
        body = run(live_server, "SearchChildren", variables)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, variables
    assert nodes(run(live_server, "SearchChildren", {"name": "a OR b"})) == []
    assert nodes(run(live_server, "SearchChildren", {"name": 'name: "*" '})) == []
