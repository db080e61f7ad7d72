"""Validated write commands: what each mutation (and the bulk importer) may ask for.

Pydantic v2 models with `extra="forbid"`; `parse_command` turns a plain dict (snake_case keys, as
the GraphQL layer or an import row produce) into a model, or raises `InvalidInput` whose `field`
is the camelCase input path (e.g. `input.riskAssessment.grade`). Checks that need no graph live
here; rules that need graph facts (flags, open episodes, who the child is) live in rules.py and
run in the service, inside the write transaction.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from mpdb.domain.errors import InvalidInput
from mpdb.domain import values
from mpdb.domain.grading import SCHEME_GRADES

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80,
                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(?:[EWSN]\d{8}|BTP)$")]
# Text rules shared with the importers (mpdb/domain/values.py): caps per kind, no control
# characters (free text may hold tabs and line breaks).
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=values.SHORT_TEXT_MAX),
                 AfterValidator(values.text_rule(values.SHORT_TEXT))]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=values.FREE_TEXT_MAX),
                     AfterValidator(values.text_rule(values.FREE_TEXT))]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=values.REFERENCE_MAX),
                      AfterValidator(values.text_rule(values.REFERENCE))]
# When something happened: not before 1900, not in the future (beyond a little clock skew).
Moment = Annotated[AwareDatetime, AfterValidator(values.datetime_rule())]
# A date in the past (a date of birth, "since"), or one that may be planned ahead (due, start, end).
PastDate = Annotated[date, AfterValidator(values.date_rule())]
PlannedDate = Annotated[date, AfterValidator(values.date_rule(future_ok=True))]
IdempotencyKey = Annotated[str, StringConstraints(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]

ReporterType = Literal["carer", "parent", "childrens_home", "school", "police", "other"]
LocationKind = Literal["residence", "childrens_home", "foster_home", "semi_independent", "secure_unit",
                       "public_place", "transport_hub", "retail", "park", "address", "other"]
PersonRole = Literal["adult_of_concern", "peer", "family", "other"]
FlagType = Literal["cse", "cce_county_lines", "trafficking", "gang", "mental_health", "self_harm",
                   "substance_misuse", "unaccompanied", "other"]
EstablishmentKind = Literal["childrens_home", "foster_agency", "semi_independent", "secure_unit",
                            "residential_school"]
# SSDA903 PLACE codes (DfE CLA census guidance, 2023-24).
PlacementType = Literal["A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3",
                        "R5", "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6",
                        "Z1"]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PlaceInput(Command):
    """An existing Location by id, or a new place: a point (LA and force resolved from it: the
    nearest LA centroid among the LAs of the force area) and/or explicit laCode + forceCode."""
    location_id: Id | None = None
    name: Text | None = None
    kind: LocationKind = "other"
    latitude: float | None = Field(default=None, ge=49.0, le=61.5)
    longitude: float | None = Field(default=None, ge=-8.7, le=2.1)
    la_code: Code | None = None
    force_code: Code | None = None
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{1,2}\d[A-Z\d]? ?\d?$")] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PlaceInput:
        new_fields = (self.name, self.latitude, self.longitude, self.la_code, self.force_code, self.postcode)
        if self.location_id is not None:
            if any(v is not None for v in new_fields):
                raise ValueError("give either locationId or the fields of a new place, not both")
            return self
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        if self.latitude is None and (self.la_code is None or self.force_code is None):
            raise ValueError("a new place needs latitude and longitude, or both laCode and forceCode")
        return self


class RiskAssessmentInput(Command):
    scheme: Literal["2013", "2017"]
    grade: Reference
    reason: LongText | None = None

    @model_validator(mode="after")
    def _grade_in_scheme(self) -> RiskAssessmentInput:
        if self.grade not in SCHEME_GRADES[self.scheme]:
            raise _FieldError("grade", f"grade {self.grade!r} does not belong to scheme {self.scheme}: "
                                       f"use one of {', '.join(SCHEME_GRADES[self.scheme])}")
        return self


class NewPersonInput(Command):
    id: Id = Field(description="Client-generated id (e.g. a UUID): makes retries and concurrent reports safe.")
    name: Text
    role: PersonRole
    date_of_birth: PastDate | None = None
    notes: LongText | None = None


class CompanionsInput(Command):
    child_ids: list[Id] = Field(default_factory=list, max_length=50)
    person_ids: list[Id] = Field(default_factory=list, max_length=50)
    new_persons: list[NewPersonInput] = Field(default_factory=list, max_length=50)

    @property
    def empty(self) -> bool:
        return not (self.child_ids or self.person_ids or self.new_persons)


class NewChildInput(Command):
    id: Id | None = Field(default=None, description="Client-generated id; or give lacRefLa + lacChildRef.")
    given_name: Text | None = None
    family_name: Text | None = None
    date_of_birth: PastDate | None = None
    sex: Literal["F", "M", "U"] = "U"
    ethnicity: Annotated[str, StringConstraints(pattern=r"^[A-Z]{4}$")] | None = None
    lac_ref_la: Code | None = None
    lac_child_ref: Reference | None = None
    looked_after_by: Code | None = None
    unaccompanied: bool = False
    home: PlaceInput | None = None

    @model_validator(mode="after")
    def _key(self) -> NewChildInput:
        if (self.lac_ref_la is None) != (self.lac_child_ref is None):
            raise ValueError("lacRefLa and lacChildRef go together")
        if self.id is None and self.lac_ref_la is None:
            raise ValueError("a new child needs a client-generated id, or lacRefLa + lacChildRef")
        return self

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, v: date | None) -> date | None:
        if v is not None and not (date(1990, 1, 1) <= v <= date.today()):
            raise ValueError("dateOfBirth is not plausible for a child")
        return v


class ReportMissing(Command):
    child_id: Id | None = None
    new_child: NewChildInput | None = None
    reporting_force: Code | None = Field(default=None, description="Defaults to the caller's force.")
    reporter_type: ReporterType
    reported_at: Moment
    last_seen_at: Moment | None = None
    last_seen_place: PlaceInput | None = None
    missing_from_placement_id: Id | None = None
    missing_from_place: PlaceInput | None = None
    whereabouts_known: bool = False
    consent: bool = False
    companions: CompanionsInput = Field(default_factory=CompanionsInput)
    risk_assessment: RiskAssessmentInput

    @model_validator(mode="after")
    def _shape(self) -> ReportMissing:
        if (self.child_id is None) == (self.new_child is None):
            raise ValueError("give exactly one of childId (an existing child) and newChild")
        if self.missing_from_placement_id is None and self.missing_from_place is None:
            raise ValueError("give missingFromPlacementId or missingFromPlace")
        return self


class RegisterChild(NewChildInput):
    """A child known to an agency before any episode: a looked-after child, a child living in the
    LA's area, a child a force deals with. Checked for likely duplicates first (registerChild)."""
    create_despite_candidates: bool = Field(default=False, description=(
        "Create the child even though likely existing records were returned as candidates."))


