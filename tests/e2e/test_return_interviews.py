"""Return interviews over HTTP: `Episode.returnInterviews`, the confidential account, and the
recording agency's access to a child it recorded before any episode or placement.

The child's own account is returned only to a caller holding rhi:read:confidential whose agency
carried out the interview or is the child's responsible LA; everyone else who may see the episode
gets the shareable summary and a null account, decided inside Neo4j. Expectations are written out
by hand from those rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mpdb.auth.access import access_scope_for
from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.records import RecordRepository

pytestmark = pytest.mark.integration

KP, SP = "E23000032", "E23000015"  # Kent, Staffordshire police
KCC, STOKE = "E10000016", "E06000021"  # Kent CC (responsible), Stoke-on-Trent (hosts the placement)
NCA = "NCA-MPU"
PROV, PROV2 = "RC-PROV", "RC-PROV2"  # two commissioned return-interview providers

# RC-A: Kent CC's child placed in Stoke. E1 (Kent Police) was followed by two completed interviews,
# one by each provider; E2's interview by Kent CC itself is offered and past due; E3's is due in 2099.
# RC-IMP: imported by Kent Police with no episode or placement yet. RC-ORPHAN: recorded by an id
# that names no agency.
SCENARIO = """
MATCH (kp:Force {code: $kp}), (sp:Force {code: $sp}), (kcc:LocalAuthority {code: $kcc}),
      (stoke:LocalAuthority {code: $stoke})
MERGE (prov:Agency {id: $prov}) ON CREATE SET prov.kind = 'rhi_provider', prov.name = 'RC provider one'
MERGE (prov2:Agency {id: $prov2}) ON CREATE SET prov2.kind = 'rhi_provider', prov2.name = 'RC provider two'
WITH kp, sp, kcc, stoke, prov, prov2
CREATE (a:Child {id: 'RC-A', pseudonym: 'P-RC-A', givenName: 'Rica', familyName: 'Interview', sex: 'F',
        lookedAfter: true, recordedBy: $kcc, sourceSystem: 'mpdb-api'})
CREATE (a)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (a)-[:PLACED_IN]->(pl:Placement {id: 'RC-A-P', startDate: date('2025-12-01'), outOfArea: true, crossForce: true})
CREATE (pl)-[:PLACED_BY]->(kcc), (pl)-[:HOSTED_BY]->(stoke), (pl)-[:IN_FORCE_AREA]->(sp)
CREATE (a)-[:HAD]->(e1:Episode {id: 'RC-A-E1', status: 'closed', reportedAt: datetime('2026-01-10T20:00:00Z'),
        returnedAt: datetime('2026-01-11T09:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (e1)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'RC-A-RI1', status: 'completed',
        offeredAt: datetime('2026-01-12T10:00:00Z'), completedAt: datetime('2026-01-13T15:00:00Z'),
        dueAt: datetime('2026-01-14T09:00:00Z'), confidentialAccount: 'RC-A account one: in confidence',
        summaryPlaces: ['Margate seafront'], summaryPeople: ['older male "Dee"'], summaryWith: ['RC-B'],
        summaryRiskTypes: ['cse']})-[:BY]->(prov)
CREATE (e1)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'RC-A-RI1B', status: 'completed',
        offeredAt: datetime('2026-01-13T10:00:00Z'), completedAt: datetime('2026-01-13T16:00:00Z'),
        dueAt: datetime('2026-01-14T09:00:00Z'), confidentialAccount: 'RC-A account two: in confidence',
        summaryPlaces: ['Ramsgate harbour'], summaryRiskTypes: ['cce_county_lines']})-[:BY]->(prov2)
