"""Cypher injection: hostile strings in every string argument are data, never Cypher.

- Every root query field, every String/ID argument (found from the schema, so a new field is
  covered the day it lands): each payload is sent through it; no internal error, and the graph's
  node and relationship counts are unchanged.
- Stored and read back literally: a child whose id and names are payloads is read back exactly;
  mutations store payloads in their free-text fields exactly as sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)

from mpdb.api.schema import build_schema
from mpdb.domain.values import control_character
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.settings import Settings

pytestmark = pytest.mark.integration

KP, KCC, NCA = "E23000032", "E10000016", "NCA-MPU"

PAYLOADS = [
    "x' }) MATCH (n) DETACH DELETE n //",
    "\u0027 OR 1=1 //",
    'x" }) WITH 1 AS a MATCH (n) SET n.pwned = true //',
    "`Child` ) DETACH DELETE n //",
    "$national",
    "x\\' }) CALL apoc.cypher.runWrite('MATCH (n) DETACH DELETE n', {}) YIELD value RETURN 1 //",
    "a*~ OR b:* AND \u0000 null",
]

# Sensible values for the other required arguments, so the payload reaches the data layer.
REQUIRED_STRINGS = {"area": "national", "localAuthority": KCC}
SCALAR_VALUES: dict[str, Any] = {"Int": 1, "Boolean": False, "DateTime": "2026-03-01T00:00:00Z", "Float": 0.0}
DATE_VALUES = {"from": "2026-01-01", "to": "2026-03-01"}

COUNTS = """
CALL () { MATCH (n) WHERE NOT n:AuditEvent AND NOT n:AuditHead RETURN count(n) AS nodes }
CALL () { MATCH ()-[r]->() RETURN count(r) AS rels }
RETURN nodes, rels, COUNT { MATCH (n) WHERE n.pwned IS NOT NULL } AS pwned
"""

INJ_CHILD = PAYLOADS[0]
SCENARIO = """
MATCH (kp:Force {code: $kp}), (kcc:LocalAuthority {code: $kcc})
CREATE (c:Child {id: $childId, pseudonym: $pseudonym, givenName: $given, familyName: $family, sex: 'F'})
CREATE (c)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (c)-[:HAD]->(:Episode {id: $episodeId, status: 'closed', reportedAt: datetime('2026-01-04T20:00:00Z')})-[:REPORTED_TO]->(kp)
CREATE (m:Child {id: 'INJ-M', pseudonym: 'P-INJ-M', givenName: 'Mutta', familyName: 'Synthchild', sex: 'M'})
CREATE (m)-[:LOOKED_AFTER_BY]->(kcc)
CREATE (m)-[:HAD]->(:Episode {id: 'INJ-M-E1', status: 'closed', reportedAt: datetime('2026-01-05T20:00:00Z')})-[:REPORTED_TO]->(kp)
"""
MUTATION_CHILD = "INJ-M"  # ids are validated against a strict pattern, so writes use a plain-id child


@pytest.fixture(scope="module")
async def inj_scenario(reference_graph):  # type: ignore[no-untyped-def]
    await reference_graph.write("MATCH (n) WHERE n.id STARTS WITH 'INJ-' OR n.id = $c DETACH DELETE n", {"c": INJ_CHILD})
    await reference_graph.write(SCENARIO, {"kp": KP, "kcc": KCC, "childId": INJ_CHILD, "pseudonym": PAYLOADS[4],
                                           "given": PAYLOADS[1], "family": PAYLOADS[3], "episodeId": PAYLOADS[2]})
    await reference_graph.write(REFRESH_ACCESS, {"childIds": [INJ_CHILD, "INJ-M"]})
    return reference_graph


def _type_ref(t: Any) -> str:
    if isinstance(t, GraphQLNonNull):
        return _type_ref(t.of_type) + "!"
    if isinstance(t, GraphQLList):
        return "[" + _type_ref(t.of_type) + "]"
    return t.name


def _value_for(name: str, t: Any) -> Any:
    named = get_named_type(t)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLScalarType):
        if named.name in ("String", "ID"):
            return REQUIRED_STRINGS.get(name, "INJ-NONE")
        if named.name == "Date":
            return DATE_VALUES.get(name, "2026-01-01")
        return SCALAR_VALUES[named.name]
    raise AssertionError(f"no test value for required argument {name}: {named}")


def _string_argument_cells() -> list[Any]:
    schema = build_schema(Settings(env="test"))._schema
    cells = []
    for field_name, field in schema.query_type.fields.items():
        for arg_name, arg in field.args.items():
            named = get_named_type(arg.type)
            if isinstance(named, GraphQLScalarType) and named.name in ("String", "ID"):
                cells.append(pytest.param(field_name, arg_name, id=f"{field_name}.{arg_name}"))
            assert not isinstance(named, GraphQLInputObjectType), "extend this test for input objects on queries"
    return cells


def _operation(field_name: str, target_arg: str) -> tuple[str, dict[str, Any]]:
    schema = build_schema(Settings(env="test"))._schema
    field = schema.query_type.fields[field_name]
    decls, args, variables = [], [], {}
    for arg_name, arg in field.args.items():
        if arg_name == target_arg:
            value: Any = "__PAYLOAD__"
        elif (isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined) or arg_name in DATE_VALUES:
            value = _value_for(arg_name, arg.type)
        else:
            continue
        decls.append(f"${arg_name}: {_type_ref(arg.type)}")
        args.append(f"{arg_name}: ${arg_name}")
        variables[arg_name] = value
    result = get_named_type(field.type)
    selection = " { __typename }" if isinstance(result, GraphQLObjectType) else ""
    return (f"query({', '.join(decls)}) {{ {field_name}({', '.join(args)}){selection} }}", variables)


# Callers tried in order: the first one the field does not refuse for lack of scope is used.
CALLERS = [(NCA, "investigator"), (NCA, "auditor"), (KCC, "la_missing_lead")]


@pytest.mark.parametrize(("field_name", "arg_name"), _string_argument_cells())
async def test_payloads_in_every_query_string_argument_are_inert(  # type: ignore[no-untyped-def]
        live_server, inj_scenario, field_name: str, arg_name: str) -> None:
    query, variables = _operation(field_name, arg_name)
    before = await inj_scenario.read_one(COUNTS)
    reached = False
    for agency, role in CALLERS:
        token = live_server.token(agency, role)
        for payload in PAYLOADS:
            vars_ = {k: (payload if v == "__PAYLOAD__" else v) for k, v in variables.items()}
            r = live_server.graphql(query, vars_, token=token, purpose="injection test")
            assert r.status_code == 200, r.text
            body = r.json()
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
            assert "INTERNAL" not in codes, (field_name, arg_name, payload, body)
            assert None not in codes or all(  # graphql-level errors (no code) must be input validation only
                "Variable" in e["message"] or "Expected" in e["message"] for e in body["errors"]), body
            if "FORBIDDEN" in codes:
                break
            reached = True
        if reached:
            break
    assert reached, f"{field_name}: every test caller was refused; add one that may call it"
    assert await inj_scenario.read_one(COUNTS) == before


CHILD_Q = """query($id: ID!) { child(id: $id) { id pseudonym givenName familyName
  episodes { nodes { id childId } } } }"""


def test_hostile_ids_and_names_are_read_back_literally(live_server, inj_scenario) -> None:  # type: ignore[no-untyped-def]
    token = live_server.token(KP, "investigator")
    body = live_server.graphql(CHILD_Q, {"id": INJ_CHILD}, token=token).json()
    assert body == {"data": {"child": {
        "id": INJ_CHILD, "pseudonym": PAYLOADS[4], "givenName": PAYLOADS[1], "familyName": PAYLOADS[3],
        "episodes": {"nodes": [{"id": PAYLOADS[2], "childId": INJ_CHILD}]}}}}
    episode = live_server.graphql("query($id: ID!) { episode(id: $id) { id childId } }", {"id": PAYLOADS[2]},
                                  token=token).json()
    assert episode == {"data": {"episode": {"id": PAYLOADS[2], "childId": INJ_CHILD}}}
    # The consultation was logged with the hostile ids, verbatim.
    events = live_server.graphql(
        "query($r: String) { auditEvents(recordId: $r, first: 5) { nodes { operation recordIds } } }",
        {"r": PAYLOADS[2]}, token=live_server.token(KP, "auditor")).json()["data"]["auditEvents"]["nodes"]
    assert events[0] == {"operation": "episode", "recordIds": sorted([INJ_CHILD, PAYLOADS[2]])}


RAISE_FLAG = """mutation($input: RaiseFlagInput!, $key: String!) {
  raiseFlag(input: $input, idempotencyKey: $key) { flagId childId status } }"""
LINK = """mutation($input: LinkAssociateInput!, $key: String!) {
  linkAssociate(input: $input, idempotencyKey: $key) { childId personId kind linked } }"""


@pytest.mark.parametrize("n", range(len(PAYLOADS)))
async def test_mutation_free_text_is_stored_literally(live_server, inj_scenario, n: int) -> None:  # type: ignore[no-untyped-def]
    payload = PAYLOADS[n]
    token = live_server.token(KP, "investigator")
    before = await inj_scenario.read_one(COUNTS)
    if control_character(payload, multiline=True) is not None:
        # A NUL or other control character is refused as input (mpdb/domain/values.py), not stored.
        refused = live_server.graphql(RAISE_FLAG, {"key": f"inj-flag-{n}", "input": {
            "flagId": f"INJ-FLAG-{n}", "childId": MUTATION_CHILD, "type": "other",
            "raisedAt": "2026-03-01T10:00:00Z", "note": payload}}, token=token).json()
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.note"}
        assert await inj_scenario.read_one(COUNTS) == before
        return
    flag = live_server.graphql(RAISE_FLAG, {"key": f"inj-flag-{n}", "input": {
        "flagId": f"INJ-FLAG-{n}", "childId": MUTATION_CHILD, "type": "other", "raisedAt": "2026-03-01T10:00:00Z",
        "note": payload}}, token=token).json()
    assert flag == {"data": {"raiseFlag": {"flagId": f"INJ-FLAG-{n}", "childId": MUTATION_CHILD, "status": "active"}}}
    link = live_server.graphql(LINK, {"key": f"inj-link-{n}", "input": {
        "childId": MUTATION_CHILD, "kind": "peer",
        "newPerson": {"id": f"INJ-P-{n}", "name": payload, "role": "peer", "notes": payload}}}, token=token).json()
    assert link == {"data": {"linkAssociate": {"childId": MUTATION_CHILD, "personId": f"INJ-P-{n}", "kind": "peer",
                                               "linked": True}}}
    stored = await inj_scenario.read_one(
        "MATCH (c:Child {id: $c})-[:HAS_FLAG]->(f:Flag {id: $f}), (c)-[:ASSOCIATES_WITH]->(p:Person {id: $p}) "
        "RETURN f.note AS note, p.name AS name, p.notes AS notes",
        {"c": MUTATION_CHILD, "f": f"INJ-FLAG-{n}", "p": f"INJ-P-{n}"})
    assert stored == {"note": payload, "name": payload, "notes": payload}
    after = await inj_scenario.read_one(COUNTS)
    assert after["pwned"] == before["pwned"] == 0
    assert after["nodes"] >= before["nodes"]  # only additions (the flag, person, idempotency records)
    # A hostile id where an id is expected is refused as input, never run.
    bad = live_server.graphql(RAISE_FLAG, {"key": f"inj-bad-{n}", "input": {
        "flagId": payload, "childId": MUTATION_CHILD, "type": "other", "raisedAt": "2026-03-01T10:00:00Z"}},
        token=token).json()
    assert bad["data"] is None and bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
