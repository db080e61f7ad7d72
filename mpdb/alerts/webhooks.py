"""Webhooks: an agency registers URLs its alerts are POSTed to, signed per the Standard Webhooks spec.

- URLs are an SSRF vector, so an agency may register only URLs its allow-list (data:
  `auth/webhooks.toml`, MPDB_WEBHOOK_ALLOWLIST_FILE) names, by scheme, host, port and path prefix;
  https only outside dev; no user info, no fragment. The dispatcher checks the allow-list again
  before every attempt (an entry removed stops deliveries) and never follows redirects.
- The secret (`whsec_` + 32 random bytes, base64) is shown once, in the answer to register or
  rotate. After a rotation the previous secret stays valid for ROTATION_GRACE (both signatures
  are sent) so a receiver can switch over without losing an alert.
- The body is the thin alert (ids, kind, times, recipient, reason); `webhook-id` is the alert id,
  the same on every retry and replay, so a receiver dedupes on it.
"""

from __future__ import annotations

import base64
import json
import secrets
import tomllib
import uuid
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from standardwebhooks.webhooks import Webhook

from mpdb.alerts.subscriptions import seq_of_alert
from mpdb.auth.principal import Scope
from mpdb.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from mpdb.graph.repositories.delivery import WebhookRepository
from mpdb.services.context import ServiceContext
from mpdb.settings import Settings

ROTATION_GRACE_SECONDS = 24 * 3600
MAX_URL_CHARS = 2000
MAX_DESCRIPTION_CHARS = 200
MAX_WEBHOOKS_PER_AGENCY = 10


class AllowlistError(ValueError):
    """auth/webhooks.toml is missing, not TOML or not valid."""


