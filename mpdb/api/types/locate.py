"""The locate profile: what a force needs to find a missing child (docs/ACCESS.md, locate basis)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from mpdb.api.types.intel_links import FlagSummary
from mpdb.api.types.records import PlaceRef, _sensitive


@strawberry.enum(description="Why the caller may read this profile (docs/ACCESS.md).")
class AccessBasis(Enum):
    RECORD = strawberry.enum_value("record", description="The caller may read the child's record in full.")
    LOCATE = strawberry.enum_value("locate", description="Only the locate basis: the child is missing now and the "
                                                         "caller is a police force. Ends when the episode closes.")


@strawberry.type(description="An agency named in a profile.")
class AgencyName:
    code: str
    name: str | None


@strawberry.type(description="A sighting recorded on an open episode.")
class LocateSighting:
    at: datetime | None
    place: PlaceRef


@strawberry.type(description="An open episode: what the caller needs to record a sighting, the finding or the return.")
class LocateEpisode:
    id: strawberry.ID
    reported_at: datetime | None
    reported_to: str | None = strawberry.field(description="Force the episode is reported to (holds the investigation).")
    last_seen_at: datetime | None
    last_seen_place: PlaceRef | None
    missing_from_place: PlaceRef | None
    risk_grade: str | None
    grade_scheme: str | None
    category: str | None
    whereabouts_known: bool | None
    sightings: list[LocateSighting]


@strawberry.type(description="Where the child was found in an earlier episode.")
class FoundBefore:
    episode_id: strawberry.ID
    found_at: datetime | None
    found_by: str | None
    place: PlaceRef


def _place(r: dict[str, Any] | None) -> PlaceRef | None:
    return PlaceRef.from_row(r) if r else None


def _age(dob: date | None, today: date) -> int | None:
    if dob is None:
        return None
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


@strawberry.type(description="A child's locate profile: names, age, risk, active flags with the raising agency, last "
                             "seen, where found before, and the responsible LA. Readable by any police force while "
                             "the child is missing (an open episode), and by whoever may read the child in full.")
class LocateProfile:
    id: strawberry.ID
    pseudonym: str
    given_name: str | None
    family_name: str | None
    sex: str | None
    age: int | None = strawberry.field(description="Age in whole years today.")
    looked_after: bool | None
    unaccompanied: bool | None = strawberry.field(description="True: do not disclose where the child is placed to "
                                                             "enquirers before identity checks.")
    basis: AccessBasis
    responsible_authority: AgencyName | None = strawberry.field(description="The LA the child is looked after by: "
                                                                          "the agency to contact.")
    home_authority: AgencyName | None = strawberry.field(description="The LA the child lives in.")
    active_flags: list[FlagSummary]
    open_episodes: list[LocateEpisode]
    found_before: list[FoundBefore] = strawberry.field(description="Newest first, at most 20.")
    _date_of_birth: strawberry.Private[date | None]

    @strawberry.field(extensions=_sensitive(), description="Needs child:read:sensitive.")
    def date_of_birth(self) -> date | None:
        return self._date_of_birth

    @classmethod
    def from_row(cls, r: dict[str, Any], today: date) -> LocateProfile:
        def agency(a: dict[str, Any] | None) -> AgencyName | None:
            return AgencyName(code=a["code"], name=a.get("name")) if a else None

        return cls(
            id=strawberry.ID(r["id"]), pseudonym=r["pseudonym"], given_name=r.get("givenName"),
            family_name=r.get("familyName"), sex=r.get("sex"), age=_age(r.get("dateOfBirth"), today),
            looked_after=r.get("lookedAfter"), unaccompanied=r.get("unaccompanied"), basis=AccessBasis(r["basis"]),
            responsible_authority=agency(r.get("responsibleAuthority")), home_authority=agency(r.get("homeAuthority")),
            active_flags=[FlagSummary.from_row(f) for f in r["activeFlags"]],
            open_episodes=sorted(
                (LocateEpisode(
                    id=strawberry.ID(e["id"]), reported_at=e.get("reportedAt"), reported_to=e.get("reportedTo"),
                    last_seen_at=e.get("lastSeenAt"), last_seen_place=_place(e.get("lastSeenPlace")),
                    missing_from_place=_place(e.get("missingFromPlace")), risk_grade=e.get("riskGrade"),
                    grade_scheme=e.get("gradeScheme"), category=e.get("category"),
                    whereabouts_known=e.get("whereaboutsKnown"),
                    sightings=sorted((LocateSighting(at=s.get("at"), place=PlaceRef.from_row(s["place"]))
                                      for s in e["sightings"]), key=lambda s: (s.at is None, s.at)),
                ) for e in r["openEpisodes"]), key=lambda e: (e.reported_at is None, e.reported_at)),
            found_before=[FoundBefore(episode_id=strawberry.ID(f["episodeId"]), found_at=f.get("foundAt"),
                                      found_by=f.get("foundBy"), place=PlaceRef.from_row(f["place"]))
                          for f in r["foundBefore"]],
            _date_of_birth=r.get("dateOfBirth"),
        )
