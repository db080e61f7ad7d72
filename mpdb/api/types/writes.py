"""GraphQL inputs and payloads of the lifecycle mutations.

Inputs are thin: every value is validated by the domain commands (mpdb/domain/commands.py), so
an error names the input path (`extensions.field`, e.g. `input.riskAssessment.grade`) whichever
rule refused it. Enumerated values are Strings whose allowed values are listed in each
description, so a bad one is a BAD_USER_INPUT with its field rather than a schema error.
Payloads are built from the stored mutation result, so a retried mutation (same idempotency
key) returns an identical payload.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types.unset import UnsetType

from mpdb.api.types.identity import MatchReason
from mpdb.api.types.intel_links import ChildSummary, FlagSummary


def input_data(obj: Any) -> Any:
    """A strawberry input as plain data for the command models; unset and null fields are omitted."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if isinstance(v, UnsetType) or v is None:
                continue
            out[f.name] = input_data(v)
        return out
    if isinstance(obj, list):
        return [input_data(v) for v in obj]
    return obj


def _dt(v: Any) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def _d(v: Any) -> date | None:
    return date.fromisoformat(v) if v else None


# --- inputs ----------------------------------------------------------------------------------

@strawberry.input(description="An existing location (locationId), or a new place: latitude+longitude "
                              "(its LA is the nearest LA centroid, within forceCode when given) and/or "
                              "laCode+forceCode.")
class PlaceInput:
    location_id: strawberry.ID | None = None
    name: str | None = None
    kind: str | None = strawberry.field(default=None, description=(
        "residence, childrens_home, foster_home, semi_independent, secure_unit, public_place, transport_hub, "
        "retail, park, address, other (default other)."))
    latitude: float | None = None
    longitude: float | None = None
    la_code: str | None = None
    force_code: str | None = None
    postcode: str | None = strawberry.field(default=None, description="Partial postcode only, e.g. 'ST1 3'.")


@strawberry.input
class RiskAssessmentInput:
    scheme: str = strawberry.field(description="'2013' (absent, low, medium, high) or '2017' "
                                               "(no_apparent_risk, low, medium, high).")
    grade: str
    reason: str | None = None


@strawberry.input(description="A person not yet known to mpdb, with a client-generated id (e.g. a UUID).")
class NewPersonInput:
    id: strawberry.ID
    name: str
    role: str = strawberry.field(description="adult_of_concern, peer, family, other.")
    date_of_birth: date | None = None
    notes: str | None = None


@strawberry.input(description="Who the child is thought to be with.")
class CompanionsInput:
    child_ids: list[strawberry.ID] | None = None
    person_ids: list[strawberry.ID] | None = None
    new_persons: list[NewPersonInput] | None = None


@strawberry.input(description="A child not yet known to mpdb. Give a client-generated id, or the LA's "
                              "SSDA903 reference (lacRefLa + lacChildRef): either makes concurrent first "
                              "reports of the same child land on ONE child.")
class NewChildInput:
    id: strawberry.ID | None = None
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    sex: str | None = strawberry.field(default=None, description="F, M or U (default U).")
    ethnicity: str | None = strawberry.field(default=None, description="SSDA903 ethnicity code.")
    lac_ref_la: str | None = None
    lac_child_ref: str | None = None
    looked_after_by: str | None = strawberry.field(default=None, description="GSS code of the responsible LA.")
    unaccompanied: bool | None = None
    home: PlaceInput | None = None


@strawberry.input(description="A child known before any episode. Give a client-generated id, or the LA's "
                              "SSDA903 reference (lacRefLa + lacChildRef). A local authority registers a child it "
                              "looks after (lookedAfterBy: itself) or who lives in its area (home in its area); a "
                              "police force a child it deals with.")
class RegisterChildInput(NewChildInput):
    create_despite_candidates: bool | None = strawberry.field(default=None, description=(
        "Create the child even when likely existing records are found (they are still returned). Default "
        "false: nothing is created and the candidates are returned."))


