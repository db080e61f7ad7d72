"""The statements mpdb runs for a benchmarked query, and their parameters, taken from mpdb itself.

Nothing here restates a Cypher statement or a parameter: `record()` calls mpdb's own service
function (mpdb/intel/*.py, through bench/queries.py) on a `RecordingGraph`, which passes every
statement to Neo4j unchanged and writes down the text and the parameters the repository built
(the caller's access scope parameters included). Each recorded text must be one of the constants in
mpdb/graph/queries/*.py (`constant_name` names it) or the extraction fails: if the code changes
shape, the benchmark breaks loudly instead of serving a stale copy.

Reads are what the peer serves; writes (the audit events ServiceContext.consulted appends) are
listed by name in `skipped_writes`: the peer does no auth and no audit.

    .venv/bin/python -m bench.peer.extract --out /tmp/peer.json    # what the runner hands the peer
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import pkgutil
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from neo4j import AsyncManagedTransaction
from neo4j.spatial import Point
from neo4j.time import Date as NeoDate
from neo4j.time import DateTime as NeoDateTime
from neo4j.time import Duration as NeoDuration
from neo4j.time import Time as NeoTime

import mpdb.graph.queries
from bench.queries import QUERIES, BenchQuery
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import Principal
from mpdb.graph.db import Graph
from mpdb.services.context import ServiceContext
from mpdb.settings import get_settings

PURPOSE = "benchmark: synthetic data"

# --- where a statement comes from --------------------------------------------------------------


def query_constants() -> dict[str, str]:
    """Every Cypher constant in mpdb/graph/queries/*.py by text -> 'module.NAME' (or
    'module.NAME[key]' for the statement tables keyed by mode/kind, e.g. HOTSPOT_CELLS)."""
    out: dict[str, str] = {}
    for info in pkgutil.iter_modules(mpdb.graph.queries.__path__):
        mod = importlib.import_module(f"mpdb.graph.queries.{info.name}")
        for name, value in vars(mod).items():
            if name.startswith("__"):
                continue
            if isinstance(value, str):
                out.setdefault(value, f"{info.name}.{name}")
            elif isinstance(value, dict):
                for key, v in value.items():
                    if isinstance(v, str):
                        out.setdefault(v, f"{info.name}.{name}[{key!r}]")
    return out


class UnknownStatement(AssertionError):
    pass


def constant_name(text: str, constants: dict[str, str] | None = None) -> str:
    name = (constants if constants is not None else query_constants()).get(text)
    if name is None:
        raise UnknownStatement("mpdb ran a statement that is not a constant of mpdb/graph/queries/*.py: "
                               + " ".join(text.split())[:200])
    return name


# --- recording --------------------------------------------------------------------------------


@dataclass
class Recorded:
    text: str
    params: dict[str, Any]
    tx: int  # statements with the same number ran in one transaction
    write: bool


class _RecordingTx:
    """Stands in for the managed transaction a repository's work function receives."""

    def __init__(self, tx: AsyncManagedTransaction, log: list[Recorded], number: int, write: bool) -> None:
        self._tx, self._log, self._number, self._write = tx, log, number, write

    async def run(self, query: Any, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        params = {**(parameters or {}), **kwargs}
        self._log.append(Recorded(str(query), params, self._number, self._write))
        return await self._tx.run(query, parameters, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class RecordingGraph(Graph):
    """A Graph that writes down every statement it runs (and still runs it)."""

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph.driver, graph.database, graph.timeout_s)
        self.log: list[Recorded] = []
        self._tx_count = 0

    def _wrap(self, work: Callable[[Any], Awaitable[Any]], write: bool) -> Callable[[Any], Awaitable[Any]]:
        self._tx_count += 1
        number = self._tx_count

        async def recorded(tx: AsyncManagedTransaction) -> Any:
            return await work(_RecordingTx(tx, self.log, number, write))

        return recorded

    async def in_read_tx(self, work):  # type: ignore[no-untyped-def,override]
        return await super().in_read_tx(self._wrap(work, False))

    async def in_write_tx(self, work):  # type: ignore[no-untyped-def,override]
        return await super().in_write_tx(self._wrap(work, True))

    async def auto_commit(self, text, params=None):  # type: ignore[no-untyped-def,override]
        self._tx_count += 1
        self.log.append(Recorded(str(text), dict(params or {}), self._tx_count, True))
        await super().auto_commit(text, params)


def principal_for(q: BenchQuery) -> Principal:
    """The principal a dev token for (agency, role) gives the API: the policy's scopes for it."""
    scopes = get_policy(get_settings().policy_file).scopes_for(q.agency_kind, q.role)
    return Principal(subject="bench", client_id="bench", agency_id=q.agency, agency_kind=q.agency_kind,
                     role=q.role, scopes=frozenset(scopes))


@dataclass
class Statement:
    constant: str
    text: str
    params: dict[str, Any]
    tx: int
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # canonical (see `canonical`)


@dataclass
class Extracted:
    query: BenchQuery
    statements: list[Statement]
    skipped_writes: list[str]
    result: Any  # what mpdb's service returned (for checking the API's answer)


async def record(graph: Graph, q: BenchQuery, params: dict[str, Any],
                 constants: dict[str, str] | None = None) -> Extracted:
    """Run `q`'s service once as mpdb runs it and return the statements it sent, with the rows
    each one gives (read through the plain driver with the same text and parameters)."""
    constants = constants if constants is not None else query_constants()
    rec = RecordingGraph(graph)
    settings = get_settings()
    ctx = ServiceContext(graph=rec, settings=settings, principal=principal_for(q), purpose=PURPOSE,
                         request_id=str(uuid.uuid4()))
    result = await q.service(ctx, params)
    reads = [r for r in rec.log if not r.write]
    if not reads:
        raise AssertionError(f"{q.name}: mpdb ran no read statement (did the service change?)")
    statements = [Statement(constant_name(r.text, constants), r.text, r.params, r.tx) for r in reads]
    for s in statements:
        s.columns, s.rows = await raw_rows(graph, s.text, s.params)
    skipped = [constants.get(r.text, "(not a constant)") for r in rec.log if r.write]
    return Extracted(q, statements, skipped, result)


async def raw_rows(graph: Graph, text: str, params: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    async def work(tx: AsyncManagedTransaction) -> tuple[list[str], list[dict[str, Any]]]:
        result = await tx.run(text, params)
        keys = list(result.keys())
        return keys, [canonical(dict(r.items())) async for r in result]

    async with graph.driver.session(database=graph.database, default_access_mode="READ") as s:
        return await s.execute_read(work)


# --- values on the wire -----------------------------------------------------------------------
# The peer receives parameters as GraphQL variables and returns rows as JSON, so both directions
# need a form that keeps Neo4j's types: integers stay integers (a JS number would reach Neo4j as a
# float), temporals keep their nanoseconds and offset. Tags: {"$int": "7"}, {"$dt": [y, mo, d, h,
# mi, s, ns, offsetSeconds]}, {"$ldt": [...]}, {"$date": [y, mo, d]}, {"$time": [h, mi, s, ns,
# offsetSeconds]}, {"$dur": [months, days, seconds, ns]}, {"$point": [srid, x, y(, z)]}.
# bench/peer/server.mjs reads and writes the same tags.


def tag_param(v: Any) -> Any:
    """A parameter as the peer's `Param` scalar takes it."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, float)):
        return v
    if isinstance(v, int):
        return {"$int": str(v)}
    if isinstance(v, (list, tuple)):
        return [tag_param(x) for x in v]
    if isinstance(v, dict):
        return {k: tag_param(x) for k, x in v.items()}
    return _temporal(v)


def canonical(v: Any) -> Any:
    """A returned value in the JSON form the peer's `JSON` scalar gives it."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, Point):
        return {"$point": [v.srid, *[float(c) for c in v]]}
    if isinstance(v, (list, tuple)):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    return _temporal(v)


def _offset(v: Any) -> int | None:
    off = v.utcoffset()
    return None if off is None else int(off.total_seconds())


def _temporal(v: Any) -> Any:
    if isinstance(v, NeoDuration):
        return {"$dur": [v.months, v.days, v.seconds, v.nanoseconds]}
    if isinstance(v, timedelta):
        return {"$dur": [0, v.days, v.seconds, v.microseconds * 1000]}
    if isinstance(v, (NeoDateTime, datetime)):
        ns = v.nanosecond if isinstance(v, NeoDateTime) else v.microsecond * 1000
        parts = [v.year, v.month, v.day, v.hour, v.minute, int(v.second), ns]
        off = _offset(v)
        return {"$ldt": parts} if off is None else {"$dt": [*parts, off]}
    if isinstance(v, (NeoDate, date)):
        return {"$date": [v.year, v.month, v.day]}
    if isinstance(v, (NeoTime, time)):
        ns = v.nanosecond if isinstance(v, NeoTime) else v.microsecond * 1000
        return {"$time": [v.hour, v.minute, int(v.second), ns, _offset(v)]}
    raise TypeError(f"no wire form for {type(v).__name__}")


# --- comparing rows ---------------------------------------------------------------------------


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def _unordered(v: Any) -> Any:
    if isinstance(v, list):
        return sorted((_unordered(x) for x in v), key=_key)
    if isinstance(v, dict):
        return {k: _unordered(x) for k, x in v.items()}
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only on the {'peer' if k in a else 'driver'} side"
            d = _first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items from the peer, {len(b)} from the driver"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = _first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if a == b:
        return None
    return f"{path}: peer {str(a)[:120]!r} != driver {str(b)[:120]!r}"


def compare_rows(peer: Any, driver: Any) -> tuple[str, str | None]:
    """('exact', None) when equal as returned; ('unordered', None) when equal once every list is
    read as a multiset (Cypher's collect() order is unspecified and mpdb sorts what it shows);
    else ('different', where)."""
    if peer == driver:
        return "exact", None
    if _unordered(peer) == _unordered(driver):
        return "unordered", None
    return "different", _first_difference(_unordered(peer), _unordered(driver))


# --- the document the peer server reads -------------------------------------------------------


def peer_statement(s: Statement) -> str:
    """mpdb's statement, unchanged, inside a unit subquery that packs its rows into ONE value: an
    @cypher field returns a single column, and mpdb's statements return several (and some return
    several rows). The projection costs Neo4j next to nothing; the statement runs once."""
    cols = ", ".join(f"`{c}`: `{c}`" for c in s.columns)
    return f"CALL {{\n{s.text}\n}}\nRETURN collect({{{cols}}}) AS rows"


def field_name(qi: int, si: int) -> str:
    return f"q{qi}s{si}"


def peer_document(extracted: list[Extracted]) -> dict[str, Any]:
    return {"queries": [
        {"name": e.query.name, "skippedWrites": e.skipped_writes,
         "statements": [{"field": field_name(qi, si), "constant": s.constant, "text": s.text,
                         "statement": peer_statement(s), "params": sorted(s.params), "tx": s.tx}
                        for si, s in enumerate(e.statements)]}
        for qi, e in enumerate(extracted)]}


def peer_request(qi: int, e: Extracted) -> dict[str, Any]:
    """One GraphQL request asking every statement of the query, each as its own @cypher field."""
    var_defs, selections, variables = [], [], {}
    for si, s in enumerate(e.statements):
        args = []
        for name, value in sorted(s.params.items()):
            var = f"s{si}_{name}"
            var_defs.append(f"${var}: Param")
            args.append(f"{name}: ${var}")
            variables[var] = tag_param(value)
        call = f"({', '.join(args)})" if args else ""
        selections.append(f"{field_name(qi, si)}{call}")
    head = f"({', '.join(var_defs)})" if var_defs else ""
    return {"query": f"query Peer{head} {{ {' '.join(selections)} }}", "variables": variables}


async def extract(graph: Graph, queries: list[BenchQuery], params: dict[str, Any]) -> list[Extracted]:
    constants = query_constants()
    return [await record(graph, q, params, constants) for q in queries]


async def _main(argv: list[str] | None = None) -> int:
    from bench.queries import pick_params
    from mpdb.graph.driver import create_driver

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--only", help="comma-separated bench query names (bench/queries.py)")
    args = ap.parse_args(argv)
    settings = get_settings()
    driver = create_driver(settings)
    graph = Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s)
    try:
        params = await pick_params(graph)
        names = args.only.split(",") if args.only else [q.name for q in QUERIES]
        by_name = {q.name: q for q in QUERIES}
        extracted = await extract(graph, [by_name[n] for n in names], params)
    finally:
        await driver.close()
    doc = peer_document(extracted)
    for qi, e in enumerate(extracted):
        doc["queries"][qi]["request"] = peer_request(qi, e)
    args.out.write_text(json.dumps(doc, indent=1))
    for e in extracted:
        print(f"{e.query.name}: {', '.join(s.constant for s in e.statements)}"
              + (f" (not served: {', '.join(e.skipped_writes)})" if e.skipped_writes else ""))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
