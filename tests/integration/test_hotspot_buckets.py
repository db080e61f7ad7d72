"""The hot-spot pre-aggregates (HotspotBucket) stay exact through every write path: the synthetic
loader, the API mutations (also concurrently), and CSV imports that move an episode to another
day, move it to another cell, or take its place away; and `rebuild` after all of it changes
nothing. "Exact" is a from-scratch computation in Python (hotspot_oracle.py)."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from hotspot_oracle import assert_buckets_exact, stored_buckets

from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.domain import commands as cmd
from mpdb.domain.geo import cell_id
from mpdb.graph.repositories.hotspot_buckets import rebuild
from mpdb.ingest.csv_formats import ImportKind
from mpdb.ingest.importer import Importer, child_id_for
from mpdb.ingest.reference import load_reference
from mpdb.ingest.synthetic.loader import reset_graph, seed_dataset
from mpdb.ingest.synthetic.profiles import get_profile
from mpdb.services import writes as svc
from mpdb.services.context import ServiceContext
from mpdb.settings import Settings

pytestmark = pytest.mark.integration

KENT_POLICE, KENT_CC = "E23000032", "E10000016"
# Two points in Maidstone ~2 km apart: two different cells, both in Kent CC and Kent Police.
A = (51.2720, 0.5220)
B = (51.2900, 0.5000)


@pytest_asyncio.fixture(scope="module")
async def tiny(graph, neo4j_driver, neo4j_settings):  # type: ignore[no-untyped-def]
    result = await seed_dataset(neo4j_driver, neo4j_settings.neo4j_database, get_profile("tiny"), 42,
                                reset=True, show_progress=False)
    assert result.status == "seeded"
    yield graph
    await reset_graph(neo4j_driver, neo4j_settings.neo4j_database)
    await load_reference(neo4j_driver, neo4j_settings.neo4j_database)


def police(graph) -> ServiceContext:  # type: ignore[no-untyped-def]
    p = Principal(subject="t10-officer", client_id="t10", agency_id=KENT_POLICE, agency_kind=AgencyKind.POLICE_FORCE,
                  role=Role.INVESTIGATOR, scopes=frozenset({Scope.CHILD_READ, Scope.EPISODE_WRITE, Scope.INTEL_READ}))
    return ServiceContext(graph=graph, settings=Settings(env="test"), principal=p, purpose="t10 test",
                          request_id=str(uuid.uuid4()))


def report(child: str, at: datetime, missing_from: dict[str, object], last_seen: dict[str, object] | None = None
           ) -> cmd.ReportMissing:
    return cmd.parse_command(cmd.ReportMissing, {
        "new_child": {"id": child, "looked_after_by": KENT_CC}, "reporter_type": "police",
        "reported_at": at.isoformat(), "missing_from_place": missing_from, "last_seen_place": last_seen,
        "risk_assessment": {"scheme": "2017", "grade": "medium"}})


async def bucket(graph, kind: str, location_id: str, at: datetime) -> dict[str, object] | None:  # type: ignore[no-untyped-def]
    rows = await graph.read("MATCH (l:Location {id: $id}) RETURN l.cell AS cell, l.laCode AS la, l.forceCode AS force",
                            {"id": location_id})
    r = rows[0]
    bid = f"{kind}|{r['cell']}|{r['la']}|{r['force']}|{at.astimezone(UTC).date().isoformat()}"
    return next((b for b in await stored_buckets(graph) if b["id"] == bid), None)


async def test_the_loader_writes_exact_buckets(tiny) -> None:  # type: ignore[no-untyped-def]
    assert await assert_buckets_exact(tiny) > 500


async def test_each_mutation_keeps_the_buckets_exact(tiny) -> None:  # type: ignore[no-untyped-def]
    # A busy seeded place, and the day one of its episodes was reported: a new report there that
    # day joins that bucket.
    rows = await tiny.read("""
        MATCH (l:Location {forceCode: $force})<-[:MISSING_FROM_LOCATION]-(e:Episode) WHERE l.cell IS NOT NULL
        WITH l, e ORDER BY COUNT { (l)<-[:MISSING_FROM_LOCATION]-() } DESC, l.id, e.reportedAt, e.id
        RETURN l.id AS id, e.reportedAt AS at LIMIT 1""", {"force": KENT_POLICE})
    home, day_at = rows[0]["id"], rows[0]["at"]
    before = await bucket(tiny, "missing_from", home, day_at)
    assert before is not None
    ctx = police(tiny)
    child = f"T10-C-{uuid.uuid4().hex[:8]}"
    r = await svc.report_missing(ctx, report(child, day_at + timedelta(minutes=1), {"location_id": home},
                                             {"latitude": A[0], "longitude": A[1]}), f"t10-{uuid.uuid4()}")
    await assert_buckets_exact(tiny)
    after = await bucket(tiny, "missing_from", home, day_at)
    assert after is not None
    assert (after["episodes"], after["children"]) == (
        before["episodes"] + 1, sorted({*before["children"], child}))  # type: ignore[operator,misc]

    # two sightings in two cells, then one more in the first: the episode is `multi` in both
    now = datetime.now(UTC)
    episode = r["episodeId"]
    for places in ([{"latitude": A[0], "longitude": A[1]}, {"latitude": B[0], "longitude": B[1]}],
                   [{"latitude": A[0] + 0.0001, "longitude": A[1]}]):
        await svc.update_episode(ctx, cmd.parse_command(cmd.UpdateEpisode, {
            "episode_id": episode, "went_to": [{"at": (now - timedelta(minutes=5)).isoformat(), "place": p}
                                               for p in places]}), f"t10-{uuid.uuid4()}")
        await assert_buckets_exact(tiny)
    went = [b for b in await stored_buckets(tiny) if b["kind"] == "went_to" and episode in b["multi"]]
    assert sorted(b["cell"] for b in went) == sorted({cell_id(*A), cell_id(*B)})

    await svc.record_found(ctx, cmd.parse_command(cmd.RecordFound, {
        "episode_id": episode, "found_at": now.isoformat(),
        "found_place": {"latitude": B[0], "longitude": B[1]}}), f"t10-{uuid.uuid4()}")
    await assert_buckets_exact(tiny)
    await svc.record_return(ctx, cmd.parse_command(cmd.RecordReturn, {
        "episode_id": episode, "returned_at": now.isoformat()}), f"t10-{uuid.uuid4()}")
    await assert_buckets_exact(tiny)


async def test_concurrent_reports_into_one_bucket_lose_no_update(tiny) -> None:  # type: ignore[no-untyped-def]
    at = datetime.now(UTC).replace(hour=0, minute=30, second=0, microsecond=0)
    if at > datetime.now(UTC):  # run between 00:00 and 00:30 UTC: today's 00:30 has not come yet
        at -= timedelta(days=1)
    place = {"latitude": B[0], "longitude": B[1], "la_code": KENT_CC, "force_code": KENT_POLICE}
    ctx = police(tiny)
    children = [f"T10-K-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    results = await asyncio.gather(*(svc.report_missing(ctx, report(c, at, place), f"t10-{uuid.uuid4()}")
                                     for c in children))
    assert len(results) == 4
    await assert_buckets_exact(tiny)
    cell = cell_id(*B)
    b = next(b for b in await stored_buckets(tiny)
             if b["id"] == f"missing_from|{cell}|{KENT_CC}|{KENT_POLICE}|{at.date().isoformat()}")
    assert set(children) <= set(b["children"])  # type: ignore[arg-type]


def importer(graph) -> Importer:  # type: ignore[no-untyped-def]
    p = Principal(subject="t10-import", client_id="test", agency_id=KENT_CC, agency_kind=AgencyKind.LOCAL_AUTHORITY,
                  role=Role.LA_MISSING_LEAD, scopes=frozenset({Scope.IMPORT_WRITE}))
    return Importer(graph, p, batch_size=2)


CHILDREN = """child_ref,given_name,family_name,date_of_birth,sex,ethnicity,upn,looked_after,responsible_la,unaccompanied
T10-1,Testa,One-Synthetic,2009-01-02,F,,,true,E10000016,
T10-2,Testb,Two-Synthetic,2009-01-03,M,,,true,E10000016,
T10-3,Testc,Three-Synthetic,2009-01-04,F,,,true,E10000016,
"""
# A placement belongs to one child: two at A (one each for children 1 and 2, so two locations in one
# cell), two at B, and one with a postcode only (no coordinates, so no cell).
PLACEMENTS = f"""placement_ref,child_ref,start_date,end_date,placement_type,placing_la,host_la,postcode,latitude,longitude,establishment_urn,establishment_name,establishment_kind,dcs_approved
T10-PA1,T10-1,2024-01-01,,U4,E10000016,E10000016,,{A[0]},{A[1]},,,,
T10-PB1,T10-1,2024-01-01,,U4,E10000016,E10000016,,{B[0]},{B[1]},,,,
T10-PA2,T10-2,2024-01-01,,U4,E10000016,E10000016,,{A[0]},{A[1]},,,,
T10-PB3,T10-3,2024-01-01,,U4,E10000016,E10000016,,{B[0]},{B[1]},,,,
T10-PN3,T10-3,2024-01-01,,U4,E10000016,E10000016,ME14 1,,,,,,
"""
EPISODES_HEAD = ("episode_ref,child_ref,mpdb_child_id,reported_at,last_seen_at,found_at,returned_at,reporting_force,"
                 "found_by_force,reporter_type,whereabouts_known,consent,risk_grade,grade_scheme,missing_from_placement_ref\n")


def episodes(*rows: tuple[str, str, str, str]) -> list[str]:
    body = "".join(f"{ref},{child},,{at},,,,E23000032,,carer,false,false,low,2017,{pl}\n" for ref, child, at, pl in rows)
    return io.StringIO(EPISODES_HEAD + body).readlines()


async def test_imports_that_move_and_remove_places_keep_the_buckets_exact(tiny) -> None:  # type: ignore[no-untyped-def]
    imp = importer(tiny)
    await imp.import_csv(ImportKind.CHILDREN, io.StringIO(CHILDREN).readlines())
    await imp.import_csv(ImportKind.PLACEMENTS, io.StringIO(PLACEMENTS).readlines())
    d1, d2 = "2024-03-02", "2024-03-05"
    first = await imp.import_csv(ImportKind.EPISODES, episodes(
        ("T10-E1", "T10-1", f"{d1}T22:15:00Z", "T10-PA1"), ("T10-E2", "T10-2", f"{d1}T23:59:00Z", "T10-PA2"),
        ("T10-E3", "T10-3", f"{d1}T10:00:00Z", "T10-PB3")))
    assert (first.loaded, first.rejected) == (3, 0)
    await assert_buckets_exact(tiny)
    a1, b1, a2 = (f"missing_from|{cell_id(*p)}|{KENT_CC}|{KENT_POLICE}|{d}" for p, d in ((A, d1), (B, d1), (A, d2)))
    child = {i: child_id_for(KENT_CC, f"T10-{i}") for i in (1, 2, 3)}
    ids = {b["id"]: b for b in await stored_buckets(tiny)}
    assert (ids[a1]["episodes"], ids[a1]["children"]) == (2, sorted([child[1], child[2]]))
    assert (ids[b1]["episodes"], ids[b1]["children"]) == (1, [child[3]])
    assert a2 not in ids

    # E1 missing from its placement in cell B (another cell), E2 reported three days later (another
    # day), E3 from a placement with no coordinates (no cell: it leaves its bucket)
    moved = await imp.import_csv(ImportKind.EPISODES, episodes(
        ("T10-E1", "T10-1", f"{d1}T22:15:00Z", "T10-PB1"), ("T10-E2", "T10-2", f"{d2}T23:59:00Z", "T10-PA2"),
        ("T10-E3", "T10-3", f"{d1}T10:00:00Z", "T10-PN3")))
    assert (moved.loaded, moved.rejected) == (3, 0)
    await assert_buckets_exact(tiny)
    ids = {b["id"]: b for b in await stored_buckets(tiny)}
    assert a1 not in ids
    assert (ids[b1]["episodes"], ids[b1]["children"]) == (1, [child[1]])
    assert (ids[a2]["episodes"], ids[a2]["children"]) == (1, [child[2]])


async def test_a_rebuild_after_seed_mutations_and_imports_changes_nothing(tiny) -> None:  # type: ignore[no-untyped-def]
    before = await stored_buckets(tiny)
    n = await assert_buckets_exact(tiny)
    totals = await rebuild(tiny, days_per_batch=90)
    assert (totals["written"], totals["deleted"]) == (n, 0)
    assert await stored_buckets(tiny) == before
    # and a rebuild puts back what was lost or damaged
    await tiny.write("MATCH (b:HotspotBucket) WITH b LIMIT 5 DELETE b")
    await tiny.write("MATCH (b:HotspotBucket) WITH b ORDER BY b.id LIMIT 3 SET b.episodes = b.episodes + 7")
    await tiny.write("CREATE (:HotspotBucket {id: 'found_at|x|y|z|2001-01-01', kind: 'found_at', day: date('2001-01-01')})")
    totals = await rebuild(tiny, days_per_batch=90)
    assert totals["deleted"] == 1
    assert await stored_buckets(tiny) == before


# --- versions and the step-1 cache (mpdb/intel/hotspot_cache.py) ---------------------------------

STAMPS = "MATCH (s:HotspotStamp) RETURN s.id AS id, s.version AS version"


async def stamps(graph) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r["id"]: r["version"] for r in await graph.read(STAMPS)}


async def test_every_bucket_has_a_stamp_and_a_write_renews_exactly_its_own(tiny) -> None:  # type: ignore[no-untyped-def]
    before = await stamps(tiny)
    assert before.get("generation")
    for b in await stored_buckets(tiny):
        assert f"{b['kind']}|{b['forceCode']}|{b['day'].year:04d}-{b['day'].month:02d}" in before
    at = datetime(2024, 7, 9, 10, 0, tzinfo=UTC)
    await svc.report_missing(police(tiny), report(f"T10-S-{uuid.uuid4().hex[:8]}", at,
                                                  {"latitude": A[0], "longitude": A[1]},
                                                  {"latitude": B[0], "longitude": B[1]}), f"t10-{uuid.uuid4()}")
    after = await stamps(tiny)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {f"missing_from|{KENT_POLICE}|2024-07", f"last_seen|{KENT_POLICE}|2024-07"}
    await rebuild(tiny, days_per_batch=365)
    rebuilt = await stamps(tiny)
    assert rebuilt["generation"] != after["generation"]


async def test_the_step_one_cache_serves_only_what_the_buckets_hold_now(tiny, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cache is consulted and refilled only through the stamps in Neo4j: the write below goes
    through the service, which never touches the cache, exactly as a write in another worker
    process or on another cluster member would."""
    from datetime import date

    from mpdb.graph.repositories.intel_areas import IntelAreaRepository
    from mpdb.intel.hotspots import HotspotKind, hotspots

    reads: list[str] = []
    real = IntelAreaRepository.hotspot_buckets

    async def counting(self, mode, kind, **kw):  # type: ignore[no-untyped-def]
        reads.append(mode)
        return await real(self, mode, kind, **kw)

    monkeypatch.setattr(IntelAreaRepository, "hotspot_buckets", counting)
    frm, to = date(2024, 9, 1), date(2024, 10, 1)

    async def ask(scan: bool = False):  # type: ignore[no-untyped-def]
        return await hotspots(police(tiny), KENT_POLICE, HotspotKind.MISSING_FROM, frm, to, limit=50, scan=scan)

    first = await ask()
    assert reads  # computed from the buckets
    reads.clear()
    assert await ask() == first
    assert reads == []  # served from the cache
    # a new report in the window, in the area: the next answer must count it
    child = f"T10-X-{uuid.uuid4().hex[:8]}"
    await svc.report_missing(police(tiny), report(child, datetime(2024, 9, 15, 12, tzinfo=UTC),
                                                  {"latitude": A[0], "longitude": A[1]}), f"t10-{uuid.uuid4()}")
    after = await ask()
    assert reads  # recomputed
    assert after == await ask(scan=True)
    assert after != first
    peak = next(h for h in after.items if cell_id(*A) in h.cells)
    before_peak = next((h for h in first.items if cell_id(*A) in h.cells), None)
    assert peak.children == (before_peak.children if before_peak else 0) + 1  # type: ignore[operator]
    # a write in another force's area in those months renews a stamp the entry was computed under
    # (the ring around Kent reads other forces' buckets), so the entry is not used either
    reads.clear()
    assert await ask() == after
    assert reads == []
    await svc.report_missing(police(tiny), report(f"T10-Y-{uuid.uuid4().hex[:8]}", datetime(2024, 8, 20, tzinfo=UTC),
                                                  {"latitude": 51.5074, "longitude": -0.1278}), f"t10-{uuid.uuid4()}")
    assert await ask() == after
    assert reads


