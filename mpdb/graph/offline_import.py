"""Build the local server's database with `neo4j-admin database import full`.

1. `neo4j-admin` (org.neo4j.cli.AdminTool from the provisioned jars) imports the CSV files into a
   staging data directory, while the server keeps running on the old store;
2. the server is stopped, the imported database directories are swapped in (the old ones kept
   aside), and the server is started; if it does not start, the old store is put back and the
   server started on it again, so a failure never leaves a half-written store;
3. the migrations are applied (constraints and indexes are built over the imported data) while
   the values the importer cannot spell are put back (csvgraph.SENTINEL; no indexed property is
   among them), and indexes are awaited.

Only for the project-managed local server (no NEO4J_URI): a remote server or cluster has no store
this process can replace.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neo4j import AsyncDriver
from neo4j.exceptions import TransientError

from mpdb.graph.local_server import LocalNeo4j, LocalNeo4jError, _find_java
from mpdb.graph.queries import bulk as q
from mpdb.ingest.bulk.csvgraph import SENTINEL, Manifest

ADMIN_MAIN = "org.neo4j.cli.AdminTool"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIX_ATTEMPTS = 8


class OfflineImportError(LocalNeo4jError):
    """neo4j-admin refused the files, or the imported store did not start (old store restored)."""


@dataclass
class ImportTimes:
    admin_seconds: float = 0.0
    swap_seconds: float = 0.0  # stop + swap + start
    schema_seconds: float = 0.0  # migrations, fix-ups, indexes online
    store_bytes: int = 0


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_admin_import(server: LocalNeo4j, manifest: Manifest, staging: Path, database: str, *,
                     heap: str = "1g", off_heap: str = "2g", on_line: Callable[[str], None] | None = None) -> Path:
    """Run neo4j-admin into `staging`/data; returns that data directory. Raises OfflineImportError
    with the importer's own message when it fails."""
    java = _find_java()
    server.provision()
    shutil.rmtree(staging, ignore_errors=True)
    conf = staging / "conf"
    conf.mkdir(parents=True)
    data = staging / "data"
    (conf / "neo4j.conf").write_text(f"server.directories.data={data}\n")
    # the database first: --nodes/--relationships take a variable number of files
    args = ["database", "import", "full", database, "--verbose", "--overwrite-destination=true", "--array-delimiter=;",
            f"--max-off-heap-memory={off_heap}", f"--report-file={staging / 'import.report'}",
            f"--multiline-fields={'true' if manifest.multiline else 'false'}"]
    # Files with the same labels (or type) and the same header are given as ONE group: the importer
    # estimates the input by sampling the start of each group, and given each of ~1,500 small
    # files apart it parsed them all before starting (96 s of a national load; 13 s -> 5 s on demo).
    args.append("--auto-skip-subsequent-headers=true")
    args += [f"--nodes={labels}={','.join(map(str, paths))}" for labels, paths in _groups(manifest.nodes)]
    args += [f"--relationships={rtype}={','.join(map(str, paths))}" for rtype, paths in _groups(manifest.relationships)]
    argfile = staging / "args.txt"
    # picocli reads arguments from an @file: the node/relationship list can be thousands long
    argfile.write_text("\n".join(_quote_arg(a) for a in args) + "\n")
    cmd = [java, f"-Xmx{heap}", "-XX:+UseG1GC", "-cp", server._classpath(server.dist), ADMIN_MAIN, f"@{argfile}"]
    env = {**os.environ, "NEO4J_HOME": str(staging), "NEO4J_CONF": str(conf)}
    log_path = staging / "neo4j-admin.log"
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=staging, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if on_line:
                on_line(line.rstrip())
        rc = proc.wait()
    if rc != 0:
        raise OfflineImportError(f"neo4j-admin import failed (exit {rc}); the server keeps its old store.\n"
                                 + _failure_summary(log_path, staging / "import.report"))
    return data


def _groups(entries: list[tuple[str, Path]]) -> list[tuple[str, list[Path]]]:
    """(labels or type, files) with the files of one labels/type and header line together, in first-seen order."""
    groups: dict[tuple[str, str], list[Path]] = {}
    for name, path in entries:
        with open(path, encoding="utf-8") as f:
            header = f.readline()
        if "," in str(path):
            raise OfflineImportError(f"{path}: a file name with a comma cannot be given to neo4j-admin")
        groups.setdefault((name, header), []).append(path)
    return [(name, paths) for (name, _), paths in groups.items()]


