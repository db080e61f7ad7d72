"""GraphQL views of children and episodes. Built from the dicts the services return; the
resolvers on these types go back through the services, so nested reads are scoped and audited
exactly like root reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types.nodes import Selection, SelectedField

from mpdb.api.pagination import Page, PageInfo, decode_cursor, encode_cursor, page_size
from mpdb.api.permissions import HasScopes
from mpdb.auth.principal import Scope
from mpdb.services import records as svc

if TYPE_CHECKING:
    from mpdb.api.types.identity import IdentityCandidatePage, IdentityCandidateStatus, IdentityMember


def _sensitive() -> list[PermissionExtension]:
    # Sensitive properties read as null without child:read:sensitive (the rest of the record stays).
    return [PermissionExtension([HasScopes(Scope.CHILD_READ_SENSITIVE)], use_directives=False, fail_silently=True)]


@strawberry.type
class Provenance:
    recorded_by: str | None = strawberry.field(description="Agency id that recorded this.")
    recorded_at: datetime | None
    source_system: str | None


def _provenance(r: dict[str, Any]) -> Provenance:
    return Provenance(recorded_by=r.get("recordedBy"), recorded_at=r.get("recordedAt"),
                      source_system=r.get("sourceSystem"))


@strawberry.type
class PlaceRef:
    id: strawberry.ID
    name: str | None
    kind: str | None
    la_code: str | None
    force_code: str | None
    latitude: float | None
    longitude: float | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> PlaceRef:
        return cls(id=strawberry.ID(r["id"]), name=r.get("name"), kind=r.get("kind"), la_code=r.get("laCode"),
                   force_code=r.get("forceCode"), latitude=r.get("latitude"), longitude=r.get("longitude"))


@strawberry.type(description="A place an episode touched, and how.")
class EpisodePlace:
    role: str = strawberry.field(description="MISSING_FROM_LOCATION, LAST_SEEN_AT, WENT_TO or FOUND_AT.")
    at: datetime | None
    location: PlaceRef


@strawberry.type(description="One risk grading. Grades are never overwritten: this is the history.")
class RiskAssessment:
    id: strawberry.ID
    grade: str
    scheme: str = strawberry.field(description="2013 (missing/absent) or 2017 (continuum of risk).")
    assessed_at: datetime | None
    author: str | None
    recorded_by: str | None
    reason: str | None


@strawberry.type(description="A return home interview offered after an episode: its status and the shareable "
                             "intelligence summary. The child's own account is confidential.")
class ReturnInterview:
    id: strawberry.ID
    episode_id: strawberry.ID
    status: str | None = strawberry.field(description="offered, declined, completed or not_offered.")
    offered_at: datetime | None
    completed_at: datetime | None
    declined_at: datetime | None
    due_at: datetime | None
    overdue: bool = strawberry.field(description="Not completed or declined by dueAt (derived now, never stored).")
    provider_agency_id: str | None = strawberry.field(description="Agency that carries out the interview (BY).")
    summary_places: list[str] | None
    summary_people: list[str] | None
    summary_with: list[str] | None
    summary_risk_types: list[str] | None
    confidential_account: str | None = strawberry.field(
        description="The child's own account. Null unless you hold rhi:read:confidential AND your agency carried "
                    "out the interview or is the child's responsible local authority; reading it is audited as "
                    "episode.returnInterviews.confidential.")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> ReturnInterview:
        return cls(
            id=strawberry.ID(r["id"]), episode_id=strawberry.ID(r["episodeId"]), status=r.get("status"),
            offered_at=r.get("offeredAt"), completed_at=r.get("completedAt"), declined_at=r.get("declinedAt"),
            due_at=r.get("dueAt"), overdue=r["overdue"], provider_agency_id=r.get("providerAgencyId"),
            summary_places=_strings(r.get("summaryPlaces")), summary_people=_strings(r.get("summaryPeople")),
            summary_with=_strings(r.get("summaryWith")), summary_risk_types=_strings(r.get("summaryRiskTypes")),
            confidential_account=r.get("confidentialAccount"),
        )


def _strings(v: Any) -> list[str] | None:
    # Imports may have stored a single summary value as a string rather than a list.
    if v is None:
        return None
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _selects(selections: list[Selection], name: str) -> bool:
    """Whether the client asked for field `name` (through fragments too, honouring @skip/@include),
    so the confidential account is fetched only when it is actually wanted."""
    for s in selections:
        skip, include = s.directives.get("skip"), s.directives.get("include")
        if (skip is not None and skip.get("if")) or (include is not None and not include.get("if")):
            continue
        if isinstance(s, SelectedField):
            if s.name == name:
                return True
        elif _selects(s.selections, name):
            return True
    return False


@strawberry.type(description="A missing incident.")
class Episode:
    id: strawberry.ID
    child_id: strawberry.ID
    status: str
    reported_at: datetime | None
    last_seen_at: datetime | None
    found_at: datetime | None
    returned_at: datetime | None
    whereabouts_known: bool | None
    consent: bool | None
    reporter_type: str | None
    category: str | None
    risk_grade: str | None
    grade_scheme: str | None
    reported_to: str | None = strawberry.field(description="Force code the episode was reported to.")
    found_by: str | None
    missing_from_placement: strawberry.ID | None
    places: list[EpisodePlace]
    grade_history: list[RiskAssessment]
    provenance: Provenance

    @strawberry.field(description="Return interviews after this episode, oldest first. Each read is audited "
                                  "(a consultation of the interview ids).")
    async def return_interviews(self, info: strawberry.Info) -> list[ReturnInterview]:
        want = _selects(info.selected_fields[0].selections, "confidentialAccount")
        rows = await svc.return_interviews_of_episode(info.context.service, str(self.id), want)
        return [ReturnInterview.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Episode:
        history = sorted(r.get("gradeHistory") or [], key=lambda g: (g.get("assessedAt") or datetime.min, g["id"]))
        return cls(
            id=strawberry.ID(r["id"]), child_id=strawberry.ID(r["childId"]), status=r["status"],
            reported_at=r.get("reportedAt"), last_seen_at=r.get("lastSeenAt"), found_at=r.get("foundAt"),
            returned_at=r.get("returnedAt"), whereabouts_known=r.get("whereaboutsKnown"),
            consent=r.get("consent"), reporter_type=r.get("reporterType"), category=r.get("category"),
            risk_grade=r.get("riskGrade"), grade_scheme=r.get("gradeScheme"),
            reported_to=r.get("reportedTo"), found_by=r.get("foundBy"),
            missing_from_placement=r.get("missingFromPlacement"),
            places=[EpisodePlace(role=p["role"], at=p.get("at"), location=PlaceRef.from_row(p["location"]))
                    for p in r.get("places") or []],
            grade_history=[RiskAssessment(id=g["id"], grade=g["grade"], scheme=g["scheme"],
                                          assessed_at=g.get("assessedAt"), author=g.get("author"),
                                          recorded_by=g.get("recordedBy"), reason=g.get("reason"))
                           for g in history],
            provenance=_provenance(r),
        )


@strawberry.type(description="A child with at least one missing episode or placement known to mpdb.")
class Child:
    id: strawberry.ID
    pseudonym: str
    given_name: str | None
    family_name: str | None
    sex: str | None
    looked_after: bool | None
    unaccompanied: bool | None
    responsible_authority: str | None = strawberry.field(description="GSS code of the LA the child is looked after by.")
    provenance: Provenance
    _date_of_birth: strawberry.Private[date | None]
    _ethnicity: strawberry.Private[str | None]

    @strawberry.field(extensions=_sensitive(), description="Needs child:read:sensitive.")
    def date_of_birth(self) -> date | None:
        return self._date_of_birth

    @strawberry.field(extensions=_sensitive(), description="SSDA903 ethnicity code. Needs child:read:sensitive.")
    def ethnicity(self) -> str | None:
        return self._ethnicity

    @strawberry.field(description="Episodes you may see, newest first.")
    async def episodes(self, info: strawberry.Info, first: int | None = None, after: str | None = None) -> Page[Episode]:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        key = None
        if after:
            reported_at, ep_id = decode_cursor(after, datetime, str)
            key = (reported_at, ep_id)
        rows = await svc.episodes_of_child(ctx, str(self.id), limit + 1, key)
        more = len(rows) > limit
        rows = rows[:limit]
        end = encode_cursor(rows[-1]["reportedAt"].isoformat(), rows[-1]["id"]) if rows else None
        return Page(nodes=[Episode.from_row(r) for r in rows], page_info=PageInfo(has_next_page=more, end_cursor=end))

    @strawberry.field(description="The other records of this child (an identity: records joined by confirmed "
                                  "SAME_AS), nearest first; empty when none. Audited like the record.")
    async def same_as(self, info: strawberry.Info) -> list[
            Annotated[IdentityMember, strawberry.lazy("mpdb.api.types.identity")]]:
        from mpdb.api.types.identity import IdentityMember
        from mpdb.services import identity as identity_svc
        rows = await identity_svc.identity_members(info.context.service, str(self.id))
        return [IdentityMember.from_row(r) for r in rows]

    @strawberry.field(description="Possible duplicates of this record (every status unless status is given), "
                                  "under the rules of Query.identityCandidates.")
    async def identity_candidates(
        self, info: strawberry.Info,
        status: Annotated[IdentityCandidateStatus, strawberry.lazy("mpdb.api.types.identity")] | None = None,
        first: int | None = None, after: str | None = None,
    ) -> Annotated[IdentityCandidatePage, strawberry.lazy("mpdb.api.types.identity")]:
        from mpdb.api.queries.identity import candidate_page
        return await candidate_page(info.context.service, status, str(self.id), first, after)

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Child:
        return cls(
            id=strawberry.ID(r["id"]), pseudonym=r["pseudonym"], given_name=r.get("givenName"),
            family_name=r.get("familyName"), sex=r.get("sex"), looked_after=r.get("lookedAfter"),
            unaccompanied=r.get("unaccompanied"), responsible_authority=r.get("responsibleAuthority"),
            provenance=_provenance(r), _date_of_birth=r.get("dateOfBirth"), _ethnicity=r.get("ethnicity"),
        )
