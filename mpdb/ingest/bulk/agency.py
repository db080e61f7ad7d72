"""`mpdb load`: an agency's first bulk load of its history from the import CSV formats.

The files are validated whole before anything is written: every header and every row with the
importer's own rules (mpdb/ingest/csv_formats.py parse_row, then Importer._plan: codes, future
times, ids), plus what only the set of files can tell: a reference used twice in one file, and
rows naming a child, placement or episode that is in none of the files (an error when the target
is empty, since nothing else can hold it). Any error: a report (file, line, column, rule, reason)
and nothing is written. Then the files are loaded in dependency order (children, placements,
flags, episodes, return interviews) by the transactional importer (mpdb/ingest/importer.py), with
its graph checks, derived access lists and audit events.

A first load raises no alerts (the importer runs with `alerts=False`); into an empty graph the
outbox head's `alertsFrom` moves to the end of the load, so the scheduler pages none of the
history's undone duties (docs/ALERTS.md).

The offline importer is not used for `mpdb load` yet: see docs/IMPORT.md ("First load").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpdb.ingest.csv_formats import ImportKind, RowError, check_header, parse_row
from mpdb.ingest.files import CsvFile, ImportFileError
from mpdb.ingest.importer import Importer, Planned, _Reference, iter_csv
from mpdb.ingest.reference import ReferenceData, read_reference_data, reference_agency_kinds

LOAD_ORDER = (ImportKind.CHILDREN, ImportKind.PLACEMENTS, ImportKind.FLAGS, ImportKind.EPISODES,
              ImportKind.RETURN_INTERVIEWS)


@dataclass
class Validated:
    files: dict[ImportKind, Path]
    planned: dict[ImportKind, list[Planned]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)  # rows that load with a caveat (postcodes)
    rows: int = 0
    rejected_children: dict[str, int] = field(default_factory=dict)  # child id -> line of its rejected row

    @property
    def ok(self) -> bool:
        return not self.errors


def find_files(directory: Path) -> dict[ImportKind, Path]:
    """`<kind>.csv` in `directory` for each kind present (children.csv, episodes.csv, ...)."""
    return {k: directory / f"{k}.csv" for k in LOAD_ORDER if (directory / f"{k}.csv").is_file()}


def reference_for(agency: str, ref: ReferenceData | None = None) -> _Reference:
    """The importer's view of the reference data, from the reference files (no database)."""
    ref = ref or read_reference_data()
    kinds = reference_agency_kinds()
    if agency not in kinds:
        raise ValueError(f"unknown agency {agency!r}: load as a force or local authority known to mpdb")
    return _Reference(kinds[agency], {la: [f for f, _ in forces] for la, forces in ref.la_forces.items()},
                      frozenset(ref.forces), kinds)


def validate(importer: Importer, files: dict[ImportKind, Path], *, empty_target: bool) -> Validated:
    """Every file, whole; see the module docstring. `importer._ref` must be set (reference_for)."""
    out = Validated(files)
    ref = importer._ref
    assert ref is not None
    for kind in LOAD_ORDER:
        path = files.get(kind)
        if path is None:
            continue
        name = path.name
        source = CsvFile.from_path(path)
        try:  # the file's encoding, size and shape first (mpdb/ingest/files.py), as `mpdb import` does
            source.check(importer.limits, lambda header, kind=kind, name=name: check_header(kind, header, name), "")
        except ImportFileError as exc:
            out.errors += exc.errors or [RowError(name, 1, None, exc.message, "size")]
            continue
        _, rows = iter_csv(source.lines())
        planned: list[Planned] = []
        seen: dict[str, int] = {}
        for line, raw in rows:
            out.rows += 1
            model, errors = parse_row(kind, name, line, raw)
            p = None
            if model is not None:
                p, errors = importer._plan(kind, model, name, line, ref)
            if p is not None and not errors:
                first = seen.setdefault(p.id, line)
                if first != line:
                    key = model.key_column  # type: ignore[union-attr]
                    errors = [RowError(name, line, key, f"{key} {raw.get(key)!r} is also on line {first}",
                                       "duplicate")]
            out.errors += errors
            if p is not None and not errors:
                out.warnings += p.warnings
                planned.append(p)
            elif kind is ImportKind.CHILDREN and (raw.get("child_ref") or "").strip():
                from mpdb.ingest.importer import child_id_for

                out.rejected_children[child_id_for(importer.agency, raw["child_ref"].strip())] = line
        out.planned[kind] = planned
    if empty_target:
        _check_references(out)
    out.errors.sort(key=lambda e: (LOAD_ORDER.index(_kind_of(out, e.file)), e.line, e.column or "", e.rule))
    return out


