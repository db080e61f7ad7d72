"""GraphQL responses are encoded with orjson, and anything it refuses with the json module."""

from __future__ import annotations

import json

from mpdb.api.graphql_router import MpdbGraphQLRouter
from mpdb.api.schema import build_schema
from mpdb.settings import Settings


def _router() -> MpdbGraphQLRouter:
    return MpdbGraphQLRouter(build_schema(Settings(env="test")), max_body_bytes=1000)


def test_the_same_json_value_in_utf8() -> None:
    data = {"data": {"child": {"givenName": "Zoë", "familyName": "Ó Súilleabháin", "ratio": 0.1, "n": 3,
                               "none": None, "flags": [True, False]}}}
    encoded = _router().encode_json(data)
    assert isinstance(encoded, bytes)
    assert json.loads(encoded) == data
    assert "Zoë".encode() in encoded  # UTF-8, not \u00eb escapes
    assert encoded == b'{"data":{"child":{"givenName":"Zo\xc3\xab","familyName":"\xc3\x93 S\xc3\xbailleabh\xc3\xa1in",' \
                      b'"ratio":0.1,"n":3,"none":null,"flags":[true,false]}}}'


def test_what_orjson_refuses_goes_to_the_json_module() -> None:
    big = {"data": {"n": 2**70, "s": "a\ud800b"}}  # beyond 64 bits; a lone surrogate
    assert _router().encode_json(big) == json.dumps(big, separators=(",", ":"))