@strawberry.input
class ReportMissingInput:
    child_id: strawberry.ID | None = strawberry.field(default=None, description="An existing child; or newChild.")
    new_child: NewChildInput | None = None
    reporting_force: str | None = strawberry.field(default=None, description=(
        "Force code. Police callers: their own force (the default). National callers: required."))
    reporter_type: str = strawberry.field(description="carer, parent, childrens_home, school, police, other.")
    reported_at: datetime
    last_seen_at: datetime | None = None
    last_seen_place: PlaceInput | None = None
    missing_from_placement_id: strawberry.ID | None = None
    missing_from_place: PlaceInput | None = None
    whereabouts_known: bool | None = None
    consent: bool | None = None
    companions: CompanionsInput | None = None
    risk_assessment: RiskAssessmentInput


@strawberry.input(description="Children reported missing together: one report each (as reportMissing), and "
                              "every pair linked both ways (WITH_CHILD, source reported). All or nothing.")
class ReportMissingTogetherInput:
    children: list[ReportMissingInput] = strawberry.field(description="2 to 20 different children.")


@strawberry.input
class SightingInput:
    at: datetime
    place: PlaceInput


@strawberry.input(description="Sightings (WENT_TO), companions and a re-grade; every grade is kept.")
class UpdateEpisodeInput:
    episode_id: strawberry.ID
    went_to: list[SightingInput] | None = None
    companions: CompanionsInput | None = None
    risk_assessment: RiskAssessmentInput | None = None
    whereabouts_known: bool | None = None


@strawberry.input
class RecordFoundInput:
    episode_id: strawberry.ID
    found_at: datetime
    found_place: PlaceInput
    found_by_force: str | None = strawberry.field(default=None, description="Defaults to the caller's force.")
    companions: CompanionsInput | None = None


@strawberry.input(description="Closes the episode and opens its return interview, due per the area's rule.")
class RecordReturnInput:
    episode_id: strawberry.ID
    returned_at: datetime
    returned_to_placement_id: strawberry.ID | None = None
    returned_to_place: PlaceInput | None = None


@strawberry.input(description="The child's confidential account and the shareable summary are separate.")
class RecordReturnInterviewInput:
    episode_id: strawberry.ID
    status: str = strawberry.field(description="offered, declined, completed, not_offered.")
    offered_at: datetime | None = None
    completed_at: datetime | None = None
    declined_at: datetime | None = None
    provider_agency_id: str | None = strawberry.field(default=None, description="Defaults to the caller's agency.")
    confidential_account: str | None = None
    summary_places: list[str] | None = None
    summary_people: list[str] | None = None
    summary_with: list[str] | None = None
    summary_risk_types: list[str] | None = None


@strawberry.input
class EstablishmentInput:
    id: strawberry.ID = strawberry.field(description="Existing establishment, or a client-generated id for a new one.")
    urn: str | None = None
    name: str | None = None
    kind: str | None = strawberry.field(default=None, description=(
        "childrens_home, foster_agency, semi_independent, secure_unit, residential_school."))


@strawberry.input
class StartPlacementInput:
    placement_id: strawberry.ID = strawberry.field(description="Client-generated id of the new placement.")
    child_id: strawberry.ID
    placing_la: str | None = strawberry.field(default=None, description="Defaults to the caller's LA.")
    start_date: date | None = strawberry.field(default=None, description=(
        "The day the placement started (default today, UK): not in the future, not before the child's date of "
        "birth. Notifications are due counted from it (seed/rules/area_rules.toml [notification_due])."))
    end_date: date | None = strawberry.field(default=None, description=(
        "For a placement that has already ended: not before startDate, not in the future."))
    placement_type: str = strawberry.field(description="SSDA903 PLACE code (K2, U1-U6, H5, R1, ...).")
    place: PlaceInput
    establishment: EstablishmentInput | None = None
    dcs_approved: bool | None = None
    notify_sent: bool | None = strawberry.field(default=None, description=(
        "True when the placing LA sends the host notifications now (sentAt = now); otherwise they are "
        "created unsent (sentAt null) and show as never sent."))


@strawberry.input
class EndPlacementInput:
    placement_id: strawberry.ID
    end_date: date


@strawberry.input
class AcknowledgeNotificationInput:
    notification_id: strawberry.ID


@strawberry.input(description="The sending agency records when it sent a notification.")
class MarkNotificationSentInput:
    notification_id: strawberry.ID
    sent_at: datetime = strawberry.field(description="When it was sent; not in the future.")


