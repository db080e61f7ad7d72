"""Webhook management (docs/ALERTS.md "Webhooks"): register, rotate the secret, delete, replay.
All need alerts:webhooks and act on the caller's own agency's webhooks only (another agency's id is
NOT_FOUND, as an unknown one)."""

from __future__ import annotations

import strawberry

from mpdb.alerts import webhooks as svc
from mpdb.api.permissions import requires
from mpdb.api.types import alerts as t
from mpdb.auth.principal import Scope


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(extensions=requires(Scope.ALERTS_WEBHOOKS), description=(
        "Register a URL your agency's alerts are POSTed to (from now on; earlier ones with replayWebhook). The URL "
        "must be on your agency's allow-list and https (http is accepted in dev only). One webhook per URL: "
        "registering it again is a CONFLICT (WEBHOOK_EXISTS). The answer carries the signing secret, once."))
    async def register_webhook(self, info: strawberry.Info, input: t.RegisterWebhookInput) -> t.WebhookSecretPayload:
        webhook, secret = await svc.register(info.context.service, input.url, input.description)
        return t.WebhookSecretPayload(webhook=t.Webhook.from_row(webhook), secret=secret)

    @strawberry.mutation(extensions=requires(Scope.ALERTS_WEBHOOKS), description=(
        "A new signing secret, shown once. The previous one stays valid for 24 hours (deliveries carry both "
        "signatures meanwhile), so the receiver can switch without losing an alert."))
    async def rotate_webhook_secret(self, info: strawberry.Info, id: strawberry.ID) -> t.WebhookSecretPayload:
        webhook, secret = await svc.rotate(info.context.service, str(id))
        return t.WebhookSecretPayload(webhook=t.Webhook.from_row(webhook), secret=secret)

    @strawberry.mutation(extensions=requires(Scope.ALERTS_WEBHOOKS), description=(
        "Delete a webhook and its delivery records; nothing more is sent to it."))
    async def delete_webhook(self, info: strawberry.Info, id: strawberry.ID) -> t.DeleteWebhookPayload:
        return t.DeleteWebhookPayload(id=id, deleted=await svc.delete(info.context.service, str(id)))

    @strawberry.mutation(extensions=requires(Scope.ALERTS_WEBHOOKS), description=(
        "Send again every alert of your agency from `fromAlertId` (inclusive) to this webhook: dead letters, "
        "delivered alerts (same webhook-id: a receiver that dedupes ignores what it already has) and alerts "
        "raised before the webhook was registered. Access is re-checked at delivery, as always."))
    async def replay_webhook(self, info: strawberry.Info, id: strawberry.ID,
                             from_alert_id: strawberry.ID) -> t.ReplayWebhookPayload:
        webhook, requeued = await svc.replay(info.context.service, str(id), str(from_alert_id))
        return t.ReplayWebhookPayload(webhook=t.Webhook.from_row(webhook), requeued=requeued)
