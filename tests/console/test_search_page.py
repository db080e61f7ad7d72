"""The console's search page over real HTTP: the API's search, its access rules and its audit."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.conftest import wipe_data
from tests.console.conftest import table_rows
from tests.integration.search_scenario import KCC, KP, SP, build_search_scenario

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await build_search_scenario(graph)
    return graph


def rows(html: str) -> list[str]:
    return [" ".join(cells) for cells in table_rows(html, "search-results")]


async def test_search_shows_full_and_summary_hits_as_the_api_does(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kent = console_as(KP, "investigator")
    page = kent.get("/search", params={"name": "Kate Wexley"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    found = rows(page.text)
    # Kent's own children in full (linked to the child page), Sussex's in summary form only.
    assert any(r.startswith("Katherine Wexley P-SR-C1 2010-03-05 Kent") for r in found), found
    assert any(r.startswith("Summary only P-SR-C2") and "East Sussex" in r for r in found), found
    assert 'href="/children/SR-C1"' in page.text
    assert 'href="/children/SR-C2"' not in page.text  # never the id of a child shown in summary
    assert "Kate Wexley" not in " ".join(r for r in found if r.startswith("Summary only"))


async def test_search_by_date_of_birth_and_reference(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/search", params={"ref": "KCC-1001"})
    assert [r.split(" P-")[0] for r in rows(page.text)] == ["Will Ashdown"]
    page = kcc.get("/search", params={"dob_day": "5", "dob_month": "3", "dob_year": "2010"})
    assert rows(page.text)[0].startswith("Katherine Wexley P-SR-C1 2010-03-05")


async def test_bad_input_is_an_error_summary_not_a_crash(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kent = console_as(KP, "investigator")
    page = kent.get("/search", params={"dob_day": "31", "dob_month": "2", "dob_year": "2010"})
    assert page.status_code == 400
    assert "Date of birth must be a real date" in page.text and 'href="#dob"' in page.text
    page = kent.get("/search", params={"name": "x"})  # the API's own validation, shown on the field
    assert page.status_code == 400 and 'href="#name"' in page.text
    page = kent.get("/search", params={"name": "", "ref": ""})
    assert page.status_code == 400 and "Enter a name, a date of birth or a reference" in page.text


async def test_purpose_is_asked_first_and_sent_with_every_read(scenario, console_as, live_server) -> None:  # type: ignore[no-untyped-def]
    kent = console_as(KP, "investigator", purpose=None)
    page = kent.get("/search", params={"name": "Zoe Wexley"})
    assert page.status_code == 303 and page.headers["location"] == "/purpose?next=%2Fsearch%3Fname%3DZoe%2BWexley"
    token = kent.csrf_token("/purpose")
    chosen = kent.post("/purpose", data={"csrf_token": token, "purpose": "Locating a missing child",
                                         "case_reference": "KP-26-0042", "next": "/search?name=Zoe+Wexley"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/search?name=Zoe+Wexley"
    page = kent.get("/search", params={"name": "Zoe Wexley"})
    assert "Zoë Wexley" in page.text
    events = live_server.graphql(
        'query { auditEvents(recordId: "SR-C4", first: 5) { nodes { operation agencyId purpose } } }',
        token=live_server.token(KP, "auditor"))
    assert {"operation": "searchChildren", "agencyId": KP,
            "purpose": "Locating a missing child (case KP-26-0042)"} in events.json()["data"]["auditEvents"]["nodes"]


async def test_forms_need_the_session_csrf_token(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kent = console_as(KP, "investigator")
    forged = kent.post("/purpose", data={"csrf_token": "forged", "purpose": "Locating a missing child"})
    assert forged.status_code == 403 and "This form has expired" in forged.text
    missing = kent.post("/logout", data={})
    assert missing.status_code == 403
    other_site = kent.post("/logout", data={"csrf_token": kent.csrf_token()},
                           headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    out = kent.post("/logout", data={"csrf_token": kent.csrf_token()})
    assert out.status_code == 303
    assert kent.get("/search", params={"name": "Zoe"}).status_code == 303  # the session is gone


async def test_signed_out_users_are_sent_to_sign_in(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    page = httpx.get(f"{live_server.base_url}/search?name=Kate", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fsearch%3Fname%3DKate"
    assert SP  # Sussex is the scenario's other force
