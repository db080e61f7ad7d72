"""Applies graph_schema/migrations/NNNN_name.cypher in order, once each, recording them in the graph.

Each file is a list of `;`-terminated schema statements (all `IF NOT EXISTS`), so re-running one
is harmless; the `(:SchemaMigration)` nodes make "apply twice" a no-op and let `/readyz` tell
whether the schema is current. A file whose checksum changed after it was applied is an error:
migrations are append-only, fix forward with a new file.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from neo4j import AsyncDriver, AsyncManagedTransaction

from mpdb.settings import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "graph_schema" / "migrations"
_FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.cypher$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    checksum: str


def _split_statements(text: str) -> tuple[str, ...]:
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("//")]
    return tuple(s.strip() for s in "\n".join(lines).split(";") if s.strip())


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.cypher")):
        m = _FILE_PATTERN.match(path.name)
        if not m:
            raise MigrationError(f"{path.name}: migration files are named NNNN_snake_case.cypher")
        text = path.read_text(encoding="utf-8")
        found.append(
            Migration(
                version=int(m.group(1)),
                name=m.group(2),
                statements=_split_statements(text),
                checksum=hashlib.sha256(text.encode()).hexdigest(),
            )
        )
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return found


_APPLIED = "MATCH (m:SchemaMigration) RETURN m.version AS version, m.checksum AS checksum"
_RECORD = (
    "MERGE (m:SchemaMigration {version: $version}) "
    "ON CREATE SET m.name = $name, m.checksum = $checksum, m.appliedAt = datetime()"
)


async def applied_versions(driver: AsyncDriver, database: str) -> dict[int, str]:
    records, _, _ = await driver.execute_query(_APPLIED, database_=database, routing_="r")
    return {r["version"]: r["checksum"] for r in records}


_CREATE_INDEX = re.compile(r"^CREATE\s+(?:[A-Z]+\s+)?INDEX\b", re.IGNORECASE)
_CREATE_CONSTRAINT = re.compile(r"^CREATE\s+CONSTRAINT\b", re.IGNORECASE)


async def _apply_grouped(driver: AsyncDriver, database: str, statements: tuple[str, ...], parallel: int) -> None:
    """A migration's statements, in order, but with each run of consecutive CREATE INDEX statements
    in one transaction (Neo4j then fills them all in one scan of the store) and each run of CREATE
    CONSTRAINT statements issued `parallel` at a time (each waits for its own index to fill). For a
    store that already holds millions of nodes (the offline import); the result is the same schema."""
    runs: list[tuple[str, list[str]]] = []
    for st in statements:
        kind = "index" if _CREATE_INDEX.match(st) else "constraint" if _CREATE_CONSTRAINT.match(st) else "other"
        if runs and runs[-1][0] == kind and kind != "other":
            runs[-1][1].append(st)
        else:
            runs.append((kind, [st]))
    gate = asyncio.Semaphore(parallel)

    async def run_all(tx: AsyncManagedTransaction, group: list[str]) -> None:
        for st in group:
            await (await tx.run(st)).consume()  # type: ignore[arg-type]

    async def managed(group: list[str]) -> None:
        # managed transactions: the driver retries the deadlocks that schema locks taken at once
        # can meet (every statement here is IF NOT EXISTS / IF EXISTS, so a retry is harmless)
        async with gate, driver.session(database=database) as session:
            await session.execute_write(run_all, group)

    for kind, group in runs:
        if kind == "index":
            await managed(group)
        elif kind == "constraint":
            await asyncio.gather(*(managed([st]) for st in group))
        else:
            for st in group:
                async with driver.session(database=database) as session:
                    await (await session.run(st)).consume()  # type: ignore[arg-type]


async def apply_migrations(driver: AsyncDriver, database: str, directory: Path = MIGRATIONS_DIR, *,
                           parallel: int = 1) -> list[str]:
    """Apply pending migrations; returns the names applied now (empty when up to date). With
    `parallel` > 1, a migration's index and constraint builds overlap (`_apply_grouped`)."""
    applied = await applied_versions(driver, database)
    done: list[str] = []
    for mig in discover(directory):
        if mig.version in applied:
            if applied[mig.version] != mig.checksum:
                raise MigrationError(
                    f"migration {mig.version:04d}_{mig.name} changed after it was applied; "
                    "add a new migration instead of editing an applied one"
                )
            continue
        # Schema statements cannot share a transaction with data writes: auto-commit each.
        if parallel > 1:
            await _apply_grouped(driver, database, mig.statements, parallel)
        async with driver.session(database=database) as session:
            if parallel <= 1:
                for statement in mig.statements:
                    await (await session.run(statement)).consume()  # type: ignore[arg-type]
            await (await session.run(_RECORD, version=mig.version, name=mig.name, checksum=mig.checksum)).consume()
        done.append(f"{mig.version:04d}_{mig.name}")
    if done:
        async with driver.session(database=database) as session:
            await (await session.run("CALL db.awaitIndexes(300)")).consume()
    return done


async def schema_is_current(driver: AsyncDriver, database: str) -> bool:
    applied = await applied_versions(driver, database)
    return all(m.version in applied for m in discover())
