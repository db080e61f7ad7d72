"""NEO4J_URI is checked when the settings are read: the driver would misread a malformed one
(`bolt:/127.0.0.1:7705` dials localhost:7687), so it is refused with what is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mpdb.settings import Settings


@pytest.mark.parametrize("uri", [
    "bolt://127.0.0.1:7687", "bolt://localhost", "neo4j://db.example.org:7687", "neo4j+s://abcd1234.databases.neo4j.io",
    "bolt+ssc://[::1]:7687", "neo4j://cluster.example.org:7687?policy=europe", "bolt://127.0.0.1:7687/",
])
def test_well_formed_uris_are_kept(uri: str) -> None:
    assert Settings(neo4j_uri=uri).neo4j_uri == uri


@pytest.mark.parametrize(("uri", "message"), [
    ("bolt:/127.0.0.1:7705", "'bolt:/127.0.0.1:7705' has no '//' after 'bolt:'"),
    ("localhost:7687", "'localhost:7687' is not a URI of the form scheme://host:port"),
    ("https://db.example.org", "'https://db.example.org': unknown scheme 'https'"),
    ("bolt://db:seven", "'bolt://db:seven': the port is not a number from 1 to 65535"),
    ("bolt://db:0", "'bolt://db:0': the port is not a number from 1 to 65535"),
    ("bolt://db:70000", "'bolt://db:70000': the port is not a number from 1 to 65535"),
    ("neo4j://", "'neo4j://' names no host"),
    ("bolt://db:7687/mydb", "'bolt://db:7687/mydb': unexpected path '/mydb'"),
])
def test_malformed_uris_are_refused_with_the_reason(uri: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(neo4j_uri=uri)
    [error] = caught.value.errors()
    assert error["loc"] == ("NEO4J_URI",)
    assert error["msg"].removeprefix("Value error, ").startswith(message)