@strawberry.input
class RaiseFlagInput:
    flag_id: strawberry.ID = strawberry.field(description="Client-generated id of the new flag.")
    child_id: strawberry.ID
    type: str = strawberry.field(description=(
        "cse, cce_county_lines, trafficking, gang, mental_health, self_harm, substance_misuse, unaccompanied, other."))
    raised_at: datetime
    review_due: date | None = None
    note: str | None = None


@strawberry.input
class ReviewFlagInput:
    flag_id: strawberry.ID
    reviewed_at: datetime
    next_review_due: date | None = None


@strawberry.input
class ExpireFlagInput:
    flag_id: strawberry.ID
    expired_at: datetime


@strawberry.input
class LinkAssociateInput:
    child_id: strawberry.ID
    person_id: strawberry.ID | None = None
    new_person: NewPersonInput | None = None
    kind: str = strawberry.field(description="adult_of_concern, peer, family, other.")
    since: date | None = None


# --- payloads --------------------------------------------------------------------------------

@strawberry.type(description="A repeat-missing trigger of the episode's rule area, evaluated on this report.")
class TriggerResult:
    id: str
    description: str
    rule: str
    count: int = strawberry.field(description="The child's episodes counted by the rule, including this one.")
    fired: bool
    area: str = strawberry.field(description="LA GSS code whose rule this is, or 'national'.")


@strawberry.type
class ReportMissingPayload:
    episode_id: strawberry.ID
    child_id: strawberry.ID
    child_created: bool
    candidates: list[DuplicateCandidate] = strawberry.field(description=(
        "With newChild: likely existing records of the new child (as registerChild returns them). A report is "
        "never held back by them: the child is created and each scored pair proposed as POSSIBLY_SAME_AS for "
        "review (candidateId)."))
    risk_assessment_id: strawberry.ID
    category: str = strawberry.field(description="Police label at report time: missing or absent.")
    reported_to: str
    rule_area: str
    strategy_meeting_due_at: datetime | None = strawberry.field(
        description="When a strategy meeting is due if the child is still missing.")
    triggers: list[TriggerResult]

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> ReportMissingPayload:
        return cls(episode_id=r["episodeId"], child_id=r["childId"], child_created=r["childCreated"],
                   candidates=[DuplicateCandidate.from_result(c) for c in r.get("candidates", [])],
                   risk_assessment_id=r["riskAssessmentId"], category=r["category"], reported_to=r["reportedTo"],
                   rule_area=r["ruleArea"], strategy_meeting_due_at=_dt(r["strategyMeetingDueAt"]),
                   triggers=[TriggerResult(**t) for t in r["triggers"]])


@strawberry.type(description="Each child's report, in input order, and how many WITH_CHILD links were written "
                             "(n children: n*(n-1), every pair both ways).")
class ReportMissingTogetherPayload:
    reports: list[ReportMissingPayload]
    with_child_links: int

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> ReportMissingTogetherPayload:
        return cls(reports=[ReportMissingPayload.from_result(x) for x in r["reports"]],
                   with_child_links=r["withChildLinks"])


@strawberry.type(description="A likely existing record you may read in full.")
class CandidateChild:
    id: strawberry.ID
    given_name: str | None
    family_name: str | None
    date_of_birth: date | None


@strawberry.type(description=(
    "A likely existing record of the child being written, scored by the record-linkage model (Splink; "
    "docs/API.md, registerChild). `child` when you may read it in full; otherwise `summary` only (pseudonym, age "
    "band, responsible LA, active flags: no id, no names) and no `reasons`. `matchedOn` names the fields of YOUR "
    "input that agreed (lacReference, dateOfBirth, familyName, givenName, sex, ethnicity, home.postcode), never "
    "the recorded values."))
