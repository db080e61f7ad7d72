"""matchedOn at entry names the caller's own fields that agreed: a home level counts for
home.postcode, a "recorded in one police area" level (the agencies, not the homes) does not."""

from __future__ import annotations

import pytest

from mpdb.resolution.explain import MatchReason
from mpdb.resolution.splink_settings import AREA_FAR_ONE, AREA_NOHOME_ONE, SAME_HOME
from mpdb.services.entry_match import Match, matched_on

TYPED = {"givenName": "Olivr", "familyName": "Smith", "dateOfBirth": "2013-04-21", "sex": "M", "postcode": "ME14 1"}


def match(level: str, weight: float) -> Match:
    return Match("C-1", 0.9, 3.0, [MatchReason("dob", "Exact match", 6.0), MatchReason("postcode", level, weight)])


def test_the_same_home_is_a_matched_postcode() -> None:
    assert matched_on(TYPED, match(SAME_HOME, 17.5), False) == ["dateOfBirth", "home.postcode"]


@pytest.mark.parametrize("level", [AREA_FAR_ONE, AREA_NOHOME_ONE])
def test_one_recording_area_is_not_a_matched_postcode(level: str) -> None:
    assert matched_on(TYPED, match(level, 1.6), False) == ["dateOfBirth"]
