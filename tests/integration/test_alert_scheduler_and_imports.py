"""Time-based alerts with an injectable clock, and alerts raised by imports (issue 13, producers).

Whole-graph reads (the scheduler reads every duty), so the module starts from reference data only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import wipe_data
from mpdb.alerts.scheduler import raise_overdue_alerts
from mpdb.auth.principal import AgencyKind, Principal, Role
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.outbox import events_after, head_seq
from mpdb.ingest.importer import Importer
from mpdb.ingest.reference import load_reference

pytestmark = pytest.mark.integration

KCC, STOKE, STAFFS, KENT_POLICE = "E10000016", "E06000021", "E23000015", "E23000032"
DUE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)          # the notification's due time
REPORTED = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)      # an open episode: strategy meeting at +14 days

SCENARIO = """
MATCH (kcc:LocalAuthority {code: $kcc}), (stoke:LocalAuthority {code: $stoke}), (staffs:Force {code: $staffs}),
      (kcca:Agency {id: $kcc}), (stokea:Agency {id: $stoke})
CREATE (a:Child {id: 'SC-A', pseudonym: 'P-SC-A', lookedAfter: true, recordedBy: $kcc})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (a)-[:PLACED_IN]->(p:Placement {id: 'SC-P1', startDate: date('2026-11-15'), outOfArea: true})
CREATE (p)-[:PLACED_BY]->(kcc), (p)-[:HOSTED_BY]->(stoke), (p)-[:IN_FORCE_AREA]->(staffs)
CREATE (n:Notification {id: 'SC-N1', kind: 'placement_to_host_la', dueAt: $due})
CREATE (n)-[:FROM]->(kcca), (n)-[:TO]->(stokea), (n)-[:ABOUT]->(p)
CREATE (a)-[:HAD]->(e:Episode {id: 'SC-E1', status: 'open', reportedAt: $reported})-[:REPORTED_TO]->(staffs)
"""


@pytest.fixture(scope="module")
async def graph0(graph):  # type: ignore[no-untyped-def]
    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await graph.write(SCENARIO, {"kcc": KCC, "stoke": STOKE, "staffs": STAFFS, "due": DUE, "reported": REPORTED})
    await graph.write(REFRESH_ACCESS, {"childIds": ["SC-A"]})
    # the outbox head outlives wipes; history before this instant never alerts
    await graph.write("MATCH (h:OutboxHead {id: 'outbox'}) SET h.alertsFrom = $at",
                      {"at": datetime(2026, 11, 1, tzinfo=UTC)})
    return graph


def shape(events: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(e["kind"], e["recipient"], e["reason"], e["subjectType"], e["subjectId"], e["key"]) for e in events}


async def test_overdue_alerts_fire_when_the_clock_passes_the_due_time_and_once(graph0) -> None:  # type: ignore[no-untyped-def]
    start = await head_seq(graph0)
    assert await raise_overdue_alerts(graph0, DUE - timedelta(seconds=1)) == 0
    assert await raise_overdue_alerts(graph0, DUE) == 0  # due is not yet overdue (the duties API's `<`)
    assert await head_seq(graph0) == start
    assert await raise_overdue_alerts(graph0, DUE + timedelta(seconds=1)) == 2
    assert shape(await events_after(graph0, start)) == {
        ("duty_overdue", KCC, "owes", "Notification", "SC-N1", f"duty_overdue|notification_unsent|SC-N1|{KCC}"),
        ("duty_overdue", STOKE, "owed", "Notification", "SC-N1", f"duty_overdue|notification_unsent|SC-N1|{STOKE}"),
    }
    # a second pass, and a later one, append nothing again
    assert await raise_overdue_alerts(graph0, DUE + timedelta(seconds=1)) == 0
    assert await raise_overdue_alerts(graph0, DUE + timedelta(hours=1)) == 0
    mid = await head_seq(graph0)
    assert mid == start + 2

    # still missing at the strategy-meeting day (14 days, the national rule): the holders, once
    meeting = REPORTED + timedelta(days=14)
    assert await raise_overdue_alerts(graph0, meeting) == 0
    assert await raise_overdue_alerts(graph0, meeting + timedelta(minutes=1)) == 3
    assert shape(await events_after(graph0, mid)) == {
        ("trigger_fired", KCC, "responsible_la", "Episode", "SC-E1", f"trigger_fired|SC-E1|strategy_meeting|{KCC}"),
        ("trigger_fired", STOKE, "host_la", "Episode", "SC-E1", f"trigger_fired|SC-E1|strategy_meeting|{STOKE}"),
        ("trigger_fired", STAFFS, "reporting_force", "Episode", "SC-E1",
         f"trigger_fired|SC-E1|strategy_meeting|{STAFFS}"),
    }
    assert await raise_overdue_alerts(graph0, meeting + timedelta(minutes=2)) == 0


async def test_history_never_alerts(graph0) -> None:  # type: ignore[no-untyped-def]
    """A duty that fell due before alertsFrom, or more than NEWS_WINDOW before the pass, is history."""
    start = await head_seq(graph0)
    await graph0.write("""
        MATCH (kcca:Agency {id: $kcc}), (stokea:Agency {id: $stoke}), (p:Placement {id: 'SC-P1'})
        CREATE (n:Notification {id: 'SC-N-OLD', kind: 'placement_to_host_la', dueAt: $old})
        CREATE (n)-[:FROM]->(kcca), (n)-[:TO]->(stokea), (n)-[:ABOUT]->(p)""",
                       {"kcc": KCC, "stoke": STOKE, "old": datetime(2026, 10, 1, tzinfo=UTC)})
    assert await raise_overdue_alerts(graph0, datetime(2026, 12, 2, tzinfo=UTC)) == 0
    assert await head_seq(graph0) == start


def _importer(graph: Any, now: datetime) -> Importer:
    principal = Principal(subject="sc-import", client_id="test", agency_id=KENT_POLICE,
                          agency_kind=AgencyKind.POLICE_FORCE, role=Role.INVESTIGATOR,
                          scopes=Principal.system().scopes)
    return Importer(graph, principal, now=lambda: now, batch_size=2)


CHILDREN = ["child_ref,given_name,family_name,date_of_birth,sex,looked_after,responsible_la",
            "SCI-1,Imogen,Importa,2010-01-01,F,true,E06000021",
            "SCI-2,Isaac,Importa,2010-02-02,M,true,E06000021"]
EPISODES = ["episode_ref,child_ref,reporting_force,reported_at,found_at,returned_at,risk_grade,grade_scheme",
            "SCI-E-OLD,SCI-1,E23000032,2025-12-01T20:00:00Z,2025-12-02T08:00:00Z,2025-12-02T10:00:00Z,low,2017",
            "SCI-E-NEW,SCI-2,E23000032,2026-11-30T20:00:00Z,,,high,2017"]


async def test_imports_alert_only_news_and_a_rerun_adds_nothing(graph0) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    start = await head_seq(graph0)
    imp = _importer(graph0, now)
    assert (await imp.import_csv("children", [f"{line}\n" for line in CHILDREN])).loaded == 2
    summary = await imp.import_csv("episodes", [f"{line}\n" for line in EPISODES])
    assert (summary.loaded, summary.rejected) == (2, 0), summary.errors
    events = await events_after(graph0, start)
    # last week's report alerts Stoke (responsible LA); last year's episode pages nobody; Kent
    # Police, the importer, is not told of what it imported
    new = next(e for e in events if e["kind"] == "child_reported_missing")["subjectId"]
    assert {(e["kind"], e["recipient"], e["reason"], e["subjectType"]) for e in events} == {
        ("child_reported_missing", STOKE, "responsible_la", "Episode"),
        ("risk_raised", STOKE, "responsible_la", "RiskAssessment"),
    }
    assert {e["childId"] for e in events} == {n["id"] for n in await graph0.read(
        "MATCH (c:Child)-[:HAD]->(:Episode {id: $id}) RETURN c.id AS id", {"id": new})}
    # the same files again: nothing written, nothing raised
    mid = await head_seq(graph0)
    assert (await _importer(graph0, now).import_csv("episodes", [f"{line}\n" for line in EPISODES])).unchanged == 2
    assert await head_seq(graph0) == mid
