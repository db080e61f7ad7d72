"""Row -> view conversion of linked children shown in summary form (issue 8): what a caller who
may not read a linked child gets, decided from the `visible` flags the Cypher sets."""

from __future__ import annotations

from datetime import UTC, date, datetime

import strawberry

from mpdb.api.types.intel_links import (
    ChildSummary,
    CoMissingLink,
    EvidenceEpisode,
    FlagSummary,
    LinkedChildRef,
    LinkPlace,
    risk_profile_from,
)
from mpdb.intel.associates import SharedAssociate
from mpdb.intel.co_missing import Evidence, Link, links_from_rows, strength
from mpdb.intel.risk_profile import _peers

AS_OF = datetime(2019, 12, 31, tzinfo=UTC)
T1 = datetime(2019, 6, 1, 12, tzinfo=UTC)
T2 = datetime(2019, 6, 2, 12, tzinfo=UTC)
FLAG = {"type": "cse", "raisedBy": "E23000031", "raisedAt": datetime(2019, 4, 20, 10, tzinfo=UTC)}
HIDDEN = {"id": "CH-2", "pseudonym": "P-2", "dateOfBirth": date(2004, 4, 1), "lookedAfter": True, "visible": False,
          "givenName": None, "familyName": None, "sex": None, "responsibleAuthority": "E10000030",
          "activeFlags": [FLAG]}
SUMMARY = ChildSummary(pseudonym="P-2", age_band="15-17", responsible_authority="E10000030",
                       active_flags=[FlagSummary(type="cse", raised_by="E23000031", raised_at=FLAG["raisedAt"])])


def test_a_child_flagged_invisible_has_no_reference_only_its_summary() -> None:
    assert LinkedChildRef.if_visible(HIDDEN, AS_OF) is None
    assert ChildSummary.from_row(HIDDEN, AS_OF) == SUMMARY
    shown = {**HIDDEN, "visible": True, "givenName": "Xan"}
    ref = LinkedChildRef.if_visible(shown, AS_OF)
    assert ref is not None and (ref.id, ref.given_name) == ("CH-2", "Xan")
    # Rows without the flag (the root child, anchors) are children the caller reads.
    assert LinkedChildRef.if_visible({k: v for k, v in shown.items() if k != "visible"}, AS_OF) is not None


def test_co_missing_link_to_a_summary_child_hides_unopened_ids_and_private_place() -> None:
    mine = {"id": "EP-1", "childId": "CH-1", "reportedAt": T1, "endAt": T2, "status": "closed",
            "reportedTo": "E23000028", "foundBy": "E23000028", "visible": True}
    theirs = {"id": "EP-2", "childId": "CH-2", "reportedAt": T1, "endAt": T2, "status": "closed",
              "reportedTo": "E23000031", "foundBy": "E23000031", "visible": False}
    cell_only = {"id": None, "name": None, "kind": "residence", "laCode": "E06000033", "forceCode": "E23000028",
                 "cell": "g500:x", "latitude": None, "longitude": None}
    pier = {**cell_only, "id": "L-1", "name": "Pier", "kind": "public_place", "latitude": 51.5, "longitude": 0.7}
    rows = [{"fromId": "CH-1", "other": HIDDEN, "kind": "SAME_CELL", "source": "FOUND_AT/WENT_TO", "e1": mine,
             "e2": theirs, "places": [pier, cell_only], "person": None, "at": None},
            # the same incident seen through a second role pair merges into one item
            {"fromId": "CH-1", "other": HIDDEN, "kind": "SAME_CELL", "source": "FOUND_AT/FOUND_AT", "e1": mine,
             "e2": theirs, "places": [pier, cell_only], "person": None, "at": None}]
    [link] = links_from_rows(rows, AS_OF).values()
    link.from_child = {"id": "CH-1", "pseudonym": "P-1", "visible": True}
    assert link.summary_only and link.visible_episode_ids == {"EP-1"} and link.episode_ids == {"EP-1", "EP-2"}
    view = CoMissingLink.from_link(link, AS_OF)
    assert view.to_child is None and view.to_summary == SUMMARY
    [ev] = view.evidence
    assert ev.source == "FOUND_AT/FOUND_AT,FOUND_AT/WENT_TO"
    assert ev.places[1] == LinkPlace(id=None, name=None, kind="residence", la_code="E06000033",
                                     force_code="E23000028", cell="g500:x", latitude=None, longitude=None)
    assert [e.id for e in ev.episodes] == [strawberry.ID("EP-1"), None]
    assert ev.episodes[1] == EvidenceEpisode(id=None, child_id=None, reported_at=T1, ended_at=T2, status="closed",
                                             reported_to="E23000031", found_by="E23000031")


