"""Record-level access: agency × role × scope × record class × operation, over real HTTP.

Every cell states its exact outcome:
- visible: the exact record ids (and sensitive fields exactly as the scope allows), and exactly one
  consultation event per resolver that returned personal data, carrying exactly those ids;
- invisible: the response body is byte-for-byte the one for an id that does not exist, and no
  audit event is written;
- forbidden: the FORBIDDEN code, no data, no audit event.

The expectations are written out by hand from the access rules (DOMAIN.md "Who may see what"),
not computed from the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mpdb.graph.queries.access import REFRESH_ACCESS

pytestmark = pytest.mark.integration

KP, SP, MET, GMP = "E23000032", "E23000015", "E23000001", "E23000005"  # Kent, Staffordshire, Met, Greater Manchester
KCC, STOKE, HARINGEY = "E10000016", "E06000021", "E09000014"
RHI, NCA, OFSTED = "RHI-KENT-01", "NCA-MPU", "OFSTED"

# Record classes (children):
#   AM-OWN  own-area child: looked after by Kent CC, one closed episode reported to Kent Police.
#   AM-OOA  out-of-area looked-after child: Kent CC's child placed in Stoke-on-Trent (Staffordshire
#           force area); an earlier episode in Kent, a later one from the Stoke placement.
#   AM-XF   child with an open episode held by another force: a closed Kent episode, then an open
#           Staffordshire one (Staffordshire reads the whole history, Kent only its own episode).
#   AM-UN   unrelated child: Haringey's, one Met episode. No agency in the matrix but NCA sees it.
#   AM-RHI  Kent CC's child whose first episode's return interview is commissioned from RHI-KENT-01;
#           the provider sees the child and that episode only.
#   Return interviews: AM-RHI-RI1 (by RHI-KENT-01) and AM-OOA-RI1 (by Kent CC itself, after the
#           Stoke-placement episode), both with a confidential account.
#   AM-RES  a child who is not looked after and lives in Haringey (home LA: residence basis), with
#           one closed episode reported to Kent Police.
#   AM-AUD  read only by the audit-events fixture (events for auditors).
# Co-missing: AM-OWN's episode records AM-UN as a companion (WITH_CHILD), and AM-UN carries an
# active flag raised by Haringey (AM-UN-FLAG). WITH_CHILD feeds no access list (REFRESH_ACCESS), so
# the link changes nobody's visibility: it shows AM-UN in summary form to AM-OWN's readers.
# Locate basis: AM-XF is missing now (its open episode is reported to Staffordshire), so every
# police force, Greater Manchester Police included, reads its locate profile.
SCENARIO = """
MATCH (kp:Force {code: $kp}), (sp:Force {code: $sp}), (met:Force {code: $met}),
      (kcc:LocalAuthority {code: $kcc}), (stoke:LocalAuthority {code: $stoke}),
      (har:LocalAuthority {code: $haringey})
MERGE (rhi:Agency {id: $rhi})
  ON CREATE SET rhi.kind = 'rhi_provider', rhi.name = 'Kent Return Home Interview Service (sample provider)'
WITH kp, sp, met, kcc, stoke, har, rhi
CREATE (own:Child {id: 'AM-OWN', pseudonym: 'P-AM-OWN', givenName: 'Owna', familyName: 'Matrix',
        dateOfBirth: date('2011-01-02'), ethnicity: 'WBRI', sex: 'F', lookedAfter: true})
CREATE (own)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (own)-[:HAD]->(own1:Episode {id: 'AM-OWN-E1', status: 'closed', reportedAt: datetime('2026-01-10T20:00:00Z')})-[:REPORTED_TO]->(kp)

CREATE (ooa:Child {id: 'AM-OOA', pseudonym: 'P-AM-OOA', givenName: 'Ooa', familyName: 'Matrix',
        dateOfBirth: date('2010-02-03'), ethnicity: 'MWBC', sex: 'M', lookedAfter: true})
