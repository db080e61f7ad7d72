"""GraphQL views of possible duplicates (POSSIBLY_SAME_AS pairs), identities (SAME_AS) and the
review decisions. Disclosure rules in docs/ACCESS.md ("Possible duplicates")."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry

from mpdb.api.pagination import PageInfo
from mpdb.api.types.intel_links import ChildSummary
from mpdb.api.types.records import Child


@strawberry.type(description="One comparison's contribution to a pair's match weight (Splink): which field, the "
                             "level it agreed at, and the log2 Bayes factor that level adds (negative: evidence "
                             "against).")
class MatchReason:
    comparison: str
    level: str
    match_weight: float

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> MatchReason:
        return cls(comparison=r["comparison"], level=r["level"], match_weight=float(r["matchWeight"]))


@strawberry.enum(description="Where a possible duplicate stands: proposed (awaiting review), confirmed (merged: "
                             "SAME_AS), rejected, or unmerged (a merge undone). Only proposed pairs change.")
class IdentityCandidateStatus(Enum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    UNMERGED = "unmerged"


@strawberry.type(description="One record of a pair: in full when you may read it, else in summary form only.")
class IdentityRecord:
    child: Child | None = strawberry.field(description="The record, or null when you may not read it.")
    summary: ChildSummary

    @classmethod
    def from_row(cls, r: dict[str, Any], as_of: datetime) -> IdentityRecord:
        return cls(child=Child.from_row(r["child"]) if r["visible"] and r.get("child") else None,
                   summary=ChildSummary.from_row(r["summary"], as_of))


@strawberry.type(description="Two records that may be one child (POSSIBLY_SAME_AS), scored by the resolution model. "
                             "Listed to callers who may read at least one record; names and the reasons only to "
                             "callers who may read both.")
class IdentityCandidate:
    id: strawberry.ID
    status: IdentityCandidateStatus
    match_probability: float | None
    match_weight: float | None = strawberry.field(description="Total match weight (log2 Bayes factor).")
    model_version: str | None
    proposed_at: datetime | None
    proposed_by: str | None = strawberry.field(description="'mpdb resolve' or the agency whose write found it.")
    decided_at: datetime | None
    decided_by_agency: str | None
    decision_note: str | None = strawberry.field(description="Null unless you may read both records.")
    reasons: list[MatchReason] | None = strawberry.field(
        description="The comparisons behind the match weight, largest first (a waterfall); null unless you may "
                    "read both records: they disclose how the other record's values compare.")
    low: IdentityRecord = strawberry.field(description="The record with the lower id.")
    high: IdentityRecord = strawberry.field(description="The record with the higher id.")

    @classmethod
    def from_view(cls, v: dict[str, Any], as_of: datetime | None = None) -> IdentityCandidate:
        as_of = as_of or datetime.now(UTC)
        reasons = v.get("reasons")
        return cls(
            id=strawberry.ID(v["id"]), status=IdentityCandidateStatus(v["status"]),
            match_probability=v.get("matchProbability"), match_weight=v.get("matchWeight"),
            model_version=v.get("modelVersion"), proposed_at=v.get("proposedAt"), proposed_by=v.get("proposedBy"),
            decided_at=v.get("decidedAt"), decided_by_agency=v.get("decidedByAgency"),
            decision_note=v.get("decisionNote"),
            reasons=None if reasons is None else [MatchReason.from_row(r) for r in
                                                  sorted(reasons, key=lambda r: -abs(r["matchWeight"]))],
            low=IdentityRecord.from_row(v["low"], as_of), high=IdentityRecord.from_row(v["high"], as_of),
        )


@strawberry.type
class IdentityCandidatePage:
    nodes: list[IdentityCandidate]
    page_info: PageInfo


@strawberry.type(description="Another record of the same child (joined by confirmed SAME_AS, directly or through "
                             "other records).")
class IdentityMember:
    record: IdentityRecord
    hops: int = strawberry.field(description="1: confirmed directly with this record; more: through others.")
    candidate_ids: list[strawberry.ID] = strawberry.field(
        description="The confirmed pairs joining this member to its neighbours in the identity.")
    confirmed_at: datetime | None = strawberry.field(description="The earliest of those confirmations.")

    @classmethod
    def from_row(cls, r: dict[str, Any], as_of: datetime | None = None) -> IdentityMember:
        as_of = as_of or datetime.now(UTC)
        links = r.get("links") or []
        return cls(record=IdentityRecord.from_row(r["member"], as_of), hops=r["hops"],
                   candidate_ids=sorted({strawberry.ID(li["candidateId"]) for li in links}),
                   confirmed_at=min((li["confirmedAt"] for li in links if li.get("confirmedAt")), default=None))


@strawberry.input
class ConfirmIdentityCandidateInput:
    candidate_id: strawberry.ID
    note: str | None = strawberry.field(default=None, description="Why the records are one child.")


@strawberry.input
class RejectIdentityCandidateInput:
    candidate_id: strawberry.ID
    note: str | None = strawberry.field(default=None, description="Why they are different children.")


@strawberry.input
class UnmergeIdentityInput:
    candidate_id: strawberry.ID = strawberry.field(description="The confirmed pair whose merge is undone.")
    reason: str = strawberry.field(description="Why the merge was wrong (required).")


@strawberry.input
class ReopenIdentityCandidateInput:
    candidate_id: strawberry.ID = strawberry.field(description="The rejected or unmerged pair to decide again.")
    reason: str = strawberry.field(description="Why the rejection or unmerge was wrong (required).")


@strawberry.type(description="The pair after the decision. Repeating a decision the pair already carries changes "
                             "nothing and answers with the first decision's time and agency.")
class IdentityDecisionPayload:
    candidate_id: strawberry.ID
    status: IdentityCandidateStatus
    child_ids: list[strawberry.ID] = strawberry.field(description="The pair's two records (lower id first).")
    decided_at: datetime | None
    decided_by_agency: str | None

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> IdentityDecisionPayload:
        return cls(candidate_id=strawberry.ID(r["candidateId"]), status=IdentityCandidateStatus(r["status"]),
                   child_ids=[strawberry.ID(i) for i in r["childIds"]],
                   decided_at=datetime.fromisoformat(r["decidedAt"]) if r.get("decidedAt") else None,
                   decided_by_agency=r.get("decidedByAgency"))
