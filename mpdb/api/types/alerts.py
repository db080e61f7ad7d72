"""GraphQL views of push alerts and webhooks (docs/ALERTS.md). An alert is thin: what happened, to
which record ids, when, and why the agency receives it; the details are read through the API."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from mpdb.alerts.events import AlertKind as DomainAlertKind

AlertKind = strawberry.enum(
    Enum("AlertKind", {k.name: k.value for k in DomainAlertKind}),  # type: ignore[misc]
    description="What an alert says happened (docs/ALERTS.md lists who receives each kind and why).",
)


@strawberry.type(description="One alert to your agency. Its `id` is stable (the webhook-id of its webhook "
                             "deliveries); subscribe with `after: <id of the last alert you received>` to resume.")
class Alert:
    id: strawberry.ID
    seq: int = strawberry.field(description="Its position in the outbox: alerts arrive in this order.")
    kind: AlertKind  # type: ignore[valid-type]
    recipient: str = strawberry.field(description="Your agency's id.")
    reason: str = strawberry.field(description="Why your agency receives it, e.g. responsible_la, home_force.")
    subject_type: str
    subject_id: str
    child_id: str | None
    episode_id: str | None
    occurred_at: datetime
    recorded_at: datetime | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Alert:
        return cls(id=strawberry.ID(r["id"]), seq=int(r["seq"]), kind=AlertKind(r["kind"]),  # type: ignore[operator]
                   recipient=r["recipient"], reason=r["reason"], subject_type=r["subjectType"],
                   subject_id=r["subjectId"], child_id=r.get("childId"), episode_id=r.get("episodeId"),
                   occurred_at=r["occurredAt"], recorded_at=r.get("recordedAt"))


@strawberry.enum(description="Where a webhook delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    WITHHELD = "withheld"
    DEAD = "dead"


@strawberry.type(description="One alert's delivery to a webhook: its attempts and the last outcome.")
class WebhookDelivery:
    alert_id: strawberry.ID
    seq: int
    status: WebhookDeliveryStatus
    attempts: int
    last_attempt_at: datetime | None
    last_http_status: int | None
    last_error: str | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> WebhookDelivery:
        return cls(alert_id=strawberry.ID(r["eventId"]), seq=int(r["seq"]), status=WebhookDeliveryStatus(r["status"]),
                   attempts=int(r["attempts"]), last_attempt_at=r.get("lastAttemptAt"),
                   last_http_status=r.get("lastStatus"), last_error=r.get("lastError"))


@strawberry.type(description="A URL your agency's alerts are POSTed to, signed per the Standard Webhooks spec.")
class Webhook:
    id: strawberry.ID
    url: str
    description: str | None
    created_at: datetime
    created_by: str
    secret_rotated_at: datetime
    raw: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Webhook:
        return cls(id=strawberry.ID(r["id"]), url=r["url"], description=r.get("description"),
                   created_at=r["createdAt"], created_by=r["createdBy"], secret_rotated_at=r["secretRotatedAt"],
                   raw=r)

    @strawberry.field(description="Deliveries that failed every attempt, newest first: replay them with "
                                  "replayWebhook once the receiver works again.")
    async def dead_letters(self, info: strawberry.Info, first: int = 50) -> list[WebhookDelivery]:
        from mpdb.alerts import webhooks as svc
        from mpdb.domain.errors import InvalidInput

        if not 1 <= first <= 200:
            raise InvalidInput("first: between 1 and 200", field="first")
        return [WebhookDelivery.from_row(r) for r in await svc.dead_letters(info.context.service, self.raw["id"], first)]


@strawberry.type(description="A webhook and its signing secret. The secret is shown only here, once: store it now.")
class WebhookSecretPayload:
    webhook: Webhook
    secret: str = strawberry.field(description="whsec_…: verify each delivery's webhook-signature with it "
                                               "(any Standard Webhooks library).")


@strawberry.type
class DeleteWebhookPayload:
    id: strawberry.ID
    deleted: bool = strawberry.field(description="false when it was already gone (a retried delete).")


@strawberry.type
class ReplayWebhookPayload:
    webhook: Webhook
    requeued: int = strawberry.field(description="Deliveries sent again (alerts never queued for the webhook, "
                                                 "raised before it was registered, are queued as well).")


@strawberry.input
class RegisterWebhookInput:
    url: str = strawberry.field(description="An https URL on your agency's allow-list (auth/webhooks.toml).")
    description: str | None = None