CREATE (ooa)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (ooa)-[:PLACED_IN]->(pl:Placement {id: 'AM-OOA-P', startDate: date('2026-01-01'), outOfArea: true, crossForce: true})
CREATE (pl)-[:PLACED_BY]->(kcc), (pl)-[:HOSTED_BY]->(stoke), (pl)-[:IN_FORCE_AREA]->(sp)
CREATE (ooa)-[:HAD]->(:Episode {id: 'AM-OOA-E0', status: 'closed', reportedAt: datetime('2025-11-01T20:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (ooa)-[:HAD]->(ooa1:Episode {id: 'AM-OOA-E1', status: 'closed', reportedAt: datetime('2026-02-01T20:00:00Z')})-[:REPORTED_TO]->(sp)
CREATE (ooa1)-[:MISSING_FROM]->(pl)
CREATE (ooa1)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'AM-OOA-RI1', status: 'completed',
        confidentialAccount: 'AM OOA confidential account', summaryPlaces: ['Hanley bus station']})-[:BY]->(kcc)

CREATE (xf:Child {id: 'AM-XF', pseudonym: 'P-AM-XF', givenName: 'Xef', familyName: 'Matrix',
        dateOfBirth: date('2009-03-04'), sex: 'F', lookedAfter: false})
CREATE (xf)-[:HAD]->(:Episode {id: 'AM-XF-E1', status: 'closed', reportedAt: datetime('2026-01-05T20:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (xf)-[:HAD]->(:Episode {id: 'AM-XF-E2', status: 'open', reportedAt: datetime('2026-03-05T20:00:00Z')})-[:REPORTED_TO]->(sp)

CREATE (un:Child {id: 'AM-UN', pseudonym: 'P-AM-UN', givenName: 'Unra', familyName: 'Matrix',
        dateOfBirth: date('2012-04-05'), sex: 'M', lookedAfter: true})
CREATE (un)-[:LOOKED_AFTER_BY]->(har)
CREATE (un)-[:HAD]->(:Episode {id: 'AM-UN-E1', status: 'closed', reportedAt: datetime('2026-02-10T20:00:00Z')})-[:REPORTED_TO]->(met)
CREATE (un)-[:HAS_FLAG]->(:Flag {id: 'AM-UN-FLAG', type: 'cce_county_lines', status: 'active', note: 'AM private note',
        raisedAt: datetime('2026-02-11T10:00:00Z')})-[:RAISED_BY]->(har)
CREATE (own1)-[:WITH_CHILD {source: 'companion'}]->(un)

CREATE (rc:Child {id: 'AM-RHI', pseudonym: 'P-AM-RHI', givenName: 'Rhia', familyName: 'Matrix',
        dateOfBirth: date('2010-06-07'), sex: 'F', lookedAfter: true})
CREATE (rc)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (rc)-[:HAD]->(r1:Episode {id: 'AM-RHI-E1', status: 'closed', reportedAt: datetime('2026-01-20T20:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (r1)-[:FOLLOWED_BY]->(:ReturnInterview {id: 'AM-RHI-RI1', status: 'completed',
        confidentialAccount: 'AM confidential account', summaryPlaces: ['Margate']})-[:BY]->(rhi)
CREATE (rc)-[:HAD]->(:Episode {id: 'AM-RHI-E2', status: 'closed', reportedAt: datetime('2026-02-20T20:00:00Z')})-[:REPORTED_TO]->(kp)

CREATE (resHome:Location {id: 'AM-RES-HOME', name: 'AM residence', kind: 'residence', laCode: $haringey,
        forceCode: $met, point: point({latitude: 51.59, longitude: -0.11})})-[:IN_LA]->(har)
CREATE (resHome)-[:IN_FORCE]->(met)
CREATE (res:Child {id: 'AM-RES', pseudonym: 'P-AM-RES', givenName: 'Resa', familyName: 'Matrix',
        dateOfBirth: date('2011-08-09'), sex: 'F', lookedAfter: false})
CREATE (res)-[:HOME_AT]->(resHome)
CREATE (res)-[:HAD]->(:Episode {id: 'AM-RES-E1', status: 'closed', reportedAt: datetime('2026-02-12T20:00:00Z')})-[:REPORTED_TO]->(kp)

CREATE (aud:Child {id: 'AM-AUD', pseudonym: 'P-AM-AUD', givenName: 'Auda', familyName: 'Matrix', sex: 'F'})
CREATE (aud)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (aud)-[:HAD]->(:Episode {id: 'AM-AUD-E1', status: 'closed', reportedAt: datetime('2026-01-02T20:00:00Z')})-[:REPORTED_TO]->(kp)
"""
CHILD_IDS = ["AM-OWN", "AM-OOA", "AM-XF", "AM-UN", "AM-RHI", "AM-RES", "AM-AUD"]
MISSING_CHILD, MISSING_EPISODE = "AM-NO-SUCH-CHILD", "AM-NO-SUCH-EPISODE"

SENSITIVE = {  # (dateOfBirth, ethnicity) as stored
    "AM-OWN": ("2011-01-02", "WBRI"), "AM-OOA": ("2010-02-03", "MWBC"), "AM-XF": ("2009-03-04", None),
    "AM-UN": ("2012-04-05", None), "AM-RHI": ("2010-06-07", None), "AM-RES": ("2011-08-09", None),
}
EPISODES = {  # newest first, as child.episodes orders them
    "AM-OWN": ["AM-OWN-E1"],
    "AM-OOA": ["AM-OOA-E1", "AM-OOA-E0"],
    "AM-XF": ["AM-XF-E2", "AM-XF-E1"],
    "AM-UN": ["AM-UN-E1"],
    "AM-RHI": ["AM-RHI-E2", "AM-RHI-E1"],
    "AM-RES": ["AM-RES-E1"],
}
CHILD_OF = {e: c for c, eps in EPISODES.items() for e in eps}

# Which episodes each agency may read (by hand, from the rules):
EPISODES_VISIBLE_TO: dict[str, set[str]] = {
    # Kent Police: episodes in its area; no open episode, so no one else's history.
    KP: {"AM-OWN-E1", "AM-OOA-E0", "AM-XF-E1", "AM-RHI-E1", "AM-RHI-E2", "AM-RES-E1"},
    # Staffordshire: the Stoke-placement episode; the whole history of AM-XF (it holds the open one).
    SP: {"AM-OOA-E1", "AM-XF-E1", "AM-XF-E2"},
    # Kent CC: its looked-after children's episodes wherever they happened.
    KCC: {"AM-OWN-E1", "AM-OOA-E0", "AM-OOA-E1", "AM-RHI-E1", "AM-RHI-E2"},
    # Stoke: children placed in its area, with their history.
    STOKE: {"AM-OOA-E0", "AM-OOA-E1"},
    # The provider: only the episode it is commissioned for.
    RHI: {"AM-RHI-E1"},
    # Haringey: its looked-after child, and the child who lives in Haringey (residence), wherever
    # their episodes happened.
    HARINGEY: {"AM-UN-E1", "AM-RES-E1"},
    # Greater Manchester Police: nothing in its area; the locate basis gives a profile, not episodes.
    GMP: set(),
    NCA: set(CHILD_OF),
    OFSTED: set(),
}
# Children whose record each agency may read.
CHILDREN_VISIBLE_TO: dict[str, set[str]] = {
    KP: {"AM-OWN", "AM-OOA", "AM-XF", "AM-RHI", "AM-RES"},
    SP: {"AM-OOA", "AM-XF"},
    KCC: {"AM-OWN", "AM-OOA", "AM-RHI"},
    STOKE: {"AM-OOA"},
    RHI: {"AM-RHI"},
    HARINGEY: {"AM-UN", "AM-RES"},
    GMP: set(),
    NCA: set(EPISODES),
    OFSTED: set(),
}
# Children missing now (an open episode reported to a force), with those open episodes: the locate
# basis opens their locate profile to every police force.
MISSING_NOW = {"AM-XF": ["AM-XF-E2"]}
POLICE = {KP, SP, GMP}


@dataclass(frozen=True)
class Caller:
    label: str
    agency: str
    role: str
    scopes: tuple[str, ...] | None = None  # None: everything the policy grants the role

    @property
    def effective(self) -> set[str]:
        if self.scopes is not None:
            return set(self.scopes)
        return {  # auth/policy.toml, as granted to these roles
            "investigator": {"child:read", "child:read:sensitive", "episode:write", "flag:write", "intel:read",
                             "notification:write", "identity:review", "alerts:read"},
            "call_handler": {"child:read", "episode:write", "alerts:read"},
            "missing_coordinator": {"child:read", "child:read:sensitive", "episode:write", "flag:write",
                                    "intel:read", "notification:write", "identity:review", "alerts:read",
                                    "alerts:webhooks"},
            "la_missing_lead": {"child:read", "child:read:sensitive", "episode:write", "placement:write",
                                "flag:write", "intel:read", "notification:write", "rhi:read:confidential",
                                "import:write", "identity:review", "alerts:read", "alerts:webhooks"},
            "social_worker": {"child:read", "child:read:sensitive", "placement:write", "notification:write",
                              "alerts:read"},
            "rhi_practitioner": {"child:read", "rhi:write", "rhi:read:confidential", "alerts:read"},
            "analyst": {"analytics:read"},
            "auditor": {"audit:read", "analytics:read"},
        }[self.role]


CALLERS = [
    Caller("kent-police-investigator", KP, "investigator"),
    Caller("kent-police-call-handler", KP, "call_handler"),
    Caller("kent-police-investigator-read-only", KP, "investigator", ("child:read",)),
    Caller("kent-police-investigator-no-read", KP, "investigator", ("episode:write", "intel:read")),
    Caller("kent-police-analyst", KP, "analyst"),
    Caller("kent-police-auditor", KP, "auditor"),
    Caller("staffs-police-investigator", SP, "investigator"),
    Caller("kent-cc-la-missing-lead", KCC, "la_missing_lead"),
    Caller("kent-cc-social-worker", KCC, "social_worker"),
    Caller("kent-cc-analyst", KCC, "analyst"),
    Caller("stoke-la-missing-lead", STOKE, "la_missing_lead"),
    Caller("stoke-social-worker-read-only", STOKE, "social_worker", ("child:read",)),
    Caller("haringey-la-missing-lead", HARINGEY, "la_missing_lead"),
    Caller("gmp-investigator", GMP, "investigator"),
    Caller("gmp-call-handler", GMP, "call_handler"),
    Caller("rhi-provider-practitioner", RHI, "rhi_practitioner"),
    Caller("rhi-provider-auditor", RHI, "auditor"),
    Caller("nca-investigator", NCA, "investigator"),
    Caller("nca-analyst", NCA, "analyst"),
    Caller("nca-auditor", NCA, "auditor"),
    Caller("ofsted-analyst", OFSTED, "analyst"),
    Caller("ofsted-auditor", OFSTED, "auditor"),
]

CHILD_Q = "query($id: ID!) { child(id: $id) { id pseudonym givenName familyName dateOfBirth ethnicity } }"
CHILD_EPISODES_Q = "query($id: ID!) { child(id: $id) { id episodes(first: 50) { nodes { id childId } } } }"
EPISODE_Q = "query($id: ID!) { episode(id: $id) { id childId status } }"
EVENTS_Q = """query($rid: String) { auditEvents(recordId: $rid, first: 50) {
  nodes { action operation subject agencyId recordIds } } }"""

ALL_SCENARIO_IDS = [*CHILD_IDS, *CHILD_OF, "AM-AUD-E1", "AM-OOA-P", "AM-RHI-RI1", "AM-OOA-RI1", "AM-RES-HOME",
                    "AM-UN-FLAG"]


@pytest.fixture(scope="module")
async def matrix(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write(
        "MATCH (n) WHERE n.id STARTS WITH 'AM-' DETACH DELETE n", {})
    await reference_graph.write(SCENARIO, {"kp": KP, "sp": SP, "met": MET, "kcc": KCC, "stoke": STOKE,
                                           "haringey": HARINGEY, "rhi": RHI})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": CHILD_IDS})
    return reference_graph


async def _events_of(graph, subject: str) -> list[tuple[str, str, list[str]]]:  # type: ignore[no-untyped-def]
    rows = await graph.read(
        "MATCH (e:AuditEvent {subject: $s}) RETURN e.action AS action, e.operation AS op, e.recordIds AS ids "
        "ORDER BY e.seq", {"s": subject})
    return [(r["action"], r["op"], list(r["ids"])) for r in rows]


def _forbidden(body: dict[str, Any], field: str, nullable: bool = True) -> None:
    assert body["data"] == ({field: None} if nullable else None)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == [field]


def _subject(caller: Caller, op: str, record: str) -> str:
    return f"am:{caller.label}:{op}:{record}"


def _call(live_server, caller: Caller, op: str, record: str, query: str,  # type: ignore[no-untyped-def]
          variables: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    subject = _subject(caller, op, record)
    token = live_server.token(caller.agency, caller.role, list(caller.scopes) if caller.scopes is not None else None,
                              subject=subject)
    response = live_server.graphql(query, {"id": record} if variables is None else variables, token=token,
                                   purpose="access matrix test")
    assert response.status_code == 200
    return response.json(), subject


_ABSENT: dict[tuple[str, str], dict[str, Any]] = {}


def _absent(live_server, caller: Caller, op: str, record: str, query: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The caller's response for an id that does not exist (asked once per caller and operation)."""
    if (caller.label, op) not in _ABSENT:
        _ABSENT[caller.label, op] = _call(live_server, caller, op, record, query)[0]
    return _ABSENT[caller.label, op]


CHILD_CELLS = [pytest.param(c, r, id=f"{c.label}-{r}") for c in CALLERS for r in [*EPISODES, MISSING_CHILD]]
EPISODE_CELLS = [pytest.param(c, r, id=f"{c.label}-{r}") for c in CALLERS for r in [*CHILD_OF, MISSING_EPISODE]]


@pytest.mark.parametrize(("caller", "child_id"), CHILD_CELLS)
async def test_child(live_server, matrix, caller: Caller, child_id: str) -> None:  # type: ignore[no-untyped-def]
    body, subject = _call(live_server, caller, "child", child_id, CHILD_Q)
    if "child:read" not in caller.effective:
        _forbidden(body, "child")
        assert await _events_of(matrix, subject) == []
        return
    if child_id not in CHILDREN_VISIBLE_TO[caller.agency]:
        absent = _absent(live_server, caller, "child", MISSING_CHILD, CHILD_Q)
        assert body == absent == {"data": {"child": None}}
        assert await _events_of(matrix, subject) == []
        return
    dob, ethnicity = SENSITIVE[child_id] if "child:read:sensitive" in caller.effective else (None, None)
    assert body == {"data": {"child": {
        "id": child_id, "pseudonym": f"P-{child_id}", "givenName": body["data"]["child"]["givenName"],
        "familyName": "Matrix", "dateOfBirth": dob, "ethnicity": ethnicity}}}
    assert body["data"]["child"]["givenName"] is not None
    assert await _events_of(matrix, subject) == [("consultation", "child", [child_id])]


@pytest.mark.parametrize(("caller", "child_id"), CHILD_CELLS)
async def test_child_episodes(live_server, matrix, caller: Caller, child_id: str) -> None:  # type: ignore[no-untyped-def]
    body, subject = _call(live_server, caller, "child.episodes", child_id, CHILD_EPISODES_Q)
    if "child:read" not in caller.effective:
        _forbidden(body, "child")
        assert await _events_of(matrix, subject) == []
        return
    if child_id not in CHILDREN_VISIBLE_TO[caller.agency]:
        absent = _absent(live_server, caller, "child.episodes", MISSING_CHILD, CHILD_EPISODES_Q)
        assert body == absent == {"data": {"child": None}}
        assert await _events_of(matrix, subject) == []
        return
    expected = [e for e in EPISODES[child_id] if e in EPISODES_VISIBLE_TO[caller.agency]]
    assert expected, "every visible child in this scenario has at least one visible episode"
    assert body == {"data": {"child": {"id": child_id, "episodes": {
        "nodes": [{"id": e, "childId": child_id} for e in expected]}}}}
    assert await _events_of(matrix, subject) == [
        ("consultation", "child", [child_id]), ("consultation", "child.episodes", sorted(expected))]


@pytest.mark.parametrize(("caller", "episode_id"), EPISODE_CELLS)
async def test_episode(live_server, matrix, caller: Caller, episode_id: str) -> None:  # type: ignore[no-untyped-def]
    body, subject = _call(live_server, caller, "episode", episode_id, EPISODE_Q)
    if "child:read" not in caller.effective:
        _forbidden(body, "episode")
        assert await _events_of(matrix, subject) == []
        return
    if episode_id not in EPISODES_VISIBLE_TO[caller.agency]:
        absent = _absent(live_server, caller, "episode", MISSING_EPISODE, EPISODE_Q)
        assert body == absent == {"data": {"episode": None}}
        assert await _events_of(matrix, subject) == []
        return
    status = "open" if episode_id == "AM-XF-E2" else "closed"
    assert body == {"data": {"episode": {"id": episode_id, "childId": CHILD_OF[episode_id], "status": status}}}
    assert await _events_of(matrix, subject) == [("consultation", "episode", sorted([episode_id, CHILD_OF[episode_id]]))]


# --- the locate profile: the locate basis -------------------------------------------------------

LOCATE_Q = """query($id: ID!) { locateProfile(childId: $id) { id pseudonym familyName basis
  openEpisodes { id reportedTo } } }"""


@pytest.mark.parametrize(("caller", "child_id"), CHILD_CELLS)
async def test_locate_profile(live_server, matrix, caller: Caller, child_id: str) -> None:  # type: ignore[no-untyped-def]
    body, subject = _call(live_server, caller, "locateProfile", child_id, LOCATE_Q)
    if "child:read" not in caller.effective:
        _forbidden(body, "locateProfile")
        assert await _events_of(matrix, subject) == []
        return
    if child_id in CHILDREN_VISIBLE_TO[caller.agency]:
        basis = "RECORD"
    elif child_id in MISSING_NOW and (caller.agency in POLICE or caller.agency == NCA):
        basis = "LOCATE"
    else:
        absent = _absent(live_server, caller, "locateProfile", MISSING_CHILD, LOCATE_Q)
        assert body == absent == {"data": {"locateProfile": None}}
        assert await _events_of(matrix, subject) == []
        return
    open_episodes = MISSING_NOW.get(child_id, [])
    assert body == {"data": {"locateProfile": {
        "id": child_id, "pseudonym": f"P-{child_id}", "familyName": "Matrix", "basis": basis,
        "openEpisodes": [{"id": e, "reportedTo": SP} for e in open_episodes]}}}
    assert await _events_of(matrix, subject) == [("consultation", "locateProfile", sorted([child_id, *open_episodes]))]


UPDATE_EPISODE = """mutation($input: UpdateEpisodeInput!, $key: String!) {
  updateEpisode(input: $input, idempotencyKey: $key) { episodeId riskGrade } }"""
EPISODE_WRITERS = [c for c in CALLERS if c.scopes is None and c.role in (
    "investigator", "call_handler", "la_missing_lead")]


@pytest.mark.parametrize(("caller", "episode_id"), [
    pytest.param(c, e, id=f"{c.label}-{e}") for c in EPISODE_WRITERS for e in ("AM-XF-E2", "AM-UN-E1")])
async def test_risk_grade_on_the_locate_basis(live_server, matrix, caller: Caller, episode_id: str) -> None:  # type: ignore[no-untyped-def]
    """A force holding an open episode only on the locate basis may not re-grade its risk (FORBIDDEN,
    nothing written); with no basis at all the episode reads as nonexistent (NOT_FOUND). The
    grade given is the current one, so an allowed write changes nothing the other cells read."""
    subject = _subject(caller, "updateEpisode", episode_id)
    token = live_server.token(caller.agency, caller.role, subject=subject)

    def update(target: str) -> dict[str, Any]:
        variables = {"key": f"am-upd-{caller.label}-{target}", "input": {
            "episodeId": target, "riskAssessment": {"scheme": "2017", "grade": "medium"}}}
        return live_server.graphql(UPDATE_EPISODE, variables, token=token, purpose="access matrix test").json()

    body = update(episode_id)
    grades = await matrix.read("MATCH (:Episode {id: $id})-[:ASSESSED_IN]->(ra) WHERE ra.author = $s RETURN ra",
                               {"id": episode_id, "s": subject})
    full = episode_id in EPISODES_VISIBLE_TO[caller.agency]
    locate = episode_id == "AM-XF-E2" and caller.agency in POLICE
    if full and episode_id == "AM-XF-E2":
        assert body == {"data": {"updateEpisode": {"episodeId": episode_id, "riskGrade": "medium"}}}
        assert len(grades) == 1
        return
    assert body["data"] is None and grades == []
    if locate:
        assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "input.episodeId"}
    elif full:  # a closed episode the caller sees in full: the lifecycle rule, not access, refuses
        assert body["errors"][0]["extensions"]["code"] == "RULE_VIOLATION"
    else:
        absent = update(MISSING_EPISODE)
        assert [(e["message"], e["extensions"]) for e in body["errors"]] == \
               [(e["message"], e["extensions"]) for e in absent["errors"]]
        assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "input.episodeId"}
    assert await _events_of(matrix, subject) == []


# --- return interviews: the confidential account -------------------------------------------------

INTERVIEWS = {  # interview -> (episode, provider, summaryPlaces, confidential account)
    "AM-RHI-RI1": ("AM-RHI-E1", RHI, ["Margate"], "AM confidential account"),
    "AM-OOA-RI1": ("AM-OOA-E1", KCC, ["Hanley bus station"], "AM OOA confidential account"),
}
# Agencies entitled to each account (with rhi:read:confidential): the provider that carried out the
# interview and the child's responsible LA (Kent CC for both). Not a host LA, a force or the NCA.
ACCOUNT_ENTITLED = {"AM-RHI-RI1": {RHI, KCC}, "AM-OOA-RI1": {KCC}}
RI_Q = """query($id: ID!) { episode(id: $id) { id
  returnInterviews { id providerAgencyId summaryPlaces confidentialAccount } } }"""
RI_CELLS = [pytest.param(c, ri, id=f"{c.label}-{ri}") for c in CALLERS for ri in INTERVIEWS]


@pytest.mark.parametrize(("caller", "interview_id"), RI_CELLS)
async def test_episode_return_interviews(live_server, matrix, caller: Caller, interview_id: str) -> None:  # type: ignore[no-untyped-def]
    episode_id, provider, places, account = INTERVIEWS[interview_id]
    body, subject = _call(live_server, caller, "episode.returnInterviews", episode_id, RI_Q)
    if "child:read" not in caller.effective:
        _forbidden(body, "episode")
        assert await _events_of(matrix, subject) == []
        return
    if episode_id not in EPISODES_VISIBLE_TO[caller.agency]:
        absent = _absent(live_server, caller, "episode.returnInterviews", MISSING_EPISODE, RI_Q)
        assert body == absent == {"data": {"episode": None}}
        assert await _events_of(matrix, subject) == []
        return
    reads = "rhi:read:confidential" in caller.effective and caller.agency in ACCOUNT_ENTITLED[interview_id]
    assert body == {"data": {"episode": {"id": episode_id, "returnInterviews": [{
        "id": interview_id, "providerAgencyId": provider, "summaryPlaces": places,
        "confidentialAccount": account if reads else None}]}}}
    operation = "episode.returnInterviews.confidential" if reads else "episode.returnInterviews"
    assert await _events_of(matrix, subject) == [
        ("consultation", "episode", sorted([episode_id, CHILD_OF[episode_id]])),
        ("consultation", operation, [interview_id])]


def test_the_return_interview_cells_cover_each_kind_of_reader() -> None:
    """The matrix must exercise each way of being (not) entitled, not just happen to."""
    def outcome(label: str, ri: str) -> str:
        c = next(x for x in CALLERS if x.label == label)
        episode = INTERVIEWS[ri][0]
        if "child:read" not in c.effective:
            return "forbidden"
        if episode not in EPISODES_VISIBLE_TO[c.agency]:
            return "invisible"
        return "account" if "rhi:read:confidential" in c.effective and c.agency in ACCOUNT_ENTITLED[ri] else "summary"

    assert outcome("rhi-provider-practitioner", "AM-RHI-RI1") == "account"  # provider
    assert outcome("rhi-provider-practitioner", "AM-OOA-RI1") == "invisible"
    assert outcome("kent-cc-la-missing-lead", "AM-RHI-RI1") == "account"  # responsible LA
    assert outcome("kent-cc-social-worker", "AM-RHI-RI1") == "summary"  # responsible LA, no scope
    assert outcome("stoke-la-missing-lead", "AM-OOA-RI1") == "summary"  # other LA with the scope
    assert outcome("kent-police-investigator", "AM-RHI-RI1") == "summary"  # force
    assert outcome("nca-investigator", "AM-OOA-RI1") == "summary"  # national reach is not entitlement
    assert outcome("kent-cc-analyst", "AM-RHI-RI1") == "forbidden"  # analyst


# --- audit events as a record class -----------------------------------------------------------

AUDIT_READERS = {KP: "kent-police-investigator", KCC: "kent-cc-la-missing-lead", NCA: "nca-investigator"}


@pytest.fixture(scope="module")
def audit_reads(live_server, matrix) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """AM-AUD read once each by Kent Police, Kent CC and NCA: subject per agency."""
    subjects = {}
    for agency, label in AUDIT_READERS.items():
        caller = next(c for c in CALLERS if c.label == label)
        body, subject = _call(live_server, caller, "child", "AM-AUD", CHILD_Q)
        assert body["data"]["child"]["id"] == "AM-AUD"
        subjects[agency] = subject
    return subjects


AUDIT_CELLS = [pytest.param(c, id=c.label) for c in CALLERS]


@pytest.mark.parametrize("caller", AUDIT_CELLS)
def test_audit_events(live_server, audit_reads, caller: Caller) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(caller.agency, caller.role, list(caller.scopes) if caller.scopes is not None else None,
                              subject=f"am-auditor:{caller.label}")
    body = live_server.graphql(EVENTS_Q, {"rid": "AM-AUD"}, token=token).json()
    if "audit:read" not in caller.effective:
        _forbidden(body, "auditEvents", nullable=False)
        return
    # Own agency's events only; the national unit sees every agency's.
    agencies = set(AUDIT_READERS) if caller.agency == NCA else {caller.agency} & set(AUDIT_READERS)
    got = sorted((e["agencyId"], e["subject"], e["operation"], tuple(e["recordIds"]), e["action"])
                 for e in body["data"]["auditEvents"]["nodes"])
    assert got == sorted((a, audit_reads[a], "child", ("AM-AUD",), "consultation") for a in agencies)


# --- searchChildren: in full, in summary form, or with the locate id ---------------------------

SEARCH_Q = """query($name: String!) { searchChildren(name: $name, first: 50) { nodes {
  child { id } summary { pseudonym responsibleAuthority activeFlags { type raisedBy } } missingNowChildId } } }"""
# The given name of each child searched for (all are "<given> Matrix"). No two are within the
# search's fuzzy reach of each other (one edit for names of 3-5 letters, Damerau; none is in
# seed/reference/given_name_variants.csv), so a search for one child's exact name hits that child only.
# AM-AUD is not searched for: its audit trail belongs to test_audit_events.
GIVEN_NAMES = {"AM-OWN": "Owna", "AM-OOA": "Ooa", "AM-XF": "Xef", "AM-UN": "Unra", "AM-RHI": "Rhia",
               "AM-RES": "Resa"}
NO_SUCH_GIVEN_NAME = "Zyqwo"  # "Zyqwo Matrix" matches nobody
RESPONSIBLE_LA = {"AM-OWN": KCC, "AM-OOA": KCC, "AM-XF": None, "AM-UN": HARINGEY, "AM-RHI": KCC, "AM-RES": None}
SCENARIO_FLAGS = {"AM-UN-FLAG": ("AM-UN", "cce_county_lines", HARINGEY)}  # flag -> (child, type, raised by)
# The active flags as a summary shows them. These cells run before test_raise_flag adds flags.
ACTIVE_FLAGS = {c: [{"type": t, "raisedBy": a} for fc, t, a in SCENARIO_FLAGS.values() if fc == c]
                for c in EPISODES}
SEARCH_CELLS = [pytest.param(c, r, id=f"{c.label}-{r}") for c in CALLERS for r in [*GIVEN_NAMES, MISSING_CHILD]]


async def _events_to(graph, subject: str) -> list[tuple[str, str, list[str], list[str]]]:  # type: ignore[no-untyped-def]
    """As _events_of, with each event's recipients (a disclosure's)."""
    rows = await graph.read(
        "MATCH (e:AuditEvent {subject: $s}) RETURN e.action AS action, e.operation AS op, e.recordIds AS ids, "
        "e.recipients AS to ORDER BY e.seq", {"s": subject})
    return [(r["action"], r["op"], list(r["ids"]), list(r["to"] or [])) for r in rows]


@pytest.mark.parametrize(("caller", "child_id"), SEARCH_CELLS)
async def test_search_children(live_server, matrix, caller: Caller, child_id: str) -> None:  # type: ignore[no-untyped-def]
    """A child the caller may read comes back in full; any other in summary form (no id, no names),
    disclosed to the caller's agency; a police force that may not read a child missing now also gets
    the id to open its locate profile with (consulted)."""
    name = f"{GIVEN_NAMES.get(child_id, NO_SUCH_GIVEN_NAME)} Matrix"
    body, subject = _call(live_server, caller, "searchChildren", child_id, SEARCH_Q, {"name": name})
    if "child:read" not in caller.effective:
        _forbidden(body, "searchChildren", nullable=False)
        assert await _events_of(matrix, subject) == []
        return
    if child_id == MISSING_CHILD:
        assert body == {"data": {"searchChildren": {"nodes": []}}}
        assert await _events_of(matrix, subject) == []
        return
    if child_id in CHILDREN_VISIBLE_TO[caller.agency]:
        hit = {"child": {"id": child_id}, "summary": None, "missingNowChildId": None}
        events = [("consultation", "searchChildren", [child_id], [])]
    else:
        locate = child_id in MISSING_NOW and caller.agency in POLICE
        hit = {"child": None, "missingNowChildId": child_id if locate else None, "summary": {
            "pseudonym": f"P-{child_id}", "responsibleAuthority": RESPONSIBLE_LA[child_id],
            "activeFlags": ACTIVE_FLAGS[child_id]}}
        events = [("disclosure", "searchChildren.summary", [child_id], [caller.agency])]
        if locate:
            events.append(("consultation", "searchChildren.locate", [child_id], []))
    assert body == {"data": {"searchChildren": {"nodes": [hit]}}}
    assert await _events_to(matrix, subject) == events


def test_the_search_cells_cover_each_kind_of_hit() -> None:
    def outcome(label: str, child: str) -> str:
        c = next(x for x in CALLERS if x.label == label)
        if "child:read" not in c.effective:
            return "forbidden"
        if child in CHILDREN_VISIBLE_TO[c.agency]:
            return "full"
        return "locate" if child in MISSING_NOW and c.agency in POLICE else "summary"

    assert outcome("kent-police-investigator", "AM-XF") == "full"  # area basis
    assert outcome("staffs-police-investigator", "AM-XF") == "full"  # open investigation
    assert outcome("gmp-call-handler", "AM-XF") == "locate"  # missing now, no other basis
    assert outcome("kent-cc-la-missing-lead", "AM-XF") == "summary"  # not police: no locate id
    assert outcome("kent-police-investigator", "AM-UN") == "summary"  # flagged by another LA
    assert outcome("nca-investigator", "AM-UN") == "full"
    assert outcome("kent-cc-analyst", "AM-OWN") == "forbidden"
    assert ACTIVE_FLAGS["AM-UN"] == [{"type": "cce_county_lines", "raisedBy": HARINGEY}]


# --- coMissing: the linked child in full or in summary form -------------------------------------

CO_MISSING_Q = """query($id: ID!) { coMissing(childId: $id, asOf: "2026-06-01T00:00:00Z") { child { id }
  nodes { toChild { id } toSummary { pseudonym activeFlags { type raisedBy } } explicit } } }"""
# child -> [(linked child, the episode recording the link)]: the scenario's one WITH_CHILD, both ways.
CO_MISSING = {"AM-OWN": [("AM-UN", "AM-OWN-E1")], "AM-UN": [("AM-OWN", "AM-OWN-E1")]}
# A token narrowed to intel:read without child:read (kent-police-investigator-no-read) is refused:
# the link queries name children, so they need both scopes.
CO_MISSING_CELLS = [pytest.param(c, r, id=f"{c.label}-{r}") for c in CALLERS for r in [*EPISODES, MISSING_CHILD]]


@pytest.mark.parametrize(("caller", "child_id"), CO_MISSING_CELLS)
async def test_co_missing(live_server, matrix, caller: Caller, child_id: str) -> None:  # type: ignore[no-untyped-def]
    """Needs child:read and intel:read. A linked child the caller may not read is there in summary
    form (its flags, no names, no id), disclosed to the caller's agency; the evidence episode is
    consulted only when the caller may open it."""
    body, subject = _call(live_server, caller, "coMissing", child_id, CO_MISSING_Q)
    if not {"child:read", "intel:read"} <= caller.effective:
        _forbidden(body, "coMissing")
        assert await _events_of(matrix, subject) == []
        return
    if child_id not in CHILDREN_VISIBLE_TO[caller.agency]:
        absent = _absent(live_server, caller, "coMissing", MISSING_CHILD, CO_MISSING_Q)
        assert body == absent == {"data": {"coMissing": None}}
        assert await _events_of(matrix, subject) == []
        return
    visible, nodes, consulted, summaries = CHILDREN_VISIBLE_TO[caller.agency], [], {child_id}, []
    for other, episode in CO_MISSING.get(child_id, []):
        nodes.append({"toChild": {"id": other} if other in visible else None, "explicit": True,
                      "toSummary": {"pseudonym": f"P-{other}", "activeFlags": ACTIVE_FLAGS[other]}})
        consulted |= {episode} & EPISODES_VISIBLE_TO[caller.agency]
        if other in visible:
            consulted.add(other)
        else:
            summaries.append(other)
    assert body == {"data": {"coMissing": {"child": {"id": child_id}, "nodes": nodes}}}
    events = [("consultation", "coMissing", sorted(consulted), [])]
    if summaries:
        events.append(("disclosure", "coMissing.summary", summaries, [caller.agency]))
    assert await _events_to(matrix, subject) == events


def test_the_co_missing_cells_cover_each_kind_of_link() -> None:
    readers = {a for a, children in CHILDREN_VISIBLE_TO.items() if "AM-OWN" in children}
    assert {a for a in readers if "AM-UN" in CHILDREN_VISIBLE_TO[a]} == {NCA}  # both in full
    assert {KP, KCC} <= readers  # AM-UN in summary form, with Haringey's flag
    assert "AM-OWN-E1" not in EPISODES_VISIBLE_TO[HARINGEY]  # AM-UN's reader: AM-OWN in summary, no episode id


# --- mutations ---------------------------------------------------------------------------------

RAISE_FLAG = """mutation($input: RaiseFlagInput!, $key: String!) {
  raiseFlag(input: $input, idempotencyKey: $key) { flagId childId status } }"""
FLAG_WRITERS = {"investigator", "missing_coordinator", "la_missing_lead"}  # roles granted flag:write


def _mutation_cells() -> list[Any]:
    callers = [c for c in CALLERS if c.role in FLAG_WRITERS or c.label in (
        "kent-police-call-handler", "kent-police-analyst", "rhi-provider-practitioner", "ofsted-auditor")]
    return [pytest.param(c, r, id=f"{c.label}-{r}") for c in callers for r in [*EPISODES, MISSING_CHILD]]


@pytest.mark.parametrize(("caller", "child_id"), _mutation_cells())
async def test_raise_flag(live_server, matrix, caller: Caller, child_id: str) -> None:  # type: ignore[no-untyped-def]
    """A write names a child by id: one you may not see is NOT_FOUND with the same message as one
    that does not exist; without flag:write it is FORBIDDEN; nothing is written either way."""
    scopes = set(caller.scopes) if caller.scopes is not None else (
        {"flag:write"} if caller.role in FLAG_WRITERS else set())
    subject = _subject(caller, "raiseFlag", child_id)
    token = live_server.token(caller.agency, caller.role, list(caller.scopes) if caller.scopes is not None else None,
                              subject=subject)
    flag_id = f"AM-FLAG-{caller.label}-{child_id}"

    def raise_on(target: str) -> dict[str, Any]:
        variables = {"key": f"am-{caller.label}-{target}",
                     "input": {"flagId": flag_id, "childId": target, "type": "cse",
                               "raisedAt": "2026-03-10T10:00:00Z", "note": "matrix"}}
        return live_server.graphql(RAISE_FLAG, variables, token=token, purpose="access matrix test").json()

    body = raise_on(child_id)
    flags = await matrix.read("MATCH (f:Flag {id: $id}) RETURN f.id AS id", {"id": flag_id})
    if "flag:write" not in scopes:
        assert body["data"] is None and [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        assert flags == [] and await _events_of(matrix, subject) == []
        return
    if child_id not in CHILDREN_VISIBLE_TO[caller.agency]:
        absent = raise_on(MISSING_CHILD)
        assert body["data"] is None and absent["data"] is None
        assert [(e["message"], e["extensions"]) for e in body["errors"]] == \
               [(e["message"], e["extensions"]) for e in absent["errors"]]
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert flags == [] and await _events_of(matrix, subject) == []
        return
    assert body == {"data": {"raiseFlag": {"flagId": flag_id, "childId": child_id, "status": "active"}}}
    assert flags == [{"id": flag_id}]
    events = await _events_of(matrix, subject)
    assert len(events) == 1 and events[0][0] == "collection" and events[0][1] == "raiseFlag"
    assert child_id in events[0][2] and flag_id in events[0][2]


# --- registerChild: who may register whom, and who then reads it ------------------------------

REGISTER_CHILD = """mutation($input: RegisterChildInput!, $key: String!) {
  registerChild(input: $input, idempotencyKey: $key) { childId created candidates { matchedOn } } }"""
REGISTERED_Q = "query($id: ID!) { child(id: $id) { id givenName familyName dateOfBirth responsibleAuthority } }"
LAS = {KCC, STOKE, HARINGEY}
ANOTHER_LA = {KCC: STOKE, STOKE: HARINGEY, HARINGEY: KCC}
# A reader (child:read) in the registering agency, and one in another agency of the same kind.
SAME_AGENCY_READER = {KP: "kent-police-investigator", SP: "staffs-police-investigator", GMP: "gmp-investigator",
                      NCA: "nca-investigator", KCC: "kent-cc-la-missing-lead", STOKE: "stoke-la-missing-lead",
                      HARINGEY: "haringey-la-missing-lead"}
OTHER_AGENCY_READER = {KP: "staffs-police-investigator", SP: "kent-police-investigator",
                       GMP: "kent-police-investigator", NCA: "kent-police-investigator",
                       KCC: "stoke-la-missing-lead", STOKE: "haringey-la-missing-lead",
                       HARINGEY: "kent-cc-la-missing-lead"}


# Family names no two of which the record-linkage model would take for one (Jaro-Winkler < 0.75).
REGISTER_FAMILY_NAMES = (
    "Enrolee Bakshi Castellanos Dobrev Eriksen Fitzgerald Gallagher Hakimi Ibekwe Jankowski Kaczmarek Lindqvist "
    "Mwangi Nakamura Oyelaran Petrovic Quaresma Rasmussen Szabo Trinh Umarov Valdivia Whitcombe Xhaka Yamamoto "
    "Zielinski Achterberg Bramwell").split()


def _register_cells() -> list[Any]:
    """LAs register a child looked after by themselves or by another LA; everyone else with no LA
    fields. Each cell gets its own date of birth and family name, so no cell's child is another's
    duplicate candidate (a date of birth one character apart, with the same names, would be)."""
    cells = []
    for c in CALLERS:
        for target in (("self", "another-la") if c.agency in LAS else ("no-la",)):
            dob = f"2014-{len(cells) // 28 + 1:02d}-{len(cells) % 28 + 1:02d}"
            cells.append(pytest.param(c, target, dob, REGISTER_FAMILY_NAMES[len(cells)], id=f"{c.label}-{target}"))
    return cells


def _by_label(label: str) -> Caller:
    return next(c for c in CALLERS if c.label == label)


@pytest.mark.parametrize(("caller", "target", "dob", "family"), _register_cells())
async def test_register_child(live_server, matrix, caller: Caller, target: str, dob: str, family: str) -> None:  # type: ignore[no-untyped-def]
    """placement:write or episode:write. An LA registers the children it looks after (lookedAfterBy
    another LA: FORBIDDEN on that field); a force (or the national unit) becomes the recording
    agency, which reads the record; another agency of the same kind reads it as a nonexistent id."""
    child_id = f"AM-REG-{caller.label}-{target}"
    subject = _subject(caller, "registerChild", child_id)
    token = live_server.token(caller.agency, caller.role, list(caller.scopes) if caller.scopes is not None else None,
                              subject=subject)
    inp: dict[str, Any] = {"id": child_id, "givenName": "Regan", "familyName": family, "dateOfBirth": dob}
    if target == "self":
        inp["lookedAfterBy"] = caller.agency
    elif target == "another-la":
        inp["lookedAfterBy"] = ANOTHER_LA[caller.agency]
    body = live_server.graphql(REGISTER_CHILD, {"input": inp, "key": f"am-reg-{caller.label}-{target}"},
                               token=token, purpose="access matrix test").json()
    stored = await matrix.read("MATCH (c:Child {id: $id}) RETURN c.recordedBy AS by, c.accessAgencies AS access",
                               {"id": child_id})
    if not caller.effective & {"placement:write", "episode:write"}:
        _forbidden(body, "registerChild", nullable=False)
        assert stored == [] and await _events_of(matrix, subject) == []
        return
    if target == "another-la":
        assert body["data"] is None
        assert [e["extensions"] for e in body["errors"]] == [{"code": "FORBIDDEN", "field": "input.lookedAfterBy"}]
        assert stored == [] and await _events_of(matrix, subject) == []
        return
    assert body == {"data": {"registerChild": {"childId": child_id, "created": True, "candidates": []}}}
    assert stored == [{"by": caller.agency, "access": [caller.agency]}]
    assert await _events_of(matrix, subject) == [("collection", "registerChild", [child_id])]

    reader = _by_label(SAME_AGENCY_READER[caller.agency])
    own, own_subject = _call(live_server, reader, "child.registered", child_id, REGISTERED_Q)
    assert own == {"data": {"child": {"id": child_id, "givenName": "Regan", "familyName": family,
                                      "dateOfBirth": dob, "responsibleAuthority": inp.get("lookedAfterBy")}}}
    assert await _events_of(matrix, own_subject) == [("consultation", "child", [child_id])]
    other = _by_label(OTHER_AGENCY_READER[caller.agency])
    theirs, their_subject = _call(live_server, other, "child.registered", child_id, REGISTERED_Q)
    absent = _absent(live_server, other, "child.registered", MISSING_CHILD, REGISTERED_Q)
    assert theirs == absent == {"data": {"child": None}}
    assert await _events_of(matrix, their_subject) == []


def test_every_scenario_record_is_named_in_the_expectations() -> None:
    """Guard against a scenario record nobody's expectations cover."""
    covered = set(EPISODES) | set(CHILD_OF) | {"AM-AUD", "AM-AUD-E1", "AM-OOA-P", "AM-RES-HOME", *INTERVIEWS,
                                               *SCENARIO_FLAGS}
    assert covered == set(ALL_SCENARIO_IDS)
    for agency, children in CHILDREN_VISIBLE_TO.items():
        for e in EPISODES_VISIBLE_TO[agency]:
            assert CHILD_OF[e] in children, (agency, e)


# --- access follows identity (issue 12: a confirmed merge widens access, an unmerge narrows it) ------
# Two records of one child: AMD-A is Kent CC's looked-after child with a Kent Police episode; AMD-B
# is the same child as Staffordshire Police recorded it (recording agency, one Staffordshire
# episode). Created and removed by the test itself, so the matrix above is untouched.
DUP_SCENARIO = """
MATCH (kp:Force {code: $kp}), (sp:Force {code: $sp}), (kcc:LocalAuthority {code: $kcc})
CREATE (a:Child {id: 'AMD-A', pseudonym: 'P-AMD-A', givenName: 'Dupa', familyName: 'Matrix', sex: 'F',
        dateOfBirth: date('2011-03-03'), lookedAfter: true, recordedBy: $kcc})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (a)-[:HAD]->(:Episode {id: 'AMD-A-E1', status: 'closed', reportedAt: datetime('2026-05-01T20:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (b:Child {id: 'AMD-B', pseudonym: 'P-AMD-B', givenName: 'Dupa', familyName: 'Matrics', sex: 'F',
        dateOfBirth: date('2011-03-03'), lookedAfter: false, recordedBy: $sp})
CREATE (b)-[:HAD]->(:Episode {id: 'AMD-B-E1', status: 'closed', reportedAt: datetime('2026-06-01T20:00:00Z')})-[:REPORTED_TO]->(sp)
CREATE (a)-[:POSSIBLY_SAME_AS {id: 'psa-amd', matchProbability: 0.99, matchWeight: 9.0, modelVersion: 'child-v1',
        reasons: '[]', status: 'proposed', proposedAt: datetime('2026-11-01T00:00:00Z'), proposedBy: 'mpdb resolve'}]->(b)
"""
DECIDE_Q = """mutation($input: %s!, $key: String!) { %s(input: $input, idempotencyKey: $key) { status } }"""

# (caller label) -> (records it reads, episodes it reads) at each stage.
DUP_BEFORE = {"kent-cc-la-missing-lead": ({"AMD-A"}, {"AMD-A-E1"}),
              "kent-police-investigator": ({"AMD-A"}, {"AMD-A-E1"}),
              "staffs-police-investigator": ({"AMD-B"}, {"AMD-B-E1"}),
              "haringey-la-missing-lead": (set(), set())}
DUP_MERGED = {
    # The responsible LA's basis covers the whole identity: both records, every episode.
    "kent-cc-la-missing-lead": ({"AMD-A", "AMD-B"}, {"AMD-A-E1", "AMD-B-E1"}),
    # Area bases reach the other record, but episodes stay per area (EPISODE_VISIBLE).
    "kent-police-investigator": ({"AMD-A", "AMD-B"}, {"AMD-A-E1"}),
    "staffs-police-investigator": ({"AMD-A", "AMD-B"}, {"AMD-B-E1"}),
    "haringey-la-missing-lead": (set(), set()),
}


def _dup_reads(live_server, caller: Caller, stage: str) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    children, episodes = set(), set()
    for cid in ("AMD-A", "AMD-B"):
        body, _ = _call(live_server, caller, f"dup-{stage}", cid, CHILD_EPISODES_Q)
        if body["data"]["child"] is None:
            assert body == _absent(live_server, caller, "dup-child", MISSING_CHILD, CHILD_EPISODES_Q)
            continue
        children.add(cid)
        episodes |= {e["id"] for e in body["data"]["child"]["episodes"]["nodes"]}
    return children, episodes


async def test_access_follows_a_confirmed_identity(live_server, matrix) -> None:  # type: ignore[no-untyped-def]
    await matrix.write("MATCH (n) WHERE n.id STARTS WITH 'AMD-' DETACH DELETE n", {})
    await matrix.write(DUP_SCENARIO, {"kp": KP, "sp": SP, "kcc": KCC})
    await matrix.write(REFRESH_ACCESS, {"childIds": ["AMD-A", "AMD-B"]})
    nca = live_server.token(NCA, "investigator")
    try:
        for label, expected in DUP_BEFORE.items():
            assert _dup_reads(live_server, _by_label(label), "before") == expected, label
        body = live_server.graphql(DECIDE_Q % ("ConfirmIdentityCandidateInput", "confirmIdentityCandidate"),
                                   {"input": {"candidateId": "psa-amd"}, "key": "amd-confirm-1"}, token=nca)
        assert body.json() == {"data": {"confirmIdentityCandidate": {"status": "CONFIRMED"}}}
        for label, expected in DUP_MERGED.items():
            assert _dup_reads(live_server, _by_label(label), "merged") == expected, label
        body = live_server.graphql(DECIDE_Q % ("UnmergeIdentityInput", "unmergeIdentity"),
                                   {"input": {"candidateId": "psa-amd", "reason": "two children"},
                                    "key": "amd-unmerge-1"}, token=nca)
        assert body.json() == {"data": {"unmergeIdentity": {"status": "UNMERGED"}}}
        for label, expected in DUP_BEFORE.items():
            assert _dup_reads(live_server, _by_label(label), "unmerged") == expected, label
    finally:
        await matrix.write("MATCH (n) WHERE n.id STARTS WITH 'AMD-' DETACH DELETE n", {})
