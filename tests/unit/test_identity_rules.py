"""Pure rules of identity review: the decision transitions, identity representatives for groups,
and the console's waterfall geometry."""

from __future__ import annotations

import pytest

from mpdb.console.routes.duplicates import waterfall
from mpdb.domain.errors import Conflict
from mpdb.domain.identity import check_transition
from mpdb.intel.co_missing import identity_entries, identity_representatives


@pytest.mark.parametrize(("decision", "status", "changes"), [
    ("confirm", "proposed", True), ("confirm", "confirmed", False),
    ("reject", "proposed", True), ("reject", "rejected", False),
    ("unmerge", "confirmed", True), ("unmerge", "unmerged", False),
    ("reopen", "rejected", True), ("reopen", "unmerged", True), ("reopen", "proposed", False),
])
def test_allowed_transitions(decision: str, status: str, changes: bool) -> None:
    assert check_transition(decision, status) is changes


@pytest.mark.parametrize(("decision", "status", "reason"), [
    ("confirm", "rejected", "CANDIDATE_DECIDED"), ("confirm", "unmerged", "CANDIDATE_DECIDED"),
    ("reject", "confirmed", "CANDIDATE_CONFIRMED"), ("reject", "unmerged", "CANDIDATE_DECIDED"),
    ("unmerge", "proposed", "NOT_MERGED"), ("unmerge", "rejected", "NOT_MERGED"),
    ("reopen", "confirmed", "CANDIDATE_CONFIRMED"),
])
def test_refused_transitions(decision: str, status: str, reason: str) -> None:
    with pytest.raises(Conflict) as exc:
        check_transition(decision, status)
    assert exc.value.extensions == {"code": "CONFLICT", "field": "input.candidateId", "reason": reason}


def test_identity_representatives_are_the_lowest_id_of_each_component() -> None:
    rep = identity_representatives([("C", "D"), ("B", "C"), ("X", "Y")])
    assert rep == {"B": "B", "C": "B", "D": "B", "X": "X", "Y": "X"}
    assert identity_representatives([]) == {}


def test_group_entries_name_identities_and_drop_self_links() -> None:
    entries = [{"row": "link", "child": "C", "other": "E"}, {"row": "link", "child": "B", "other": "D"},
               {"row": "place", "child": "D", "other": None}, {"row": "link", "child": "E", "other": "F"}]
    out = identity_entries(entries, [("B", "C"), ("C", "D")])
    assert out == [{"row": "link", "child": "B", "other": "E"}, {"row": "place", "child": "B", "other": None},
                   {"row": "link", "child": "E", "other": "F"}]
    assert identity_entries(entries, []) is entries  # nothing merged: untouched


def test_waterfall_bars_run_from_the_running_total() -> None:
    bars = waterfall([{"comparison": "family_name", "level": "exact", "matchWeight": 6.0},
                      {"comparison": "dob", "level": "swap", "matchWeight": 2.0},
                      {"comparison": "postcode", "level": "else", "matchWeight": -2.0}])
    # Running totals 0 -> 6 -> 8 -> 6 on a scale of 0..8.
    assert [(b.comparison, b.left_pct, b.width_pct, b.positive) for b in bars] == [
        ("family name", 0.0, 75.0, True), ("dob", 75.0, 25.0, True), ("postcode", 75.0, 25.0, False)]
    assert waterfall([]) == []
