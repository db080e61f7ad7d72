"""Review decisions on possible duplicates (graph_schema/MODEL.md, "Identities"; docs/ACCESS.md).

Each takes `input` and an `idempotencyKey` like the lifecycle mutations (mpdb/api/mutations/
lifecycle.py), needs identity:review, a purpose, and the national unit or an agency that may read
both records (else FORBIDDEN; neither: NOT_FOUND). A decision the pair already carries is a no-op
with the same answer; a decision its state does not allow is a CONFLICT with a reason
(CANDIDATE_CONFIRMED, CANDIDATE_DECIDED, NOT_MERGED); a decided pair is decided again only after
reopenIdentityCandidate.
"""

from __future__ import annotations

import strawberry

from mpdb.api.mutations.lifecycle import IdemKey
from mpdb.api.permissions import requires
from mpdb.api.types import identity as t
from mpdb.api.types.writes import input_data
from mpdb.auth.principal import Scope
from mpdb.domain import identity as rules
from mpdb.domain.commands import parse_command
from mpdb.services import identity as svc


@strawberry.type
class IdentityMutations:
    @strawberry.mutation(extensions=requires(Scope.IDENTITY_REVIEW), description=(
        "Confirm that two records are one child: a merge. The pair becomes confirmed and the records are joined by "
        "SAME_AS; nothing is moved or deleted, each keeps its provenance. The records then share their access "
        "lists, and the intelligence queries and duties treat them as one child. Audited as a combination."))
    async def confirm_identity_candidate(self, info: strawberry.Info, input: t.ConfirmIdentityCandidateInput,
                                         idempotency_key: IdemKey) -> t.IdentityDecisionPayload:
        c = parse_command(rules.ConfirmIdentityCandidate, input_data(input))
        return t.IdentityDecisionPayload.from_result(await svc.decide(info.context.service, "confirm", c,
                                                                      idempotency_key))

    @strawberry.mutation(extensions=requires(Scope.IDENTITY_REVIEW), description=(
        "Reject a proposed pair: different children. It is never proposed again. A confirmed pair is a CONFLICT "
        "(CANDIDATE_CONFIRMED): unmerge it instead."))
    async def reject_identity_candidate(self, info: strawberry.Info, input: t.RejectIdentityCandidateInput,
                                        idempotency_key: IdemKey) -> t.IdentityDecisionPayload:
        c = parse_command(rules.RejectIdentityCandidate, input_data(input))
        return t.IdentityDecisionPayload.from_result(await svc.decide(info.context.service, "reject", c,
                                                                      idempotency_key))

    @strawberry.mutation(extensions=requires(Scope.IDENTITY_REVIEW), description=(
        "Undo a merge: the SAME_AS of a confirmed pair is removed, each record's access lists and intelligence are "
        "its own again, and the pair stays as unmerged (never proposed again)."))
    async def unmerge_identity(self, info: strawberry.Info, input: t.UnmergeIdentityInput,
                               idempotency_key: IdemKey) -> t.IdentityDecisionPayload:
        c = parse_command(rules.UnmergeIdentity, input_data(input))
        return t.IdentityDecisionPayload.from_result(await svc.decide(info.context.service, "unmerge", c,
                                                                      idempotency_key))

    @strawberry.mutation(extensions=requires(Scope.IDENTITY_REVIEW), description=(
        "Reopen a rejected or unmerged pair whose decision was wrong: it is proposed again, back in the review "
        "queue, to be confirmed or rejected like any proposed pair (reopening merges nothing). A reason is "
        "required; audited as an alteration. A confirmed pair is a CONFLICT (CANDIDATE_CONFIRMED): unmerge it."))
    async def reopen_identity_candidate(self, info: strawberry.Info, input: t.ReopenIdentityCandidateInput,
                                        idempotency_key: IdemKey) -> t.IdentityDecisionPayload:
        c = parse_command(rules.ReopenIdentityCandidate, input_data(input))
        return t.IdentityDecisionPayload.from_result(await svc.decide(info.context.service, "reopen", c,
                                                                      idempotency_key))
