"""The offline import's CSV files and its derived data, without a database."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mpdb.ingest.bulk import derive
from mpdb.ingest.bulk.csvgraph import SENTINEL, BulkDataError, GraphCsv, Point


def _read(path):  # type: ignore[no-untyped-def]
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_header_is_typed_from_the_values_and_nulls_are_empty_cells(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = GraphCsv(tmp_path)
    out.nodes("Thing:Agency", "Thing", [
        {"id": "a", "name": "x, \"y\"", "n": 3, "f": 0.1, "ok": True, "d": date(2024, 1, 2),
         "at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "p": Point(51.5, -0.25), "tags": ["a", "b"]},
        {"id": "b", "name": None, "n": None, "ok": False, "tags": None},
    ])
    rows = _read(out.manifest.nodes[0][1])
    assert rows[0] == ["id:ID(Thing)", "name:string", "n:long", "f:double", "ok:boolean", "d:date", "at:datetime",
                       "p:point{crs:WGS-84}", "tags:string[]"]
    assert rows[1] == ["a", 'x, "y"', "3", "0.1", "true", "2024-01-02", "2024-01-02T03:04:05+00:00",
                       "{latitude:51.5,longitude:-0.25}", "a;b"]
    assert rows[2] == ["b", "", "", "", "false", "", "", "", ""]
    assert out.manifest.node_counts == {"Thing:Agency": 2}
    assert out.manifest.empties == set()


def test_empty_strings_are_quoted_and_empty_lists_become_the_sentinel_for_the_fix_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = GraphCsv(tmp_path)
    out.nodes("Child", "Child", [{"id": "c", "open": [], "note": ""}, {"id": "d", "open": None, "note": None}])
    out.relationships("WITH", "Child", "Child", [("c", "c", {"source": ""})])
    # the importer keeps a quoted empty cell as '' and takes an unquoted one as no property
    assert out.manifest.nodes[0][1].read_text(encoding="utf-8").splitlines()[1:] == [f"c,{SENTINEL},\"\"", "d,,"]
    assert out.manifest.relationships[0][1].read_text(encoding="utf-8").splitlines()[1:] == ['c,c,""']
    assert out.manifest.empties == {("node", "Child", "open", "list")}


def test_relationships_without_an_end_are_not_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = GraphCsv(tmp_path)
    out.relationships("AT", "Placement", "Establishment", [("p1", None, None), ("p2", "e2", None)])
    assert _read(out.manifest.relationships[0][1]) == [[":START_ID(Placement)", ":END_ID(Establishment)"],
                                                       ["p2", "e2"]]
    out.relationships("AT", "Placement", "Establishment", [("p1", None, None)])
    assert len(out.manifest.relationships) == 1


@pytest.mark.parametrize("rows, message", [
    ([{"id": "a", "v": 1}, {"id": "b", "v": "1"}], "not a long"),
    ([{"id": "a", "v": ["x;y"]}], "holds ';'"),
    ([{"id": "a", "v": [1]}], "only lists of strings"),
    ([{"id": None}], "without a string id"),
])
def test_values_the_importer_would_store_differently_are_refused(tmp_path, rows, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BulkDataError, match=message):
        GraphCsv(tmp_path).nodes("T", "T", rows)


def test_newlines_switch_on_multiline_fields(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = GraphCsv(tmp_path)
    out.nodes("T", "T", [{"id": "a", "note": "two\nlines"}])
    assert out.manifest.multiline


LOCS = {"L1": ("c1", "E1", "F1"), "L2": ("c2", "E2", "F2"), "L3": ("c1", None, "F1")}


def _episode(eid: str, child: str, **kw) -> derive.EpisodeFacts:  # type: ignore[no-untyped-def]
    return derive.EpisodeFacts(eid, child, kw.pop("open", False), kw.pop("at", datetime(2024, 5, 1, 12, tzinfo=UTC)),
                               **kw)


def test_buckets_follow_the_spec() -> None:
    b = derive.BucketBuilder(LOCS)
    # both a MISSING_FROM_LOCATION and a MISSING_FROM placement at the same place: counted once, multi
    b.add(_episode("E1", "C1", from_location="L1", placement_id="P1", placement_location="L1", placement_force="F1",
                   last_seen_location="L1", went_to=["L2", "L2"]))
    # reported at 23:30 -01:00 on 30 April: 1 May in UTC; a location without an LA
    b.add(_episode("E2", "C2", at=datetime(2024, 4, 30, 23, 30, tzinfo=timezone(timedelta(hours=-1))),
                   from_location="L1", found_location="L3"))
    b.add(_episode("E3", "C1", from_location="L1"))
    rows = {r["id"]: r for r in b.rows()}
    day = date(2024, 5, 1)
    assert rows["missing_from|c1|E1|F1|2024-05-01"] == {
        "id": "missing_from|c1|E1|F1|2024-05-01", "kind": "missing_from", "cell": "c1", "laCode": "E1",
        "forceCode": "F1", "day": day, "children": ["C1", "C2"], "episodes": 3, "multi": ["E1"]}
    assert rows["went_to|c2|E2|F2|2024-05-01"]["multi"] == ["E1"]
    assert rows["went_to|c2|E2|F2|2024-05-01"]["episodes"] == 1
    assert rows["last_seen|c1|E1|F1|2024-05-01"]["multi"] == []
    assert rows["found_at|c1||F1|2024-05-01"]["children"] == ["C2"]
    assert len(rows) == 4


def test_access_lists_follow_refresh_access() -> None:
    c = derive.ChildFacts("C1", recorded_by="F9", looked_after_by="LA1", home_la="LA2",
                          placement_las=["LA1", "LA3"], placement_forces=["F3"])
    e1 = _episode("E1", "C1", reported_to="F1", found_by="F2", placement_id="P", placement_force="F3",
                  from_location="L1", rhi_by=["RHI"])
    e2 = _episode("E2", "C1", open=True, reported_to="F1", last_seen_location="L2")
    for e in (e1, e2):
        derive.add_episode(c, e, derive.episode_area_agencies(e, {k: v[2] for k, v in LOCS.items()}))
    assert derive.episode_area_agencies(e1, {"L1": "F1"}) == ["F1", "F2", "F3", "RHI"]
    access = derive.child_access(c, agencies={"F9", "F1"})
    assert access == {
        "historyAgencies": ["LA1", "LA2", "LA3", "F1"],
        "openEpisodeForces": ["F1"],
        "accessAgencies": ["LA1", "LA2", "LA3", "F3", "F1", "F2", "RHI", "F9"],
    }
    assert derive.child_access(c, agencies=set())["accessAgencies"][-1] == "RHI"  # recordedBy not an agency
