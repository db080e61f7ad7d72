"""GraphQL views of the link queries (riskProfile, coMissing, coMissingGroups, sharedAssociates,
linkedChildren). Every derived link, flag or ranking carries the records behind it."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from mpdb.api.pagination import PageInfo
from mpdb.api.types.records import Child
from mpdb.intel.co_missing import Evidence, Group, Link, age_band


@strawberry.enum(description="What a piece of link evidence is (weights in the coMissing description).")
class LinkKind(Enum):
    EXPLICIT = "EXPLICIT"
    SAME_ADULT = "SAME_ADULT"
    SAME_PLACE = "SAME_PLACE"
    SAME_CELL = "SAME_CELL"
    SHARED_ASSOCIATE = "SHARED_ASSOCIATE"
    SHARED_HOTSPOT = "SHARED_HOTSPOT"


@strawberry.enum(description="Why a child is in a local authority's linkedChildren view.")
class LinkedRelation(Enum):
    LOOKED_AFTER = "LOOKED_AFTER"
    PLACED_IN = "PLACED_IN"
    LINKED = "LINKED"


@strawberry.type(description="A child you may see, as named in a link or group.")
class LinkedChildRef:
    id: strawberry.ID
    pseudonym: str
    given_name: str | None
    family_name: str | None
    sex: str | None
    age_band: str | None
    looked_after: bool | None
    responsible_authority: str | None

    @classmethod
    def from_row(cls, r: dict[str, Any], as_of: datetime) -> LinkedChildRef:
        return cls(id=strawberry.ID(r["id"]), pseudonym=r["pseudonym"], given_name=r.get("givenName"),
                   family_name=r.get("familyName"), sex=r.get("sex"), age_band=age_band(r.get("dateOfBirth"), as_of),
                   looked_after=r.get("lookedAfter"), responsible_authority=r.get("responsibleAuthority"))

    @classmethod
    def if_visible(cls, r: dict[str, Any], as_of: datetime) -> LinkedChildRef | None:
        """The full reference of a linked child the caller may read; None for one it may not
        (`visible: false` on the row), which the API shows by its `summary` only."""
        return None if r.get("visible") is False else cls.from_row(r, as_of)


# The one sentence every link type uses for its (child, summary) pair.
LINKED_CHILD_DOC = ("The linked child in full (names, internal id): null when you may not read that child in full, "
                    "which then appears by its summary only (never dropped).")
SUMMARY_DOC = ("The linked child in summary form, always present (also when `{field}` is there): pseudonym, age "
               "band, responsible LA, active flags with raising agency and date.")


@strawberry.type(description="An active risk flag as shown in summary form: its type, who raised it and when "
                             "(never the note).")
class FlagSummary:
    type: str
    raised_by: str | None = strawberry.field(description="Agency id (force or LA code) that raised the flag.")
    raised_at: datetime | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> FlagSummary:
        return cls(type=r["type"], raised_by=r.get("raisedBy"), raised_at=r.get("raisedAt"))


@strawberry.type(description="A child in summary form (docs/ACCESS.md, linked risk): pseudonym, age band, "
                             "responsible LA and active flag types with the raising agency and date. Never names, "
                             "date of birth or private places.")
class ChildSummary:
    pseudonym: str
    age_band: str | None
    responsible_authority: str | None
    active_flags: list[FlagSummary]

    @classmethod
    def from_row(cls, r: dict[str, Any], as_of: datetime) -> ChildSummary:
        return cls(pseudonym=r["pseudonym"], age_band=age_band(r.get("dateOfBirth"), as_of),
                   responsible_authority=r.get("responsibleAuthority"),
                   active_flags=[FlagSummary.from_row(f) for f in r.get("activeFlags") or []])


@strawberry.type(description="A place named in evidence. A private place (home, foster home, address) known to you "
                             "only through an episode of a linked child you may not open is given as its ~500 m grid "
                             "cell only: id, name, latitude and longitude null.")
class LinkPlace:
    id: strawberry.ID | None
    name: str | None
    kind: str | None
    la_code: str | None
    force_code: str | None
    cell: str | None = strawberry.field(description="~500 m grid cell id (mpdb/domain/geo.py).")
    latitude: float | None
    longitude: float | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> LinkPlace:
        return cls(id=strawberry.ID(r["id"]) if r.get("id") is not None else None, name=r.get("name"),
                   kind=r.get("kind"), la_code=r.get("laCode"), force_code=r.get("forceCode"), cell=r.get("cell"),
                   latitude=r.get("latitude"), longitude=r.get("longitude"))


@strawberry.type(description="An associate (adult of concern, peer, family member) named in evidence.")
class LinkPerson:
    id: strawberry.ID
    name: str | None
    role: str | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> LinkPerson:
        return cls(id=strawberry.ID(r["id"]), name=r.get("name"), role=r.get("role"))


@strawberry.type(description="An episode behind a piece of evidence. `id` and `childId` are null for an "
                             "episode you may not open (summary forms only).")
class EvidenceEpisode:
    id: strawberry.ID | None
    child_id: strawberry.ID | None
    reported_at: datetime | None
    ended_at: datetime | None = strawberry.field(description="foundAt, else returnedAt; null while open.")
    status: str | None
    reported_to: str | None
    found_by: str | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> EvidenceEpisode:
        visible = r.get("visible", True)
        return cls(id=strawberry.ID(r["id"]) if visible else None,
                   child_id=strawberry.ID(r["childId"]) if visible else None,
                   reported_at=r.get("reportedAt"), ended_at=r.get("endAt"), status=r.get("status"),
                   reported_to=r.get("reportedTo"), found_by=r.get("foundBy"))


@strawberry.type(description="One piece of evidence for a link, with what it is worth.")
class LinkEvidence:
    kind: LinkKind
    source: str | None = strawberry.field(description="EXPLICIT: the WITH_CHILD source (reported, found, "
                                                      "sighting, rhi); places: the relationship pair, e.g. FOUND_AT/WENT_TO.")
    weight: float = strawberry.field(description="Weight of this kind before age decay.")
    date: datetime | None
    episodes: list[EvidenceEpisode]
    places: list[LinkPlace]
    person: LinkPerson | None

    @classmethod
    def from_evidence(cls, ev: Evidence) -> LinkEvidence:
        return cls(kind=LinkKind(ev.kind), source=ev.source, weight=ev.weight, date=ev.date,
                   episodes=[EvidenceEpisode.from_row(e) for e in sorted(ev.episodes, key=lambda e: e["reportedAt"])],
                   places=[LinkPlace.from_row(p) for p in ev.places],
                   person=LinkPerson.from_row(ev.person) if ev.person else None)


STRENGTH_DOC = (
    "strength = 1 - prod over incidents of (1 - w * 0.5^(ageDays/365)); evidence sharing an episode is one "
    "incident weighing as its strongest item; w: EXPLICIT 0.8, SAME_ADULT 0.5, SAME_PLACE 0.4, SAME_CELL 0.25, "
    "SHARED_ASSOCIATE 0.15, SHARED_HOTSPOT 0.1."
)


@strawberry.type(description="A co-missing link from a child you may see to a linked child, in full or in summary "
                             "form. For a child in summary form the evidence keeps its kind, date and forces, "
                             "without the ids of episodes you may not open and without that child's private "
                             "places. " + STRENGTH_DOC)
class CoMissingLink:
    from_child: LinkedChildRef
    to_child: LinkedChildRef | None = strawberry.field(description=LINKED_CHILD_DOC)
    to_summary: ChildSummary = strawberry.field(description=SUMMARY_DOC.format(field="toChild"))
    hop: int = strawberry.field(description="1: linked to the child asked about; 2: linked to a hop-1 child.")
    strength: float
    explicit: bool = strawberry.field(description="True when any evidence is an explicit record (WITH_CHILD).")
    evidence: list[LinkEvidence]

    @classmethod
    def from_link(cls, link: Link, as_of: datetime) -> CoMissingLink:
        return cls(from_child=LinkedChildRef.from_row(link.from_child, as_of),
                   to_child=LinkedChildRef.if_visible(link.to_child, as_of),
                   to_summary=ChildSummary.from_row(link.to_child, as_of), hop=link.hop, strength=link.strength,
                   explicit=link.explicit, evidence=[LinkEvidence.from_evidence(ev) for ev in link.evidence])


@strawberry.type
class CoMissingPage:
    child: LinkedChildRef
    as_of: datetime
    since: datetime
    hops: int
    total_count: int
    nodes: list[CoMissingLink]
    page_info: PageInfo


@strawberry.type(description="A member of a co-missing group. `child` is null without child:read. Groups are "
                             "built from links between children you may read only: a group is an area pattern, not "
                             "a child's record (a child's links to children you may not read are in coMissing and "
                             "riskProfile, in summary form).")
class GroupMember:
    pseudonym: str
    age_band: str | None
    responsible_authority: str | None
    child: LinkedChildRef | None
    summary: ChildSummary = strawberry.field(description="The member in summary form (with its active flags), as "
                                                         "every link query gives it.")


@strawberry.type(description="An edge of a co-missing group, by member pseudonym.")
class GroupLink:
    from_pseudonym: str
    to_pseudonym: str
    strength: float
    explicit: bool
    evidence: list[LinkEvidence]


@strawberry.type(description="Children who go missing together: a connected component of the links that are "
                             "explicit or have strength >= 0.5.")
class CoMissingGroup:
    id: str = strawberry.field(description="'grp:' + the smallest member pseudonym (stable while the group is).")
    size: int
    members: list[GroupMember]
    forces: list[str] = strawberry.field(description="Forces the group's evidence episodes were reported to or found by.")
    local_authorities: list[str] = strawberry.field(
        description="Members' responsible LAs and the LAs of the places in the evidence.")
    episode_count: int
    links: list[GroupLink]

    @classmethod
    def from_group(cls, g: Group, as_of: datetime, named: bool) -> CoMissingGroup:
        pseud = {m["id"]: m["pseudonym"] for m in g.members}

        def ev(e: Evidence) -> LinkEvidence:
            out = LinkEvidence.from_evidence(e)
            if not named:
                for x in out.episodes:
                    x.id, x.child_id = None, None
            return out

        return cls(
            id="grp:" + g.members[0]["pseudonym"], size=len(g.members),
            members=[GroupMember(pseudonym=m["pseudonym"], age_band=age_band(m.get("dateOfBirth"), as_of),
                                 responsible_authority=m.get("responsibleAuthority"),
                                 child=LinkedChildRef.from_row(m, as_of) if named else None,
                                 summary=ChildSummary.from_row(m, as_of)) for m in g.members],
            forces=g.forces, local_authorities=g.local_authorities, episode_count=len(g.episode_ids),
            links=[GroupLink(from_pseudonym=pseud[lk.from_child["id"]], to_pseudonym=pseud[lk.to_child["id"]],
                             strength=lk.strength, explicit=lk.explicit, evidence=[ev(e) for e in lk.evidence])
                   for lk in g.links],
        )


@strawberry.type
class CoMissingGroupPage:
    as_of: datetime
    since: datetime
    total_count: int
    nodes: list[CoMissingGroup]
    page_info: PageInfo


# --- sharedAssociates -----------------------------------------------------------------------------


@strawberry.type(description="One record linking an adult to a child.")
class AssociateLink:
    kind: str = strawberry.field(description="WITH_PERSON (named in the episode) or ASSOCIATES_WITH (recorded association).")
    source: str | None
    episode_id: strawberry.ID | None = strawberry.field(
        description="WITH_PERSON: the episode, null when it is one you may not open (its date and force remain).")
    at: datetime | None
    ended_at: datetime | None
    force: str | None


@strawberry.type(description="A child linked to the adult: named when you may read the child, else in summary form.")
class AssociateChild:
    child: LinkedChildRef | None = strawberry.field(description=LINKED_CHILD_DOC)
    summary: ChildSummary = strawberry.field(description=SUMMARY_DOC.format(field="child"))
    forces: list[str]
    links: list[AssociateLink]


def associate_child_from(c: dict[str, Any], as_of: datetime) -> AssociateChild:
    """A child of an adult (mpdb/intel/associates.py row): named if readable, summary always, and
    the episode id of a link only when the caller may open that episode."""
    return AssociateChild(
        child=LinkedChildRef.if_visible(c["child"], as_of), summary=ChildSummary.from_row(c["child"], as_of),
        forces=c["forces"],
        links=[AssociateLink(kind=li["kind"], source=li.get("source"),
                             episode_id=(strawberry.ID(li["episodeId"])
                                         if li.get("episodeId") and li.get("visible", True) else None),
                             at=li.get("at"), ended_at=li.get("endAt"), force=li.get("force"))
               for li in c["links"]])


@strawberry.type(description="How many children an adult is linked to in one force.")
class ForceChildCount:
    force: str | None = strawberry.field(description="Force code; null: associations recorded by an agency that is "
                                                      "not a police force.")
    children: int


@strawberry.type(description="An adult linked to several children across several forces. Counted over every child "
                             "linked to the adult in every force, whoever may read them: each force that can see the "
                             "adult learns its whole reach; the children you may read are named, the others are in "
                             "summary form.")
class SharedAssociate:
    person: LinkPerson
    child_count: int
    force_count: int
    forces: list[str]
    children_by_force: list[ForceChildCount] = strawberry.field(
        description="Children with at least one link in each force (a child linked in two forces counts in both), "
                    "most first.")
    children: list[AssociateChild]


@strawberry.type
class SharedAssociatePage:
    as_of: datetime
    since: datetime
    total_count: int
    nodes: list[SharedAssociate]
    page_info: PageInfo


# --- linkedChildren -------------------------------------------------------------------------------


@strawberry.type
class LinkedPlacement:
    id: strawberry.ID
    start_date: date | None
    end_date: date | None
    placement_type: str | None
    placed_by: str | None
    hosted_by: str | None
    force_area: str | None
    out_of_area: bool | None
    cross_force: bool | None
    distance_km: float | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> LinkedPlacement:
        return cls(id=strawberry.ID(r["id"]), start_date=r.get("startDate"), end_date=r.get("endDate"),
                   placement_type=r.get("placementType"), placed_by=r.get("placedBy"), hosted_by=r.get("hostedBy"),
                   force_area=r.get("forceArea"), out_of_area=r.get("outOfArea"), cross_force=r.get("crossForce"),
                   distance_km=r.get("distanceKm"))


@strawberry.type(description="How a linked child is linked to one of the local authority's children.")
class LinkToAnchor:
    anchor: LinkedChildRef
    strength: float
    explicit: bool
    evidence: list[LinkEvidence]


@strawberry.type(description="A child in a local authority's view. `child` is null (summary only) for a linked "
                             "child of another LA you may not see in full; `summary` is always there.")
class LinkedChildEntry:
    relation: LinkedRelation
    summary: ChildSummary
    child: LinkedChildRef | None
    strength: float | None = strawberry.field(description="LINKED: the strongest link to any anchor.")
    placements: list[LinkedPlacement]
    links: list[LinkToAnchor]


@strawberry.type
class LinkedChildrenPage:
    local_authority: str
    as_of: datetime
    since: datetime
    total_count: int
    nodes: list[LinkedChildEntry]
    page_info: PageInfo


# --- riskProfile ----------------------------------------------------------------------------------


@strawberry.type
class AgencyRef:
    id: str
    name: str | None
    kind: str | None


def _agency(r: dict[str, Any] | None) -> AgencyRef | None:
    return AgencyRef(id=r["id"], name=r.get("name"), kind=r.get("kind")) if r else None


@strawberry.type(description="Episode counts ending at asOf (episodes you may see).")
class EpisodeCounts:
    force_code: str | None = strawberry.field(description="Null on the totals row; per force on byForce rows.")
    last_90_days: int
    last_12_months: int
    ever: int
    last_reported_at: datetime | None
    episode_ids: list[strawberry.ID] = strawberry.field(description="The episodes counted, newest first.")


@strawberry.type
class PriorEpisodes:
    total: EpisodeCounts
    by_force: list[EpisodeCounts]


@strawberry.type(description="A risk flag, active or past, with the agency that raised it.")
class RiskFlag:
    id: strawberry.ID
    type: str
    status: str | None
    active: bool
    raised_at: datetime | None
    review_due: date | None
    reviewed_at: datetime | None
    expired_at: datetime | None
    note: str | None
    raised_by: AgencyRef | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> RiskFlag:
        review_due = r.get("reviewDue")
        if isinstance(review_due, datetime):
            review_due = review_due.date()
        return cls(id=strawberry.ID(r["id"]), type=r["type"], status=r.get("status"), active=bool(r.get("active")),
                   raised_at=r.get("raisedAt"), review_due=review_due, reviewed_at=r.get("reviewedAt"),
                   expired_at=r.get("expiredAt"), note=r.get("note"), raised_by=_agency(r.get("raisedBy")))


@strawberry.type
class RiskPlacement:
    placement: LinkedPlacement
    current: bool
    dcs_approved: bool | None
    establishment_id: strawberry.ID | None
    establishment_name: str | None
    establishment_kind: str | None
    location: LinkPlace | None


@strawberry.type(description="An episode in which the child and a peer were recorded together.")
class PeerEpisode:
    episode_id: strawberry.ID | None = strawberry.field(
        description="Null for an episode of a peer in summary form that you may not open (date and force remain).")
    episode_of: strawberry.ID | None = strawberry.field(
        description="Whose episode recorded the other child: this child's id or the peer's; null with episodeId.")
    source: str | None
    at: datetime | None
    force: str | None


@strawberry.type(description="A child this child went missing with or was found with (explicit records: link kind "
                             "EXPLICIT), in full or, when you may not read the peer, in summary form with the dated "
                             "records of the link.")
class RiskPeer:
    child: LinkedChildRef | None = strawberry.field(description=LINKED_CHILD_DOC)
    summary: ChildSummary = strawberry.field(description=SUMMARY_DOC.format(field="child"))
    episode_count: int
    last_together: datetime | None
    strength: float = strawberry.field(description="The link's strength over these explicit records, as coMissing "
                                                   "scores it. " + STRENGTH_DOC)
    active_flags: list[RiskFlag] | None = strawberry.field(
        description="The peer's active flags in full; null for a peer in summary form (see summary.activeFlags).")
    episodes: list[PeerEpisode]


@strawberry.type
class AdultLink:
    kind: str = strawberry.field(description="WITH_PERSON (named in an episode) or ASSOCIATES_WITH.")
    source: str | None
    episode_id: strawberry.ID | None
    at: datetime | None
    force: str | None
    recorded_by: str | None


@strawberry.type(description="An associate the child went missing with, was found with, or is recorded as "
                             "associating with.")
class RiskAdult:
    person: LinkPerson
    other_children: int = strawberry.field(description="Other children you may see linked to this person.")
    children_by_force: list[ForceChildCount] = strawberry.field(
        description="Every child linked to this person up to asOf (this one included), whoever may read them, per "
                    "force of the linking episode or of the recorded association: the adult's cross-force reach.")
    _as_of: strawberry.Private[datetime]
    episode_count: int
    last_at: datetime | None
    links: list[AdultLink]

    @strawberry.field(description="Every child linked to this person up to asOf (this one included): named when "
                                  "you may read the child, else in summary form, with the linking records. Read "
                                  "(and audited) only when selected.")
    async def children(self, info: strawberry.Info) -> list[AssociateChild]:
        from mpdb.intel.associates import adult_children

        rows = await adult_children(info.context.service, str(self.person.id), self._as_of)
        return [associate_child_from(c, self._as_of) for c in rows]


@strawberry.type(description="A place the child was found at or went to: where to look.")
class RiskPlace:
    place: LinkPlace
    times_found: int
    times_went_to: int
    last_found_at: datetime | None
    last_at: datetime | None
    episode_ids: list[strawberry.ID]


@strawberry.type(description="A return interview: status and the shareable intelligence summary only; the "
                             "child's confidential account is never part of a risk profile.")
class RiskReturnInterview:
    id: strawberry.ID
    episode_id: strawberry.ID
    status: str | None
    offered_at: datetime | None
    completed_at: datetime | None
    due_at: datetime | None
    by: AgencyRef | None
    summary_places: list[str] | None
    summary_people: list[str] | None
    summary_with: list[str] | None
    summary_risk_types: list[str] | None


@strawberry.type(description="A rule the child currently meets, with the episodes that make it fire.")
class TriggeredRule:
    rule: str
    description: str
    condition: str
    area: str = strawberry.field(description="Rule area: the LA whose rules apply, or 'national'.")
    count: int
    episode_ids: list[strawberry.ID]


@strawberry.type(description="A child's cross-force picture at asOf, from the records you may see.")
class RiskProfile:
    child: Child
    as_of: datetime
    prior_episodes: PriorEpisodes
    flags: list[RiskFlag]
    placements: list[RiskPlacement]
    peers: list[RiskPeer]
    adults: list[RiskAdult]
    where_to_look: list[RiskPlace]
    return_interviews: list[RiskReturnInterview]
    triggers: list[TriggeredRule]


def _as_list(v: Any) -> list[str] | None:
    if v is None:
        return None
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _counts(r: dict[str, Any], force: str | None) -> EpisodeCounts:
    return EpisodeCounts(force_code=force, last_90_days=r["last90Days"], last_12_months=r["last12Months"],
                         ever=r["ever"], last_reported_at=r["lastReportedAt"],
                         episode_ids=[strawberry.ID(i) for i in r["episodeIds"]])


def risk_profile_from(p: dict[str, Any]) -> RiskProfile:
    as_of: datetime = p["asOf"]
    prior = p["priorEpisodes"]
    return RiskProfile(
        child=Child.from_row(p["child"]),
        as_of=as_of,
        prior_episodes=PriorEpisodes(total=_counts(prior, None),
                                     by_force=[_counts(r, r["forceCode"]) for r in prior["byForce"]]),
        flags=[RiskFlag.from_row(f) for f in p["flags"]],
        placements=[RiskPlacement(
            placement=LinkedPlacement.from_row(pl), current=pl["current"], dcs_approved=pl.get("dcsApproved"),
            establishment_id=(pl.get("establishment") or {}).get("id"),
            establishment_name=(pl.get("establishment") or {}).get("name"),
            establishment_kind=(pl.get("establishment") or {}).get("kind"),
            location=LinkPlace.from_row(pl["location"]) if pl.get("location") else None,
        ) for pl in p["placements"]],
        peers=[RiskPeer(
            child=LinkedChildRef.if_visible(peer["child"], as_of),
            summary=ChildSummary.from_row(peer["child"]["summary"], as_of), episode_count=peer["episodeCount"],
            last_together=peer["lastTogether"], strength=peer["strength"],
            active_flags=([RiskFlag.from_row({**f, "active": True}) for f in peer["child"].get("flags") or []]
                          if peer["child"].get("visible") is not False else None),
            episodes=[PeerEpisode(episode_id=strawberry.ID(li["episodeId"]) if li["visible"] else None,
                                  episode_of=strawberry.ID(li["episodeOf"]) if li["visible"] else None,
                                  source=li.get("source"), at=li.get("at"), force=li.get("force"))
                      for li in peer["episodes"]],
        ) for peer in p["peers"]],
        adults=[RiskAdult(
            person=LinkPerson.from_row(a["person"]), other_children=a["otherChildren"],
            children_by_force=[ForceChildCount(force=r["force"], children=r["children"]) for r in a["childrenByForce"]],
            _as_of=as_of,
            episode_count=a["episodeCount"], last_at=a["lastAt"],
            links=[AdultLink(kind=li["kind"], source=li.get("source"),
                             episode_id=strawberry.ID(li["episodeId"]) if li.get("episodeId") else None,
                             at=li.get("at"), force=li.get("force"), recorded_by=li.get("recordedBy"))
                   for li in a["links"]],
        ) for a in p["adults"]],
        where_to_look=[RiskPlace(place=LinkPlace.from_row(w["place"]), times_found=w["timesFound"],
                                 times_went_to=w["timesWentTo"], last_found_at=w["lastFoundAt"], last_at=w["lastAt"],
                                 episode_ids=[strawberry.ID(i) for i in w["episodeIds"]]) for w in p["whereToLook"]],
        return_interviews=[RiskReturnInterview(
            id=strawberry.ID(r["id"]), episode_id=strawberry.ID(r["episodeId"]), status=r.get("status"),
            offered_at=r.get("offeredAt"), completed_at=r.get("completedAt"), due_at=r.get("dueAt"),
            by=_agency(r.get("by")), summary_places=_as_list(r.get("summaryPlaces")),
            summary_people=_as_list(r.get("summaryPeople")), summary_with=_as_list(r.get("summaryWith")),
            summary_risk_types=_as_list(r.get("summaryRiskTypes")),
        ) for r in p["returnInterviews"]],
        triggers=[TriggeredRule(rule=t["rule"], description=t["description"], condition=t["condition"],
                                area=t["area"], count=t["count"], episode_ids=[strawberry.ID(i) for i in t["episodeIds"]])
                  for t in p["triggers"]],
    )