class _AgencyAllow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    urls: tuple[str, ...] = Field(min_length=1)

    @field_validator("urls")
    @classmethod
    def _absolute(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.fragment:
                raise ValueError(f"{url!r} is not an absolute http(s) URL prefix without user info")
        return urls


class Allowlist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    agencies: dict[str, _AgencyAllow] = Field(default_factory=dict)

    def allows(self, agency_id: str, url: str) -> bool:
        entry = self.agencies.get(agency_id)
        if entry is None:
            return False
        target = urlsplit(url)
        for prefix in entry.urls:
            allowed = urlsplit(prefix)
            if (target.scheme, target.hostname, target.port) != (allowed.scheme, allowed.hostname, allowed.port):
                continue
            base = allowed.path if allowed.path.endswith("/") else allowed.path + "/"
            if target.path == allowed.path or target.path.startswith(base) or allowed.path in ("", "/"):
                return True
        return False


@lru_cache(maxsize=8)
def _load_allowlist(path: Path, mtime: float) -> Allowlist:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Allowlist.model_validate(data)
    except FileNotFoundError:
        return Allowlist()  # no file: no agency may register a webhook
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise AllowlistError(f"{path}: {exc}") from exc


def get_allowlist(settings: Settings) -> Allowlist:
    """Re-read when the file changes (an operator edits it without restarting the API)."""
    path = settings.webhook_allowlist_file
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        mtime = -1.0
    return _load_allowlist(path, mtime)


def check_url(settings: Settings, agency_id: str, url: str, field: str = "input.url") -> str:
    url = url.strip()
    if not url or len(url) > MAX_URL_CHARS:
        raise InvalidInput(f"{field}: a URL of 1 to {MAX_URL_CHARS} characters is required", field=field)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidInput(f"{field}: not a valid URL", field=field) from None
    schemes = ("https", "http") if settings.env == "dev" else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise InvalidInput(f"{field}: must be an absolute {' or '.join(schemes)} URL", field=field)
    if parts.username or parts.password or parts.fragment or any(c.isspace() for c in url):
        raise InvalidInput(f"{field}: must not contain user info, a fragment or spaces", field=field)
    if not get_allowlist(settings).allows(agency_id, url):
        raise InvalidInput(f"{field}: this URL is not on your agency's webhook allow-list "
                           "(ask the operator to add it to auth/webhooks.toml)", field=field)
    return url


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def payload(event: dict[str, Any]) -> dict[str, Any]:
    """The thin body: what the alert is and about which ids; details are read through the API."""
    def iso(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {"type": f"alert.{event['kind']}", "timestamp": iso(event.get("recordedAt")),
            "data": {"id": event["id"], "seq": event["seq"], "kind": event["kind"],
                     "recipient": event["recipient"], "reason": event["reason"],
                     "subjectType": event["subjectType"], "subjectId": event["subjectId"],
                     "childId": event.get("childId"), "episodeId": event.get("episodeId"),
                     "occurredAt": iso(event.get("occurredAt"))}}


def signed_request(webhook: dict[str, Any], event: dict[str, Any], now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and Standard Webhooks headers; signed with the current secret and, during a
    rotation's grace period, the previous one too (space-separated signatures, as the spec allows)."""
    body = json.dumps(payload(event), separators=(",", ":"), sort_keys=True)
    secrets_in_use = [webhook["secret"]]
    until = webhook.get("previousSecretUntil")
    if webhook.get("previousSecret") and until is not None and until > now:
        secrets_in_use.append(webhook["previousSecret"])
    signatures = " ".join(Webhook(s).sign(event["id"], now, body) for s in secrets_in_use)
    return body.encode(), {
        "content-type": "application/json",
        "webhook-id": event["id"],
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
        "user-agent": "mpdb-webhooks/1",
    }


# --- the use cases behind the GraphQL mutations and query ----------------------------------------


def _require(ctx: ServiceContext) -> None:
    if not ctx.principal.has(Scope.ALERTS_WEBHOOKS):
        raise Forbidden(f"Forbidden: needs scope {Scope.ALERTS_WEBHOOKS}")


def _check_id(webhook_id: str, field: str = "id") -> str:
    if not webhook_id.startswith("wh-") or len(webhook_id) > 64:
        raise NotFound(f"{field}: no webhook of your agency has this id", field=field)
    return webhook_id


async def register(ctx: ServiceContext, url: str, description: str | None) -> tuple[dict[str, Any], str]:
    _require(ctx)
    url = check_url(ctx.settings, ctx.principal.agency_id, url)
    if description is not None:
        description = description.strip() or None
        if description is not None and (len(description) > MAX_DESCRIPTION_CHARS or not description.isprintable()):
            raise InvalidInput(f"input.description: at most {MAX_DESCRIPTION_CHARS} printable characters",
                               field="input.description")
    repo = WebhookRepository(ctx.graph)
    if len(await repo.of_agency(ctx.scope)) >= MAX_WEBHOOKS_PER_AGENCY:
        raise Conflict(f"your agency already has {MAX_WEBHOOKS_PER_AGENCY} webhooks: delete one first",
                       reason="TOO_MANY_WEBHOOKS")
    secret = new_secret()
    webhook = await repo.create(ctx.scope, webhook_id="wh-" + uuid.uuid4().hex[:24], url=url,
                                description=description, secret=secret)
    if webhook is None:
        raise Conflict("input.url: your agency already has a webhook for this URL (rotate its secret instead)",
                       field="input.url", reason="WEBHOOK_EXISTS")
    return webhook, secret


async def rotate(ctx: ServiceContext, webhook_id: str) -> tuple[dict[str, Any], str]:
    _require(ctx)
    secret = new_secret()
    webhook = await WebhookRepository(ctx.graph).rotate(ctx.scope, _check_id(webhook_id), secret,
                                                        ROTATION_GRACE_SECONDS)
    if webhook is None:
        raise NotFound("id: no webhook of your agency has this id", field="id")
    return webhook, secret


async def delete(ctx: ServiceContext, webhook_id: str) -> bool:
    """True when it existed; deleting again answers false (a retried delete is not an error)."""
    _require(ctx)
    if not webhook_id.startswith("wh-"):
        return False
    return await WebhookRepository(ctx.graph).delete(ctx.scope, webhook_id)


async def replay(ctx: ServiceContext, webhook_id: str, from_alert_id: str) -> tuple[dict[str, Any], int]:
    """Send again every alert of the webhook from `from_alert_id` (inclusive) on: dead letters,
    delivered ones and alerts raised before it was registered."""
    _require(ctx)
    repo = WebhookRepository(ctx.graph)
    webhook = await repo.get(ctx.scope, _check_id(webhook_id))
    if webhook is None:
        raise NotFound("id: no webhook of your agency has this id", field="id")
    seq = await seq_of_alert(ctx, from_alert_id, field="fromAlertId")
    requeued = await repo.replay(ctx.scope, webhook_id, seq)
    if requeued is None:
        raise NotFound("id: no webhook of your agency has this id", field="id")
    return webhook, requeued


async def list_webhooks(ctx: ServiceContext) -> list[dict[str, Any]]:
    _require(ctx)
    return await WebhookRepository(ctx.graph).of_agency(ctx.scope)


async def dead_letters(ctx: ServiceContext, webhook_id: str, limit: int) -> list[dict[str, Any]]:
    """Called only for a webhook `list_webhooks` returned to the same caller."""
    return await WebhookRepository(ctx.graph).dead_letters([webhook_id], limit)