def test_peer_strength_counts_both_records_of_one_incident_once() -> None:
    links = [{"childId": "CH-2", "episodeId": "EP-1", "episodeOf": "CH-1", "source": "found", "at": T1, "endAt": T2,
              "visible": True, "force": "F1"},
             {"childId": "CH-2", "episodeId": "EP-2", "episodeOf": "CH-2", "source": "found", "at": T1, "endAt": T2,
              "visible": False, "force": "F2"}]
    [peer] = _peers(links, [{**HIDDEN, "id": "CH-2", "summary": HIDDEN}], AS_OF)
    assert peer["episodeCount"] == 2
    assert peer["strength"] == strength([Evidence("EXPLICIT", "found", [{"id": "EP-1", "reportedAt": T1,
                                                                        "endAt": T2}])], AS_OF)


def test_risk_profile_peer_in_summary_form_has_no_flags_ids_or_names() -> None:
    peer = {"child": {**HIDDEN, "flags": None, "summary": HIDDEN}, "episodeCount": 1, "lastTogether": T1,
            "strength": 0.5, "episodes": [
                {"episodeId": "EP-2", "episodeOf": "CH-2", "source": "found", "at": T1, "visible": False, "force": "F2"},
                {"episodeId": "EP-1", "episodeOf": "CH-1", "source": "found", "at": T1, "visible": True, "force": "F1"}]}
    profile = {"child": {"id": "CH-1", "pseudonym": "P-1"}, "asOf": AS_OF,
               "priorEpisodes": {"last90Days": 0, "last12Months": 0, "ever": 0, "lastReportedAt": None,
                                 "episodeIds": [], "byForce": []},
               "flags": [], "placements": [], "peers": [peer], "whereToLook": [], "returnInterviews": [],
               "triggers": [],
               "adults": [{"person": {"id": "PER-1", "name": "Adult", "role": "adult_of_concern"}, "otherChildren": 0,
                           "childrenByForce": [{"force": "F2", "children": 3}, {"force": None, "children": 1}],
                           "episodeCount": 0, "lastAt": None, "links": []}]}
    view = risk_profile_from(profile)
    [p] = view.peers
    assert p.child is None and p.summary == SUMMARY and p.active_flags is None and p.strength == 0.5
    assert [(e.episode_id, e.episode_of, e.force) for e in p.episodes] == [(None, None, "F2"), ("EP-1", "CH-1", "F1")]
    assert [(c.force, c.children) for c in view.adults[0].children_by_force] == [("F2", 3), (None, 1)]


def test_adult_counts_per_force_count_each_child_once_per_force() -> None:
    a = SharedAssociate(person={"id": "PER-1"}, forces=["F1", "F2"], children=[
        {"child": {"id": "C1"}, "forces": ["F1", "F2"], "links": []},
        {"child": {"id": "C2"}, "forces": ["F2"], "links": []},
        {"child": {"id": "C3"}, "forces": [], "links": []}])
    assert a.children_by_force == [{"force": "F2", "children": 2}, {"force": "F1", "children": 1}]


def test_link_without_visible_flag_is_not_summary_only() -> None:
    link = Link(from_child={"id": "CH-1"}, to_child={"id": "CH-2"}, evidence=[])
    assert not link.summary_only
