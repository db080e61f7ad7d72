"""The write service against a real Neo4j, below HTTP: same-key concurrency, access lists and
audit written in the mutation's own transaction, and rollback of everything when any part fails."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.domain import commands as cmd
from mpdb.domain.errors import Conflict
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.services import writes as svc
from mpdb.services.context import ServiceContext

pytestmark = pytest.mark.integration

KENT_POLICE, STAFFS_POLICE, KENT_CC = "E23000032", "E23000015", "E10000016"

SCENARIO = """
MATCH (kcc:LocalAuthority {code: $kentCc}), (kent:Force {code: $kentPolice})
UNWIND ['T3I-A', 'T3I-B', 'T3I-C'] AS cid
CREATE (c:Child {id: cid, pseudonym: 'P-' + cid, lookedAfter: true, recordedBy: $kentCc,
                 recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (c)-[:HAD]->(:Episode {id: cid + '-E0', status: 'closed', reportedAt: datetime('2026-05-01T00:00:00Z')})
       -[:REPORTED_TO]->(kent)
"""


def ctx(graph, settings, agency: str = KENT_POLICE) -> ServiceContext:  # type: ignore[no-untyped-def]
    p = Principal(subject="t3-officer", client_id="t3", agency_id=agency, agency_kind=AgencyKind.POLICE_FORCE,
                  role=Role.INVESTIGATOR, scopes=frozenset({Scope.CHILD_READ, Scope.EPISODE_WRITE}))
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
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["T3I-A", "T3I-B", "T3I-C"]})
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
