"""The episode-lifecycle mutations (names are the public contract).

Each takes `input` and a client-generated `idempotencyKey` (8-128 chars of [A-Za-z0-9_.:-]): a
retry with the same key and input returns the original payload without writing again; the same
key with a different input is a CONFLICT (IDEMPOTENCY_KEY_REUSED). Each runs as one transaction.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import strawberry

from mpdb.api.permissions import requires, requires_any
from mpdb.api.types import writes as t
from mpdb.auth.principal import Scope
from mpdb.domain import commands as cmd
from mpdb.services import writes as svc

C = TypeVar("C", bound=cmd.Command)

KEY_HELP = "Client-generated key that makes a retry of this exact request safe."
IdemKey = Annotated[str, strawberry.argument(description=KEY_HELP)]


def _command(model: type[C], data: Any) -> C:
    return cmd.parse_command(model, t.input_data(data))


@strawberry.type
class LifecycleMutations:
    @strawberry.mutation(extensions=requires(Scope.EPISODE_WRITE), description=(
        "Report a child missing: a new open episode (for an existing child, or a new child created with it), "
        "its first risk grade, and the repeat-missing triggers of its rule area evaluated on it. A companion "
        "child who is missing too (an open episode) gets the reverse link on that episode."))
    async def report_missing(self, info: strawberry.Info, input: t.ReportMissingInput,
                             idempotency_key: IdemKey) -> t.ReportMissingPayload:
        r = await svc.report_missing(info.context.service, _command(cmd.ReportMissing, input), idempotency_key)
        return t.ReportMissingPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.EPISODE_WRITE), description=(
        "Report several children missing together in one transaction: one report each (as reportMissing) and "
        "WITH_CHILD {source: 'reported'} from every child's new episode to every other child, so each pair is "
        "linked both ways. Any refused child (field input.children[i]...) writes nothing at all."))
    async def report_missing_together(self, info: strawberry.Info, input: t.ReportMissingTogetherInput,
                                      idempotency_key: IdemKey) -> t.ReportMissingTogetherPayload:
        r = await svc.report_missing_together(info.context.service, _command(cmd.ReportMissingTogether, input),
                                              idempotency_key)
        return t.ReportMissingTogetherPayload.from_result(r)

    @strawberry.mutation(extensions=requires_any(Scope.PLACEMENT_WRITE, Scope.EPISODE_WRITE), description=(
        "Register a child before any episode: a local authority its looked-after children (lookedAfterBy = "
        "itself) or children living in its area (home in its area), a police force a child it deals with. "
        "Likely existing records (same LA reference; same date of birth and matching names, allowing accents, "
        "hyphens, nicknames and one typo) are returned as candidates and nothing is created, unless "
        "createDespiteCandidates. Candidates you may not read in full appear in summary form; showing them is "
        "audited (consultation, and disclosure to you for the summaries)."))
    async def register_child(self, info: strawberry.Info, input: t.RegisterChildInput,
                             idempotency_key: IdemKey) -> t.RegisterChildPayload:
        r = await svc.register_child(info.context.service, _command(cmd.RegisterChild, input), idempotency_key)
        return t.RegisterChildPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.EPISODE_WRITE), description=(
        "Add sightings (places the child went to), companions, or a new risk grade to an open episode."))
    async def update_episode(self, info: strawberry.Info, input: t.UpdateEpisodeInput,
                             idempotency_key: IdemKey) -> t.UpdateEpisodePayload:
        r = await svc.update_episode(info.context.service, _command(cmd.UpdateEpisode, input), idempotency_key)
        return t.UpdateEpisodePayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.EPISODE_WRITE), description=(
        "Record where, when and by which force the child was found; notifies the responsible LA of a "
        "looked-after child. The episode stays open until recordReturn."))
    async def record_found(self, info: strawberry.Info, input: t.RecordFoundInput,
                           idempotency_key: IdemKey) -> t.RecordFoundPayload:
        r = await svc.record_found(info.context.service, _command(cmd.RecordFound, input), idempotency_key)
        return t.RecordFoundPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.EPISODE_WRITE), description=(
        "Record the return and close the episode; creates its return interview (status not_offered) with "
        "dueAt from the area's rule (72 hours, or working days e.g. Kent)."))
    async def record_return(self, info: strawberry.Info, input: t.RecordReturnInput,
                            idempotency_key: IdemKey) -> t.RecordReturnPayload:
        r = await svc.record_return(info.context.service, _command(cmd.RecordReturn, input), idempotency_key)
        return t.RecordReturnPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.RHI_WRITE), description=(
        "Record a return interview being offered, declined or completed, by a provider; the confidential "
        "account and the shareable summary are stored separately."))
    async def record_return_interview(
        self, info: strawberry.Info, input: t.RecordReturnInterviewInput,
        idempotency_key: IdemKey,
    ) -> t.RecordReturnInterviewPayload:
        r = await svc.record_return_interview(info.context.service, _command(cmd.RecordReturnInterview, input),
                                              idempotency_key)
        return t.RecordReturnInterviewPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.PLACEMENT_WRITE), description=(
        "Start a placement (on startDate, default today; or record a past one with endDate): host LA and force "
        "come from the address; distance, outOfArea and crossForce are derived; an out-of-area placement creates "
        "notifications to the host LA and host force (and, in a children's home, the home's own notification to "
        "the host LA, unsent), each due counted from startDate, so one recorded late is overdue at once."))
    async def start_placement(self, info: strawberry.Info, input: t.StartPlacementInput,
                              idempotency_key: IdemKey) -> t.StartPlacementPayload:
        r = await svc.start_placement(info.context.service, _command(cmd.StartPlacement, input), idempotency_key)
        return t.StartPlacementPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.PLACEMENT_WRITE), description=(
        "End a placement (its placing LA, or the national unit). A children's home discharging a child placed "
        "out of area owes the host LA a notification: it is created, unsent."))
    async def end_placement(self, info: strawberry.Info, input: t.EndPlacementInput,
                            idempotency_key: IdemKey) -> t.EndPlacementPayload:
        r = await svc.end_placement(info.context.service, _command(cmd.EndPlacement, input), idempotency_key)
        return t.EndPlacementPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.NOTIFICATION_WRITE), description=(
        "Acknowledge a notification addressed to your agency (only the recipient can)."))
    async def acknowledge_notification(
        self, info: strawberry.Info, input: t.AcknowledgeNotificationInput,
        idempotency_key: IdemKey,
    ) -> t.AcknowledgeNotificationPayload:
        r = await svc.acknowledge_notification(info.context.service, _command(cmd.AcknowledgeNotification, input),
                                               idempotency_key)
        return t.AcknowledgeNotificationPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.NOTIFICATION_WRITE), description=(
        "Record when a notification was sent (only its sending agency can); a disclosure to the recipient "
        "is audited. Marking it again with the same time changes nothing; a different time is a CONFLICT."))
    async def mark_notification_sent(
        self, info: strawberry.Info, input: t.MarkNotificationSentInput,
        idempotency_key: IdemKey,
    ) -> t.MarkNotificationSentPayload:
        r = await svc.mark_notification_sent(info.context.service, _command(cmd.MarkNotificationSent, input),
                                             idempotency_key)
        return t.MarkNotificationSentPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.FLAG_WRITE), description=(
        "Raise a risk flag on a child: while active, no episode of the child may be graded "
        "no_apparent_risk (2017) or absent (2013)."))
    async def raise_flag(self, info: strawberry.Info, input: t.RaiseFlagInput,
                         idempotency_key: IdemKey) -> t.FlagPayload:
        r = await svc.raise_flag(info.context.service, _command(cmd.RaiseFlag, input), idempotency_key)
        return t.FlagPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.FLAG_WRITE), description="Record a review of an active flag.")
    async def review_flag(self, info: strawberry.Info, input: t.ReviewFlagInput,
                          idempotency_key: IdemKey) -> t.FlagPayload:
        r = await svc.review_flag(info.context.service, _command(cmd.ReviewFlag, input), idempotency_key)
        return t.FlagPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.FLAG_WRITE), description="Expire an active flag.")
    async def expire_flag(self, info: strawberry.Info, input: t.ExpireFlagInput,
                          idempotency_key: IdemKey) -> t.FlagPayload:
        r = await svc.expire_flag(info.context.service, _command(cmd.ExpireFlag, input), idempotency_key)
        return t.FlagPayload.from_result(r)

    @strawberry.mutation(extensions=requires(Scope.FLAG_WRITE), description=(
        "Record that a child associates with a person (an existing one, or a new one)."))
    async def link_associate(self, info: strawberry.Info, input: t.LinkAssociateInput,
                             idempotency_key: IdemKey) -> t.LinkAssociatePayload:
        r = await svc.link_associate(info.context.service, _command(cmd.LinkAssociate, input), idempotency_key)
        return t.LinkAssociatePayload.from_result(r)
