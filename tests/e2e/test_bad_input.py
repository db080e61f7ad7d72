"""Every bad input over real HTTP gets a specific 4xx or a GraphQL error with a code, never a 500 or
INTERNAL (issue 11 part 3): request bodies, documents, cursors, argument strings and write values.

One table, each row sent to the live uvicorn server with a real token, asserting the exact HTTP
status, the `extensions.code` of the first error and (where one input is at fault) its `field`.
Every row that is a write also asserts that the node and relationship counts did not move; a
control row of each write shape, sent with the faulty value corrected, is accepted, so the rows
fail for the reason they name.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mpdb.api.pagination import encode_cursor
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.settings import Settings

pytestmark = pytest.mark.integration

KENT_POLICE, KENT_CC = "E23000032", "E10000016"
DOB = "2011-01-01"
MAX_BODY = Settings().max_body_bytes

SCENARIO = """
MATCH (kent:Force {code: $kp}), (kcc:LocalAuthority {code: $kcc})
UNWIND ['BI-A', 'BI-B', 'BI-C'] AS cid
CREATE (c:Child {id: cid, pseudonym: 'P-' + cid, givenName: 'Bad', familyName: 'Input', sex: 'F', lookedAfter: true,
                 dateOfBirth: date($dob), recordedBy: $kcc, recordedAt: datetime('2026-01-01T00:00:00Z'),
                 sourceSystem: 'test'})