def _kind_of(v: Validated, file: str) -> ImportKind:
    return next((k for k, p in v.files.items() if p.name == file), ImportKind.CHILDREN)


def _check_references(v: Validated) -> None:
    """Into an empty graph every reference must resolve within the files themselves."""
    born = {p.id: p.params["props"]["dateOfBirth"] for p in v.planned.get(ImportKind.CHILDREN, [])}
    children = set(born)
    placements = {p.id: p.child_id for p in v.planned.get(ImportKind.PLACEMENTS, [])}
    episodes = {p.id for p in v.planned.get(ImportKind.EPISODES, [])}
    for kind in (ImportKind.PLACEMENTS, ImportKind.FLAGS, ImportKind.EPISODES):
        keep = []
        for p in v.planned.get(kind, []):
            err = None
            if p.child_id not in children:
                bad = v.rejected_children.get(p.child_id or "")
                err = p.reject(p.child_column, f"the child's row (line {bad}) in the children file was rejected"
                               if bad else "no child with this reference in the children file", "unknown_child")
            elif kind is ImportKind.EPISODES and p.placement_id is not None and placements.get(p.placement_id) != p.child_id:
                err = p.reject("missing_from_placement_ref",
                               "no placement with this reference in the placements file" if p.placement_id not in placements
                               else "the placement belongs to another child", "unknown_placement")
            errors = [err] if err else p.birth_errors(born[p.child_id or ""])
            if errors:
                v.errors += errors
            else:
                keep.append(p)
        v.planned[kind] = keep
    keep = []
    for p in v.planned.get(ImportKind.RETURN_INTERVIEWS, []):
        if p.episode_id not in episodes:
            v.errors.append(p.reject(p.child_column, "no episode with this reference in the episodes file",
                                     "unknown_episode"))
        else:
            keep.append(p)
    if ImportKind.RETURN_INTERVIEWS in v.planned:
        v.planned[ImportKind.RETURN_INTERVIEWS] = keep


async def load_transactional(importer: Importer, files: dict[ImportKind, Path], progress: Any = None) -> list[Any]:
    """Each file through the transactional importer, in dependency order; the summaries."""
    out = []
    for kind in LOAD_ORDER:
        if kind in files:
            out.append(await importer.import_csv(kind, CsvFile.from_path(files[kind])))
    return out


# --- the offline path ------------------------------------------------------------------------------
# Children, placements, flags and episodes of an empty target are written as neo4j-admin CSV; the
# graph each MERGE of mpdb/graph/queries/imports.py would build, rule for rule (named beside each
# block). Return interviews (whose due time depends on the episode's area rules, resolved in the
# graph) are then imported by the transactional importer on the new store.

OFFLINE_KINDS = (ImportKind.CHILDREN, ImportKind.PLACEMENTS, ImportKind.FLAGS, ImportKind.EPISODES)


def _finalise(kind: ImportKind, planned: list[Planned]) -> None:
    """What Importer._flush adds to the parameters before the MERGE (child id, content hash)."""
    from mpdb.ingest.importer import content_hash

    for p in planned:
        if kind is not ImportKind.CHILDREN:
            p.params["childId"] = p.child_id
        p.params["importHash"] = p.hash = content_hash(p.params)
        p.params["props"]["importHash"] = p.hash


