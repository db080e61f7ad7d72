"""Alerts over HTTP: the agency's newest alerts (the console's first page) and its webhooks."""

from __future__ import annotations

import strawberry

from mpdb.alerts import subscriptions as alerts
from mpdb.alerts import webhooks
from mpdb.api.permissions import requires
from mpdb.api.types.alerts import Alert, Webhook
from mpdb.auth.principal import Scope
from mpdb.domain.errors import InvalidInput

MAX_RECENT = 100


@strawberry.type
class AlertQueries:
    @strawberry.field(extensions=requires(Scope.ALERTS_READ), description=(
        "Your agency's newest alerts, newest first, that you may still read (access is checked now, as at "
        "delivery). Needs a purpose; each alert returned is audited as a disclosure. To follow them live, "
        "subscribe to `alerts(after: <the newest id>)`."))
    async def recent_alerts(self, info: strawberry.Info, first: int = 20) -> list[Alert]:
        if not 1 <= first <= MAX_RECENT:
            raise InvalidInput(f"first: between 1 and {MAX_RECENT}", field="first")
        return [Alert.from_row(r) for r in await alerts.recent_alerts(info.context.service, first)]

    @strawberry.field(extensions=requires(Scope.ALERTS_WEBHOOKS), description=(
        "Your agency's webhooks (never their secrets), each with its dead-letter deliveries."))
    async def webhooks(self, info: strawberry.Info) -> list[Webhook]:
        return [Webhook.from_row(r) for r in await webhooks.list_webhooks(info.context.service)]
