"""The webhook dispatcher: run by the holder of the cluster's lease (lease.py) only.

Each round it
1. queues every webhook's new alerts (one WebhookDelivery per webhook and alert),
2. takes the deliveries that are due (their persisted next-attempt time has passed), re-checks for
   each that the webhook's agency may read the alert's child and episode NOW (withheld if not) and
   that the URL is still on the agency's allow-list,
3. records one disclosure audit event per alert it is about to send (committed first, in one
   batch: no disclosure without its log),
4. POSTs them, signed (Standard Webhooks), and records each outcome: a 2xx is `delivered`;
   anything else (status, timeout, refused connection) is a failed attempt, retried after an
   exponential backoff whose next time is stored on the delivery (so it survives restarts), and
   `dead` (the agency's dead-letter list) after MPDB_WEBHOOK_MAX_ATTEMPTS attempts.
A delivery is marked delivered only after the receiver answered 2xx: an alert whose answer was
lost (a restart mid-request) is sent again with the same `webhook-id`, which receivers dedupe on.

The lease holder also raises the time-based alerts: `raise_overdue_alerts(graph, clock())` every
MPDB_ALERTS_OVERDUE_EVERY_SECONDS (mpdb/alerts/scheduler.py, the producer side).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from mpdb.alerts import webhooks
from mpdb.alerts.lease import Lease
from mpdb.audit.trail import AuditAction, AuditContext, new_event, record
from mpdb.auth.access import access_scope_for
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.graph.db import Graph
from mpdb.graph.repositories.delivery import WebhookRepository, deliverable_ids
from mpdb.settings import Settings

log = logging.getLogger("mpdb.alerts")

Clock = Callable[[], datetime]
DUE_BATCH = 100
CONCURRENT_POSTS = 8
MAX_ERROR_CHARS = 300


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _overdue_raiser() -> Callable[[Graph, datetime], Awaitable[int]] | None:
    try:  # the producer side (branch outbox) provides it; until it lands there is nothing to raise
        from mpdb.alerts.scheduler import raise_overdue_alerts  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return raise_overdue_alerts  # type: ignore[no-any-return]


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: base * 2^(attempts-1), capped, with ±10% jitter so the
    retries of one receiver's many alerts do not all land at the same second."""
    wait = min(settings.webhook_backoff_cap_seconds, settings.webhook_backoff_base_seconds * 2 ** (attempts - 1))
    return timedelta(seconds=wait * random.uniform(0.9, 1.1))  # noqa: S311 - jitter, not a secret


def webhook_principal(webhook: dict[str, Any], settings: Settings) -> Principal | None:
    """The webhook's agency as the role that registered it, with what the policy grants that role
    today (a role that lost alerts:read stops its webhooks); None if the policy no longer allows it."""
    try:
        kind, role = AgencyKind(webhook["agencyKind"]), Role(webhook["role"])
    except (KeyError, ValueError):
        return None
    scopes = get_policy(settings.policy_file).scopes_for(kind, role)
    if Scope.ALERTS_READ not in scopes:
        return None
    return Principal(subject=f"webhook:{webhook['id']}", client_id="mpdb-webhooks", agency_id=webhook["agency"],
                     agency_kind=kind, role=role, scopes=scopes)


def http_client(settings: Settings) -> httpx.AsyncClient:
    context = ssl.create_default_context()
    if settings.webhook_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.webhook_ca_file))
    # No redirects: a receiver on the allow-list must not bounce the alert to a host that is not.
    return httpx.AsyncClient(verify=context, follow_redirects=False, timeout=settings.webhook_timeout_seconds,
                             trust_env=False)


