"""Load a synthetic data set into Neo4j, fast.

- Reference data first (MERGE, idempotent), then the generator's stream in load order.
- Each stage is written with its batched `UNWIND $rows` query (mpdb/graph/queries/seed.py),
  `batch_size` rows per write transaction, through the async driver.
- Generation runs in a producer thread feeding a small queue, so Python builds the next chunk
  while Neo4j commits the current one (the driver releases the GIL while it waits on the socket).
- After loading, REFRESH_ACCESS runs over every child in batches, then `(:DatasetInfo {id:'seed'})`
  records what was loaded. DatasetInfo is written last, so its presence means "complete".
- Alerts: none. A seed is history; the outbox head's `alertsFrom` moves to the end of the load so the
  scheduler pages no duty that fell due before it (mpdb/alerts/scheduler.py).

Re-seeding: the same profile + seed + as-of again is a no-op ("already seeded"). The same profile
and seed generated as of another day is kept as it is ("kept"): it is the same data set, moved in
time, and the graph may hold records written since through the API, which only an explicit
`reset=True` may throw away. Any other data in the graph (another data set, or an interrupted load)
is refused unless `reset=True`, which deletes every data node in batches
(`CALL { ... } IN TRANSACTIONS`), keeping the schema, the migration records and the append-only
audit trail.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mpdb.graph.queries import seed as q
from mpdb.graph.queries.access import REFRESH_ACCESS
from mpdb.graph.queries.alerts import HISTORY_LOADED
from mpdb.graph.queries.hotspot_buckets import NEW_GENERATION
from mpdb.graph.repositories.hotspot_buckets import refresh_episodes
from mpdb.ingest.reference import ReferenceData, load_reference, read_reference_data
from mpdb.ingest.synthetic.generator import Chunk, SyntheticGenerator
from mpdb.ingest.synthetic.profiles import Profile
from mpdb.observability.progress import Progress

DEFAULT_BATCH_SIZE = 10_000
ACCESS_BATCH_SIZE = 2_000
REQUIRED_CONSTRAINTS = ("child_id", "episode_id", "location_id", "placement_id", "person_id", "agency_id",
                        "force_code", "la_code", "establishment_id")

STAGE_QUERIES: dict[str, LiteralString] = {
    "location": q.CREATE_LOCATIONS,
    "establishment": q.CREATE_ESTABLISHMENTS,
    "person": q.CREATE_PERSONS,
    "child": q.CREATE_CHILDREN,
    "placement": q.CREATE_PLACEMENTS,
    "placement_notification": q.CREATE_PLACEMENT_NOTIFICATIONS,
    "flag": q.CREATE_FLAGS,
    "association": q.CREATE_ASSOCIATIONS,
    "episode": q.CREATE_EPISODES,
    "with_child": q.CREATE_WITH_CHILD,
    "with_person": q.CREATE_WITH_PERSON,
    "went_to": q.CREATE_WENT_TO,
    "risk_assessment": q.CREATE_RISK_ASSESSMENTS,
    "return_interview": q.CREATE_RETURN_INTERVIEWS,
    "referral": q.CREATE_REFERRALS,
    "episode_record": q.CREATE_EPISODE_RECORDS,
    "episode_notification": q.CREATE_EPISODE_NOTIFICATIONS,
}


class SeedConflictError(RuntimeError):
    """The graph already holds other data; re-run with reset to replace it."""


class SchemaMissingError(RuntimeError):
    """The schema (uniqueness constraints) is not applied; loading without indexes would crawl."""


@dataclass(slots=True)
class StageStats:
    rows: int = 0
    seconds: float = 0.0
    batches: int = 0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass(slots=True)
class SeedResult:
    status: str  # "seeded", "already seeded", or "kept" (the same data set as of another day)
    profile: str
    seed: int
    stages: dict[str, StageStats] = field(default_factory=dict)
    node_counts: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0
    total_seconds: float = 0.0
    info: dict[str, Any] | None = None

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.stages.values())

    @property
    def as_of(self) -> date | None:
        """The as-of date of the data set in the graph."""
        return _as_date((self.info or {}).get("asOf"))


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return value.to_native()  # type: ignore[no-any-return]  # neo4j.time.Date


async def _write(tx: AsyncManagedTransaction, query: LiteralString, params: dict[str, Any]) -> None:
    result = await tx.run(query, params)
    await result.consume()


def _placed_episodes(stage: str, rows: list[dict[str, Any]]) -> list[str]:
    """The episodes a batch gives places of a hot-spot kind (missing from, last seen, found at on
    the episode rows; went to on the sightings)."""
    if stage == "episode":
        return [r["props"]["id"] for r in rows]
    if stage == "went_to":
        return sorted({r["episodeId"] for r in rows})
    return []


async def _write_stage(tx: AsyncManagedTransaction, stage: str, query: LiteralString,
                       rows: list[dict[str, Any]]) -> None:
    """One batch, and the hot-spot buckets it changes, in the batch's transaction. The loader only
    adds, so the episodes' keys after the write are every bucket that changed."""
    await _write(tx, query, {"rows": rows})
    placed = _placed_episodes(stage, rows)
    if placed:
        await refresh_episodes(tx, placed)