class ReportMissingTogether(Command):
    """Several children reported missing together: one report each, every pair linked both ways."""
    children: list[ReportMissing] = Field(min_length=2, max_length=20)


class Sighting(Command):
    at: Moment
    place: PlaceInput


class UpdateEpisode(Command):
    episode_id: Id
    went_to: list[Sighting] = Field(default_factory=list, max_length=50)
    companions: CompanionsInput = Field(default_factory=CompanionsInput)
    risk_assessment: RiskAssessmentInput | None = None
    whereabouts_known: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateEpisode:
        if not self.went_to and self.companions.empty and self.risk_assessment is None \
                and self.whereabouts_known is None:
            raise ValueError("nothing to update: give wentTo, companions, riskAssessment or whereaboutsKnown")
        return self


class RecordFound(Command):
    episode_id: Id
    found_at: Moment
    found_place: PlaceInput
    found_by_force: Code | None = Field(default=None, description="Defaults to the caller's force.")
    companions: CompanionsInput = Field(default_factory=CompanionsInput)


class RecordReturn(Command):
    episode_id: Id
    returned_at: Moment
    returned_to_placement_id: Id | None = None
    returned_to_place: PlaceInput | None = None

    @model_validator(mode="after")
    def _where(self) -> RecordReturn:
        if self.returned_to_placement_id is not None and self.returned_to_place is not None:
            raise ValueError("give returnedToPlacementId or returnedToPlace, not both")
        return self