class DuplicateCandidate:
    matched_on: list[str]
    match_probability: float | None = strawberry.field(description=(
        "The model's probability that the two records are one child (0..1); null only for a record kept because "
        "it holds the same LA reference, which the model did not score."))
    match_weight: float | None = strawberry.field(description="The model's total match weight (log2 Bayes factor).")
    candidate_id: strawberry.ID | None = strawberry.field(description=(
        "The POSSIBLY_SAME_AS proposal written for this pair (reviewed with confirmIdentity / rejectIdentity): set "
        "when the child was created and the pair proposed; null when nothing was created."))
    reasons: list[MatchReason] | None = strawberry.field(description=(
        "Each comparison's level and match weight (how the model explains the score); null for a record you may "
        "not read in full (the levels would describe its values)."))
    child: CandidateChild | None
    summary: ChildSummary | None

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> DuplicateCandidate:
        c, s = r.get("child"), r.get("summary")
        reasons = r.get("reasons")
        return cls(
            matched_on=r["matchedOn"], match_probability=r.get("matchProbability"), match_weight=r.get("matchWeight"),
            candidate_id=strawberry.ID(r["candidateId"]) if r.get("candidateId") else None,
            reasons=[MatchReason.from_row(x) for x in reasons] if reasons is not None else None,
            child=CandidateChild(id=strawberry.ID(c["id"]), given_name=c["givenName"], family_name=c["familyName"],
                                 date_of_birth=_d(c["dateOfBirth"])) if c else None,
            summary=ChildSummary(
                pseudonym=s["pseudonym"], age_band=s["ageBand"], responsible_authority=s["responsibleAuthority"],
                active_flags=[FlagSummary(type=f["type"], raised_by=f["raisedBy"], raised_at=_dt(f["raisedAt"]))
                              for f in s["activeFlags"]]) if s else None)


@strawberry.type
class RegisterChildPayload:
    child_id: strawberry.ID | None = strawberry.field(description=(
        "The new child, or the existing one this registration named (same id, or same LA reference); null "
        "when candidates were found and nothing was created."))
    created: bool
    candidates: list[DuplicateCandidate] = strawberry.field(description=(
        "Likely existing records, highest probability first: at or above the model's review threshold, or "
        "holding the same LA reference. With createDespiteCandidates the child is created and each scored pair "
        "is proposed as POSSIBLY_SAME_AS (candidateId), in the same transaction."))

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> RegisterChildPayload:
        return cls(child_id=r["childId"], created=r["created"],
                   candidates=[DuplicateCandidate.from_result(c) for c in r["candidates"]])


@strawberry.type
class UpdateEpisodePayload:
    episode_id: strawberry.ID
    risk_assessment_id: strawberry.ID | None
    risk_grade: str | None
    grade_scheme: str | None
    went_to_location_ids: list[strawberry.ID]
    with_child_ids: list[strawberry.ID]
    with_person_ids: list[strawberry.ID]

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> UpdateEpisodePayload:
        return cls(episode_id=r["episodeId"], risk_assessment_id=r["riskAssessmentId"], risk_grade=r["riskGrade"],
                   grade_scheme=r["gradeScheme"], went_to_location_ids=r["wentToLocationIds"],
                   with_child_ids=r["withChildIds"], with_person_ids=r["withPersonIds"])


@strawberry.type
class RecordFoundPayload:
    episode_id: strawberry.ID
    found_by: str
    found_at_location_id: strawberry.ID
    notification_id: strawberry.ID | None = strawberry.field(
        description="found_to_responsible_la notification, when the child is looked after.")
    notified_agency: str | None

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> RecordFoundPayload:
        return cls(episode_id=r["episodeId"], found_by=r["foundBy"], found_at_location_id=r["foundAtLocationId"],
                   notification_id=r["notificationId"], notified_agency=r["notifiedAgency"])


@strawberry.type
class RecordReturnPayload:
    episode_id: strawberry.ID
    status: str
    returned_at: datetime
    return_interview_id: strawberry.ID
    return_interview_due_at: datetime
    rule_area: str
    return_interview_rule: str

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> RecordReturnPayload:
        return cls(episode_id=r["episodeId"], status=r["status"], returned_at=_dt(r["returnedAt"]),  # type: ignore[arg-type]
                   return_interview_id=r["returnInterviewId"],
                   return_interview_due_at=_dt(r["returnInterviewDueAt"]),  # type: ignore[arg-type]
                   rule_area=r["ruleArea"], return_interview_rule=r["returnInterviewRule"])


