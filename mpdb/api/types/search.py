"""GraphQL views of searchChildren and searchPersons (built from mpdb/services/search.py results)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from mpdb.api.pagination import PageInfo
from mpdb.api.types.intel_links import ChildSummary, LinkedChildRef
from mpdb.api.types.records import Child


@strawberry.enum(description="How a record's date of birth compares with the one searched for.")
class DateOfBirthMatch(Enum):
    EXACT = "EXACT"
    DAY_MONTH_SWAPPED = strawberry.enum_value(
        "DAY_MONTH_SWAPPED", description="Day and month exchanged (05/03 for 03/05), a common keying error.")
    DIFFERENT = "DIFFERENT"
    UNKNOWN = strawberry.enum_value("UNKNOWN", description="The record has no date of birth.")


SCORE_DOC = ("score = nameScore (0..1, the full-text score over the best one among all candidates; 0 without a "
             "name) + 1.0 for an exact date of birth or 0.6 for day and month swapped. Highest first, then by "
             "pseudonym (children) or id (persons).")


@strawberry.type(description="One searchChildren result: `child` when you may read the child in full, else "
                             "`summary` (pseudonym, age band, responsible LA, active flags; never names or id). "
                             + SCORE_DOC)
class ChildSearchHit:
    score: float
    name_score: float | None = strawberry.field(description="Null when no name was given.")
    date_of_birth_match: DateOfBirthMatch | None = strawberry.field(description="Null when no dateOfBirth was given.")
    reference_match: bool = strawberry.field(description="True when sourceRef was given (it must then match).")
    child: Child | None
    summary: ChildSummary | None
    missing_now_child_id: strawberry.ID | None = strawberry.field(description=(
        "Set on a summary hit when you are a police force and the child is missing now (an open episode): "
        "the id to open its locateProfile with and record a sighting or the finding (docs/ACCESS.md, locate "
        "basis). Null otherwise."))

    @classmethod
    def from_row(cls, r: dict[str, Any], as_of: datetime) -> ChildSearchHit:
        dob = r.get("dateOfBirthMatch")
        return cls(score=r["score"], name_score=r.get("nameScore"),
                   date_of_birth_match=DateOfBirthMatch(dob) if dob else None,
                   reference_match=bool(r.get("referenceMatch")),
                   child=Child.from_row(r["child"]) if r["visible"] else None,
                   summary=None if r["visible"] else ChildSummary.from_row(r["summary"], as_of),
                   missing_now_child_id=strawberry.ID(r["locateId"]) if r.get("locateId") else None)


@strawberry.type
class ChildSearchPage:
    nodes: list[ChildSearchHit]
    page_info: PageInfo


@strawberry.type(description="Linked children of a person whose links carry this force: the force an "
                             "episode with the person was reported to, or the force that recorded the association.")
class PersonForceCount:
    force_code: str
    children: int


@strawberry.type(description="One searchPersons result. Everyone who may search sees the person's id, name and "
                             "role (what linkAssociate needs to link the existing person instead of creating a "
                             "duplicate) and how many children are linked, per force; never the names of "
                             "children you may not read. The date of birth and your own linked children only "
                             "when you may read at least one linked child (knownToYou). " + SCORE_DOC)
class PersonSearchHit:
    id: strawberry.ID
    name: str | None
    role: str | None
    known_to_you: bool = strawberry.field(
        description="You may read a child linked to this person (or you are the national unit).")
    date_of_birth: date | None = strawberry.field(description="Null unless knownToYou.")
    score: float
    name_score: float
    date_of_birth_match: DateOfBirthMatch | None = strawberry.field(description="Null when no dateOfBirth was given.")
    linked_children: int = strawberry.field(description="Distinct children linked (ASSOCIATES_WITH or WITH_PERSON).")
    linked_children_by_force: list[PersonForceCount]
    your_children: list[LinkedChildRef] = strawberry.field(
        description="The linked children you may read (audited as consulted).")

    @classmethod
    def from_row(cls, r: dict[str, Any], as_of: datetime) -> PersonSearchHit:
        p, dob = r["person"], r.get("dateOfBirthMatch")
        return cls(id=strawberry.ID(p["id"]), name=p.get("name"), role=p.get("role"), known_to_you=r["known"],
                   date_of_birth=p.get("dateOfBirth"), score=r["score"], name_score=r["nameScore"],
                   date_of_birth_match=DateOfBirthMatch(dob) if dob else None,
                   linked_children=r["linkedChildren"],
                   linked_children_by_force=[PersonForceCount(force_code=f["forceCode"], children=f["children"])
                                             for f in r["byForce"]],
                   your_children=sorted((LinkedChildRef.from_row(c, as_of) for c in r["yourChildren"]),
                                        key=lambda c: c.pseudonym))


@strawberry.type
class PersonSearchPage:
    nodes: list[PersonSearchHit]
    page_info: PageInfo