class RecordReturnInterview(Command):
    episode_id: Id
    status: Literal["offered", "declined", "completed", "not_offered"]
    offered_at: Moment | None = None
    completed_at: Moment | None = None
    declined_at: Moment | None = None
    provider_agency_id: Id | None = Field(default=None, description="Defaults to the caller's agency.")
    confidential_account: LongText | None = None
    summary_places: list[Text] = Field(default_factory=list, max_length=50)
    summary_people: list[Text] = Field(default_factory=list, max_length=50)
    summary_with: list[Text] = Field(default_factory=list, max_length=50)
    summary_risk_types: list[FlagType] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _dates(self) -> RecordReturnInterview:
        if self.status in ("offered", "declined", "completed") and self.offered_at is None:
            raise _FieldError("offeredAt", f"a {self.status} interview needs offeredAt")
        if self.status == "completed" and self.completed_at is None:
            raise _FieldError("completedAt", "a completed interview needs completedAt")
        if self.status != "completed" and self.completed_at is not None:
            raise _FieldError("completedAt", "completedAt is only for a completed interview")
        if self.status == "declined" and self.declined_at is None:
            raise _FieldError("declinedAt", "a declined interview needs declinedAt")
        if self.status != "completed" and (self.confidential_account or self.summary_places or self.summary_people
                                           or self.summary_with or self.summary_risk_types):
            raise _FieldError("confidentialAccount", "the account and summary belong to a completed interview")
        if self.offered_at and self.completed_at and self.completed_at < self.offered_at:
            raise _FieldError("completedAt", "completedAt is before offeredAt")
        if self.offered_at and self.declined_at and self.declined_at < self.offered_at:
            raise _FieldError("declinedAt", "declinedAt is before offeredAt")
        return self


class EstablishmentInput(Command):
    id: Id | None = None
    urn: Annotated[str, StringConstraints(pattern=r"^(SC|EY)?\d{6,7}$")] | None = None
    name: Text | None = None
    kind: EstablishmentKind | None = None

    @model_validator(mode="after")
    def _new(self) -> EstablishmentInput:
        if self.id is None:
            raise ValueError("an establishment needs an id (an existing one, or a client-generated one for a new one)")
        return self


class StartPlacement(Command):
    placement_id: Id = Field(description="Client-generated id of the new placement.")
    child_id: Id
    placing_la: Code | None = Field(default=None, description="Defaults to the caller's LA.")
    start_date: PlannedDate | None = Field(default=None, description="Defaults to today (UK).")
    end_date: PlannedDate | None = None
    placement_type: PlacementType
    place: PlaceInput
    establishment: EstablishmentInput | None = None
    dcs_approved: bool | None = None
    notify_sent: bool = Field(default=False, description="The placing LA has sent the host notifications now.")

    @model_validator(mode="after")
    def _dates(self) -> StartPlacement:
        if self.end_date is not None and self.start_date is not None and self.end_date < self.start_date:
            raise _FieldError("endDate", "endDate is before startDate")
        return self


class EndPlacement(Command):
    placement_id: Id
    end_date: PlannedDate


class AcknowledgeNotification(Command):
    notification_id: Id


class MarkNotificationSent(Command):
    notification_id: Id
    sent_at: Moment


class RaiseFlag(Command):
    flag_id: Id = Field(description="Client-generated id of the new flag.")
    child_id: Id
    type: FlagType
    raised_at: Moment
    review_due: PlannedDate | None = None
    note: LongText | None = None


class ReviewFlag(Command):
    flag_id: Id
    reviewed_at: Moment
    next_review_due: PlannedDate | None = None
    note: LongText | None = None


class ExpireFlag(Command):
    flag_id: Id
    expired_at: Moment
    note: LongText | None = None


class LinkAssociate(Command):
    child_id: Id
    person_id: Id | None = None
    new_person: NewPersonInput | None = None
    kind: PersonRole
    since: PastDate | None = None

    @model_validator(mode="after")
    def _one(self) -> LinkAssociate:
        if (self.person_id is None) == (self.new_person is None):
            raise ValueError("give exactly one of personId and newPerson")
        return self


class _FieldError(ValueError):
    """Raised inside a model validator to point at one field rather than the whole model."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


C = TypeVar("C", bound=Command)


def _path(prefix: str, loc: tuple[Any, ...]) -> str:
    parts = [prefix]
    for p in loc:
        parts.append(f"[{p}]" if isinstance(p, int) else "." + to_camel(str(p)))
    return "".join(parts).replace(".[", "[")


def parse_command(model: type[C], data: dict[str, Any], *, prefix: str = "input") -> C:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))  # drop union tags
        ctx_err = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_err, _FieldError):
            raise InvalidInput(ctx_err.message, field=_path(prefix, loc) + "." + ctx_err.field) from None
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        path = _path(prefix, loc)
        raise InvalidInput(f"{path}: {message}", field=path) from None


def camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