async def test_national_step_one_after_a_write_re_reads_only_that_force(tiny, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Nationally the cache keeps step 1 per force (mpdb/intel/hotspot_national.py): a write in
    one force costs the next request that force's buckets, and the answer stays the exact one."""
    from datetime import date

    from mpdb.graph.repositories.intel_areas import IntelAreaRepository
    from mpdb.intel.hotspot_cache import cache_for
    from mpdb.intel.hotspots import HotspotKind, hotspots

    reads: list[tuple[str, str | None]] = []
    real, real_by_force = IntelAreaRepository.hotspot_buckets, IntelAreaRepository.hotspot_buckets_by_force

    async def counting(self, mode, kind, **kw):  # type: ignore[no-untyped-def]
        reads.append((mode, kw.get("area")))
        return await real(self, mode, kind, **kw)

    async def counting_by_force(self, kind, **kw):  # type: ignore[no-untyped-def]
        reads.append(("national", None))
        return await real_by_force(self, kind, **kw)

    monkeypatch.setattr(IntelAreaRepository, "hotspot_buckets", counting)
    monkeypatch.setattr(IntelAreaRepository, "hotspot_buckets_by_force", counting_by_force)
    cache_for(Settings(env="test").hotspot_cache_entries).clear()
    frm, to = date(2024, 7, 1), date(2024, 10, 1)

    async def ask(scan: bool = False):  # type: ignore[no-untyped-def]
        return await hotspots(police(tiny), "national", HotspotKind.MISSING_FROM, frm, to, limit=500, scan=scan)

    first = await ask()
    assert reads == [("national", None)]
    assert first == await ask(scan=True)
    assert first.total > 1
    reads.clear()
    assert await ask() == first
    assert reads == []
    await svc.report_missing(police(tiny), report(f"T10-N-{uuid.uuid4().hex[:8]}", datetime(2024, 9, 16, 9, tzinfo=UTC),
                                                  {"latitude": A[0], "longitude": A[1]}), f"t10-{uuid.uuid4()}")
    after = await ask()
    assert reads == [("force", KENT_POLICE)]
    assert after == await ask(scan=True)
    peak = next(h for h in after.items if cell_id(*A) in h.cells)
    before_peak = next((h for h in first.items if cell_id(*A) in h.cells), None)
    assert peak.children == (before_peak.children if before_peak else 0) + 1  # type: ignore[operator]
    # another force (London), then two at once in one window's months
    reads.clear()
    await svc.report_missing(police(tiny), report(f"T10-M-{uuid.uuid4().hex[:8]}", datetime(2024, 8, 2, tzinfo=UTC),
                                                  {"latitude": 51.5074, "longitude": -0.1278}), f"t10-{uuid.uuid4()}")
    london = await ask()
    assert len(reads) == 1 and reads[0][0] == "force" and reads[0][1] not in (KENT_POLICE, None)
    assert london == await ask(scan=True)
    assert london != after
    reads.clear()
    for where in (A, (51.5074, -0.1278)):
        await svc.report_missing(police(tiny), report(f"T10-K-{uuid.uuid4().hex[:8]}", datetime(2024, 7, 3, tzinfo=UTC),
                                                      {"latitude": where[0], "longitude": where[1]}),
                                 f"t10-{uuid.uuid4()}")
    both = await ask()
    assert sorted(r[0] for r in reads) == ["force", "force"]
    assert both == await ask(scan=True)
    # a rebuild renews the generation: the whole country is read again, to the same answer
    reads.clear()
    await rebuild(tiny, days_per_batch=365)
    assert await ask() == both
    assert reads == [("national", None)]