@strawberry.type
class RecordReturnInterviewPayload:
    episode_id: strawberry.ID
    return_interview_id: strawberry.ID
    status: str
    provider_agency_id: str
    due_at: datetime | None
    timeliness: str = strawberry.field(description="completed, declined, due or overdue (derived).")

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> RecordReturnInterviewPayload:
        return cls(episode_id=r["episodeId"], return_interview_id=r["returnInterviewId"], status=r["status"],
                   provider_agency_id=r["providerAgencyId"], due_at=_dt(r["dueAt"]), timeliness=r["timeliness"])


@strawberry.type
class NotificationRef:
    id: strawberry.ID
    kind: str
    to: str
    sent: bool
    due_at: datetime | None = strawberry.field(default=None, description=(
        "When the notice is due: the placement's start (or end, for a discharge) plus the timescale in "
        "seed/rules/area_rules.toml [notification_due]."))

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> NotificationRef:
        return cls(id=r["id"], kind=r["kind"], to=r["to"], sent=r["sent"], due_at=_dt(r.get("dueAt")))


@strawberry.type
class StartPlacementPayload:
    placement_id: strawberry.ID
    child_id: strawberry.ID
    placing_la: str
    host_la: str
    host_force: str
    location_id: strawberry.ID
    start_date: date
    end_date: date | None
    distance_km: float | None
    distance_from: str = strawberry.field(description="home or placing_la_centroid.")
    out_of_area: bool
    cross_force: bool
    notifications: list[NotificationRef]

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> StartPlacementPayload:
        return cls(placement_id=r["placementId"], child_id=r["childId"], placing_la=r["placingLa"],
                   host_la=r["hostLa"], host_force=r["hostForce"], location_id=r["locationId"],
                   start_date=_d(r["startDate"]), end_date=_d(r["endDate"]),  # type: ignore[arg-type]
                   distance_km=r["distanceKm"], distance_from=r["distanceFrom"], out_of_area=r["outOfArea"],
                   cross_force=r["crossForce"],
                   notifications=[NotificationRef.from_result(n) for n in r["notifications"]])


@strawberry.type
class EndPlacementPayload:
    placement_id: strawberry.ID
    child_id: strawberry.ID
    end_date: date
    notifications: list[NotificationRef] = strawberry.field(description=(
        "home_to_host_la (unsent) when a children's home discharges a child placed out of area."))

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> EndPlacementPayload:
        return cls(placement_id=r["placementId"], child_id=r["childId"], end_date=_d(r["endDate"]),  # type: ignore[arg-type]
                   notifications=[NotificationRef.from_result(n) for n in r["notifications"]])


@strawberry.type
class MarkNotificationSentPayload:
    notification_id: strawberry.ID
    sent_at: datetime
    recipient: str = strawberry.field(description="The agency the notification is addressed to (TO).")
    already_sent: bool = strawberry.field(description="True when it was already recorded as sent at this time.")

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> MarkNotificationSentPayload:
        return cls(notification_id=r["notificationId"], sent_at=_dt(r["sentAt"]),  # type: ignore[arg-type]
                   recipient=r["recipient"], already_sent=r["alreadySent"])


@strawberry.type
class AcknowledgeNotificationPayload:
    notification_id: strawberry.ID
    acknowledged_at: datetime
    already_acknowledged: bool

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> AcknowledgeNotificationPayload:
        return cls(notification_id=r["notificationId"], acknowledged_at=_dt(r["acknowledgedAt"]),  # type: ignore[arg-type]
                   already_acknowledged=r["alreadyAcknowledged"])


@strawberry.type
class FlagPayload:
    flag_id: strawberry.ID
    status: str
    child_id: strawberry.ID | None = None
    type: str | None = None
    reviewed_at: datetime | None = None
    review_due: date | None = None
    expired_at: datetime | None = None

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> FlagPayload:
        return cls(flag_id=r["flagId"], status=r["status"], child_id=r.get("childId"), type=r.get("type"),
                   reviewed_at=_dt(r.get("reviewedAt")), review_due=_d(r.get("reviewDue")),
                   expired_at=_dt(r.get("expiredAt")))


@strawberry.type
class LinkAssociatePayload:
    child_id: strawberry.ID
    person_id: strawberry.ID
    kind: str
    linked: bool = strawberry.field(description="False when the link already existed (nothing changed).")

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> LinkAssociatePayload:
        return cls(child_id=r["childId"], person_id=r["personId"], kind=r["kind"], linked=r["linked"])
