"""The write service against a real Neo4j, below HTTP: same-key concurrency, access lists and
audit written in the mutation's own transaction, and rollback of everything when any part fails."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.domain import commands as cmd
from mpdb.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from mpdb.intel.reconciliation import ReconCategory, reconciliation
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.services import writes as svc
from mpdb.services.context import ServiceContext

pytestmark = pytest.mark.integration

KENT_POLICE, STAFFS_POLICE, KENT_CC = "E23000032", "E23000015", "E10000016"

SCENARIO = """
MATCH (kcc:LocalAuthority {code: $kentCc}), (kent:Force {code: $kentPolice})
UNWIND ['T3I-A', 'T3I-B', 'T3I-C', 'T3I-L1', 'T3I-L2', 'T3I-P1'] AS cid
CREATE (c:Child {id: cid, pseudonym: 'P-' + cid, lookedAfter: true, recordedBy: $kentCc,
                 recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (c)-[:HAD]->(:Episode {id: cid + '-E0', status: 'closed', reportedAt: datetime('2026-05-01T00:00:00Z')})
       -[:REPORTED_TO]->(kent)
"""


def ctx(graph, settings, agency: str = KENT_POLICE,  # type: ignore[no-untyped-def]
        kind: AgencyKind = AgencyKind.POLICE_FORCE) -> ServiceContext:
    role = Role.INVESTIGATOR if kind is AgencyKind.POLICE_FORCE else Role.LA_MISSING_LEAD
    p = Principal(subject="t3-officer", client_id="t3", agency_id=agency, agency_kind=kind, role=role,
                  scopes=frozenset({Scope.CHILD_READ, Scope.EPISODE_WRITE, Scope.INTEL_READ}))
    return ServiceContext(graph=graph, settings=settings, principal=p, purpose="t3 test", request_id=str(uuid.uuid4()))


def command(child: str) -> cmd.ReportMissing:
    now = datetime.now(UTC)
    return cmd.parse_command(cmd.ReportMissing, {
        "child_id": child, "reporter_type": "police", "reported_at": (now - timedelta(hours=1)).isoformat(),
        "missing_from_place": {"la_code": KENT_CC, "force_code": KENT_POLICE},
        "risk_assessment": {"scheme": "2017", "grade": "low"}})


@pytest.fixture(scope="module")
async def scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write(SCENARIO, {"kentCc": KENT_CC, "kentPolice": KENT_POLICE})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["T3I-A", "T3I-B", "T3I-C", "T3I-L1", "T3I-L2", "T3I-P1"]})
    return reference_graph


async def test_concurrent_retries_with_one_key_write_once_and_agree(scenario, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    c, k = command("T3I-A"), f"t3i-{uuid.uuid4()}"
    results = await asyncio.gather(*[svc.report_missing(ctx(scenario, neo4j_settings), c, k) for _ in range(4)])
    assert all(r == results[0] for r in results)
    n = await scenario.read_one("MATCH (:Child {id: 'T3I-A'})-[:HAD]->(e:Episode {status: 'open'}) RETURN count(e) AS n")
    assert n["n"] == 1
    events = await scenario.read_one("MATCH (a:AuditEvent {operation: 'reportMissing'}) WHERE $id IN a.recordIds "
                                     "RETURN count(a) AS n", {"id": results[0]["episodeId"]})
    assert events["n"] == 1


async def test_access_lists_follow_the_write_in_the_same_transaction(scenario, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    staffs = ctx(scenario, neo4j_settings, STAFFS_POLICE)
    # Staffordshire cannot see the child yet, so it cannot report it by id...
    with pytest.raises(Exception) as exc:
        await svc.report_missing(staffs, command("T3I-B"), f"t3i-{uuid.uuid4()}")
    assert getattr(exc.value, "code", None) == "NOT_FOUND"
    # ...Kent reports it; Kent now holds an open episode and so reads the child's whole history.
    r = await svc.report_missing(ctx(scenario, neo4j_settings), command("T3I-B"), f"t3i-{uuid.uuid4()}")
    child = await scenario.read_one("MATCH (c:Child {id: 'T3I-B'}) RETURN c.openEpisodeForces AS open, "
                                    "c.historyAgencies AS history")
    assert child == {"open": [KENT_POLICE], "history": [KENT_CC, KENT_POLICE]}
    returned = cmd.parse_command(cmd.RecordReturn, {"episode_id": r["episodeId"],
                                                    "returned_at": datetime.now(UTC).isoformat()})
    await svc.record_return(ctx(scenario, neo4j_settings), returned, f"t3i-{uuid.uuid4()}")
    child = await scenario.read_one("MATCH (c:Child {id: 'T3I-B'}) RETURN c.openEpisodeForces AS open, "
                                    "c.historyAgencies AS history")
    assert child == {"open": [], "history": [KENT_CC]}


async def test_an_audit_failure_rolls_back_the_whole_mutation(scenario, neo4j_settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(svc, "append_in_tx", broken)
    before = (await scenario.read_one("MATCH (n) RETURN count(n) AS n"))["n"]
    k = f"t3i-{uuid.uuid4()}"
    with pytest.raises(RuntimeError):
        await svc.report_missing(ctx(scenario, neo4j_settings), command("T3I-C"), k)
    assert (await scenario.read_one("MATCH (n) RETURN count(n) AS n"))["n"] == before
    assert await scenario.read_one("MATCH (k:IdempotencyKey) WHERE k.key ENDS WITH $k RETURN k", {"k": k}) is None
    monkeypatch.undo()
    # the same key then works: nothing of the failed attempt was kept
    r = await svc.report_missing(ctx(scenario, neo4j_settings), command("T3I-C"), k)
    assert r["childId"] == "T3I-C"


async def test_same_key_for_another_operation_is_refused(scenario, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    k = f"t3i-{uuid.uuid4()}"
    ack = cmd.parse_command(cmd.AcknowledgeNotification, {"notification_id": "NOT-none"})
    with pytest.raises(Exception) as exc:
        await svc.acknowledge_notification(ctx(scenario, neo4j_settings), ack, k)
    assert getattr(exc.value, "code", None) == "NOT_FOUND"
    # the failed attempt kept nothing, so the key is still free for a different request
    returned = cmd.parse_command(cmd.RecordReturn, {"episode_id": "T3I-none", "returned_at": datetime.now(UTC).isoformat()})
    with pytest.raises(Exception) as exc:
        await svc.record_return(ctx(scenario, neo4j_settings), returned, k)
    assert getattr(exc.value, "code", None) == "NOT_FOUND"
    ep = (await scenario.read_one("MATCH (:Child {id: 'T3I-A'})-[:HAD]->(e:Episode {status: 'open'}) RETURN e.id AS id"))["id"]
    ok = cmd.parse_command(cmd.UpdateEpisode, {"episode_id": ep, "whereabouts_known": True})
    await svc.update_episode(ctx(scenario, neo4j_settings), ok, k)
    with pytest.raises(Conflict) as exc2:
        await svc.record_return(ctx(scenario, neo4j_settings),
                                cmd.parse_command(cmd.RecordReturn, {"episode_id": ep,
                                                                     "returned_at": datetime.now(UTC).isoformat()}), k)
    assert exc2.value.extensions["reason"] == "IDEMPOTENCY_KEY_REUSED"


RECORDS = """
MATCH (r:EpisodeRecord)-[:RECORD_OF]->(:Episode {id: $id})
RETURN r {.id, .agencyId, .sourceSystem, .sourceRef, .startAt, .endAt, .missingType, .recordedBy} AS r
ORDER BY r.id
"""


async def records(graph, episode_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [row["r"] for row in await graph.read(RECORDS, {"id": episode_id})]


def la_report(child: str, reported: datetime, **over: object) -> cmd.ReportMissing:
    return cmd.parse_command(cmd.ReportMissing, {
        "child_id": child, "reporter_type": "carer", "reported_at": reported.isoformat(),
        "reporting_force": KENT_POLICE, "missing_from_place": {"la_code": KENT_CC, "force_code": KENT_POLICE},
        "risk_assessment": {"scheme": "2017", "grade": "medium"}, **over})


def k() -> str:
    return f"t3i-{uuid.uuid4()}"


async def test_an_la_report_is_the_las_ssda903_record_ended_by_the_police_finding_and_return(scenario, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    kcc, kent = ctx(scenario, neo4j_settings, KENT_CC, AgencyKind.LOCAL_AUTHORITY), ctx(scenario, neo4j_settings)
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    # An LA names the force the carer's report went to: it is not a force itself.
    with pytest.raises(InvalidInput) as exc:
        await svc.report_missing(kcc, la_report("T3I-L1", reported, reporting_force=None), k())
    assert exc.value.field == "input.reportingForce"
    r = await svc.report_missing(kcc, la_report("T3I-L1", reported, whereabouts_known=True), k())
    ep, rid = r["episodeId"], svc._episode_record_id(KENT_CC, r["episodeId"])
    assert await records(scenario, ep) == [{
        "id": rid, "agencyId": KENT_CC, "sourceSystem": "mpdb-api", "sourceRef": ep, "startAt": reported,
        "endAt": None, "missingType": "A", "recordedBy": KENT_CC}]
    audit = await scenario.read_one("MATCH (a:AuditEvent {operation: 'reportMissing'}) WHERE $id IN a.recordIds "
                                    "RETURN a.action AS action", {"id": rid})
    assert audit == {"action": "collection"}

    # Only the LA changes its own record's type: the force's update leaves it 'A'; the LA's makes it 'M'.
    await svc.update_episode(kent, cmd.parse_command(cmd.UpdateEpisode, {"episode_id": ep, "whereabouts_known": False}), k())
    assert [x["missingType"] for x in await records(scenario, ep)] == ["A"]
    await svc.update_episode(kcc, cmd.parse_command(cmd.UpdateEpisode, {"episode_id": ep, "whereabouts_known": False}), k())
    assert [x["missingType"] for x in await records(scenario, ep)] == ["M"]

    found, returned = reported + timedelta(hours=2), reported + timedelta(hours=3)
    await svc.record_found(kent, cmd.parse_command(cmd.RecordFound, {
        "episode_id": ep, "found_at": found.isoformat(), "found_place": {"la_code": KENT_CC, "force_code": KENT_POLICE}}), k())
    assert [(x["startAt"], x["endAt"]) for x in await records(scenario, ep)] == [(reported, found)]
    await svc.record_return(kent, cmd.parse_command(cmd.RecordReturn, {"episode_id": ep, "returned_at": returned.isoformat()}), k())
    [rec] = await records(scenario, ep)
    assert (rec["agencyId"], rec["startAt"], rec["endAt"], rec["missingType"]) == (KENT_CC, reported, returned, "M")



async def test_reconciliation_sees_the_records_the_api_writes(scenario, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    kcc, kent = ctx(scenario, neo4j_settings, KENT_CC, AgencyKind.LOCAL_AUTHORITY), ctx(scenario, neo4j_settings)
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=4)
    police = await svc.report_missing(kent, la_report("T3I-P1", reported, reporter_type="police", reporting_force=None), k())
    assert await records(scenario, police["episodeId"]) == [{
        "id": svc._episode_record_id(KENT_POLICE, police["episodeId"]), "agencyId": KENT_POLICE,
        "sourceSystem": "mpdb-api", "sourceRef": police["episodeId"], "startAt": reported, "endAt": None,
        "missingType": None, "recordedBy": KENT_POLICE}]
    # a carer's report to the LA of a child whose whereabouts are unknown is 'M' from the start
    la = await svc.report_missing(kcc, la_report("T3I-L2", reported), k())
    assert [(x["agencyId"], x["missingType"], x["endAt"]) for x in await records(scenario, la["episodeId"])] == [
        (KENT_CC, "M", None)]
    today = datetime.now(UTC).date()
    result = await reconciliation(kcc, KENT_CC, today - timedelta(days=2), today + timedelta(days=1),
                                  categories=tuple(ReconCategory), limit=100)
    items = {i.episode_id: i for i in result.items}
    item = items[police["episodeId"]]
    assert (item.category, item.child_id, item.reported_to_police) == (ReconCategory.POLICE_ONLY, "T3I-P1", True)
    assert [(r["agencyId"], r["startAt"], r["missingType"]) for r in item.police_records] == [(KENT_POLICE, reported, None)]
    assert item.la_records == []
    # the LA's record of an episode reported to Kent Police (which keeps no record of its own here): both know it
    item = items[la["episodeId"]]
    assert (item.category, item.reported_to_police, item.police_records) == (ReconCategory.AGREE, True, [])
    assert [(r["agencyId"], r["startAt"], r["missingType"]) for r in item.la_records] == [(KENT_CC, reported, "M")]


async def test_only_the_placing_la_or_national_ends_a_placement(scenario, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    await scenario.write(
        """MATCH (c:Child {id: 'T3I-C'}), (kcc:LocalAuthority {code: $kentCc}), (kent:Force {code: $kentPolice})
           CREATE (c)-[:PLACED_IN]->(p:Placement {id: 'T3I-PLC', startDate: date('2026-02-01'), outOfArea: false})
           CREATE (p)-[:PLACED_BY]->(kcc), (p)-[:HOSTED_BY]->(kcc), (p)-[:IN_FORCE_AREA]->(kent)""",
        {"kentCc": KENT_CC, "kentPolice": KENT_POLICE})
    await scenario.write(REFRESH_ACCESS, {"childIds": ["T3I-C"]})
    end = cmd.parse_command(cmd.EndPlacement, {"placement_id": "T3I-PLC", "end_date": "2026-03-01"})
    # Kent Police sees the child (the placement is in its area) but did not place it
    with pytest.raises(Forbidden) as exc:
        await svc.end_placement(ctx(scenario, neo4j_settings), end, k())
    assert exc.value.extensions == {"code": "FORBIDDEN", "field": "input.placementId"}
    with pytest.raises(NotFound):
        await svc.end_placement(ctx(scenario, neo4j_settings, STAFFS_POLICE), end, k())
    national = ctx(scenario, neo4j_settings, "NCA-MPU", AgencyKind.NATIONAL_UNIT)
    r = await svc.end_placement(national, end, k())
    assert r == {"placementId": "T3I-PLC", "childId": "T3I-C", "endDate": "2026-03-01", "notifications": []}