def check_episode_rules(v: Validated) -> None:
    """The importer's graph checks on episodes (flagged child grade, one open episode), against
    what the files hold (the target is empty)."""
    from mpdb.domain.errors import MpdbError
    from mpdb.domain.rules import ActiveFlag, check_grade_allowed, check_no_open_episode
    from mpdb.ingest.importer import _RULE_FIELD_TO_COLUMN

    flags: dict[str, list[ActiveFlag]] = {}
    for p in v.planned.get(ImportKind.FLAGS, []):
        if p.params["props"]["status"] == "active":
            flags.setdefault(p.child_id or "", []).append(ActiveFlag(p.id, p.params["props"]["type"]))
    open_of: dict[str, str] = {}
    keep = []
    for p in v.planned.get(ImportKind.EPISODES, []):
        try:
            if p.grade is not None:
                check_grade_allowed(p.grade[0], p.grade[1], flags.get(p.child_id or "", []))
            if p.open_episode:
                check_no_open_episode(open_of.get(p.child_id or ""))
        except MpdbError as exc:
            column = _RULE_FIELD_TO_COLUMN.get((exc.field or "").rsplit(".", 1)[-1], p.child_column)
            v.errors.append(p.reject(column, exc.message, str(exc.details.get("rule") or exc.details.get("reason")
                                                               or exc.code)))
            continue
        if p.open_episode:
            open_of[p.child_id or ""] = p.id
        keep.append(p)
    v.planned[ImportKind.EPISODES] = keep


