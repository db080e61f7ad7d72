"""Delivery rules without a database: the webhook allow-list and URL checks, Standard Webhooks
signing (verified with the library, through a secret rotation), the backoff, the webhook's principal
under today's policy, and the lease holder's overdue cadence on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mpdb.alerts import dispatcher as d
from mpdb.alerts import webhooks as wh
from mpdb.auth.principal import Scope
from mpdb.domain.errors import InvalidInput
from mpdb.settings import Settings

KCC = "E10000016"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    allow = tmp_path / "webhooks.toml"
    allow.write_text(f'[agencies.{KCC}]\nurls = ["https://hooks.kent.example/mpdb/", "https://h2.example:8443/"]\n',
                     encoding="utf-8")
    # Not dev: https only.
    return Settings(env="test", webhook_allowlist_file=allow, webhook_backoff_base_seconds=10,
                    webhook_backoff_cap_seconds=60)


@pytest.mark.parametrize(("url", "ok"), [
    ("https://hooks.kent.example/mpdb/alerts", True),
    ("https://hooks.kent.example/mpdb", False),        # the listed path is /mpdb/: not above it
    ("https://hooks.kent.example/mpdbx", False),        # a sibling path, not under the prefix
    ("https://hooks.kent.example/other", False),
    ("https://hooks.kent.example:444/mpdb/a", False),   # another port
    ("http://hooks.kent.example/mpdb/a", False),        # not https outside dev (listed or not)
    ("https://evil.example/mpdb/", False),
    ("https://h2.example:8443/anything", True),
    ("https://h2.example/anything", False),
])
def test_allow_list(settings: Settings, url: str, ok: bool) -> None:
    if ok:
        assert wh.check_url(settings, KCC, url) == url
    else:
        with pytest.raises(InvalidInput) as refused:
            wh.check_url(settings, KCC, url)
        assert refused.value.field == "input.url"


def test_another_agency_may_register_nothing(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="allow-list"):
        wh.check_url(settings, "E08000004", "https://hooks.kent.example/mpdb/a")


@pytest.mark.parametrize("url", ["https://u:p@hooks.kent.example/mpdb/", "https://hooks.kent.example/mpdb/#x",
                                 "https://hooks.kent.example:99999/mpdb/", "", "https://hooks.kent.example/m pdb/",
                                 "ftp://hooks.kent.example/mpdb/", "https://" + "a" * 2000])
def test_malformed_urls(settings: Settings, url: str) -> None:
    with pytest.raises(InvalidInput):
        wh.check_url(settings, KCC, url)


def event() -> dict[str, Any]:
    return {"id": "al-0123456789abcdef01234567", "seq": 7, "kind": "child_found", "recipient": KCC,
            "reason": "responsible_la", "subjectType": "Episode", "subjectId": "EP-1", "childId": "C-1",
            "episodeId": "EP-1", "occurredAt": NOW, "recordedAt": NOW}


def test_signed_request_verifies_with_the_library_through_a_rotation() -> None:
    old, new = wh.new_secret(), wh.new_secret()
    now = datetime.now(UTC)  # the library checks the timestamp against the real clock
    hook = {"secret": new, "previousSecret": old, "previousSecretUntil": now + timedelta(hours=1)}
    body, headers = wh.signed_request(hook, event(), now)
    assert headers["webhook-id"] == "al-0123456789abcdef01234567"
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(body, headers)["data"]["childId"] == "C-1"
    assert Webhook(old).verify(body, headers)["data"]["seq"] == 7
    with pytest.raises(WebhookVerificationError):
        Webhook(wh.new_secret()).verify(body, headers)
    # After the grace period only the new secret signs.
    body, headers = wh.signed_request({**hook, "previousSecretUntil": now - timedelta(seconds=1)}, event(), now)
    assert len(headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


def test_backoff_doubles_up_to_the_cap(settings: Settings) -> None:
    waits = [d.backoff(settings, n).total_seconds() for n in (1, 2, 3, 4, 5)]
    for wait, expected in zip(waits, (10, 20, 40, 60, 60), strict=True):
        assert expected * 0.9 <= wait <= expected * 1.1


def test_webhook_principal_follows_todays_policy(settings: Settings) -> None:
    hook = {"id": "wh-1", "agency": KCC, "agencyKind": "local_authority", "role": "la_missing_lead"}
    p = d.webhook_principal(hook, settings)
    assert p is not None and p.agency_id == KCC and p.has(Scope.ALERTS_READ) and p.subject == "webhook:wh-1"
    assert d.webhook_principal({**hook, "role": "analyst"}, settings) is None  # no alerts:read
    assert d.webhook_principal({**hook, "role": "no-such-role"}, settings) is None


async def test_overdue_alerts_follow_the_injected_clock(settings: Settings) -> None:
    now = [NOW]
    calls: list[datetime] = []

    async def raiser(graph: object, at: datetime) -> int:
        calls.append(at)
        return 0

    dispatcher = d.Dispatcher(graph=None, settings=settings.model_copy(update={"alerts_overdue_every_seconds": 60}),  # type: ignore[arg-type]
                              clock=lambda: now[0])
    dispatcher._overdue = raiser
    await dispatcher._raise_overdue()
    now[0] = NOW + timedelta(seconds=30)
    await dispatcher._raise_overdue()
    now[0] = NOW + timedelta(seconds=61)
    await dispatcher._raise_overdue()
    assert calls == [NOW, NOW + timedelta(seconds=61)]


def test_the_producer_scheduler_is_wired() -> None:
    from mpdb.alerts.scheduler import raise_overdue_alerts

    assert d._overdue_raiser() is raise_overdue_alerts


def test_http_only_in_dev(settings: Settings, tmp_path: Path) -> None:
    allow = tmp_path / "dev.toml"
    allow.write_text(f'[agencies.{KCC}]\nurls = ["http://127.0.0.1:8999/kent/"]\n', encoding="utf-8")
    dev = settings.model_copy(update={"env": "dev", "webhook_allowlist_file": allow})
    assert wh.check_url(dev, KCC, "http://127.0.0.1:8999/kent/x") == "http://127.0.0.1:8999/kent/x"
    with pytest.raises(InvalidInput, match="https"):
        wh.check_url(settings.model_copy(update={"webhook_allowlist_file": allow}), KCC, "http://127.0.0.1:8999/kent/x")