class Dispatcher:
    def __init__(self, graph: Graph, settings: Settings, clock: Clock = _utcnow,
                 client: httpx.AsyncClient | None = None) -> None:
        self.graph = graph
        self.settings = settings
        self.clock = clock
        self.lease = Lease(graph, settings.alerts_lease_seconds)
        self.repo = WebhookRepository(graph)
        self._client = client
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_overdue: datetime | None = None
        self._overdue = _overdue_raiser()

    async def start(self) -> None:
        if self._client is None:
            self._client = http_client(self.settings)
        self._task = asyncio.create_task(self._run(), name="mpdb-alert-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.lease.release()
        if self._client is not None:
            await self._client.aclose()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        interval = min(self.settings.alerts_lease_seconds / 3, max(self.settings.alerts_poll_seconds, 0.2))
        while True:
            if await self.lease.renew():
                try:
                    await self.run_once()
                    await self._raise_overdue()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - one bad round must not stop the dispatcher
                    log.warning("alert dispatcher round failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()

    async def _raise_overdue(self) -> None:
        if self._overdue is None:
            return
        now = self.clock()
        every = timedelta(seconds=self.settings.alerts_overdue_every_seconds)
        if self._last_overdue is not None and now - self._last_overdue < every:
            return
        self._last_overdue = now
        raised = await self._overdue(self.graph, now)
        if raised:
            log.info("overdue alerts raised count=%d", raised)

    async def run_once(self) -> int:
        """One round; returns how many attempts were made (tests drive it directly)."""
        await self.repo.queue_new_alerts()
        now = self.clock()
        rows = await self.repo.due(now, DUE_BATCH)
        if not rows:
            return 0
        outcomes: list[dict[str, Any]] = []
        to_send: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], Principal]] = []
        by_webhook: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_webhook.setdefault(row["webhook"]["id"], []).append(row)
        for group in by_webhook.values():
            webhook = group[0]["webhook"]
            principal = webhook_principal(webhook, self.settings)
            allowed = (await deliverable_ids(self.graph, access_scope_for(principal), [r["event"] for r in group])
                       if principal is not None else set())
            listed = webhooks.get_allowlist(self.settings).allows(webhook["agency"], webhook["url"])
            for row in group:
                d, event = row["delivery"], row["event"]
                if event["id"] not in allowed:
                    outcomes.append(self._outcome(d, now, "withheld", None, "recipient may not read it now",
                                                  counts=False))
                elif not listed:
                    outcomes.append(self._failed(d, now, None, "URL no longer on the agency's allow-list"))
                else:
                    to_send.append((d, webhook, event, principal))  # type: ignore[arg-type]
        if to_send:
            await record(self.graph, [
                new_event(AuditContext(p, f"alert delivery by webhook {w['id']}", f"webhook:{d['id']}"),
                          AuditAction.DISCLOSURE, "alerts.webhook",
                          [i for i in (e.get("childId"), e.get("episodeId"), e.get("subjectId"), e["id"]) if i],
                          [e["recipient"]])
                for d, w, e, p in to_send])
            gate = asyncio.Semaphore(CONCURRENT_POSTS)

            async def send(item: tuple[dict[str, Any], dict[str, Any], dict[str, Any], Principal]) -> dict[str, Any]:
                async with gate:
                    return await self._post(*item[:3])

            outcomes.extend(await asyncio.gather(*(send(item) for item in to_send)))
        for o in outcomes:
            log.info("webhook delivery id=%s attempt=%d status=%s http=%s", o["id"], o["attempts"], o["status"],
                     o["httpStatus"])
        await self.repo.record_attempts(outcomes)
        return len(to_send)

    async def _post(self, d: dict[str, Any], webhook: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        now = self.clock()
        body, headers = webhooks.signed_request(webhook, event, datetime.now(UTC))
        assert self._client is not None
        try:
            response = await self._client.post(webhook["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            return self._failed(d, now, None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
        if 200 <= response.status_code < 300:
            return self._outcome(d, now, "delivered", response.status_code, None)
        return self._failed(d, now, response.status_code, f"HTTP {response.status_code}")

    def _failed(self, d: dict[str, Any], now: datetime, http_status: int | None, error: str) -> dict[str, Any]:
        attempts = int(d["attempts"]) + 1
        if attempts >= self.settings.webhook_max_attempts:
            return self._outcome(d, now, "dead", http_status, error)
        return self._outcome(d, now, "pending", http_status, error, next_at=now + backoff(self.settings, attempts))

    @staticmethod
    def _outcome(d: dict[str, Any], now: datetime, status: str, http_status: int | None, error: str | None,
                 next_at: datetime | None = None, counts: bool = True) -> dict[str, Any]:
        before = int(d["attempts"])
        return {"id": d["id"], "attemptsBefore": before, "attempts": before + 1 if counts else before,
                "status": status, "httpStatus": http_status, "error": error, "at": now.isoformat(),
                "next": next_at.isoformat() if next_at else None}
