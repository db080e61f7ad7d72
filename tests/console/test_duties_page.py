"""The duties work queue over real HTTP: the API's duties with its due-date window, sorted, and the
CSV export equal to the page and to the API's own answer (scenario: tests/console/pages_scenario.py)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio

from tests.conftest import wipe_data
from tests.console.conftest import table_rows
from tests.console.pages_scenario import KCC, KP, TODAY, build_pages_scenario, p1_due

pytestmark = pytest.mark.integration

KENT, ESCC_NAME = "Kent", "East Sussex"


@pytest_asyncio.fixture(scope="module")
async def scenario(graph):  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await build_pages_scenario(graph)
    return graph


def kinds_and_children(html: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in table_rows(html, "duties")]


DEFAULT_ORDER = [
    ("Notification not acknowledged", "Eli Marsh (P-CP-S1)"),
    ("Notification not sent", 'Cora Vane, "Jr" (P-CP-K3)'),
    ("Return interview overdue", "=SUM(A1) Quill (P-CP-K5)"),
    ("Found, responsible LA not told", "Amber Quill (P-CP-K1)"),
    ("Return interview overdue", "Amber Quill (P-CP-K1)"),
    ("Found, responsible LA not told", "Dara Fenn (P-CP-K4)"),
]


async def test_default_view_is_the_last_90_days_most_overdue_first(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/duties")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert kinds_and_children(page.text) == DEFAULT_ORDER
    rows = table_rows(page.text, "duties")
    assert rows[1][2] == p1_due().strftime("%Y-%m-%d %H:%M") and rows[1][3] == "35 days"
    assert rows[1][4] == "Notification: out-of-area placement by Kent in East Sussex, no notification recorded"
    assert rows[1][5:] == [KENT, ESCC_NAME]
    assert rows[0][3] == "60 days" and rows[0][5:] == [ESCC_NAME, KENT]
    assert rows[0][4] == "Notification of a placement to the host LA sent, not acknowledged"
    assert rows[2][4] == "Return home interview (status not_offered)" and rows[2][5] == KENT
    assert rows[5][3] == "6 hours" and rows[5][5:] == ["Kent Police", KENT]
    # Names link to the child page: the LA may read its own children and the one placed with it.
    assert 'href="/children/CP-S1"' in page.text and 'href="/children/CP-K4"' in page.text
    # The two-year-old undone interview does not bury this quarter's ...
    assert "Basil Thorne" not in page.text
    # ... but is there for "any date", first.
    everything = kcc.get("/duties", params={"window": "all"})
    assert kinds_and_children(everything.text) == [("Return interview overdue", "Basil Thorne (P-CP-K2)"),
                                                   *DEFAULT_ORDER]
    assert table_rows(everything.text, "duties")[0][3] == "730 days"


async def test_filters_by_kind_and_window(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/duties", params={"kind": "RHI_OVERDUE", "window": "all"})
    assert [r[1] for r in table_rows(page.text, "duties")] == [
        "Basil Thorne (P-CP-K2)", "=SUM(A1) Quill (P-CP-K5)", "Amber Quill (P-CP-K1)"]
    page = kcc.get("/duties", params={"window": "30"})
    assert kinds_and_children(page.text) == DEFAULT_ORDER[2:]
    start = TODAY - timedelta(days=36)
    end = TODAY - timedelta(days=8)
    page = kcc.get("/duties", params={"window": "custom", "from_day": start.day, "from_month": start.month,
                                      "from_year": start.year, "to_day": end.day, "to_month": end.month,
                                      "to_year": end.year})
    assert page.status_code == 200
    assert kinds_and_children(page.text) == DEFAULT_ORDER[1:4]
    page = kcc.get("/duties", params={"kind": "REPEAT_TRIGGER"})
    assert 'data-testid="duties"' not in page.text and "No duties are overdue" in page.text


async def test_sort_orders(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    recent = kcc.get("/duties", params={"sort": "recent"})
    assert kinds_and_children(recent.text) == DEFAULT_ORDER[::-1]
    by_kind = kcc.get("/duties", params={"sort": "kind"})
    assert kinds_and_children(by_kind.text) == [DEFAULT_ORDER[i] for i in (2, 4, 1, 0, 3, 5)]
    by_child = kcc.get("/duties", params={"sort": "child"})
    assert kinds_and_children(by_child.text) == [DEFAULT_ORDER[i] for i in (2, 3, 4, 1, 5, 0)]


async def test_bad_dates_are_errors_on_their_field(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/duties", params={"window": "custom", "from_day": "31", "from_month": "2", "from_year": "2026"})
    assert page.status_code == 400
    assert "Due from must be a real date" in page.text and 'href="#from"' in page.text
    assert 'data-testid="duties"' not in page.text
    page = kcc.get("/duties", params={"window": "custom", "from_day": "1", "from_month": "", "from_year": "2026"})
    assert page.status_code == 400 and "Due from must include a month" in page.text
    page = kcc.get("/duties", params={"window": "custom"})
    assert page.status_code == 400 and "Enter the first due date to show" in page.text
    page = kcc.get("/duties", params={"window": "custom", "from_day": "2", "from_month": "3", "from_year": "2026",
                                      "to_day": "1", "to_month": "3", "to_year": "2026"})
    assert page.status_code == 400 and 'href="#to"' in page.text
    assert "Due to must be the same as or after due from" in page.text
    page = kcc.get("/duties", params={"kind": "NOT_A_KIND"})
    assert page.status_code == 400 and 'href="#kind"' in page.text
    assert kcc.get("/duties.csv", params={"window": "custom"}).status_code == 400


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_csv_is_the_page_and_the_apis_answer(scenario, console_as, live_server) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    page = kcc.get("/duties", params={"window": "all", "sort": "overdue"})
    link = page.text.split('data-testid="duties-csv"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    export = kcc.get(link)
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["cache-control"] == "no-store"
    assert export.headers["content-disposition"] == f'attachment; filename="mpdb-duties-{KCC}-all-all.csv"'
    rows = csv_rows(export.text)
    assert rows[0] == ["Kind", "Child", "Due", "Overdue", "What is owed", "Who owes it", "Owed to",
                       "Due at (UTC, ISO 8601)", "Days overdue", "Duty id", "Child id"]
    page_rows = table_rows(page.text, "duties")
    # Same rows, same order; the formula-looking name is defused by a leading quote in the CSV only.
    assert [r[:7] for r in rows[1:]] == [[("'" + c if c.startswith("=") else c) for c in r] for r in page_rows]
    assert rows[4][1] == "'=SUM(A1) Quill (P-CP-K5)"
    # Proper quoting: the comma and quotes in a name survive the round trip ...
    assert rows[3][1] == 'Cora Vane, "Jr" (P-CP-K3)'
    assert '"Cora Vane, ""Jr"" (P-CP-K3)"' in export.text
    # ... and the CSV is the API's own answer for the same variables (kind by kind, same asOf).
    as_of = parse_qs(urlsplit(link).query)["as_of"][0]
    token = live_server.token(KCC, "la_missing_lead")
    api: list[tuple[str, int, str, str | None]] = []
    for kind in ("RHI_OVERDUE", "NOTIFICATION_UNSENT", "NOTIFICATION_UNACKNOWLEDGED", "FOUND_NOT_NOTIFIED",
                 "REPEAT_TRIGGER"):
        answer = live_server.graphql(
            "query($kind: DutyKind!, $asOf: DateTime) { duties(kind: $kind, asOf: $asOf, first: 100) {"
            " nodes { id dueAt daysOverdue child { id } } pageInfo { hasNextPage } } }",
            {"kind": kind, "asOf": as_of}, token=token).json()
        assert not answer["data"]["duties"]["pageInfo"]["hasNextPage"]
        api += [(n["dueAt"], n["daysOverdue"], n["id"], n["child"]["id"]) for n in answer["data"]["duties"]["nodes"]]
    api.sort()
    assert [(r[7], int(r[8]), r[9], r[10]) for r in rows[1:]] == [
        (due.replace("Z", "+00:00") if due.endswith("Z") else due, days, i, c) for due, days, i, c in api]


async def test_csv_defuses_every_formula_start() -> None:
    from mpdb.console.routes.duties import csv_safe

    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(bad) == "'" + bad
    assert csv_safe("Amber Quill") == "Amber Quill"


async def test_window_in_the_filename_and_purpose_first(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead")
    export = kcc.get("/duties.csv", params={"window": "90"})
    start, end = TODAY - timedelta(days=90), TODAY
    assert export.headers["content-disposition"] == (
        f'attachment; filename="mpdb-duties-{KCC}-{start.isoformat()}-{end.isoformat()}.csv"')
    assert len(csv_rows(export.text)) == 1 + len(DEFAULT_ORDER)
    no_purpose = console_as(KCC, "la_missing_lead", purpose=None)
    assert no_purpose.get("/duties.csv").status_code == 303


async def test_a_force_sees_its_own_duties_and_not_an_las(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    kent_police = console_as(KP, "investigator")
    page = kent_police.get("/duties", params={"window": "all"})
    assert page.status_code == 200
    assert kinds_and_children(page.text) == [
        ("Return interview overdue", "Basil Thorne (P-CP-K2)"),
        ("Return interview overdue", "=SUM(A1) Quill (P-CP-K5)"),
        ("Found, responsible LA not told", "Amber Quill (P-CP-K1)"),
        ("Return interview overdue", "Amber Quill (P-CP-K1)"),
        ("Found, responsible LA not told", "Dara Fenn (P-CP-K4)"),
    ]
    assert 'name="area"' not in page.text  # only the national unit is offered another area


async def test_the_national_unit_picks_an_area(scenario, console_as) -> None:  # type: ignore[no-untyped-def]
    nca = console_as("NCA-MPU", "investigator")
    page = nca.get("/duties", params={"area": KCC})
    assert page.status_code == 200 and 'name="area"' in page.text
    assert kinds_and_children(page.text) == DEFAULT_ORDER
    bad = nca.get("/duties", params={"area": "E99999999"})
    assert bad.status_code == 400 and 'href="#area"' in bad.text and "unknown area" in bad.text


async def test_the_page_is_audited_as_the_api_audits_duties(scenario, console_as, live_server) -> None:  # type: ignore[no-untyped-def]
    kcc = console_as(KCC, "la_missing_lead", purpose="Weekly duties review")
    assert kcc.get("/duties", params={"kind": "RHI_OVERDUE"}).status_code == 200
    events = live_server.graphql(
        'query { auditEvents(recordId: "CP-RI-K5", first: 20) { nodes { operation agencyId purpose } } }',
        token=live_server.token(KCC, "auditor")).json()["data"]["auditEvents"]["nodes"]
    assert {"operation": "duties.rhi_overdue", "agencyId": KCC, "purpose": "Weekly duties review"} in events


async def test_the_apis_due_window_and_duty_children(scenario, live_server) -> None:  # type: ignore[no-untyped-def]
    query = ("query($from: Date, $to: Date) { duties(kind: RHI_OVERDUE, dueFrom: $from, dueTo: $to) {"
             " totalCount nodes { id child { id givenName } summary { pseudonym responsibleAuthority } } } }")
    token = live_server.token(KCC, "la_missing_lead")
    window = {"from": (TODAY - timedelta(days=20)).isoformat(), "to": (TODAY - timedelta(days=7)).isoformat()}
    answer = live_server.graphql(query, window, token=token).json()["data"]["duties"]
    assert answer == {"totalCount": 2, "nodes": [
        {"id": "CP-RI-K5", "child": {"id": "CP-K5", "givenName": "=SUM(A1)"},
         "summary": {"pseudonym": "P-CP-K5", "responsibleAuthority": KCC}},
        {"id": "CP-RI-K1", "child": {"id": "CP-K1", "givenName": "Amber"},
         "summary": {"pseudonym": "P-CP-K1", "responsibleAuthority": KCC}},
    ]}
    backwards = live_server.graphql(query, {"from": window["to"], "to": window["from"]}, token=token).json()
    assert backwards["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "dueTo"}
