"""Logs, metrics and traces of a real `mpdb serve` (docs/OPERATIONS.md).

One server for the module, its stderr captured, exporting traces over OTLP/HTTP to a receiver the
test runs (a tiny HTTP server keeping the protobuf posts). Personal data (a distinctive synthetic
name, date of birth and reference, the bearer tokens and the console's session cookie) goes
through succeeding and failing requests of every kind; then every log line must be JSON, no line
may hold any of those values, the access lines must carry the required fields, /metrics must have
counted exactly those requests, and no span attribute may hold a value the client sent.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from conftest import TEST_STATE_DIR, free_port, graph_connection, serve_in_thread
from mpdb.auth.dev_idp import mint_dev_token
from mpdb.console.sessions import SESSION_COOKIE
from mpdb.settings import Settings
from tests.e2e.test_dev_idp_oidc import parse

pytestmark = pytest.mark.integration

KENT_CC = "E10000016"
GIVEN, FAMILY, DOB, LAC_REF = "Quillonia", "Vexbridgeoyel", "2011-07-23", "LOGREF-93017"
CSV_GIVEN, CSV_DOB, BAD_DOB = "Thessalyne", "2010-03-19", "2010-02-31"
PURPOSE = "Locating Quillonia urgently"
ACCESS_FIELDS = {"request_id", "method", "operation", "status", "outcome", "codes", "duration_ms", "ts", "level",
                 "pid", "logger", "event"}


class Receiver:
    """An OTLP/HTTP trace receiver: keeps every ExportTraceServiceRequest posted to /v1/traces."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list:  # type: ignore[type-arg]
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        out = []
        for body in list(self.bodies):
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    out.extend(scope.spans)
        return out