CREATE (c)-[:LOOKED_AFTER_BY]->(kcc)
WITH c, kent
CREATE (c)-[:HAD]->(:Episode {id: c.id + '-E1', status: 'closed', reportedAt: datetime('2026-01-03T20:00:00Z')})-[:REPORTED_TO]->(kent)
CREATE (c)-[:HAD]->(:Episode {id: c.id + '-E2', status: 'closed', reportedAt: datetime('2026-02-03T20:00:00Z')})-[:REPORTED_TO]->(kent)
"""


@pytest.fixture(scope="module")
async def scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write("MATCH (n) WHERE n.id STARTS WITH 'BI-' DETACH DELETE n", {})
    await reference_graph.write(SCENARIO, {"kp": KENT_POLICE, "kcc": KENT_CC, "dob": DOB})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": ["BI-A", "BI-B", "BI-C"]})
    return reference_graph


def ago(**kw: float) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


def key() -> str:
    return f"bi-{uuid.uuid4()}"


REPORT = """mutation($input: ReportMissingInput!, $key: String!) {
  reportMissing(input: $input, idempotencyKey: $key) { episodeId childId } }"""
FLAG = """mutation($input: RaiseFlagInput!, $key: String!) {
  raiseFlag(input: $input, idempotencyKey: $key) { flagId } }"""
REGISTER = """mutation($input: RegisterChildInput!, $key: String!) {
  registerChild(input: $input, idempotencyKey: $key) { childId } }"""
EPISODES = "query($id: ID!, $after: String) { child(id: $id) { episodes(first: 1, after: $after) { nodes { id } pageInfo { endCursor } } } }"
AUDIT = "query($after: String) { auditEvents(first: 1, after: $after) { nodes { id } } }"


def report_vars(child_id: str | None = "BI-A", **over: Any) -> dict[str, Any]:
    inp: dict[str, Any] = {
        "reporterType": "childrens_home", "reportedAt": ago(hours=2), "lastSeenAt": ago(hours=3),
        "missingFromPlace": {"laCode": KENT_CC, "forceCode": KENT_POLICE},
        "riskAssessment": {"scheme": "2017", "grade": "medium", "reason": "line one\nline two"},
    }
    if child_id:
        inp["childId"] = child_id
    inp.update(over)
    return {"input": inp, "key": key()}


def new_child_vars(**over: Any) -> dict[str, Any]:
    child = {"id": f"BI-N-{uuid.uuid4()}", "givenName": "Newly", "familyName": "Reported", "dateOfBirth": "2012-03-04",
             "lookedAfterBy": KENT_CC}
    child.update(over)
    return report_vars(None, newChild=child)


def flag_vars(**over: Any) -> dict[str, Any]:
    inp = {"flagId": f"BI-F-{uuid.uuid4()}", "childId": "BI-C", "type": "cse", "raisedAt": ago(hours=1),
           "note": "tab\tand\r\nlines are fine in a note"}
    inp.update(over)
    return {"input": inp, "key": key()}


def register_vars(**over: Any) -> dict[str, Any]:
    inp = {"id": f"BI-R-{uuid.uuid4()}", "givenName": "Regina", "familyName": f"Reg{uuid.uuid4().hex[:6]}",
           "dateOfBirth": "2013-05-06", "lookedAfterBy": KENT_CC, "createDespiteCandidates": True}
    inp.update(over)
    return {"input": inp, "key": key()}


@dataclass
class Case:
    id: str
    status: int
    code: str
    field: str | None = None
    # a GraphQL request...
    query: str | None = None
    variables: dict[str, Any] | None = None
    operation_name: Any = None
    role: tuple[str, str] = (KENT_POLICE, "investigator")
    write: bool = False
    # ...or a raw body
    body: bytes | None = None
    content_type: str | None = "application/json"
    chunked: bool = False
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def _raw(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _unsigned(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


HANDLER = (KENT_POLICE, "call_handler")
LA_LEAD = (KENT_CC, "la_missing_lead")
AUDITOR = (KENT_POLICE, "auditor")
CHILD_Q = 'query($id: ID!) { child(id: $id) { id } }'
DEEP_SEARCH = ('{ searchChildren(name: "Bad Input") { nodes { child { episodes { nodes { places '
               '{ location { id } } } } } } } }')  # depth 7: the deepest path of the schema
AT_DEPTH = '{ searchChildren(name: "Bad Input") { nodes { child { episodes { nodes { places { role } } } } } } }'


def _cases() -> list[Case]:
    ok_query = _raw({"query": "{ forces { code } }"})
    nested = b'{"query": "{ forces { code } }", "variables": {"x": ' + b"[" * 40 + b"]" * 40 + b"}}"
    return [
        # --- request bodies -------------------------------------------------------------------
        Case("body-null", 400, "BAD_REQUEST", body=b"null"),
        Case("body-string", 400, "BAD_REQUEST", body=b'"{ forces { code } }"'),
        Case("body-number", 400, "BAD_REQUEST", body=b"42"),
        Case("body-list", 400, "BAD_REQUEST", body=_raw([{"query": "{ forces { code } }"}])),
        Case("body-empty", 400, "BAD_REQUEST", body=b""),
        Case("body-not-json", 400, "BAD_REQUEST", body=b'{"query": "{ forces { code } }"'),
        Case("body-invalid-utf8", 400, "BAD_REQUEST", body=b'{"query": "{ forces { code } }", "x": "\xff\xfe"}'),
        Case("body-latin1", 400, "BAD_REQUEST", body='{"query": "{ forces { code } }", "x": "Zoë"}'.encode("latin-1")),
        Case("body-deep-json", 400, "BAD_REQUEST", body=b"[" * 200_000 + b"]" * 200_000),
        Case("body-deep-variables", 400, "BAD_REQUEST", body=nested),
        Case("body-nan", 400, "BAD_REQUEST",
             body=b'{"query": "query($f: Int) { auditEvents(first: $f) { nodes { id } } }", "variables": {"f": NaN}}'),
        Case("body-no-query", 400, "BAD_REQUEST", body=_raw({"variables": {}})),
        Case("body-query-number", 400, "BAD_REQUEST", body=_raw({"query": 7})),
        Case("body-variables-list", 400, "BAD_REQUEST", body=_raw({"query": "{ forces { code } }", "variables": [1]})),
        Case("body-operation-name-number", 400, "BAD_REQUEST", body=_raw({"query": "{ forces { code } }", "operationName": 3})),
        Case("body-operation-name-unknown", 400, "BAD_REQUEST",
             body=_raw({"query": "query A { forces { code } }", "operationName": "B"})),
        Case("content-type-text", 415, "UNSUPPORTED_MEDIA_TYPE", body=ok_query, content_type="text/plain"),
        Case("content-type-graphql", 415, "UNSUPPORTED_MEDIA_TYPE", body=b"{ forces { code } }",
             content_type="application/graphql"),
        Case("content-type-missing", 415, "UNSUPPORTED_MEDIA_TYPE", body=ok_query, content_type=None),
        Case("content-type-form", 415, "UNSUPPORTED_MEDIA_TYPE", body=b"query=x",
             content_type="application/x-www-form-urlencoded"),
        Case("body-too-large", 413, "PAYLOAD_TOO_LARGE",
             body=_raw({"query": "{ forces { code } }", "variables": {"x": "a" * MAX_BODY}})),
        Case("body-too-large-chunked", 413, "PAYLOAD_TOO_LARGE",
             body=_raw({"query": "{ forces { code } }", "variables": {"x": "a" * MAX_BODY}}), chunked=True),
        Case("id-10mb", 413, "PAYLOAD_TOO_LARGE", query=CHILD_Q, variables={"id": "A" * 10_000_000}),
        # --- documents ------------------------------------------------------------------------
        Case("parse-error", 400, "GRAPHQL_PARSE_FAILED", query="{ child(id: "),
        Case("parse-garbage", 400, "GRAPHQL_PARSE_FAILED", query="\u0000\u0001"),
        Case("token-limit", 400, "GRAPHQL_PARSE_FAILED", query='{ child(id: "BI-A") { ' + "id " * 2000 + "} }"),
        Case("doc-nested-too-deep", 400, "GRAPHQL_PARSE_FAILED",
             query='{ forces(x: ' + "[" * 900 + "]" * 900 + ") { code } }"),
        Case("unknown-field", 400, "GRAPHQL_VALIDATION_FAILED", query="{ chilld { id } }"),
        Case("fragment-cycle", 400, "GRAPHQL_VALIDATION_FAILED",
             query="{ forces { ...A } } fragment A on Force { ...B } fragment B on Force { ...A }"),
        Case("unknown-directive", 400, "GRAPHQL_VALIDATION_FAILED", query="{ forces @explode { code } }"),
        Case("directive-variable-missing", 400, "BAD_USER_INPUT",
             query="query($x: Boolean!) { forces @include(if: $x) { code } }", variables={}),
        Case("depth-limit", 400, "GRAPHQL_VALIDATION_FAILED", query=DEEP_SEARCH),
        Case("alias-limit", 400, "GRAPHQL_VALIDATION_FAILED",
             query="{ " + " ".join(f"a{i}: forces {{ code }}" for i in range(16)) + " }"),
        Case("two-operations-no-name", 400, "GRAPHQL_VALIDATION_FAILED",
             query="query A { forces { code } } query B { localAuthorities { code } }"),
        Case("subscription-unsupported", 400, "GRAPHQL_VALIDATION_FAILED", query="subscription { x }"),
        Case("literal-datetime-garbage", 400, "GRAPHQL_VALIDATION_FAILED",
             query='{ auditEvents(since: "yesterday") { nodes { id } } }', role=AUDITOR),
        Case("literal-date-garbage", 400, "GRAPHQL_VALIDATION_FAILED",
             query='{ hotspots(area: "national", kind: MISSING_FROM, from: "2026-02-30", to: "2026-03-01") { totalCount } }'),
        Case("variable-wrong-type", 400, "BAD_USER_INPUT", query="query($f: Int) { auditEvents(first: $f) { nodes { id } } }",
             variables={"f": "ten"}, role=AUDITOR),
        Case("variable-datetime-garbage", 400, "BAD_USER_INPUT",
             query="query($s: DateTime) { auditEvents(since: $s) { nodes { id } } }", variables={"s": "0000-99-99"},
             role=AUDITOR),
        Case("variable-missing", 400, "BAD_USER_INPUT", query=CHILD_Q, variables={}),
        Case("variable-int-overflow", 400, "BAD_USER_INPUT", query="query($f: Int) { auditEvents(first: $f) { nodes { id } } }",
             variables={"f": 2**40}, role=AUDITOR),
        # --- cursors --------------------------------------------------------------------------
        Case("cursor-garbage", 200, "BAD_USER_INPUT", "after", query=EPISODES, variables={"id": "BI-A", "after": "!!x"}),
        Case("cursor-unsigned", 200, "BAD_USER_INPUT", "after", query=EPISODES,
             variables={"id": "BI-A", "after": _unsigned("2026-01-01T00:00:00+00:00", "BI-A-E1")}),
        Case("cursor-too-long", 200, "BAD_USER_INPUT", "after", query=EPISODES,
             variables={"id": "BI-A", "after": "a" * 600}),
        Case("audit-cursor-unsigned", 200, "BAD_USER_INPUT", "after", query=AUDIT,
             variables={"after": _unsigned(7, 8)}, role=AUDITOR),
        # signed ones (the server's own key) holding the wrong types: refused by the typed decode
        Case("cursor-signed-wrong-types", 200, "BAD_USER_INPUT", "after", query=EPISODES, extra={"signed": (7, 8)},
             variables={"id": "BI-A"}),
        Case("cursor-signed-naive-time", 200, "BAD_USER_INPUT", "after", query=EPISODES,
             extra={"signed": ("2026-01-01T00:00:00", "x")}, variables={"id": "BI-A"}),
        Case("cursor-signed-bad-date", 200, "BAD_USER_INPUT", "after", query=EPISODES,
             extra={"signed": ("2026-02-31T00:00:00+00:00", "x")}, variables={"id": "BI-A"}),
        Case("cursor-signed-arity", 200, "BAD_USER_INPUT", "after", query=EPISODES,
             extra={"signed": ("2026-01-01T00:00:00+00:00",)}, variables={"id": "BI-A"}),
        Case("audit-cursor-signed-wrong-types", 200, "BAD_USER_INPUT", "after", query=AUDIT,
             extra={"signed": (1, ["x"])}, role=AUDITOR),
        Case("audit-cursor-signed-bool", 200, "BAD_USER_INPUT", "after", query=AUDIT,
             extra={"signed": ("2026-01-01T00:00:00+00:00", True)}, role=AUDITOR),
        Case("hotspot-cursor-signed-negative", 200, "BAD_USER_INPUT", "after",
             query='query($after: String) { hotspots(area: "national", kind: MISSING_FROM, from: "2026-01-01", '
                   'to: "2026-03-01", after: $after) { totalCount } }', extra={"signed": (-5,)}, role=(KENT_POLICE, "analyst")),
        # --- argument strings -----------------------------------------------------------------
        Case("id-too-long", 200, "BAD_USER_INPUT", "id", query=CHILD_Q, variables={"id": "A" * 100_000}),
        Case("id-nul", 200, "BAD_USER_INPUT", "id", query=CHILD_Q, variables={"id": "BI-A\u0000"}),
        Case("id-c1", 200, "BAD_USER_INPUT", "id", query=CHILD_Q, variables={"id": "BI-\u0085A"}),
        Case("id-literal-newline", 200, "BAD_USER_INPUT", "id", query='{ child(id: "BI-A\\n") { id } }'),
        Case("string-arg-escape", 200, "BAD_USER_INPUT", "area",
             query='query($a: String) { duties(kind: RHI_OVERDUE, area: $a) { totalCount } }',
             variables={"a": "E10000016\u001b[2J"}, role=LA_LEAD),
        Case("search-name-too-long", 200, "BAD_USER_INPUT", "name",
             query='query($n: String) { searchChildren(name: $n) { nodes { score } } }', variables={"n": "ab " * 400}),
        Case("input-string-too-long", 200, "BAD_USER_INPUT", "input.riskAssessment.reason", query=REPORT,
             variables=report_vars(riskAssessment={"scheme": "2017", "grade": "medium", "reason": "r" * 30_000}),
             role=HANDLER, write=True),
        # --- write values ---------------------------------------------------------------------
        Case("name-nul", 200, "BAD_USER_INPUT", "input.newChild.givenName", query=REPORT,
             variables=new_child_vars(givenName="Ann\u0000"), role=HANDLER, write=True),
        Case("name-escape", 200, "BAD_USER_INPUT", "input.newChild.familyName", query=REPORT,
             variables=new_child_vars(familyName="Smith\u001b[31m"), role=HANDLER, write=True),
        Case("name-newline", 200, "BAD_USER_INPUT", "input.newChild.givenName", query=REPORT,
             variables=new_child_vars(givenName="Ann\nMarie"), role=HANDLER, write=True),
        Case("name-c1", 200, "BAD_USER_INPUT", "input.newChild.givenName", query=REPORT,
             variables=new_child_vars(givenName="Ann\u009b"), role=HANDLER, write=True),
        Case("name-too-long", 200, "BAD_USER_INPUT", "input.newChild.givenName", query=REPORT,
             variables=new_child_vars(givenName="A" * 201), role=HANDLER, write=True),
        Case("lac-ref-too-long", 200, "BAD_USER_INPUT", "input.newChild.lacChildRef", query=REPORT,
             variables=new_child_vars(lacRefLa=KENT_CC, lacChildRef="R" * 41), role=HANDLER, write=True),
        Case("dob-future", 200, "BAD_USER_INPUT", "input.newChild.dateOfBirth", query=REPORT,
             variables=new_child_vars(dateOfBirth=(datetime.now(UTC) + timedelta(days=3)).date().isoformat()),
             role=HANDLER, write=True),
        Case("reason-nul", 200, "BAD_USER_INPUT", "input.riskAssessment.reason", query=REPORT,
             variables=report_vars(riskAssessment={"scheme": "2017", "grade": "medium", "reason": "a\u0000b"}),
             role=HANDLER, write=True),
        Case("reported-year-1", 200, "BAD_USER_INPUT", "input.reportedAt", query=REPORT,
             variables=report_vars(reportedAt="0001-01-01T00:00:00Z", lastSeenAt=None), role=HANDLER, write=True),
        Case("reported-1899", 200, "BAD_USER_INPUT", "input.reportedAt", query=REPORT,
             variables=report_vars(reportedAt="1899-12-31T23:00:00Z", lastSeenAt=None), role=HANDLER, write=True),
        Case("reported-future", 200, "BAD_USER_INPUT", "input.reportedAt", query=REPORT,
             variables=report_vars(reportedAt=ago(hours=-2)), role=HANDLER, write=True),
        Case("reported-before-birth", 200, "BAD_USER_INPUT", "input.reportedAt", query=REPORT,
             variables=report_vars(reportedAt="2010-06-01T12:00:00Z", lastSeenAt=None), role=HANDLER, write=True),
        Case("last-seen-before-birth", 200, "BAD_USER_INPUT", "input.lastSeenAt", query=REPORT,
             variables=report_vars(lastSeenAt="2010-12-31T12:00:00Z"), role=HANDLER, write=True),
        Case("flag-before-birth", 200, "BAD_USER_INPUT", "input.raisedAt", query=FLAG,
             variables=flag_vars(raisedAt="2010-01-01T00:00:00Z"), role=LA_LEAD, write=True),
        Case("flag-note-c1", 200, "BAD_USER_INPUT", "input.note", query=FLAG,
             variables=flag_vars(note="note \u0090 here"), role=LA_LEAD, write=True),
        Case("flag-review-due-far", 200, "BAD_USER_INPUT", "input.reviewDue", query=FLAG,
             variables=flag_vars(reviewDue="2999-01-01"), role=LA_LEAD, write=True),
        Case("register-name-nul", 200, "BAD_USER_INPUT", "input.familyName", query=REGISTER,
             variables=register_vars(familyName="Nul\u0000"), role=LA_LEAD, write=True),
        Case("register-dob-1899", 200, "BAD_USER_INPUT", "input.dateOfBirth", query=REGISTER,
             variables=register_vars(dateOfBirth="1899-01-01"), role=LA_LEAD, write=True),
        Case("idempotency-key-control", 200, "BAD_USER_INPUT", "idempotencyKey", query=FLAG,
             variables={**flag_vars(), "key": "bi-key-\u0007-x"}, role=LA_LEAD, write=True),
    ]


CASES = _cases()


@dataclass
class Sent:
    status: int
    body: Any
    text: str


def send(live_server, case: Case) -> Sent:  # type: ignore[no-untyped-def]
    token = live_server.token(*case.role)
    headers = {"Authorization": f"Bearer {token}", "X-MPDB-Purpose": "test: bad input"}
    if case.body is not None:
        content: Any = case.body
        if case.content_type:
            headers["Content-Type"] = case.content_type
    else:
        variables = dict(case.variables or {})
        if "signed" in case.extra:
            variables["after"] = encode_cursor(*case.extra["signed"])
        payload: dict[str, Any] = {"query": case.query, "variables": variables}
        if case.operation_name is not None:
            payload["operationName"] = case.operation_name
        content = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    if case.chunked:
        data = content

        def chunks() -> Iterator[bytes]:
            for i in range(0, len(data), 64 * 1024):
                yield data[i:i + 64 * 1024]

        content = chunks()
    r = httpx.post(f"{live_server.base_url}/graphql", content=content, headers=headers, timeout=120)
    try:
        body = r.json()
    except ValueError:
        body = None
    return Sent(r.status_code, body, r.text)


async def _counts(graph) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    nodes = await graph.read("MATCH (n) RETURN count(n) AS n", {})
    rels = await graph.read("MATCH ()-[r]->() RETURN count(r) AS n", {})
    return nodes[0]["n"], rels[0]["n"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_gets_a_specific_client_error(live_server, scenario, case: Case) -> None:  # type: ignore[no-untyped-def]
    before = await _counts(scenario) if case.write else None
    sent = send(live_server, case)
    assert sent.status == case.status, sent.text[:500]
    assert isinstance(sent.body, dict), sent.text[:500]
    errors = sent.body["errors"]
    first = errors[0]
    assert first["extensions"]["code"] == case.code, first
    if case.field is not None:
        assert first["extensions"]["field"] == case.field, first
    assert all(e["extensions"]["code"] not in ("INTERNAL", "INTERNAL_SERVER_ERROR") for e in errors), errors
    assert "Traceback" not in sent.text and "Unexpected error" not in sent.text
    if case.write:
        assert sent.body.get("data") is None
        assert await _counts(scenario) == before


# The control rows: the same shapes with the fault corrected are accepted (and do write).

CONTROLS = [
    ("report-existing-child", REPORT, lambda: report_vars("BI-B"), HANDLER, "reportMissing"),
    ("report-new-child", REPORT, lambda: new_child_vars(), HANDLER, "reportMissing"),
    ("raise-flag", FLAG, lambda: flag_vars(reviewDue=(datetime.now(UTC) + timedelta(days=300)).date().isoformat()),
     LA_LEAD, "raiseFlag"),
    ("register-child", REGISTER, lambda: register_vars(), LA_LEAD, "registerChild"),
]


@pytest.mark.parametrize(("name", "query", "variables", "role", "root"), CONTROLS, ids=[c[0] for c in CONTROLS])
async def test_the_corrected_write_is_accepted(live_server, scenario, name, query, variables, role, root) -> None:  # type: ignore[no-untyped-def]
    before = await _counts(scenario)
    sent = send(live_server, Case(name, 200, "", query=query, variables=variables(), role=role))
    assert sent.status == 200 and "errors" not in sent.body, sent.text[:500]
    assert sent.body["data"][root]
    assert await _counts(scenario) != before


def test_limits_bind_just_above_what_is_allowed(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    inv = live_server.token(KENT_POLICE, "investigator")
    at_depth = live_server.graphql(AT_DEPTH, token=inv)
    assert at_depth.status_code == 200 and "errors" not in at_depth.json(), at_depth.text[:300]
    fifteen = "{ " + " ".join(f"a{i}: forces {{ code }}" for i in range(15)) + " }"
    assert "errors" not in live_server.graphql(fifteen, token=inv).json()
    # 1,992 tokens: a long list literal (repeating one field instead makes validation quadratic).
    categories = ", ".join(["AGREE"] * 1968)
    tokens_ok = (f'{{ reconciliation(localAuthority: "{KENT_CC}", from: "2026-01-01", to: "2026-02-01", '
                 f'categories: [{categories}]) {{ totalCount }} }}')
    body = live_server.graphql(tokens_ok, token=live_server.token(KENT_CC, "la_missing_lead")).json()
    assert "errors" not in body, body



def test_an_operation_is_chosen_by_name(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    doc = "query A { forces { code } } query B { child(id: \"BI-A\") { id } }"
    sent = send(live_server, Case("named", 200, "", query=doc, operation_name="B"))
    assert sent.status == 200 and sent.body == {"data": {"child": {"id": "BI-A"}}}


def test_a_real_cursor_pages_and_an_edited_one_is_refused(live_server, scenario) -> None:  # type: ignore[no-untyped-def]
    inv = live_server.token(KENT_POLICE, "investigator")
    first = live_server.graphql(EPISODES, {"id": "BI-A"}, token=inv).json()["data"]["child"]["episodes"]
    assert [n["id"] for n in first["nodes"]] == ["BI-A-E2"]
    cursor = first["pageInfo"]["endCursor"]
    second = live_server.graphql(EPISODES, {"id": "BI-A", "after": cursor}, token=inv).json()
    assert [n["id"] for n in second["data"]["child"]["episodes"]["nodes"]] == ["BI-A-E1"]
    # Edit the payload (move the key a year on) and keep the tag: refused as not issued here.
    payload, tag = cursor.rsplit(".", 1)
    values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    values[0] = values[0].replace("2026", "2027")
    edited = _unsigned(*values) + "." + tag
    body = live_server.graphql(EPISODES, {"id": "BI-A", "after": edited}, token=inv).json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    assert body["errors"][0]["message"] == "invalid cursor: not one this API issued"
