"""Alert delivery over the real thing: the API under uvicorn (restarted mid-delivery), a real Neo4j,
real dev-IdP tokens, real websockets speaking graphql-transport-ws, and a real https webhook
receiver (trustme's CA) that verifies every signature with the `standardwebhooks` library.

Alerts are appended with `append_events` on a write transaction, as a producer does (the producers
are the outbox branch's; its end-to-end tests make mutations raise them)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import trustme
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from mpdb.alerts.events import AlertEvent, AlertKind
from mpdb.auth.dev_idp import mint_dev_token
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.repositories.outbox import append_events
from tests.conftest import free_port, serve_in_thread, wipe_data

pytestmark = pytest.mark.integration

KENT_POLICE, STAFFS_POLICE = "E23000032", "E23000015"
KENT_CC, OLDHAM = "E10000016", "E08000004"
PURPOSE = "test: alerts for children we hold"

SUBSCRIBE = ("subscription($after: ID) { alerts(after: $after) { id seq kind recipient reason subjectType subjectId "
             "childId episodeId occurredAt } }")

SCENARIO = """
MATCH (kcc:LocalAuthority {code: $kcc}), (kent:Force {code: $kent}), (staffs:Force {code: $staffs})
// AL-C1: Kent CC's child with a closed episode in Kent: Kent CC and Kent Police read it, Staffordshire does not.
CREATE (c1:Child {id: 'AL-C1', pseudonym: 'P-AL-C1', sex: 'F', lookedAfter: true, recordedBy: $kcc,
                  recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (c1)-[:HAD]->(:Episode {id: 'AL-C1-E1', status: 'closed', reportedAt: datetime('2026-11-01T00:00:00Z')})
       -[:REPORTED_TO]->(kent)
// AL-C2: a Staffordshire child: Staffordshire Police reads it, Kent CC does not.
CREATE (c2:Child {id: 'AL-C2', pseudonym: 'P-AL-C2', sex: 'M', lookedAfter: false, recordedBy: $staffs,
                  recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})
CREATE (c2)-[:HAD]->(:Episode {id: 'AL-C2-E1', status: 'closed', reportedAt: datetime('2026-11-02T00:00:00Z')})
       -[:REPORTED_TO]->(staffs)
// AL-C3: Kent CC reads it only as its responsible LA (recorded by Kent Police): removing that revokes it.
CREATE (c3:Child {id: 'AL-C3', pseudonym: 'P-AL-C3', sex: 'F', lookedAfter: true, recordedBy: $kent,
                  recordedAt: datetime('2026-01-01T00:00:00Z'), sourceSystem: 'test'})-[:LOOKED_AFTER_BY]->(kcc)
"""
CHILDREN = ["AL-C1", "AL-C2", "AL-C3"]


# --- the webhook receiver ---------------------------------------------------------------------


class Receiver:
    """An https endpoint that verifies each delivery's signature and dedupes by webhook-id."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.mode = "ok"  # ok | fail (HTTP 500) | hang (never answers)
        self.seen: list[str] = []  # every verified webhook-id, in arrival order (repeats included)
        self.bodies: dict[str, dict[str, Any]] = {}
        self.bad_signatures = 0
        self.hanging = threading.Event()

    @property
    def unique(self) -> list[str]:
        return list(dict.fromkeys(self.seen))

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        verified = None
        for secret in self.secrets:
            try:
                verified = Webhook(secret).verify(body, headers)
                break
            except WebhookVerificationError:
                continue
        if verified is None:
            self.bad_signatures += 1
            return Response(status_code=401)
        if self.mode == "fail":
            return Response(status_code=500)
        if self.mode == "hang":
            self.hanging.set()
            await asyncio.sleep(3600)
        self.seen.append(headers["webhook-id"])
        self.bodies[headers["webhook-id"]] = verified
        return Response(status_code=204)


def serve(app: Any, port: int, **ssl: str) -> Any:
    # Stops without waiting for open websockets or a webhook request the receiver holds open.
    return serve_in_thread(app, port, force_exit=True, **ssl)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    d = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    cert.private_key_pem.write_to_path(str(d / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
    return {"ca": d / "ca.pem", "key": d / "key.pem", "cert": d / "cert.pem"}


@pytest.fixture(scope="module")
def receiver(tls: dict[str, Path]) -> Iterator[tuple[Receiver, str]]:
    r = Receiver()
    port = free_port()
    app = Starlette(routes=[Route("/kent-cc/{rest:path}", r.endpoint, methods=["POST"])])
    with serve(app, port, ssl_keyfile=str(tls["key"]), ssl_certfile=str(tls["cert"])):
        yield r, f"https://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def api_settings(neo4j_settings, tls, receiver, tmp_path_factory):  # type: ignore[no-untyped-def]
    _, base = receiver
    allow = tmp_path_factory.mktemp("allow") / "webhooks.toml"
    allow.write_text(f'version = 1\n[agencies.{KENT_CC}]\nurls = ["{base}/kent-cc/"]\n', encoding="utf-8")
    port = free_port()
    return neo4j_settings.model_copy(update={
        # One issuer for every API process of the module (tokens outlive a restart on another port).
        "port": port, "dev_idp_issuer": f"http://127.0.0.1:{port}/dev-idp",
        "rate_limit_per_minute": 1_000_000, "agency_registry_miss_refresh_seconds": 0.0,
        "alerts_poll_seconds": 0.1, "alerts_lease_seconds": 2.0, "oauth_leeway_seconds": 0,
        "webhook_allowlist_file": allow, "webhook_ca_file": tls["ca"], "webhook_max_attempts": 3,
        "webhook_backoff_base_seconds": 0.2, "webhook_backoff_cap_seconds": 0.5, "webhook_timeout_seconds": 60.0,
    })


@contextmanager
def api(settings: Any) -> Iterator[str]:
    from mpdb.api.app import create_app

    with serve(create_app(settings), settings.port):
        yield f"127.0.0.1:{settings.port}"


@pytest.fixture(scope="module")
def server(api_settings: Any, scenario: None) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serves subscriptions and the API; the webhook test runs its dispatchers in processes of its own."""
    with api(api_settings.model_copy(update={"alerts_dispatcher": False})) as host:
        yield host


@pytest_asyncio.fixture(scope="module")
async def scenario(graph, neo4j_settings) -> None:  # type: ignore[no-untyped-def]
    from mpdb.ingest.reference import load_reference

    await wipe_data(graph)
    await load_reference(graph.driver, graph.database)
    await graph.write("MERGE (h:OutboxHead {id: 'outbox'}) ON CREATE SET h.seq = 0")
    await graph.write(SCENARIO, {"kcc": KENT_CC, "kent": KENT_POLICE, "staffs": STAFFS_POLICE})
    await graph.write(REFRESH_ACCESS, {"childIds": CHILDREN})


# --- helpers ----------------------------------------------------------------------------------


def token(settings: Any, agency: str, role: str, **kwargs: Any) -> str:
    return mint_dev_token(settings, agency, role, **kwargs)


def alert(kind: AlertKind, recipient: str, child: str | None, episode: str | None = None,
          reason: str = "responsible_la") -> AlertEvent:
    subject = episode or child or "none"
    return AlertEvent(kind=kind, key=f"{kind}|{subject}|{recipient}|{uuid.uuid4().hex[:8]}", recipient=recipient,
                      reason=reason, subject_type="Episode" if episode else "Child", subject_id=subject,
                      occurred_at=datetime.now(UTC), child_id=child, episode_id=episode)


async def append(graph: Any, *events: AlertEvent) -> list[AlertEvent]:
    """Each in a transaction of its own, so their seqs follow the order given (one transaction
    numbers its events in key order)."""
    for event in events:
        async def work(tx: Any, event: AlertEvent = event) -> Any:
            return await append_events(tx, [event])

        assert len(await graph.in_write_tx(work)) == 1
    return list(events)


@asynccontextmanager
async def subscription(host: str, tok: str, after: str | None = None,
                       purpose: str | None = PURPOSE) -> AsyncIterator[Any]:
    async with connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        payload: dict[str, Any] = {"Authorization": f"Bearer {tok}"}
        if purpose:
            payload["purpose"] = purpose
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": SUBSCRIBE, "variables": {"after": after}}}))
        yield ws


async def receive(ws: Any, n: int, timeout: float = 30) -> list[dict[str, Any]]:
    """The next `n` alerts (fails on an error message or when they do not come)."""
    got: list[dict[str, Any]] = []
    while len(got) < n:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert msg["type"] == "next", msg
        assert "errors" not in msg["payload"], msg
        got.append(msg["payload"]["data"]["alerts"])
    return got


async def eventually(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


# --- subscriptions ----------------------------------------------------------------------------


async def test_each_agency_gets_exactly_its_alerts_it_may_read(graph, server, api_settings) -> None:  # type: ignore[no-untyped-def]
    kcc = token(api_settings, KENT_CC, "la_missing_lead")
    staffs = token(api_settings, STAFFS_POLICE, "investigator")
    async with subscription(server, kcc) as kws, subscription(server, staffs) as sws:
        await asyncio.sleep(0.5)  # both subscribed before the alerts commit (they then arrive live)
        a1, a2, a3, a4, a5 = await append(
            graph,
            alert(AlertKind.CHILD_REPORTED_MISSING, KENT_CC, "AL-C1", "AL-C1-E1"),
            alert(AlertKind.CHILD_REPORTED_MISSING, STAFFS_POLICE, "AL-C1", "AL-C1-E1", "home_force"),  # withheld
            alert(AlertKind.RISK_RAISED, KENT_CC, "AL-C3"),
            alert(AlertKind.CHILD_FOUND, STAFFS_POLICE, "AL-C2", "AL-C2-E1", "home_force"),
            alert(AlertKind.CHILD_FOUND, OLDHAM, "AL-C1"),  # another agency's: nobody here gets it
        )
        got_k = await receive(kws, 2)
        got_s = await receive(sws, 1)
    assert [(g["id"], g["kind"], g["recipient"], g["childId"], g["episodeId"]) for g in got_k] == [
        (a1.id, "CHILD_REPORTED_MISSING", KENT_CC, "AL-C1", "AL-C1-E1"), (a3.id, "RISK_RAISED", KENT_CC, "AL-C3", None)]
    assert [(g["id"], g["reason"], g["subjectType"], g["subjectId"]) for g in got_s] == [
        (a4.id, "home_force", "Episode", "AL-C2-E1")]
    assert got_k[0]["seq"] < got_k[1]["seq"]
    # Each alert sent is a disclosure in the audit trail, to the agency, naming the records.
    rows = await graph.read("MATCH (a:AuditEvent {operation: 'alerts.subscription'}) WHERE $id IN a.recordIds "
                            "RETURN a.action AS action, a.recipients AS recipients, a.recordIds AS ids, "
                            "a.purpose AS purpose, a.agencyId AS agency", {"id": a1.id})
    assert rows == [{"action": "disclosure", "recipients": [KENT_CC], "ids": sorted(["AL-C1", "AL-C1-E1", a1.id]),
                     "purpose": PURPOSE, "agency": KENT_CC}]
    assert await graph.read("MATCH (a:AuditEvent) WHERE $id IN a.recordIds RETURN a", {"id": a2.id}) == []
    assert a5.recipient == OLDHAM


async def test_replay_after_an_id_then_live_without_gap_or_repeat(graph, server, api_settings) -> None:  # type: ignore[no-untyped-def]
    kcc = token(api_settings, KENT_CC, "la_missing_lead")
    first, second, third = await append(graph, *(alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1") for _ in range(3)))
    async with subscription(server, kcc, after=first.id) as ws:
        replayed = await receive(ws, 2)
        (fourth,) = await append(graph, alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1"))
        live = await receive(ws, 1)
    assert [g["id"] for g in replayed + live] == [second.id, third.id, fourth.id]


async def test_access_revoked_between_write_and_delivery_is_withheld(graph, server, api_settings) -> None:  # type: ignore[no-untyped-def]
    kcc = token(api_settings, KENT_CC, "la_missing_lead")
    mark, revoked, kept = await append(graph, alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1"),
                                       alert(AlertKind.RISK_RAISED, KENT_CC, "AL-C3"),
                                       alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1"))
    # Kent CC stops being AL-C3's responsible LA after the alert was raised, before it is delivered.
    await graph.write("MATCH (:Child {id: 'AL-C3'})-[r:LOOKED_AFTER_BY]->() DELETE r")
    await graph.write(REFRESH_ACCESS, {"childIds": ["AL-C3"]})
    try:
        async with subscription(server, kcc, after=mark.id) as ws:
            got = await receive(ws, 1)
        assert [g["id"] for g in got] == [kept.id]
    finally:
        await graph.write("MATCH (c:Child {id: 'AL-C3'}), (la:LocalAuthority {code: $kcc}) "
                          "MERGE (c)-[:LOOKED_AFTER_BY]->(la)", {"kcc": KENT_CC})
        await graph.write(REFRESH_ACCESS, {"childIds": ["AL-C3"]})
    assert revoked.id not in {g["id"] for g in got}


async def test_who_may_subscribe(graph, server, api_settings) -> None:  # type: ignore[no-untyped-def]
    analyst = token(api_settings, KENT_CC, "analyst")
    async with subscription(server, analyst) as ws:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
    assert msg["type"] == "error" or msg["payload"].get("errors"), msg
    errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    async with subscription(server, token(api_settings, KENT_CC, "la_missing_lead"), purpose=None) as ws:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
    errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    async with subscription(server, token(api_settings, KENT_CC, "la_missing_lead"), after="al-000000000000000000000000") as ws:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
    errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Another agency's alert id is refused the same way (no existence oracle).
    (other,) = await append(graph, alert(AlertKind.CHILD_FOUND, STAFFS_POLICE, "AL-C2"))
    async with subscription(server, token(api_settings, KENT_CC, "la_missing_lead"), after=other.id) as ws:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
    errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def _close_code_after_init(host: str, payload: dict[str, Any]) -> int:
    async with connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_connection_refusals(server, api_settings) -> None:  # type: ignore[no-untyped-def]
    # No token, a garbage token, an expired token: closed with 4403 at connection_init.
    assert await _close_code_after_init(server, {"purpose": PURPOSE}) == 4403
    assert await _close_code_after_init(server, {"Authorization": "Bearer not-a-jwt"}) == 4403
    expired = token(api_settings, KENT_CC, "la_missing_lead", ttl=-60)
    assert await _close_code_after_init(server, {"Authorization": f"Bearer {expired}"}) == 4403
    # Messages are text frames (browsers' graphql-ws refuses binary ones); JSON that is not an
    # object is refused like text that is not JSON.
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": expired}}))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 30)
    good = token(api_settings, KENT_CC, "la_missing_lead")
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"token": good}}))
        ack = await asyncio.wait_for(ws.recv(), 30)
        assert isinstance(ack, str) and json.loads(ack) == {"type": "connection_ack"}
        await ws.send("[1, 2]")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    # The legacy graphql-ws subprotocol is not served.
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406
    # A page on another origin may not open the socket (browsers apply no CORS to WebSockets).
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://{server}/graphql", subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                           origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


async def test_socket_closed_when_the_token_expires(server, api_settings) -> None:  # type: ignore[no-untyped-def]
    short = token(api_settings, KENT_CC, "la_missing_lead", ttl=3)
    async with subscription(server, short) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 60)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "token expired")


async def test_exactly_once_across_an_api_restart(graph, api_settings, scenario, server) -> None:  # type: ignore[no-untyped-def]
    """A second API process (the first keeps serving): the client's socket dies with the process it
    was on; it reconnects elsewhere with `after` its last id and gets every later alert once."""
    kcc = token(api_settings, KENT_CC, "la_missing_lead")
    other = api_settings.model_copy(update={"port": free_port()})
    received: list[str] = []
    with api(other) as host:
        async with subscription(host, kcc) as ws:
            await asyncio.sleep(0.5)
            sent = await append(graph, *(alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1") for _ in range(3)))
            received += [g["id"] for g in await receive(ws, 2)]
    # The process is gone (its socket with it); more alerts are raised meanwhile.
    sent += await append(graph, *(alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1") for _ in range(2)))
    with api(other) as host:
        async with subscription(host, kcc, after=received[-1]) as ws:
            received += [g["id"] for g in await receive(ws, 3)]
            await asyncio.sleep(1.0)
            with pytest.raises(TimeoutError):  # nothing more: no repeat
                await asyncio.wait_for(ws.recv(), 0.5)
    assert received == [a.id for a in sent]


# --- HTTP: the newest alerts ------------------------------------------------------------------


async def test_recent_alerts_newest_first_and_only_readable(graph, server, api_settings) -> None:  # type: ignore[no-untyped-def]
    a, b = await append(graph, alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1"),
                        alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C2"))  # AL-C2: Kent CC may not read it
    kcc = token(api_settings, KENT_CC, "la_missing_lead")
    r = httpx.post(f"http://{server}/graphql", json={"query": "{ recentAlerts(first: 2) { id childId } }"},
                   headers={"Authorization": f"Bearer {kcc}", "X-MPDB-Purpose": PURPOSE}, timeout=30)
    nodes = r.json()["data"]["recentAlerts"]
    assert nodes[0] == {"id": a.id, "childId": "AL-C1"}
    assert b.id not in {n["id"] for n in nodes}
    r = httpx.post(f"http://{server}/graphql", json={"query": "{ recentAlerts(first: 500) { id } }"},
                   headers={"Authorization": f"Bearer {kcc}", "X-MPDB-Purpose": PURPOSE}, timeout=30)
    assert r.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


# --- webhooks ---------------------------------------------------------------------------------

REGISTER = """mutation($url: String!) { registerWebhook(input: {url: $url, description: "case system"}) {
  secret webhook { id url description } } }"""
HOOKS = "{ webhooks { id url deadLetters { alertId status attempts lastHttpStatus lastError } } }"


def gql(server: str, tok: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    r = httpx.post(f"http://{server}/graphql", json={"query": query, "variables": variables or {}},
                   headers={"Authorization": f"Bearer {tok}", "X-MPDB-Purpose": PURPOSE}, timeout=30)
    return r.json()  # type: ignore[no-any-return]


async def test_webhook_registration_rules(server, api_settings, receiver) -> None:  # type: ignore[no-untyped-def]
    _, base = receiver
    lead = token(api_settings, KENT_CC, "la_missing_lead")
    refused = gql(server, lead, REGISTER, {"url": "https://elsewhere.example/kent-cc/x"})["errors"][0]
    assert refused["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.url"}
    assert "allow-list" in refused["message"]
    http_url = base.replace("https://", "http://") + "/kent-cc/x"
    assert gql(server, lead, REGISTER, {"url": http_url})["errors"][0]["message"].startswith(
        "input.url: must be an absolute https URL")
    assert gql(server, lead, REGISTER, {"url": "https://user:pw@127.0.0.1/kent-cc/"})["errors"][0]["extensions"][
        "code"] == "BAD_USER_INPUT"
    # Allow-listed for Kent CC, not for Oldham; a social worker may not manage webhooks.
    oldham = token(api_settings, OLDHAM, "la_missing_lead")
    assert gql(server, oldham, REGISTER, {"url": f"{base}/kent-cc/o"})["errors"][0]["extensions"]["code"] == \
        "BAD_USER_INPUT"
    worker = token(api_settings, KENT_CC, "social_worker")
    assert gql(server, worker, REGISTER, {"url": f"{base}/kent-cc/w"})["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    made = gql(server, lead, REGISTER, {"url": f"{base}/kent-cc/rules"})["data"]["registerWebhook"]
    assert made["secret"].startswith("whsec_") and made["webhook"]["description"] == "case system"
    again = gql(server, lead, REGISTER, {"url": f"{base}/kent-cc/rules"})["errors"][0]
    assert again["extensions"] == {"code": "CONFLICT", "field": "input.url", "reason": "WEBHOOK_EXISTS"}
    # Another agency sees none of them and cannot delete them.
    assert gql(server, oldham, HOOKS)["data"]["webhooks"] == []
    gone = "mutation($id: ID!) { deleteWebhook(id: $id) { deleted } }"
    assert gql(server, oldham, gone, {"id": made["webhook"]["id"]})["data"]["deleteWebhook"] == {"deleted": False}
    assert gql(server, lead, gone, {"id": made["webhook"]["id"]})["data"]["deleteWebhook"] == {"deleted": True}
    assert gql(server, lead, gone, {"id": made["webhook"]["id"]})["data"]["deleteWebhook"] == {"deleted": False}


async def test_webhook_delivery_signed_withheld_dead_letter_replay_and_restart(  # type: ignore[no-untyped-def]
        graph, server, api_settings, receiver) -> None:
    rec, base = receiver
    lead = token(api_settings, KENT_CC, "la_missing_lead")
    made = gql(server, lead, REGISTER, {"url": f"{base}/kent-cc/main"})["data"]["registerWebhook"]
    hook_id = made["webhook"]["id"]
    rec.secrets = [made["secret"]]
    rec.mode = "ok"

    async def status_of(alert_id: str) -> str | None:
        rows = await graph.read("MATCH (d:WebhookDelivery {webhookId: $w, eventId: $e}) RETURN d.status AS s",
                                {"w": hook_id, "e": alert_id})
        return rows[0]["s"] if rows else None

    def dead_letters() -> list[dict[str, Any]]:
        hooks = gql(server, lead, HOOKS)["data"]["webhooks"]
        return next(h for h in hooks if h["id"] == hook_id)["deadLetters"]

    with api(api_settings.model_copy(update={"port": free_port()})):  # the dispatcher's process
        # Delivered, signed; the alert Kent CC may not read (AL-C2) is withheld, another agency's not sent.
        a1, a2, a3, other = await append(graph, alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1", "AL-C1-E1"),
                                         alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C2"),
                                         alert(AlertKind.RISK_RAISED, KENT_CC, "AL-C3"),
                                         alert(AlertKind.CHILD_FOUND, STAFFS_POLICE, "AL-C2"))
        await eventually(lambda: len(rec.unique) >= 2)
        await asyncio.sleep(0.5)
        assert rec.unique == [a1.id, a3.id] and rec.bad_signatures == 0
        body = rec.bodies[a1.id]
        assert body == {"type": "alert.child_found", "timestamp": body["timestamp"],
                        "data": {"id": a1.id, "seq": body["data"]["seq"], "kind": "child_found",
                                 "recipient": KENT_CC, "reason": "responsible_la", "subjectType": "Episode",
                                 "subjectId": "AL-C1-E1", "childId": "AL-C1", "episodeId": "AL-C1-E1",
                                 "occurredAt": a1.occurred_at.isoformat()}}
        assert [await status_of(a.id) for a in (a1, a2, a3)] == ["delivered", "withheld", "delivered"]
        audited = await graph.read("MATCH (a:AuditEvent {operation: 'alerts.webhook'}) WHERE $id IN a.recordIds "
                                   "RETURN a.action AS action, a.recipients AS r, a.subject AS s", {"id": a1.id})
        assert audited == [{"action": "disclosure", "r": [KENT_CC], "s": f"webhook:{hook_id}"}]
        assert other.id not in rec.seen

        # The receiver fails: after 3 attempts the alert is a dead letter, listed for the agency.
        rec.mode = "fail"
        (dead,) = await append(graph, alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1"))
        await eventually(lambda: bool(dead_letters()))
        assert dead_letters() == [{"alertId": dead.id, "status": "DEAD", "attempts": 3, "lastHttpStatus": 500,
                                   "lastError": "HTTP 500"}]
        assert dead.id not in rec.seen

        # Replay from the dead letter once the receiver works again, after rotating the secret: the
        # new secret verifies (the old one stays valid for a day: both signatures are sent).
        rec.mode = "ok"
        rotated = gql(server, lead, "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
                      {"id": hook_id})["data"]["rotateWebhookSecret"]["secret"]
        rec.secrets = [rotated]
        replay = gql(server, lead, "mutation($id: ID!, $from: ID!) { replayWebhook(id: $id, fromAlertId: $from) "
                                   "{ requeued } }", {"id": hook_id, "from": dead.id})
        assert replay["data"]["replayWebhook"] == {"requeued": 1}
        await eventually(lambda: dead.id in rec.seen)
        assert dead_letters() == [] and rec.bad_signatures == 0
        rec.secrets = [made["secret"]]
        (old_secret_ok,) = await append(graph, alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1"))
        await eventually(lambda: old_secret_ok.id in rec.seen)
        rec.secrets = [rotated]

        # The API process stops while the receiver holds a delivery's request open.
        rec.mode = "hang"
        rec.hanging.clear()
        (held,) = await append(graph, alert(AlertKind.CHILD_FOUND, KENT_CC, "AL-C1"))
        await eventually(rec.hanging.is_set)
    # Not acknowledged, so not delivered: still pending after the process is gone.
    assert await status_of(held.id) == "pending"
    assert held.id not in rec.seen
    rec.mode = "ok"
    with api(api_settings.model_copy(update={"port": free_port()})):  # a new process takes the lease over
        await eventually(lambda: held.id in rec.seen)
        await eventually(lambda: True)
        for _ in range(100):
            if await status_of(held.id) == "delivered":
                break
            await asyncio.sleep(0.1)
    assert await status_of(held.id) == "delivered"
    # Every alert once at the receiver after its dedupe by webhook-id, in order; never a bad signature.
    assert rec.unique == [a1.id, a3.id, dead.id, old_secret_ok.id, held.id]
    assert rec.bad_signatures == 0
    gql(server, lead, "mutation($id: ID!) { deleteWebhook(id: $id) { deleted } }", {"id": hook_id})


# --- end to end: a mutation by one agency alerts another ---------------------------------------

STOKE = "E06000021"
PLACED = """
MATCH (kcc:LocalAuthority {code: $kcc}), (stoke:LocalAuthority {code: $stoke}), (staffs:Force {code: $staffs})
CREATE (m:Child {id: 'ALD-M', pseudonym: 'P-ALD-M', givenName: 'Mae', familyName: 'Deliverson', sex: 'F',
        dateOfBirth: date('2011-03-04'), lookedAfter: true, recordedBy: $kcc})-[:LOOKED_AFTER_BY]->(kcc)
CREATE (home:Location {id: 'ALD-L-HOME', name: 'ALD Stoke home', kind: 'childrens_home', laCode: $stoke,
        forceCode: $staffs})
CREATE (m)-[:PLACED_IN]->(p:Placement {id: 'ALD-P1', startDate: date('2026-01-10'), outOfArea: true})
CREATE (p)-[:PLACED_BY]->(kcc), (p)-[:HOSTED_BY]->(stoke), (p)-[:IN_FORCE_AREA]->(staffs), (p)-[:AT]->(home)
"""
REPORT = """mutation($input: ReportMissingInput!, $key: String!) {
  reportMissing(input: $input, idempotencyKey: $key) { episodeId } }"""


async def test_a_report_by_one_force_alerts_the_responsible_la_live_and_by_webhook(  # type: ignore[no-untyped-def]
        graph, server, api_settings, receiver) -> None:
    rec, base = receiver
    await graph.write(PLACED, {"kcc": KENT_CC, "stoke": STOKE, "staffs": STAFFS_POLICE})
    await graph.write(REFRESH_ACCESS, {"childIds": ["ALD-M"]})
    lead = token(api_settings, KENT_CC, "la_missing_lead")
    staffs = token(api_settings, STAFFS_POLICE, "investigator")
    made = gql(server, lead, REGISTER, {"url": f"{base}/kent-cc/e2e"})["data"]["registerWebhook"]
    rec.secrets, rec.mode = [made["secret"]], "ok"
    seen_before = len(rec.seen)
    with api(api_settings.model_copy(update={"port": free_port()})):  # a dispatcher
        async with subscription(server, lead) as kws, subscription(server, staffs) as sws:
            await asyncio.sleep(0.5)
            r = httpx.post(f"http://{server}/graphql", timeout=60, json={"query": REPORT, "variables": {
                "key": str(uuid.uuid4()), "input": {
                    "childId": "ALD-M", "reporterType": "childrens_home", "reportedAt": "2026-11-30T21:00:00Z",
                    "missingFromPlacementId": "ALD-P1", "riskAssessment": {"scheme": "2017", "grade": "medium"}}}},
                headers={"Authorization": f"Bearer {staffs}", "X-MPDB-Purpose": PURPOSE})
            episode = r.json()["data"]["reportMissing"]["episodeId"]
            (got,) = await receive(kws, 1)
            # Staffordshire made the change: nothing for it (the next thing it gets is this marker).
            (marker,) = await append(graph, alert(AlertKind.CHILD_FOUND, STAFFS_POLICE, "AL-C2", "AL-C2-E1"))
            (first_for_staffs,) = await receive(sws, 1)
        await eventually(lambda: len(rec.seen) > seen_before)
    assert (got["kind"], got["recipient"], got["reason"], got["subjectType"], got["subjectId"], got["childId"],
            got["episodeId"]) == ("CHILD_REPORTED_MISSING", KENT_CC, "responsible_la", "Episode", episode, "ALD-M",
                                  episode)
    assert first_for_staffs["id"] == marker.id
    assert rec.seen[seen_before:] == [got["id"]]
    assert rec.bodies[got["id"]]["data"]["episodeId"] == episode
    gql(server, lead, "mutation($id: ID!) { deleteWebhook(id: $id) { deleted } }", {"id": made["webhook"]["id"]})