CREATE (a)-[:HAD]->(e2:Episode {id: 'RC-A-E2', status: 'closed', reportedAt: datetime('2026-02-01T20:00:00Z'),
        returnedAt: datetime('2026-02-02T09:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (e2)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'RC-A-RI2', status: 'offered',
        offeredAt: datetime('2026-02-02T12:00:00Z'), dueAt: datetime('2026-02-05T09:00:00Z')})-[:BY]->(kcc)
CREATE (a)-[:HAD]->(e3:Episode {id: 'RC-A-E3', status: 'closed', reportedAt: datetime('2026-03-01T20:00:00Z'),
        returnedAt: datetime('2026-03-02T09:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (e3)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'RC-A-RI3', status: 'offered',
        offeredAt: datetime('2026-03-02T12:00:00Z'), dueAt: datetime('2099-01-01T09:00:00Z')})-[:BY]->(kcc)
CREATE (:Child {id: 'RC-IMP', pseudonym: 'P-RC-IMP', givenName: 'Impa', familyName: 'Interview', sex: 'M',
        recordedBy: $kp, sourceSystem: 'csv-import', recordedAt: datetime('2026-03-10T09:00:00Z')})
CREATE (:Child {id: 'RC-ORPHAN', pseudonym: 'P-RC-ORPHAN', givenName: 'Orfa', familyName: 'Interview',
        recordedBy: 'RC-NOT-AN-AGENCY'})
"""
CHILDREN = ["RC-A", "RC-IMP", "RC-ORPHAN"]

ACCOUNT_1, ACCOUNT_1B = "RC-A account one: in confidence", "RC-A account two: in confidence"
RI1 = {"id": "RC-A-RI1", "episodeId": "RC-A-E1", "status": "completed", "offeredAt": "2026-01-12T10:00:00+00:00",
       "completedAt": "2026-01-13T15:00:00+00:00", "declinedAt": None, "dueAt": "2026-01-14T09:00:00+00:00",
       "overdue": False, "providerAgencyId": PROV, "summaryPlaces": ["Margate seafront"],
       "summaryPeople": ['older male "Dee"'], "summaryWith": ["RC-B"], "summaryRiskTypes": ["cse"]}
RI1B = {"id": "RC-A-RI1B", "episodeId": "RC-A-E1", "status": "completed", "offeredAt": "2026-01-13T10:00:00+00:00",
        "completedAt": "2026-01-13T16:00:00+00:00", "declinedAt": None, "dueAt": "2026-01-14T09:00:00+00:00",
        "overdue": False, "providerAgencyId": PROV2, "summaryPlaces": ["Ramsgate harbour"], "summaryPeople": None,
        "summaryWith": None, "summaryRiskTypes": ["cce_county_lines"]}
RI2 = {"id": "RC-A-RI2", "episodeId": "RC-A-E2", "status": "offered", "offeredAt": "2026-02-02T12:00:00+00:00",
       "completedAt": None, "declinedAt": None, "dueAt": "2026-02-05T09:00:00+00:00", "overdue": True,
       "providerAgencyId": KCC, "summaryPlaces": None, "summaryPeople": None, "summaryWith": None,
       "summaryRiskTypes": None, "confidentialAccount": None}
RI3 = {"id": "RC-A-RI3", "episodeId": "RC-A-E3", "status": "offered", "offeredAt": "2026-03-02T12:00:00+00:00",
       "completedAt": None, "declinedAt": None, "dueAt": "2099-01-01T09:00:00+00:00", "overdue": False,
       "providerAgencyId": KCC, "summaryPlaces": None, "summaryPeople": None, "summaryWith": None,
       "summaryRiskTypes": None, "confidentialAccount": None}

FIELDS = ("id episodeId status offeredAt completedAt declinedAt dueAt overdue providerAgencyId "
          "summaryPlaces summaryPeople summaryWith summaryRiskTypes")
EPISODE_RI_Q = "query($id: ID!) { episode(id: $id) { id returnInterviews { " + FIELDS + " confidentialAccount } } }"
EPISODE_SUMMARY_Q = "query($id: ID!) { episode(id: $id) { id returnInterviews { " + FIELDS + " } } }"
PURPOSE = "return interview follow-up"


@pytest.fixture(scope="module")
async def scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write("MATCH (n) WHERE n.id STARTS WITH 'RC-' DETACH DELETE n", {})
    await reference_graph.write(SCENARIO, {"kp": KP, "sp": SP, "kcc": KCC, "stoke": STOKE,
                                           "prov": PROV, "prov2": PROV2})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": CHILDREN})
    return reference_graph


async def _events_of(graph, subject: str) -> list[tuple[str, str, list[str]]]:  # type: ignore[no-untyped-def]
    rows = await graph.read(
        "MATCH (e:AuditEvent {subject: $s}) RETURN e.action AS action, e.operation AS op, e.recordIds AS ids "
        "ORDER BY e.seq", {"s": subject})
    return [(r["action"], r["op"], list(r["ids"])) for r in rows]


def _read(live_server, subject: str, agency: str, role: str, episode_id: str, query: str = EPISODE_RI_Q,  # type: ignore[no-untyped-def]
          scopes: list[str] | None = None, **token_kwargs: Any) -> dict[str, Any]:
    token = live_server.token(agency, role, scopes, subject=subject, **token_kwargs)
    response = live_server.graphql(query, {"id": episode_id}, token=token, purpose=PURPOSE)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _with(ri: dict[str, Any], account: str | None) -> dict[str, Any]:
    return {**ri, "confidentialAccount": account}


# --- who reads the confidential account ------------------------------------------------------

async def test_rc_provider_with_scope_reads_its_own_interviews_account_only(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    body = _read(live_server, "rc:prov:e1", PROV, "rhi_practitioner", "RC-A-E1", agency_kind="rhi_provider")
    # Its own interview's account; the other provider's interview of the same episode: summary only.
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [
        _with(RI1, ACCOUNT_1), _with(RI1B, None)]}}}
    assert await _events_of(scenario, "rc:prov:e1") == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews.confidential", ["RC-A-RI1", "RC-A-RI1B"])]


async def test_rc_provider_cannot_see_an_episode_it_is_not_commissioned_for(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    body = _read(live_server, "rc:prov:e2", PROV, "rhi_practitioner", "RC-A-E2", agency_kind="rhi_provider")
    absent = _read(live_server, "rc:prov:none", PROV, "rhi_practitioner", "RC-NO-SUCH-EPISODE",
                   agency_kind="rhi_provider")
    assert body == absent == {"data": {"episode": None}}
    assert await _events_of(scenario, "rc:prov:e2") == []


async def test_rc_provider_without_the_scope_gets_null(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    body = _read(live_server, "rc:prov-noscope", PROV, "rhi_practitioner", "RC-A-E1", scopes=["child:read"],
                 agency_kind="rhi_provider")
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [
        _with(RI1, None), _with(RI1B, None)]}}}
    assert await _events_of(scenario, "rc:prov-noscope") == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews", ["RC-A-RI1", "RC-A-RI1B"])]


@pytest.mark.parametrize("role", ["rhi_practitioner", "la_missing_lead"])
async def test_rc_responsible_la_with_scope_reads_every_account(live_server, scenario, role: str) -> None:  # type: ignore[no-untyped-def]
    subject = f"rc:kcc:{role}"
    body = _read(live_server, subject, KCC, role, "RC-A-E1")
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [
        _with(RI1, ACCOUNT_1), _with(RI1B, ACCOUNT_1B)]}}}
    assert await _events_of(scenario, subject) == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews.confidential", ["RC-A-RI1", "RC-A-RI1B"])]


async def test_rc_responsible_la_without_the_scope_gets_null(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    body = _read(live_server, "rc:kcc:social_worker", KCC, "social_worker", "RC-A-E1")
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [
        _with(RI1, None), _with(RI1B, None)]}}}
    assert await _events_of(scenario, "rc:kcc:social_worker") == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews", ["RC-A-RI1", "RC-A-RI1B"])]


async def test_rc_other_la_with_scope_is_not_entitled(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    """Stoke hosts the placement, so it reads the episode and its summary, but it neither carried
    out the interviews nor is responsible for the child: rhi:read:confidential is not enough."""
    body = _read(live_server, "rc:stoke:rhi", STOKE, "rhi_practitioner", "RC-A-E1")
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [
        _with(RI1, None), _with(RI1B, None)]}}}
    assert await _events_of(scenario, "rc:stoke:rhi") == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews", ["RC-A-RI1", "RC-A-RI1B"])]


@pytest.mark.parametrize(("agency", "role"), [(KP, "investigator"), (NCA, "investigator")])
async def test_rc_police_and_national_unit_get_the_summary_only(live_server, scenario, agency: str, role: str) -> None:  # type: ignore[no-untyped-def]
    subject = f"rc:{agency}:{role}"
    body = _read(live_server, subject, agency, role, "RC-A-E1")
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [
        _with(RI1, None), _with(RI1B, None)]}}}
    assert await _events_of(scenario, subject) == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews", ["RC-A-RI1", "RC-A-RI1B"])]


async def test_rc_analyst_is_refused(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    body = _read(live_server, "rc:kcc:analyst", KCC, "analyst", "RC-A-E1")
    assert body["data"] == {"episode": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await _events_of(scenario, "rc:kcc:analyst") == []


# --- overdue, no account stored, and when the account is not asked for ---------------------

async def test_rc_overdue_is_derived_from_due_at_and_now(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    e2 = _read(live_server, "rc:kcc:e2", KCC, "la_missing_lead", "RC-A-E2")
    e3 = _read(live_server, "rc:kcc:e3", KCC, "la_missing_lead", "RC-A-E3")
    assert e2 == {"data": {"episode": {"id": "RC-A-E2", "returnInterviews": [RI2]}}}
    assert e3 == {"data": {"episode": {"id": "RC-A-E3", "returnInterviews": [RI3]}}}
    # Entitled, but no account was returned (none is stored): not a confidential read.
    assert await _events_of(scenario, "rc:kcc:e2") == [
        ("consultation", "episode", ["RC-A", "RC-A-E2"]), ("consultation", "episode.returnInterviews", ["RC-A-RI2"])]
    rows = await scenario.read("MATCH (ri:ReturnInterview) WHERE ri.id STARTS WITH 'RC-A-RI' AND ri.overdue IS NOT NULL "
                               "RETURN ri.id AS id")
    assert rows == []  # derived, never stored


async def test_rc_account_not_selected_is_not_read(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    body = _read(live_server, "rc:kcc:summary", KCC, "la_missing_lead", "RC-A-E1", query=EPISODE_SUMMARY_Q)
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [RI1, RI1B]}}}
    assert await _events_of(scenario, "rc:kcc:summary") == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews", ["RC-A-RI1", "RC-A-RI1B"])]


async def test_rc_account_selected_through_a_fragment_or_skipped(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    fragment = """query($id: ID!) { episode(id: $id) { id returnInterviews { id ...Account } } }
                  fragment Account on ReturnInterview { confidentialAccount }"""
    body = _read(live_server, "rc:kcc:fragment", KCC, "la_missing_lead", "RC-A-E1", query=fragment)
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [
        {"id": "RC-A-RI1", "confidentialAccount": ACCOUNT_1}, {"id": "RC-A-RI1B", "confidentialAccount": ACCOUNT_1B}]}}}
    assert await _events_of(scenario, "rc:kcc:fragment") == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews.confidential", ["RC-A-RI1", "RC-A-RI1B"])]
    skipped = "query($id: ID!) { episode(id: $id) { id returnInterviews { id confidentialAccount @skip(if: true) } } }"
    body = _read(live_server, "rc:kcc:skipped", KCC, "la_missing_lead", "RC-A-E1", query=skipped)
    assert body == {"data": {"episode": {"id": "RC-A-E1", "returnInterviews": [{"id": "RC-A-RI1"}, {"id": "RC-A-RI1B"}]}}}
    assert await _events_of(scenario, "rc:kcc:skipped") == [
        ("consultation", "episode", ["RC-A", "RC-A-E1"]),
        ("consultation", "episode.returnInterviews", ["RC-A-RI1", "RC-A-RI1B"])]


async def test_rc_nested_under_child_episodes_one_event_per_resolver_call(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    query = """query($id: ID!) { child(id: $id) { id episodes { nodes { id
                 returnInterviews { id confidentialAccount } } } } }"""
    token = live_server.token(KCC, "la_missing_lead", subject="rc:kcc:nested")
    body = live_server.graphql(query, {"id": "RC-A"}, token=token, purpose=PURPOSE).json()
    assert body == {"data": {"child": {"id": "RC-A", "episodes": {"nodes": [
        {"id": "RC-A-E3", "returnInterviews": [{"id": "RC-A-RI3", "confidentialAccount": None}]},
        {"id": "RC-A-E2", "returnInterviews": [{"id": "RC-A-RI2", "confidentialAccount": None}]},
        {"id": "RC-A-E1", "returnInterviews": [{"id": "RC-A-RI1", "confidentialAccount": ACCOUNT_1},
                                               {"id": "RC-A-RI1B", "confidentialAccount": ACCOUNT_1B}]}]}}}}
    events = await _events_of(scenario, "rc:kcc:nested")
    assert events[:2] == [("consultation", "child", ["RC-A"]),
                          ("consultation", "child.episodes", ["RC-A-E1", "RC-A-E2", "RC-A-E3"])]
    assert sorted(events[2:]) == [
        ("consultation", "episode.returnInterviews", ["RC-A-RI2"]),
        ("consultation", "episode.returnInterviews", ["RC-A-RI3"]),
        ("consultation", "episode.returnInterviews.confidential", ["RC-A-RI1", "RC-A-RI1B"])]


async def test_rc_account_never_leaves_neo4j_for_a_caller_not_entitled(scenario) -> None:  # type: ignore[no-untyped-def]
    """At the repository: even asked for, the account is null in the rows Neo4j sends back."""
    def scope(agency: str, kind: AgencyKind, role: Role, scopes: set[Scope]):  # type: ignore[no-untyped-def]
        return access_scope_for(Principal(subject="rc-repo", client_id="rc", agency_id=agency, agency_kind=kind,
                                          role=role, scopes=frozenset(scopes)))

    repo = RecordRepository(scenario)
    stoke = scope(STOKE, AgencyKind.LOCAL_AUTHORITY, Role.RHI_PRACTITIONER, {Scope.CHILD_READ, Scope.RHI_READ_CONFIDENTIAL})
    police = scope(KP, AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, {Scope.CHILD_READ})
    prov = scope(PROV, AgencyKind.RHI_PROVIDER, Role.RHI_PRACTITIONER, {Scope.CHILD_READ, Scope.RHI_READ_CONFIDENTIAL})
    for s in (stoke, police):
        rows = await repo.return_interviews(s, "RC-A-E1", want_confidential=True)
        assert [(r["id"], r["confidentialAccount"], r["confidentialRead"]) for r in rows] == [
            ("RC-A-RI1", None, False), ("RC-A-RI1B", None, False)]
    rows = await repo.return_interviews(prov, "RC-A-E1", want_confidential=False)
    assert [(r["id"], r["confidentialAccount"]) for r in rows] == [("RC-A-RI1", None), ("RC-A-RI1B", None)]
    rows = await repo.return_interviews(prov, "RC-A-E1", want_confidential=True)
    assert [(r["id"], r["confidentialAccount"]) for r in rows] == [("RC-A-RI1", ACCOUNT_1), ("RC-A-RI1B", None)]
    assert datetime(2026, 1, 14, 9, tzinfo=UTC) == rows[0]["dueAt"]


# --- the recording agency reads a child it recorded before any episode or placement ---------

async def test_rc_recording_agency_is_in_the_access_list(scenario) -> None:  # type: ignore[no-untyped-def]
    rows = await scenario.read("MATCH (c:Child) WHERE c.id IN $ids RETURN c.id AS id, c.accessAgencies AS access, "
                               "c.historyAgencies AS history ORDER BY id", {"ids": CHILDREN})
    got = {r["id"]: (r["access"], r["history"]) for r in rows}
    assert got["RC-IMP"] == ([KP], [])  # the record, not anyone's episode history
    assert got["RC-ORPHAN"] == ([], [])  # recordedBy names no agency: nobody gains access
    access_a, history_a = got["RC-A"]
    # Kent CC recorded RC-A and is already its responsible LA: listed once.
    assert sorted(access_a) == sorted([KCC, STOKE, SP, KP, PROV, PROV2]) and len(access_a) == len(set(access_a))
    assert sorted(history_a) == sorted([KCC, STOKE])


async def test_rc_police_imported_child_without_episodes_is_visible_to_the_importing_force(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    query = "query($id: ID!) { child(id: $id) { id pseudonym provenance { recordedBy sourceSystem } } }"
    kent = live_server.graphql(query, {"id": "RC-IMP"}, token=live_server.token(KP, "investigator", subject="rc:kp:imp"),
                               purpose=PURPOSE).json()
    assert kent == {"data": {"child": {"id": "RC-IMP", "pseudonym": "P-RC-IMP",
                                       "provenance": {"recordedBy": KP, "sourceSystem": "csv-import"}}}}
    assert await _events_of(scenario, "rc:kp:imp") == [("consultation", "child", ["RC-IMP"])]
    staffs = live_server.graphql(query, {"id": "RC-IMP"}, token=live_server.token(SP, "investigator", subject="rc:sp:imp"),
                                 purpose=PURPOSE).json()
    assert staffs == {"data": {"child": None}}
    assert await _events_of(scenario, "rc:sp:imp") == []