async def _write_in_session(driver: AsyncDriver, database: str, stage: str, query: LiteralString,
                            rows: list[dict[str, Any]]) -> None:
    async with driver.session(database=database) as session:
        await session.execute_write(_write_stage, stage, query, rows)


async def dataset_state(driver: AsyncDriver, database: str) -> tuple[dict[str, Any] | None, bool]:
    records, _, _ = await driver.execute_query(q.DATASET_STATE, database_=database, routing_="r")
    rec = records[0]
    return rec["info"], bool(rec["hasData"])


async def reset_graph(driver: AsyncDriver, database: str, console: Console | None = None) -> None:
    """Delete every data node in batches; keep constraints, indexes, migrations and the audit trail."""
    async with driver.session(database=database) as session:
        for label in q.RESET_LABEL_ORDER:
            if console:
                console.print(f"[dim]reset: deleting {label} nodes[/dim]")
            text = q.RESET_LABEL_TEMPLATE.format(label=label)
            await (await session.run(text)).consume()  # type: ignore[arg-type]
        await (await session.run(q.RESET_REMAINING)).consume()
        # The reset took the hot-spot stamps with the buckets: a new generation, so no process
        # serves a hot-spot step 1 it folded from the old data (mpdb/intel/hotspot_cache.py).
        await (await session.run(NEW_GENERATION)).consume()


async def _check_schema(driver: AsyncDriver, database: str) -> None:
    records, _, _ = await driver.execute_query(q.CONSTRAINT_NAMES, database_=database, routing_="r")
    names = set(records[0]["names"])
    missing = [c for c in REQUIRED_CONSTRAINTS if c not in names]
    if missing:
        raise SchemaMissingError(f"schema not applied (missing constraints {missing}); run `mpdb schema apply`")


def to_wire(row: dict[str, Any]) -> dict[str, Any]:
    """A generator row as sent to Neo4j: temporal values as ISO strings, moved out of `props` into
    `dt` (datetimes) and `d` (dates) for the queries to convert; null properties dropped."""
    out = dict(row)
    props = row.get("props")
    if props is not None:
        plain: dict[str, Any] = {}
        dts: dict[str, str] = {}
        ds: dict[str, str] = {}
        for k, v in props.items():
            if v is None:
                continue
            if isinstance(v, datetime):
                dts[k] = v.isoformat()
            elif isinstance(v, date):
                ds[k] = v.isoformat()
            else:
                plain[k] = v
        out["props"], out["dt"], out["d"] = plain, dts, ds
    for k, v in row.items():
        if k != "props" and isinstance(v, (datetime, date)):
            out[k] = v.isoformat()
    return out


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