def write_offline(v: Validated, directory: Path, *, agency: str, author: str, now: Any, source: str,
                  ref: ReferenceData) -> Any:
    """The CSV files of the offline load; returns the manifest."""
    from neo4j.spatial import WGS84Point

    from mpdb.ingest.bulk import derive
    from mpdb.ingest.bulk.csvgraph import GraphCsv, Point
    from mpdb.ingest.bulk.synthetic import AGENCY, reference_nodes

    out = GraphCsv(directory)
    agencies = reference_nodes(out, ref)
    prov = {"recordedBy": agency, "recordedAt": now, "sourceSystem": source, "author": author}

    def plain(props: dict[str, Any]) -> dict[str, Any]:  # `SET n += map` skips nulls
        return {k: (Point(x.latitude, x.longitude) if isinstance(x, WGS84Point) else x)
                for k, x in props.items() if x is not None}

    for kind in OFFLINE_KINDS:
        _finalise(kind, v.planned.get(kind, []))
    facts: dict[str, derive.ChildFacts] = {}
    # MERGE_CHILDREN
    kids = v.planned.get(ImportKind.CHILDREN, [])
    child_nodes = []
    for p in kids:
        child_nodes.append({**plain(p.params["props"]), **prov, "id": p.id, "pseudonym": p.params["pseudonym"]})
        facts[p.id] = derive.ChildFacts(p.id, agency, p.params["responsibleLa"])
    looked_after = [(p.id, p.params["responsibleLa"], None) for p in kids]
    # MERGE_PLACEMENTS (locations and establishments: the first row that names one creates it)
    pls = v.planned.get(ImportKind.PLACEMENTS, [])
    locations: dict[str, dict[str, Any]] = {}
    establishments: dict[str, dict[str, Any]] = {}
    place_of: dict[str, tuple[str, str | None]] = {}
    for p in pls:
        c = facts[p.child_id or ""]
        if c.looked_after_by is None:
            c.looked_after_by = p.params["placingLa"]
            looked_after.append((c.id, p.params["placingLa"], None))
        c.placement_las += [p.params["placingLa"], p.params["hostLa"]]
        c.placement_forces.append(p.params["hostForce"])
        loc, est = p.params["location"], p.params["establishment"]
        if loc is not None and loc["id"] not in locations:
            locations[loc["id"]] = {**plain(loc["props"]), **prov, "id": loc["id"]}
        if est is not None and est["id"] not in establishments:
            establishments[est["id"]] = {**plain(est["props"]), **prov, "id": est["id"]}
        place_of[p.id] = (p.params["hostForce"], loc["id"] if loc else None)
    out.nodes("Child", "Child", [])  # written below, with their access lists
    out.nodes("Location", "Location", list(locations.values()))
    out.relationships("IN_LA", "Location", AGENCY, [(i, n["laCode"], None) for i, n in locations.items()])
    out.relationships("IN_FORCE", "Location", AGENCY, [(i, n["forceCode"], None) for i, n in locations.items()])
    out.nodes("Establishment", "Establishment", list(establishments.values()))
    out.nodes("Placement", "Placement", [{**plain(p.params["props"]), **prov, "id": p.id} for p in pls])
    out.relationships("PLACED_IN", "Child", "Placement", [(p.child_id, p.id, None) for p in pls])
    out.relationships("PLACED_BY", "Placement", AGENCY, [(p.id, p.params["placingLa"], None) for p in pls])
    out.relationships("HOSTED_BY", "Placement", AGENCY, [(p.id, p.params["hostLa"], None) for p in pls])
    out.relationships("IN_FORCE_AREA", "Placement", AGENCY, [(p.id, p.params["hostForce"], None) for p in pls])
    out.relationships("AT_LOCATION", "Placement", "Location",
                      [(p.id, p.params["location"]["id"] if p.params["location"] else None, None) for p in pls])
    out.relationships("AT", "Placement", "Establishment",
                      [(p.id, p.params["establishment"]["id"] if p.params["establishment"] else None, None) for p in pls])
    out.relationships("LOOKED_AFTER_BY", "Child", AGENCY, looked_after)
    # MERGE_FLAGS
    fls = v.planned.get(ImportKind.FLAGS, [])
    out.nodes("Flag", "Flag", [{**plain(p.params["props"]), **prov, "id": p.id} for p in fls])
    out.relationships("HAS_FLAG", "Child", "Flag", [(p.child_id, p.id, None) for p in fls])
    out.relationships("RAISED_BY", "Flag", AGENCY, [(p.id, agency, None) for p in fls])
    # MERGE_EPISODES
    eps = v.planned.get(ImportKind.EPISODES, [])
    loc_cells = {i: (n.get("cell"), n.get("laCode"), n.get("forceCode")) for i, n in locations.items()}
    buckets = derive.BucketBuilder(loc_cells)
    ep_nodes, ras, records = [], [], []
    for p in eps:
        pr = p.params
        pl = place_of.get(pr["placementId"]) if pr["placementId"] else None
        e = derive.EpisodeFacts(p.id, p.child_id or "", pr["props"]["status"] == "open", pr["props"]["reportedAt"],
                                pr["reportedTo"], pr["foundBy"], pr["placementId"], pl[0] if pl else None,
                                pl[1] if pl and pl[1] and loc_cells[pl[1]][0] else None)
        area = derive.episode_area_agencies(e, {})
        derive.add_episode(facts[e.child_id], e, area)
        buckets.add(e)
        ep_nodes.append({**plain(pr["props"]), **prov, "id": p.id, "areaAgencies": area})
        if pr["assessment"]:
            ras.append((p.id, {**plain(pr["assessment"]["props"]), **prov, "id": pr["assessment"]["id"]}))
        records.append((p.id, {**plain(pr["record"]["props"]), **prov, "id": pr["record"]["id"]}))
    out.nodes("Episode", "Episode", ep_nodes)
    out.relationships("HAD", "Child", "Episode", [(p.child_id, p.id, None) for p in eps])
    out.relationships("REPORTED_TO", "Episode", AGENCY, [(p.id, p.params["reportedTo"], None) for p in eps])
    out.relationships("FOUND_BY", "Episode", AGENCY, [(p.id, p.params["foundBy"], None) for p in eps])
    out.relationships("MISSING_FROM", "Episode", "Placement", [(p.id, p.params["placementId"], None) for p in eps])
    out.nodes("RiskAssessment", "RiskAssessment", [n for _, n in ras])
    out.relationships("ASSESSED_IN", "Episode", "RiskAssessment", [(e, n["id"], None) for e, n in ras])
    out.nodes("EpisodeRecord", "EpisodeRecord", [n for _, n in records])
    out.relationships("RECORD_OF", "EpisodeRecord", "Episode", [(n["id"], e, None) for e, n in records])
    # REFRESH_ACCESS, then the children
    out.nodes("Child", "Child", [{**n, **derive.child_access(facts[n["id"]], agencies)} for n in child_nodes])
    out.nodes("HotspotBucket", "HotspotBucket", buckets.rows())
    return out.manifest


def audit_batches(v: Validated, batch_size: int) -> list[list[str]]:
    """The record ids of each audit event the transactional importer would append: one per batch."""
    out = []
    for kind in OFFLINE_KINDS:
        ids = [p.id for p in v.planned.get(kind, [])]
        out += [ids[i:i + batch_size] for i in range(0, len(ids), batch_size)]
    return out


