"""A transaction the server terminates at its timeout is "unavailable" (503, retry), not a bug
(INTERNAL): under overload, or behind another writer's lock, nothing the caller did was wrong,
and nothing was saved (mpdb/graph/errors.py)."""

from __future__ import annotations

import pytest
from neo4j.exceptions import CypherSyntaxError

from mpdb.domain.errors import ServiceUnavailable
from mpdb.graph.db import Graph
from mpdb.graph.errors import is_unavailable

pytestmark = pytest.mark.integration

SLOW = "CALL apoc.util.sleep(5000) RETURN 1 AS one"


async def _slow_read(tx):  # type: ignore[no-untyped-def]
    return await (await tx.run(SLOW)).data()


async def _write_then_slow(tx):  # type: ignore[no-untyped-def]
    await (await tx.run("CREATE (:TimeoutProbe {id: 'timeout-write'})")).consume()
    return await (await tx.run(SLOW)).data()


@pytest.mark.parametrize("mode", ["read", "write"])
async def test_a_transaction_past_its_timeout_is_unavailable_and_saves_nothing(graph, mode) -> None:  # type: ignore[no-untyped-def]
    quick = Graph(graph.driver, graph.database, timeout_s=0.5)
    with pytest.raises(ServiceUnavailable) as exc:
        if mode == "write":
            await quick.in_write_tx(_write_then_slow)
        else:
            await quick.in_read_tx(_slow_read)
    assert exc.value.extensions["code"] == "SERVICE_UNAVAILABLE"
    assert "did not finish in time" in str(exc.value) and "nothing was saved" in str(exc.value)
    assert is_unavailable(exc.value)
    assert await graph.read("MATCH (p:TimeoutProbe) RETURN p.id AS id") == []


async def test_other_database_errors_stay_what_they_are(graph) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CypherSyntaxError):
        await graph.read("RETURN nonsense(")  # type: ignore[arg-type]