class _Producer:
    """Runs the generator in a thread; `get()` returns chunks in order, then None."""

    def __init__(self, gen: SyntheticGenerator, depth: int = 6) -> None:
        self.gen = gen
        self.q: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=depth)
        self.seconds = 0.0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mpdb-seed-generator", daemon=True)

    def _run(self) -> None:
        try:
            it = self.gen.stream()
            while not self._stop.is_set():
                t = time.perf_counter()
                chunk = next(it, None)
                if chunk is not None:
                    chunk = Chunk(chunk.stage, [to_wire(r) for r in chunk.rows])
                self.seconds += time.perf_counter() - t
                self.q.put(chunk)
                if chunk is None:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self.q.put(exc)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self.q.get_nowait()
            except queue.Empty:
                break

    async def get(self) -> Chunk | None:
        item = await asyncio.get_running_loop().run_in_executor(None, self.q.get)
        if isinstance(item, BaseException):
            raise item
        return item


def reseed_rules(info: dict[str, Any] | None, has_data: bool, profile: Profile, seed: int, *,
                 reset: bool) -> SeedResult | None:
    """The re-seeding rules of the module docstring, shared by the transactional and the offline
    (mpdb/ingest/bulk/seed.py) paths: a SeedResult when there is nothing to do, SeedConflictError
    when the graph holds other data and no reset was asked for, None to go ahead."""
    if info and info.get("profile") == profile.name and info.get("seed") == seed and not reset:
        held = _as_date(info.get("asOf"))
        return SeedResult("already seeded" if held in (None, profile.as_of) else "kept", profile.name, seed,
                          info=info, node_counts=json.loads(info.get("counts") or "{}"))
    if (info or has_data) and not reset:
        what = (f"data set profile={info.get('profile')} seed={info.get('seed')} as of {_as_date(info.get('asOf'))}"
                if info
                else "data that is not a complete seeded data set (an interrupted load or imported records)")
        raise SeedConflictError(f"the graph already holds {what}; re-run with --reset to replace it")
    return None


