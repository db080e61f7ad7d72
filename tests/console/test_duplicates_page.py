"""The console's "Possible duplicates" page over real HTTP: the API's review queue with its
disclosure rules, the match-weight waterfall, and confirm/reject through the API's mutations."""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import table_rows
from tests.e2e.test_identity import AB, AC, KCC, NCA, build

pytestmark = pytest.mark.integration


@pytest.fixture
async def scenario(graph):  # type: ignore[no-untyped-def]
    await build(graph)
    return graph


def rows(html: str) -> list[str]:
    """The pair rows (each pair's waterfall and buttons are rows of their own)."""
    return [r for r in (" ".join(cells) for cells in table_rows(html, "duplicate-pairs")) if "% (weight" in r]


def bars(html: str, pair: str) -> list[tuple[str, str]]:
    block = html.split(f'data-testid="waterfall-{pair}"', 1)[1].split("</div>\n      </td>", 1)[0]
    labels = re.findall(r'mpdb-waterfall__label">([^<]+)<', block)
    kinds = re.findall(r"mpdb-waterfall__bar--(for|against)", block)
    return list(zip(labels, kinds, strict=True))


async def test_reviewer_sees_both_records_the_waterfall_and_decides(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    nca = console_as(NCA, "investigator")
    page = nca.get("/duplicates")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    found = rows(page.text)
    assert found[0].startswith("Jayden Okafor P-ID-A") and "Jaden Okafor P-ID-B" in found[0]
    assert "99.8% (weight 11.1)" in found[0]
    assert bars(page.text, AB) == [("family name: exact", "for"), ("given name: Jaro-Winkler &gt;= 0.92", "for"),
                                   ("date of birth: day/month swapped", "for"), ("postcode: else", "against")]
    assert f'action="/duplicates/{AB}/confirm"' in page.text and f'action="/duplicates/{AC}/reject"' in page.text

    token = nca.csrf_token("/duplicates")
    form = {"csrf_token": token, "key": "pair-ab-confirm", "note": "same child"}
    done = nca.post(f"/duplicates/{AB}/confirm", data=form)
    assert (done.status_code, done.headers.get("location")) == (303, "/duplicates?done=confirmed")
    # The same form again (a double click): the same decision, not an error.
    assert nca.post(f"/duplicates/{AB}/confirm", data=form).status_code == 303
    after = nca.get("/duplicates?done=confirmed")
    assert "Confirmed: the two records are now one child." in after.text
    assert [r.split(" P-")[0] for r in rows(after.text)] == ["Jayden Okafor"]
    assert f'id="{AB}"' not in after.text and f'id="{AC}"' in after.text
    # Rejecting the confirmed pair is refused with the API's reason, as a page.
    refused = nca.post(f"/duplicates/{AB}/reject", data={"csrf_token": token, "key": "pair-ab-reject"})
    assert refused.status_code == 409 and "unmergeIdentity" in refused.text
    # Without the CSRF token nothing is decided.
    assert nca.post(f"/duplicates/{AC}/reject", data={"key": "x"}).status_code == 403
    state = await scenario.read("MATCH ()-[r:POSSIBLY_SAME_AS]->() RETURN r.id AS id, r.status AS s ORDER BY id")
    assert {r["id"]: r["s"] for r in state} == {AB: "confirmed", AC: "proposed"}


async def test_one_sided_reader_gets_summaries_and_no_buttons(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/duplicates")
    found = rows(page.text)
    assert len(found) == 2
    assert found[0].startswith("Jayden Okafor P-ID-A") and "Summary only P-ID-B Age 15-17" in found[0]
    assert "Jaden" not in page.text and "waterfall-" not in page.text and "/confirm" not in page.text
    assert 'href="/children/ID-B"' not in page.text
    # A social worker (no identity:review) reads the queue but gets no buttons either.
    sw = console_as(KCC, "social_worker")
    assert "/confirm" not in sw.get("/duplicates").text