_KEY_LINE = re.compile(r"rror|FAILED|xception|Caused by|missing|not found|duplicate|Duplicate", re.IGNORECASE)


def _failure_summary(log_path: Path, report: Path, lines: int = 20) -> str:
    """The importer's own words: its error lines and the first bad entries of its report."""
    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.is_file() else ""
    key = [ln.strip() for ln in text.splitlines() if _KEY_LINE.search(ln) and not ln.startswith("WARNING Import failed")]
    bad = report.read_text(encoding="utf-8", errors="replace").splitlines()[:lines] if report.is_file() else []
    out = key[-lines:]
    if bad:
        out += ["bad entries (first of them):", *bad]
    out.append(f"full log: {log_path}")
    return "\n".join(out)


def _quote_arg(a: str) -> str:
    return '"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"'


def swap_in(server: LocalNeo4j, imported: Path, database: str, *, timeout: float = 300.0) -> None:
    """Stop the server, replace its `database` store with the imported one, start it. On a failed
    start the old store goes back and the server is started on it again."""
    data = server.home / "data"
    parts = [("databases", database), ("transactions", database)]
    for kind, name in parts:
        if not (imported / kind / name).is_dir():
            raise OfflineImportError(f"neo4j-admin wrote no {kind}/{name} under {imported}")
    server.stop()
    aside = server.home / f"data-replaced-{int(time.time())}"
    moved: list[tuple[Path, Path]] = []
    try:
        for kind, name in parts:
            cur = data / kind / name
            if cur.exists():
                (aside / kind).mkdir(parents=True, exist_ok=True)
                cur.rename(aside / kind / name)
                moved.append((aside / kind / name, cur))
            (data / kind).mkdir(parents=True, exist_ok=True)
            (imported / kind / name).rename(cur)
        server.start(timeout=timeout)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            server.stop()
        for kind, name in parts:
            shutil.rmtree(data / kind / name, ignore_errors=True)
        for old, cur in moved:
            old.rename(cur)
        with contextlib.suppress(Exception):
            server.start(timeout=timeout)
        shutil.rmtree(aside, ignore_errors=True)
        if isinstance(exc, LocalNeo4jError):
            raise OfflineImportError(f"the imported store did not start; the old store is back: {exc}") from exc
        raise
    shutil.rmtree(aside, ignore_errors=True)


async def fix_empties(driver: AsyncDriver, database: str, manifest: Manifest) -> None:
    """Put back the empty lists the importer cannot write (csvgraph.SENTINEL). One session per
    property, all at once: they touch disjoint nodes, and on national they are millions of SETs
    (HotspotBucket.multi above all) that would otherwise leave a core idle."""
    async def one(kind: str, owner: str, prop: str, what: str) -> None:
        if not (_NAME.match(owner) and _NAME.match(prop)):
            raise OfflineImportError(f"cannot fix up {owner}.{prop}: not a plain name")
        template = q.FIX_NODE_EMPTIES_TEMPLATE if kind == "node" else q.FIX_REL_EMPTIES_TEMPLATE
        text = template.format(label=owner, rtype=owner, prop=prop)
        sentinel: object = [SENTINEL] if what == "list" else SENTINEL
        value: object = [] if what == "list" else ""
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction, which the driver does not
        # retry: a deadlock with a constraint being built on the same label is retried here. The
        # statement is idempotent (the batches already committed no longer match the sentinel).
        for attempt in range(_FIX_ATTEMPTS):
            try:
                async with driver.session(database=database) as session:
                    await (await session.run(text, sentinel=sentinel, value=value)).consume()  # type: ignore[arg-type]
                return
            except TransientError:
                if attempt == _FIX_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))

    await asyncio.gather(*(one(*e) for e in sorted(manifest.empties)))


async def await_indexes(driver: AsyncDriver, database: str, seconds: int = 900) -> None:
    async with driver.session(database=database) as session:
        await (await session.run(q.AWAIT_INDEXES, seconds=seconds)).consume()


def store_size(server: LocalNeo4j, database: str) -> int:
    return sum(_dir_size(server.home / "data" / kind / database) for kind in ("databases", "transactions")
               if (server.home / "data" / kind / database).is_dir())
