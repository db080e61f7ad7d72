"""API hardening over real HTTP (issue 5 item 6): depth, alias and token limits, capped page sizes,
no GET queries, no batched bodies, introspection and field suggestions off in prod, internal errors
masked (and logged with the request id) while client errors keep their codes, and the per-agency
rate limit.

"Rejected before anything ran" is proven with the audit trail: each probe also asks for a child
the caller may see under a unique token subject, so had any resolver run there would be a
consultation event for that subject.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conftest import free_port, serve_in_thread
from mpdb.auth.dependencies import create_verifier
from mpdb.graph.driver import connection_params
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.settings import Settings

pytestmark = pytest.mark.integration

KP, SP, KCC = "E23000032", "E23000015", "E10000016"
ISSUER = "https://idp.hardening.test"
PROD_MAX_DEPTH = 4

SCENARIO = """
MATCH (kp:Force {code: $kp}), (kcc:LocalAuthority {code: $kcc})
CREATE (c:Child {id: 'HD-A', pseudonym: 'P-HD-A', givenName: 'Harda', familyName: 'Synthchild', sex: 'F'})
CREATE (c)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (c)-[:HAD]->(e:Episode {id: 'HD-E1', status: 'closed', reportedAt: datetime('2026-01-03T20:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (e)-[:LAST_SEEN_AT {at: datetime('2026-01-03T19:00:00Z')}]->(:Location {id: 'HD-L1', name: 'Hardening Street',
        kind: 'public_place', laCode: $kcc, forceCode: $kp})
"""


@dataclass
class Server:
    base_url: str
    token_settings: Settings  # where test tokens are minted (an issuer the server trusts)
    app: Any

    def token(self, agency: str, role: str, scopes: list[str] | None = None, subject: str | None = None) -> str:
        from mpdb.auth.dev_idp import mint_dev_token

        return mint_dev_token(self.token_settings, agency, role, scopes, subject=subject)

    def post(self, body: Any, *, token: str | None, purpose: str | None = "hardening test",
             headers: dict[str, str] | None = None) -> httpx.Response:
        h = {"Content-Type": "application/json", **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if purpose:
            h["X-MPDB-Purpose"] = purpose
        return httpx.post(f"{self.base_url}/graphql", json=body, headers=h, timeout=60)

    def graphql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.post({"query": query, "variables": variables or {}}, **kw)


@contextmanager
def serve(settings: Settings, token_settings: Settings) -> Iterator[Server]:
    """The real app under uvicorn with `settings`, trusting tokens minted under `token_settings`."""
    from mpdb.api.app import create_app

    app = create_app(settings)
    with serve_in_thread(app, settings.port):
        # The lifespan built a verifier for the configured issuer; trust the test issuer's keys
        # instead (same issuer URL and audience, keys read in-process, not fetched from a JWKS URL).
        app.state.verifier = create_verifier(token_settings)
        yield Server(f"http://127.0.0.1:{settings.port}", token_settings, app)


@pytest.fixture(scope="module")
async def hd_scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write("MATCH (n) WHERE n.id STARTS WITH 'HD-' DETACH DELETE n", {})
    await reference_graph.write(SCENARIO, {"kp": KP, "kcc": KCC})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["HD-A"]})
    return reference_graph


def _token_settings(neo4j_settings: Settings) -> Settings:
    return neo4j_settings.model_copy(update={"dev_idp_issuer": ISSUER})


@pytest.fixture(scope="module")
def prod_server(neo4j_settings: Settings, neo4j_driver, hd_scenario) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    uri, auth = connection_params(neo4j_settings)
    if auth is None:
        pytest.skip("prod settings need a Neo4j password")
    prod = Settings(env="prod", neo4j_uri=uri, neo4j_user=auth[0], neo4j_password=auth[1],
                    neo4j_database=neo4j_settings.neo4j_database, oauth_issuer=ISSUER,
                    oauth_jwks_url=f"{ISSUER}/jwks", port=free_port(), max_query_depth=PROD_MAX_DEPTH,
                    state_dir=neo4j_settings.state_dir)
    assert not prod.introspection_enabled and not prod.graphiql_enabled and not prod.dev_idp_enabled
    with serve(prod, _token_settings(neo4j_settings)) as server:
        yield server


async def _events(graph, subject: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return await graph.read("MATCH (e:AuditEvent {subject: $s}) RETURN e.operation AS op, e.recordIds AS ids",
                            {"s": subject})


def _subject() -> str:
    return f"hd-{uuid.uuid4()}"


# Depth counts the selection sets below the root field: at PROD_MAX_DEPTH = 4 the first is allowed,
# the second (one level deeper) is not.
AT_MAX_DEPTH = '{ child(id: "HD-A") { episodes { nodes { places { role } } } } }'
TOO_DEEP = '{ child(id: "HD-A") { episodes { nodes { places { location { id } } } } } }'


# --- limits ------------------------------------------------------------------------------------

async def test_depth_limit(prod_server: Server, hd_scenario) -> None:  # type: ignore[no-untyped-def]
    ok_subject, bad_subject = _subject(), _subject()
    at_max = prod_server.graphql(AT_MAX_DEPTH, token=prod_server.token(KP, "investigator", subject=ok_subject))
    assert at_max.json() == {"data": {"child": {"episodes": {"nodes": [{"places": [{"role": "LAST_SEEN_AT"}]}]}}}}
    too_deep = prod_server.graphql(TOO_DEEP,
                                   token=prod_server.token(KP, "investigator", subject=bad_subject))
    body = too_deep.json()
    assert body.get("data") is None
    assert [e["message"] for e in body["errors"]] == [
        f"'anonymous' exceeds maximum operation depth of {PROD_MAX_DEPTH}"]
    assert "Unexpected error" not in too_deep.text
    assert await _events(hd_scenario, bad_subject) == []  # nothing executed
    assert len(await _events(hd_scenario, ok_subject)) == 2  # child + child.episodes did run at the limit


async def test_alias_limit(prod_server: Server, hd_scenario) -> None:  # type: ignore[no-untyped-def]
    max_aliases = 15
    subject = _subject()
    fifteen = "{ " + " ".join(f'a{i}: child(id: "HD-A") {{ id }}' for i in range(max_aliases)) + " }"
    ok = prod_server.graphql(fifteen, token=prod_server.token(KP, "investigator", subject=subject)).json()
    assert ok["data"] == {f"a{i}": {"id": "HD-A"} for i in range(max_aliases)}
    assert len(await _events(hd_scenario, subject)) == max_aliases
    subject = _subject()
    sixteen = "{ " + " ".join(f'a{i}: child(id: "HD-A") {{ id }}' for i in range(max_aliases + 1)) + " }"
    body = prod_server.graphql(sixteen, token=prod_server.token(KP, "investigator", subject=subject)).json()
    assert body.get("data") is None
    assert [e["message"] for e in body["errors"]] == [
        f"{max_aliases + 1} aliases found. Allowed: {max_aliases}"]
    assert await _events(hd_scenario, subject) == []


async def test_token_limit(prod_server: Server, hd_scenario) -> None:  # type: ignore[no-untyped-def]
    subject = _subject()
    # { child ( id : "HD-A" ) { id ... } }: 10 tokens around the repeated `id` fields.
    query = '{ child(id: "HD-A") { ' + "id " * 1991 + "} }"
    body = prod_server.graphql(query, token=prod_server.token(KP, "investigator", subject=subject)).json()
    assert body.get("data") is None
    assert body["errors"][0]["message"] == "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    assert await _events(hd_scenario, subject) == []
    within = '{ child(id: "HD-A") { ' + "id " * 100 + "} }"
    assert prod_server.graphql(within, token=prod_server.token(KP, "investigator")).json() == {
        "data": {"child": {"id": "HD-A"}}}


PAGE_Q = 'query($first: Int) { child(id: "HD-A") { episodes(first: $first) { nodes { id } } } }'


@pytest.mark.parametrize("first", [101, 100000, 0, -1])
def test_page_size_outside_the_cap_is_a_client_error(prod_server: Server, hd_scenario, first: int) -> None:  # type: ignore[no-untyped-def]
    token = prod_server.token(KP, "investigator")
    body = prod_server.graphql(PAGE_Q, {"first": first}, token=token).json()
    assert body["data"] == {"child": None}
    [error] = body["errors"]
    assert error["message"] == "`first` must be between 1 and 100"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    audit = prod_server.graphql("query($f: Int) { auditEvents(first: $f) { nodes { seq } } }", {"f": first},
                                token=prod_server.token(KP, "auditor")).json()
    assert audit["data"] is None and audit["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


def test_page_size_at_the_cap_is_accepted(prod_server: Server, hd_scenario) -> None:  # type: ignore[no-untyped-def]
    body = prod_server.graphql(PAGE_Q, {"first": 100}, token=prod_server.token(KP, "investigator")).json()
    assert body == {"data": {"child": {"episodes": {"nodes": [{"id": "HD-E1"}]}}}}


# --- transport -----------------------------------------------------------------------------------

def test_get_queries_are_refused(prod_server: Server, hd_scenario) -> None:  # type: ignore[no-untyped-def]
    token = prod_server.token(KP, "investigator")
    for query in ('{ child(id: "HD-A") { id } }', "{ forces { code } }"):
        r = httpx.get(f"{prod_server.base_url}/graphql", params={"query": query},
                      headers={"Authorization": f"Bearer {token}", "X-MPDB-Purpose": "x"})
        assert r.status_code in (400, 405), r.text
        assert "HD-A" not in r.text and "E23000032" not in r.text


def test_graphiql_is_not_served_in_prod(prod_server: Server) -> None:
    r = httpx.get(f"{prod_server.base_url}/graphql", headers={"Accept": "text/html"})
    assert r.status_code in (401, 404, 405)
    assert "graphiql" not in r.text.lower()


def test_metrics_are_not_served_in_prod_without_a_token(prod_server: Server) -> None:
    assert httpx.get(f"{prod_server.base_url}/metrics", timeout=30).status_code == 404


async def test_batched_array_bodies_are_rejected(prod_server: Server, hd_scenario) -> None:  # type: ignore[no-untyped-def]
    subject = _subject()
    batch = [{"query": '{ child(id: "HD-A") { id } }'}, {"query": '{ a: child(id: "HD-A") { id } }'}]
    r = prod_server.post(batch, token=prod_server.token(KP, "investigator", subject=subject))
    assert r.status_code == 400
    assert "HD-A" not in r.text
    assert await _events(hd_scenario, subject) == []


# --- configuration -------------------------------------------------------------------------------

INTROSPECTION = [("__schema", "{ __schema { queryType { name } } }"),
                 ("__type", '{ __type(name: "Child") { name fields { name } } }')]


@pytest.mark.parametrize(("field", "query"), INTROSPECTION, ids=[f for f, _ in INTROSPECTION])
def test_introspection_is_off_in_prod(prod_server: Server, live_server, field: str, query: str) -> None:  # type: ignore[no-untyped-def]
    body = prod_server.graphql(query, token=prod_server.token(KP, "investigator")).json()
    assert body.get("data") is None
    assert body["errors"][0]["message"] == (
        f"GraphQL introspection has been disabled, but the requested query contained the field '{field}'.")
    assert all(e["message"].startswith("GraphQL introspection has been disabled") for e in body["errors"])
    # ...and on outside prod (the control: the same query works).
    dev = live_server.graphql(query, token=live_server.token(KP, "investigator")).json()
    assert "errors" not in dev and dev["data"]


def test_field_suggestions_are_off_in_prod(prod_server: Server, live_server) -> None:  # type: ignore[no-untyped-def]
    query = '{ chil(id: "HD-A") { id } }'
    body = prod_server.graphql(query, token=prod_server.token(KP, "investigator")).json()
    assert [e["message"] for e in body["errors"]] == ["Cannot query field 'chil' on type 'Query'."]
    dev = live_server.graphql(query, token=live_server.token(KP, "investigator")).json()
    assert "Did you mean 'child'?" in dev["errors"][0]["message"]


# --- errors -------------------------------------------------------------------------------------

async def test_internal_errors_are_masked_and_logged_with_the_request_id(  # type: ignore[no-untyped-def]
        prod_server: Server, hd_scenario, caplog) -> None:
    # Occupy the next audit sequence number of every shard: the consultation event cannot be
    # written, which is an internal failure (a constraint violation inside Neo4j), and the read
    # must fail closed.
    await hd_scenario.write("MATCH (h:AuditHead) WHERE h.shard IS NOT NULL "
                            "CREATE (:AuditEvent {shard: h.shard, seq: h.seq + 1, id: 'hd-blocker'})")
    request_id = f"hd-{uuid.uuid4().hex[:16]}"
    try:
        with caplog.at_level(logging.ERROR, logger="mpdb.api.errors"):
            r = prod_server.graphql('{ child(id: "HD-A") { id givenName } }', token=prod_server.token(KP, "investigator"),
                                    headers={"X-Request-ID": request_id})
    finally:
        await hd_scenario.write("MATCH (e:AuditEvent {id: 'hd-blocker'}) DELETE e")
    body = r.json()
    assert r.headers["X-Request-ID"] == request_id
    assert body["data"] == {"child": None}
    assert body["errors"] == [{"message": "Unexpected error.", "locations": [{"line": 1, "column": 3}],
                               "path": ["child"], "extensions": {"code": "INTERNAL", "requestId": request_id}}]
    for leak in ("Harda", "AuditEvent", "constraint", "Neo", "Traceback", "seq"):
        assert leak not in r.text
    logged = [rec for rec in caplog.records if rec.name == "mpdb.api.errors" and request_id in rec.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    failure = logged[0].exc_info[1]
    assert type(failure).__name__ == "AuditAppendFailed" and "neo4j" in type(failure.__cause__).__module__


def test_client_errors_keep_their_codes_in_prod(prod_server: Server, hd_scenario) -> None:  # type: ignore[no-untyped-def]
    q = '{ child(id: "HD-A") { id } }'
    forbidden = prod_server.graphql(q, token=prod_server.token(KP, "analyst")).json()
    assert forbidden["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert forbidden["errors"][0]["message"] == "Forbidden: needs scope child:read"
    no_purpose = prod_server.graphql(q, token=prod_server.token(KP, "investigator"), purpose=None).json()
    assert no_purpose["errors"][0]["extensions"] == {"code": "PURPOSE_REQUIRED"}
    cursor = prod_server.graphql('{ child(id: "HD-A") { episodes(after: "!!not-a-cursor") { nodes { id } } } }',
                                 token=prod_server.token(KP, "investigator")).json()
    assert cursor["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    assert cursor["errors"][0]["message"] == "malformed cursor"


# --- rate limit --------------------------------------------------------------------------------

async def test_per_agency_rate_limit(neo4j_settings: Settings, neo4j_driver, hd_scenario) -> None:  # type: ignore[no-untyped-def]
    settings = neo4j_settings.model_copy(update={"port": free_port(), "rate_limit_per_minute": 3,
                                                 "dev_idp_issuer": ISSUER})
    with serve(settings, _token_settings(neo4j_settings)) as server:
        q = '{ child(id: "HD-A") { id } }'
        for _ in range(3):
            assert server.graphql(q, token=server.token(KP, "investigator")).json() == {"data": {"child": {"id": "HD-A"}}}
        subject = _subject()
        limited = server.graphql(q, token=server.token(KP, "call_handler", subject=subject))
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 20  # 3/min: a token every 20 s
        assert limited.json() == {"detail": f"rate limit exceeded for agency {KP}: retry after "
                                            f"{limited.headers['Retry-After']}s"}
        assert await _events(hd_scenario, subject) == []  # refused before any resolver ran
        # Another agency has its own bucket; an unauthenticated request is still a 401, not a 429.
        assert server.graphql(q, token=server.token(KCC, "la_missing_lead")).json() == {"data": {"child": {"id": "HD-A"}}}
        assert server.graphql(q, token=None).status_code == 401