async def seed_dataset(
    driver: AsyncDriver,
    database: str,
    profile: Profile,
    seed: int,
    *,
    reset: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    access_batch_size: int = ACCESS_BATCH_SIZE,
    concurrency: int = 1,
    ref: ReferenceData | None = None,
    console: Console | None = None,
    show_progress: bool = True,
) -> SeedResult:
    """Load `profile` generated with `seed`; see the module docstring for the re-seeding rules."""
    console = console or Console(stderr=True)
    t_start = time.perf_counter()
    info, has_data = await dataset_state(driver, database)
    nothing_to_do = reseed_rules(info, has_data, profile, seed, reset=reset)
    if nothing_to_do is not None:
        return nothing_to_do
    await _check_schema(driver, database)
    if reset and (info or has_data):
        await reset_graph(driver, database, console if show_progress else None)

    ref = ref or read_reference_data()
    stages: dict[str, StageStats] = {}
    t = time.perf_counter()
    ref_counts = await load_reference(driver, database, ref)
    stages["reference"] = StageStats(rows=sum(ref_counts.values()), seconds=time.perf_counter() - t, batches=3)

    gen = SyntheticGenerator(profile, seed, ref)
    producer = _Producer(gen)
    progress = Progress(
        TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(), console=console, disable=not show_progress, transient=False,
    )
    tasks: dict[str, Any] = {}
    producer.start()
    try:
        with progress:
            async with driver.session(database=database) as session:
                while (chunk := await producer.get()) is not None:
                    st = stages.setdefault(chunk.stage, StageStats())
                    if chunk.stage not in tasks:
                        total = gen.expected.get(chunk.stage)
                        tasks[chunk.stage] = progress.add_task(chunk.stage, total=total, rate="")
                    query = STAGE_QUERIES[chunk.stage]
                    # Batches of one stage are independent (they only point at nodes of earlier
                    # stages), so up to `concurrency` of them are written at once.
                    batches = list(_batches(chunk.rows, batch_size))
                    t = time.perf_counter()
                    for i in range(0, len(batches), concurrency):
                        group = batches[i : i + concurrency]
                        if len(group) == 1:
                            await session.execute_write(_write_stage, chunk.stage, query, group[0])
                        else:
                            await asyncio.gather(*(
                                _write_in_session(driver, database, chunk.stage, query, b) for b in group))
                        n = sum(len(b) for b in group)
                        st.rows += n
                        st.batches += len(group)
                        st.seconds += time.perf_counter() - t
                        t = time.perf_counter()
                        progress.update(tasks[chunk.stage], advance=n, rate=f"{st.rows_per_s:,.0f} rows/s")
                for stage, task_id in tasks.items():  # planned totals are upper bounds
                    progress.update(task_id, total=stages[stage].rows, completed=stages[stage].rows)
                # the derived access lists, over every child
                ids = [c.id for c in gen.children]
                if gen.duplicate_truth is not None:  # second records (issue 12) are children too
                    ids += [d for d, _ in gen.duplicate_truth.pairs]
                st = stages.setdefault("refresh_access", StageStats())
                task = progress.add_task("refresh_access", total=len(ids), rate="")
                for batch in _batches(ids, access_batch_size):  # type: ignore[arg-type]
                    t = time.perf_counter()
                    await session.execute_write(_write, REFRESH_ACCESS, {"childIds": batch})
                    st.seconds += time.perf_counter() - t
                    st.rows += len(batch)
                    st.batches += 1
                    progress.update(task, advance=len(batch), rate=f"{st.rows_per_s:,.0f} children/s")
    finally:
        producer.stop()

    node_counts = gen.node_counts()
    node_counts["Force"] = len(ref.forces)
    node_counts["LocalAuthority"] = len(ref.las)
    node_counts["Agency"] = len(ref.forces) + len(ref.las) + len(ref.agencies)
    props = {
        "profile": profile.name,
        "seed": seed,
        "asOf": profile.as_of,
        "windowStart": profile.start,
        "generatedAt": datetime.now(UTC),
        "counts": json.dumps(dict(sorted(node_counts.items()))),
        "sourceSystem": "synthetic",
        "author": "mpdb-seed",
    }
    await driver.execute_query(q.WRITE_DATASET_INFO, {"props": props}, database_=database)
    # Seeded data is history: it raises no alerts, and the scheduler pages nothing that fell due
    # before now (docs/ALERTS.md, "What the loaders do").
    await driver.execute_query(HISTORY_LOADED, {"at": datetime.now(UTC)}, database_=database)
    return SeedResult("seeded", profile.name, seed, stages=stages, node_counts=node_counts,
                      generate_seconds=producer.seconds, total_seconds=time.perf_counter() - t_start, info=props)


def stats_table(result: SeedResult) -> Table:
    """Rows, seconds and rows/s per stage (DB write time; generation overlaps it in a thread)."""
    table = Table(title=f"seed {result.profile} (seed {result.seed}, as of {result.as_of}): {result.status}")
    table.add_column("stage")
    table.add_column("rows", justify="right")
    table.add_column("batches", justify="right")
    table.add_column("write s", justify="right")
    table.add_column("rows/s", justify="right")
    for name, st in result.stages.items():
        table.add_row(name, f"{st.rows:,}", str(st.batches), f"{st.seconds:.1f}", f"{st.rows_per_s:,.0f}")
    total_rows = result.rows
    write_s = sum(s.seconds for s in result.stages.values())
    table.add_row("[bold]total[/bold]", f"{total_rows:,}", str(sum(s.batches for s in result.stages.values())),
                  f"{write_s:.1f}", f"{total_rows / write_s if write_s else 0:,.0f}")
    table.caption = (f"wall {result.total_seconds:.1f}s, generation {result.generate_seconds:.1f}s "
                     f"(overlapped), {result.rows / result.total_seconds if result.total_seconds else 0:,.0f} "
                     f"rows/s end to end")
    return table