@dataclass
class LoadResult:
    path: str  # "offline" or "transactional"
    validated: Validated
    summaries: list[Any] = field(default_factory=list)  # ImportSummary of the transactional part
    phases: list[Any] = field(default_factory=list)
    reason: str | None = None  # why not offline


async def _graph_call(settings: Any, work: Any) -> Any:
    from mpdb.graph.db import Graph
    from mpdb.graph.driver import create_driver

    driver = create_driver(settings)
    try:
        return await work(Graph(driver, settings.neo4j_database, settings.neo4j_query_timeout_s))
    finally:
        await driver.close()


def load_files(settings: Any, files: dict[ImportKind, Path], importer: Importer, *, transactional: bool = False,
               check_only: bool = False, work_dir: Path | None = None, progress: Any = None) -> LoadResult:
    """Validate, then load offline (empty local target) or transactionally; see the module docstring.
    `importer` is built without a graph; its principal, batch size and clock are used."""
    import asyncio
    import shutil
    import time

    from mpdb.alerts.scheduler import history_loaded
    from mpdb.audit.trail import AuditAction, append_in_tx
    from mpdb.graph.local_server import LocalNeo4j
    from mpdb.graph.migrations import apply_migrations
    from mpdb.ingest.bulk.seed import load_manifest, offline_reason, store_state
    from mpdb.ingest.importer import SOURCE_CSV
    from mpdb.ingest.reference import load_reference

    ref = read_reference_data()
    importer._ref = reference_for(importer.agency, ref)
    state: tuple | None = None
    if settings.managed_neo4j:
        server = LocalNeo4j(settings)
        running = server.status().running
        if not running and not (server.home / "data" / "databases" / settings.neo4j_database).exists():
            state = (None, False, False)  # a new state dir
        else:
            if not running:
                server.start()
            state = None
    if state is None:
        async def migrate_and_look(graph: Any) -> None:
            await apply_migrations(graph.driver, graph.database)

        asyncio.run(_graph_call(settings, migrate_and_look))
        state = asyncio.run(store_state(settings))
    empty = not state[1]
    reason = "--transactional" if transactional else (
        offline_reason(settings, state, reset=False) if settings.managed_neo4j or not empty
        else "NEO4J_URI names an external server (the offline importer needs the local store)")
    if reason is None and ImportKind.CHILDREN not in files:
        reason = "no children file (an empty graph has no children to attach records to)"
    v = validate(importer, files, empty_target=empty)
    if empty and v.ok:
        check_episode_rules(v)
    result = LoadResult("offline" if reason is None else "transactional", v, reason=reason)
    if not v.ok or check_only:
        return result
    if reason is None:
        work = work_dir or settings.state_dir / "bulk" / f"load-{importer.agency}-{int(time.time())}"
        try:
            manifest = write_offline(v, work / "csv", agency=importer.agency, author=importer.principal.subject,
                                     now=importer.now(), source=SOURCE_CSV, ref=ref)
            load_manifest(settings, manifest, progress=progress, work=work, phases=result.phases)
        finally:
            shutil.rmtree(work, ignore_errors=True)

        async def after(graph: Any) -> list[Any]:
            # the collection events the transactional importer writes with each batch
            for ids in audit_batches(v, importer.batch_size):
                await graph.in_write_tx(lambda tx, ids=ids: append_in_tx(
                    tx, importer.audit, AuditAction.COLLECTION, "import", ids))
            importer.graph = graph
            rest = {k: p for k, p in files.items() if k not in OFFLINE_KINDS}
            return await load_transactional(importer, rest)

        result.summaries = asyncio.run(_graph_call(settings, after))
        return result

    async def transactional_load(graph: Any) -> list[Any]:
        if empty:
            await load_reference(graph.driver, graph.database, ref)
        importer.graph = graph
        importer._ref = None  # the graph's own reference data from here on
        summaries = await load_transactional(importer, files)
        if empty:
            # Into an empty graph this is the first load of history: its undone duties page nobody.
            # Into a live graph the scheduler's own window applies (docs/ALERTS.md).
            await history_loaded(graph, importer.now())
        return summaries

    result.summaries = asyncio.run(_graph_call(settings, transactional_load))
    return result
