"""Applies graph_schema/migrations/NNNN_name.cypher in order, once each, recording them in the graph.

Each file is a list of `;`-terminated schema statements (all `IF NOT EXISTS`), so re-running one
is harmless; the `(:SchemaMigration)` nodes make "apply twice" a no-op and let `/readyz` tell
whether the schema is current. A file whose checksum changed after it was applied is an error:
migrations are append-only, fix forward with a new file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from neo4j import AsyncDriver

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


async def apply_migrations(driver: AsyncDriver, database: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; returns the names applied now (empty when up to date)."""
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
        async with driver.session(database=database) as session:
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