class Ops:
    def __init__(self, base_url: str, settings: Settings, log: Path, receiver: Receiver) -> None:
        self.base_url = base_url
        self.settings = settings
        self.log = log
        self.receiver = receiver

    def token(self, role: str = "la_missing_lead", agency: str = KENT_CC) -> str:
        return mint_dev_token(self.settings, agency, role)

    def graphql(self, body: object, token: str | None, request_id: str | None = None,
                purpose: str | None = PURPOSE) -> httpx.Response:
        headers = {"X-Request-ID": request_id or f"ops-{uuid.uuid4().hex[:20]}", "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if purpose:
            headers["X-MPDB-Purpose"] = purpose
        return httpx.post(f"{self.base_url}/graphql", headers=headers, timeout=60,
                          **({"content": body} if isinstance(body, bytes) else {"json": body}))

    def lines(self) -> list[str]:
        return [line for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]

    def access(self) -> list[dict]:  # type: ignore[type-arg]
        return [e for e in map(json.loads, self.lines()) if e.get("logger") == "mpdb.access"]

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        from prometheus_client.parser import text_string_to_metric_families

        text = httpx.get(f"{self.base_url}/metrics", timeout=30).text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture(scope="module")
def ops(neo4j_settings: Settings, registered_agencies, tmp_path_factory) -> Iterator[Ops]:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    port = free_port()
    log = tmp_path_factory.mktemp("ops") / "serve.stderr"
    conn = graph_connection(neo4j_settings)
    env = {**os.environ, "MPDB_ENV": "test", "MPDB_STATE_DIR": str(TEST_STATE_DIR), "MPDB_LOG_FORMAT": "json",
           "NEO4J_URI": str(conn["neo4j_uri"]), "MPDB_CONSOLE_COOKIE_SECURE": "false",
           "MPDB_AGENCY_REGISTRY_MISS_REFRESH_SECONDS": "0",
           "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if "neo4j_user" in conn:
        env |= {"NEO4J_USERNAME": str(conn["neo4j_user"]), "NEO4J_PASSWORD": str(conn["neo4j_password"])}
    with log.open("wb") as err:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "mpdb"), "serve", "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "mpdb serve did not start"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield Ops(base, Settings(env="test", state_dir=TEST_STATE_DIR, port=port), log, receiver)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        receiver.server.shutdown()


def _ago(**kw: float) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


REGISTER = """mutation($input: RegisterChildInput!, $key: String!) {
  registerChild(input: $input, idempotencyKey: $key) { childId created }
}"""
REPORT = """mutation Report_%s($input: ReportMissingInput!, $key: String!) {
  reportMissing(input: $input, idempotencyKey: $key) { episodeId }
}""" % GIVEN


def _console_sign_in(ops: Ops) -> list[str]:
    """Sign in to the console (dev IdP form), give a purpose, search by name in the query string.
    Returns the secrets of the session (cookies)."""
    with httpx.Client(base_url=ops.base_url, timeout=60, follow_redirects=False) as browser:
        login = browser.get("/login", params={"next": f"/search?name={GIVEN}"})
        assert login.status_code == 302
        page = browser.get(login.headers["location"])
        assert page.status_code == 200, page.text
        chosen = browser.post("/dev-idp/authorize", data={**parse(page.text).hidden, "user": "kent-la-missing-lead",
                                                          "action": "sign_in"})
        assert chosen.status_code == 302, chosen.text
        callback = browser.get(chosen.headers["location"])
        assert callback.status_code == 303, callback.text
        code = parse_qs(urlsplit(chosen.headers["location"]).query)["code"][0]
        purpose_page = browser.get("/purpose", params={"next": "/search"})
        saved = browser.post("/purpose", data={"csrf_token": parse(purpose_page.text).hidden["csrf_token"],
                                               "next": "/search", "purpose": "other", "other": PURPOSE,
                                               "case_reference": LAC_REF})
        assert saved.status_code == 303
        search = browser.get("/search", params={"name": f"{GIVEN} {FAMILY}", "dateOfBirth": DOB})
        assert search.status_code == 200, search.text
        return [c for c in (browser.cookies.get(SESSION_COOKIE), code) if c]


async def test_personal_data_never_reaches_the_logs(ops: Ops, graph) -> None:  # type: ignore[no-untyped-def]
    lead = ops.token()
    rid = f"ops-{uuid.uuid4().hex[:20]}"
    # 1. a succeeding mutation, values in variables
    child = {"givenName": GIVEN, "familyName": FAMILY, "dateOfBirth": DOB, "sex": "F", "lacRefLa": KENT_CC,
             "lacChildRef": LAC_REF, "lookedAfterBy": KENT_CC, "createDespiteCandidates": True}
    r = ops.graphql({"query": REGISTER, "variables": {"input": child, "key": uuid.uuid4().hex}}, lead, rid)
    assert r.status_code == 200 and r.json()["data"]["registerChild"]["created"] is True, r.text
    child_id = r.json()["data"]["registerChild"]["childId"]
    # 2. the malformed reportMissing of the issue: a value that does not fit its type, beside a name
    bad = {"newChild": {"givenName": GIVEN, "familyName": FAMILY, "dateOfBirth": DOB}, "reporterType": "carer",
           "reportedAt": f"{GIVEN}-{DOB}", "riskAssessment": {"scheme": "2017", "grade": "medium"}}
    r = ops.graphql({"query": REPORT, "variables": {"input": bad, "key": "k1"}}, lead)
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", r.text
    # 3. the same with literals in the document (a validation error quoting them)
    literal = REPORT.replace("$input", "$unused").replace("input: $unused", "input: {newChild: {givenName: "
                                                                            f'"{GIVEN}", dateOfBirth: "{DOB}"}}, '
                                                                            'reporterType: "carer", reportedAt: '
                                                                            f'"{DOB}T25:99:00Z"}}')
    r = ops.graphql({"query": literal, "variables": {"key": "k2"}}, lead)
    assert r.json()["errors"], r.text
    # 4. a succeeding read with literals, 5. a rule refusal (a report in the future), 6. a parse error
    r = ops.graphql({"query": f'{{ searchChildren(name: "{GIVEN} {FAMILY}", dateOfBirth: "{DOB}") '
                              f'{{ nodes {{ score }} }} }}'}, lead)
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    future = {"childId": child_id, "reporterType": "carer", "reportedAt": (datetime.now(UTC) + timedelta(days=400)).isoformat(),
              "riskAssessment": {"scheme": "2017", "grade": "medium", "reason": f"{GIVEN} said {DOB}"}}
    r = ops.graphql({"query": REPORT, "variables": {"input": future, "key": uuid.uuid4().hex}}, lead)
    assert r.json().get("errors"), r.text
    r = ops.graphql({"query": f'{{ searchChildren(name: "{GIVEN}" '}, lead)
    assert r.json()["errors"][0]["message"].startswith("Syntax Error"), r.text
    # 7. bad tokens: a forged one, and a valid one of another audience's shape in the wrong place
    forged = lead[:-12] + "QUILLONIAxyz"
    assert ops.graphql({"query": "{ forces { code } }"}, forged).status_code == 401
    # 8. bodies that are not GraphQL
    assert ops.graphql(f'{{"query": "{GIVEN}'.encode(), lead).status_code == 400
    # 9. an internal error: the consultation cannot be written, the read fails closed (a Neo4j
    #    constraint error whose message quotes property values)
    await graph.write("MATCH (h:AuditHead) WHERE h.shard IS NOT NULL "
                      "CREATE (:AuditEvent {shard: h.shard, seq: h.seq + 1, id: 'ops-blocker'})")
    internal_rid = f"ops-{uuid.uuid4().hex[:20]}"
    try:
        r = ops.graphql({"query": f'{{ {GIVEN}: child(id: "{child_id}") {{ givenName dateOfBirth }} }}'}, lead,
                        internal_rid)
    finally:
        await graph.write("MATCH (e:AuditEvent {id: 'ops-blocker'}) DELETE e")
    assert r.json()["errors"][0]["extensions"]["code"] == "INTERNAL", r.text
    # 10. imports: a file with a rejected row, and a file refused as a whole
    csv = ("child_ref,given_name,family_name,date_of_birth,sex,looked_after,responsible_la\n"
           f"OPS-1,{CSV_GIVEN},{FAMILY},{CSV_DOB},F,true,{KENT_CC}\n"
           f"OPS-2,{CSV_GIVEN},{FAMILY},{BAD_DOB},F,true,{KENT_CC}\n")
    up = httpx.post(f"{ops.base_url}/import/children", files={"file": ("children.csv", csv, "text/csv")},
                    headers={"Authorization": f"Bearer {lead}"}, timeout=120)
    assert up.status_code == 200 and (up.json()["loaded"], up.json()["rejected"]) == (1, 1), up.text
    refused = httpx.post(f"{ops.base_url}/import/children",
                         files={"file": ("children.csv", csv.encode() + b"OPS-3,\xff" + CSV_GIVEN.encode(), "text/csv")},
                         headers={"Authorization": f"Bearer {lead}"}, timeout=120)
    assert refused.status_code == 422
    # 11. the console: sign-in, purpose, a search by name and date of birth in the query string
    secrets = _console_sign_in(ops)

    time.sleep(0.5)  # the access line is written after the response
    lines = ops.lines()
    events = [json.loads(line) for line in lines]  # every line is JSON
    needles = [GIVEN, FAMILY, DOB, LAC_REF, CSV_GIVEN, CSV_DOB, BAD_DOB, PURPOSE, lead, forged, lead.split(".")[1],
               "Quillonia", "quillonia", "2011-07", "23/07/2011", *secrets]
    for line in lines:
        for needle in needles:
            assert needle not in line, f"{needle!r} logged: {line}"
    access = [e for e in events if e.get("logger") == "mpdb.access"]
    assert len(access) >= 15
    for e in access:
        assert ACCESS_FIELDS <= e.keys(), e
        assert e["outcome"] in ("ok", "client_error", "server_error", "unavailable")
    by_rid = {e["request_id"]: e for e in access}
    assert {k: by_rid[rid][k] for k in ("operation", "outcome", "codes", "agency", "role", "status")} == {
        "operation": "mutation registerChild", "outcome": "ok", "codes": [], "agency": KENT_CC,
        "role": "la_missing_lead", "status": 200}
    internal = by_rid[internal_rid]
    assert (internal["operation"], internal["outcome"], internal["codes"]) == ("query child", "server_error", ["INTERNAL"])
    # The internal error itself: logged with the request id, its type and frames, not its message.
    [failure] = [e for e in events if e.get("logger") == "mpdb.api.errors" and e.get("request_id") == internal_rid]
    assert failure["level"] == "error" and failure["exception"]["type"] == "mpdb.audit.trail.AuditAppendFailed"
    assert failure["exception"]["cause"]["type"].startswith("neo4j.exceptions.")
    assert failure["exception"]["cause"]["neo4j_code"].startswith("Neo.ClientError.Schema")
    assert "already exists" not in json.dumps(failure) and "AuditEvent" not in json.dumps(failure)
    operations = {(e["operation"], e["outcome"], tuple(e["codes"])) for e in access}
    assert ("POST /graphql", "client_error", ("GRAPHQL_PARSE_FAILED",)) in operations
    assert ("POST /graphql", "client_error", ("GRAPHQL_VALIDATION_FAILED",)) in operations  # the literals
    assert ("POST /graphql", "client_error", ("BAD_REQUEST",)) in operations  # not JSON
    assert ("mutation reportMissing", "client_error", ("BAD_USER_INPUT",)) in operations
    assert ("POST /graphql", "client_error", ("UNAUTHENTICATED",)) in operations  # the forged token
    assert ("POST /import/{kind}", "ok", ()) in operations
    assert ("POST /import/{kind}", "client_error", ("BAD_USER_INPUT",)) in operations
    assert ("GET /search", "ok", ()) in operations
    assert any(e["operation"] == "GET /search" and e.get("agency") == KENT_CC for e in access)


def test_metrics_count_requests_by_operation_and_outcome(ops: Ops) -> None:
    lead = ops.token()
    before = ops.metrics()
    for _ in range(3):
        r = ops.graphql({"query": "{ forces { code } }"}, lead)
        assert r.status_code == 200 and "errors" not in r.json()
    for _ in range(2):
        assert ops.graphql({"query": '{ child(id: "NO-SUCH") { id } }'}, ops.token("analyst")).json()["errors"]
    assert ops.graphql({"query": "{ forces { code } }"}, None).status_code == 401
    csv = ("child_ref,given_name,family_name,date_of_birth,sex,looked_after,responsible_la\n"
           f"OPS-M1,Metrica,Synthetic,2010-01-01,F,true,{KENT_CC}\n"
           f"OPS-M2,Metricb,Synthetic,2010-13-01,F,true,{KENT_CC}\n"
           f"OPS-M3,Metricc,Synthetic,2010-14-01,F,true,{KENT_CC}\n")
    up = httpx.post(f"{ops.base_url}/import/children", files={"file": ("c.csv", csv, "text/csv")},
                    headers={"Authorization": f"Bearer {lead}"}, timeout=120)
    assert (up.json()["loaded"], up.json()["rejected"]) == (1, 2)
    after = ops.metrics()

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("mpdb_requests_total", operation="query forces", outcome="ok") == 3
    assert delta("mpdb_requests_total", operation="query child", outcome="client_error") == 2
    assert delta("mpdb_requests_total", operation="POST /graphql", outcome="client_error") == 1
    assert delta("mpdb_requests_total", operation="POST /import/{kind}", outcome="ok") == 1
    assert delta("mpdb_request_duration_seconds_count", operation="query forces") == 3
    assert ("mpdb_request_duration_seconds_bucket", (("le", "0.005"), ("operation", "query forces"))) in after
    assert delta("mpdb_import_rows_total", kind="children", result="loaded") == 1
    assert delta("mpdb_import_rows_total", kind="children", result="rejected") == 2
    # the reference read behind `forces`, by the name of its query constant; the audit appends
    assert any(name == "mpdb_neo4j_query_duration_seconds_count" and dict(labels).get("query", "other") != "other"
               and after[(name, labels)] - before.get((name, labels), 0) >= 3 for name, labels in after)
    assert after[("mpdb_audit_append_duration_seconds_count", ())] >= 1
    # Labels are schema names, route templates and constant names: nothing a client typed.
    text = httpx.get(f"{ops.base_url}/metrics", timeout=30).text
    for needle in ("NO-SUCH", "Metrica", "OPS-M1", KENT_CC):
        assert needle not in text


def test_traces_name_operations_and_statements_and_hold_no_values(ops: Ops) -> None:
    lead = ops.token()
    marker = "Zorvathine"
    r = ops.graphql({"query": f'query Find_{marker} {{ searchChildren(name: "{marker} Quexley", first: 3) '
                              f'{{ nodes {{ score }} }} }}'}, lead)
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    r = ops.graphql({"query": "query($n: String) { searchChildren(name: $n) { nodes { score } } }",
                     "variables": {"n": f"{marker} Quexley"}}, lead)
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        spans = ops.receiver.spans()
        names = {s.name for s in spans}
        if sum(1 for s in spans if s.name == "GraphQL query searchChildren") >= 2:
            break
        time.sleep(0.2)
    assert {"POST /graphql", "GraphQL query searchChildren", "GraphQL Resolving: searchChildren"} <= names, names
    assert any(re.fullmatch(r"neo4j [A-Z][A-Z0-9_]+", n) for n in names), names
    resolver = next(s for s in spans if s.name == "GraphQL Resolving: searchChildren")
    assert {a.key for a in resolver.attributes} == {"component", "graphql.field"}
    for span in spans:
        for attribute in span.attributes:
            value = str(attribute.value)
            assert marker not in value and "Quexley" not in value and lead not in value, (span.name, attribute)
        assert marker not in span.name
        for event in span.events:
            assert {a.key for a in event.attributes} <= {"exception.type"}, (span.name, event)


def test_metrics_can_need_a_token_or_be_off(neo4j_settings: Settings) -> None:
    from mpdb.api.app import create_app

    port = free_port()
    app = create_app(neo4j_settings.model_copy(update={"port": port, "metrics_token": SecretStr("scrape-secret-1")}))
    with serve_in_thread(app, port):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/metrics").status_code == 401
        assert httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer scrape-secret-1"})
        assert ok.status_code == 200 and "mpdb_requests_total" in ok.text
    port = free_port()
    app = create_app(neo4j_settings.model_copy(update={"port": port, "metrics": False}))
    with serve_in_thread(app, port):
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
