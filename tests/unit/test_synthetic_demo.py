"""The `demo` profile on any day: `--as-of` moves the whole data set in time, and the planted
scenarios (mpdb/ingest/synthetic/demo_scenarios.py) hold by construction (no database; the same
facts against a loaded `demo` are in tests/integration/test_demo_scenarios.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from collections.abc import Iterable
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mpdb.cli_seed import parse_as_of
from mpdb.ingest.reference import read_reference_data
from mpdb.ingest.synthetic import demo_scenarios as ds
from mpdb.ingest.synthetic.generator import Chunk, SyntheticGenerator
from mpdb.ingest.synthetic.profiles import AS_OF, get_profile

REF = read_reference_data()
LATER = date(2027, 9, 14)  # after the last 2013-scheme episode leaves the window: labels change, facts do not


def _stream(as_of: date) -> list[Chunk]:
    return list(SyntheticGenerator(get_profile("demo").at(as_of), 42, REF).stream())


@pytest.fixture(scope="module")
def streams() -> dict[date, list[Chunk]]:
    return {AS_OF: _stream(AS_OF), LATER: _stream(LATER)}


# --- moving in time ---------------------------------------------------------------------------------

def test_profiles_keep_their_fixed_date_and_demo_rolls_to_today() -> None:
    assert get_profile("demo").as_of == get_profile("tiny").as_of == AS_OF == date(2026, 11, 1)
    assert get_profile("demo").default_as_of(today=date(2027, 3, 5)) == date(2027, 3, 5)
    assert get_profile("tiny").default_as_of(today=date(2027, 3, 5)) == AS_OF
    assert get_profile("national").default_as_of(today=date(2027, 3, 5)) == AS_OF
    moved = get_profile("demo").at(date(2027, 3, 5))
    assert (moved.start, moved.as_of, moved.n_children) == (date(2016, 10, 3), date(2027, 3, 5), 10_000)


_GRADE = {"absent": "no_apparent_risk"}  # the 2013 and 2017 names of the lowest grade
_CALENDAR_KEYS = {"gradeScheme", "scheme", "sourceRef"}


def _normalised(chunks: list[Chunk], delta: timedelta) -> list[tuple[str, str]]:
    """Every row with its dates moved back by `delta`; what is tied to the calendar rather than to
    the as-of date (the grading scheme's name for a grade, adults' years of birth, the year or date
    written into a source system's reference) left out."""
    def default(v: Any) -> str:
        return (v - delta).isoformat() if isinstance(v, date) else str(v)

    out = []
    for c in chunks:
        rows = c.rows
        if c.stage in ("episode", "risk_assessment", "episode_record", "person"):
            drop = _CALENDAR_KEYS | ({"dateOfBirth"} if c.stage == "person" else set())
            rows = [{**r, "props": {k: _GRADE.get(v, v) if k in ("riskGrade", "grade") else v
                                    for k, v in r["props"].items() if k not in drop}} for r in rows]
        out.append((c.stage, json.dumps(rows, sort_keys=True, default=default)))
    return out


def test_a_later_as_of_moves_every_fact_by_the_same_days(streams) -> None:  # type: ignore[no-untyped-def]
    delta = LATER - AS_OF
    assert _normalised(streams[LATER], delta) == _normalised(streams[AS_OF], timedelta(0))
    schemes = {r["props"]["gradeScheme"] for c in streams[LATER] if c.stage == "episode" for r in c.rows}
    assert schemes == {"2017", None}  # the 2013 definitions have aged out of a window starting in 2017


def test_the_same_as_of_gives_the_same_records() -> None:
    def tiny(as_of: date) -> list[tuple[str, str]]:
        return _normalised(list(SyntheticGenerator(get_profile("tiny").at(as_of), 42, REF).stream()), timedelta(0))

    assert tiny(LATER) == tiny(LATER) != tiny(AS_OF)


# --- the planted scenarios, counted the way hot spots count -------------------------------------------

def _planted(chunks: list[Chunk]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in chunks:
        for r in c.rows:
            if any(str(v).startswith(("CH-DEMO", "EP-DEMO", "LOC-DEMO", "PL-DEMO", "EST-DEMO"))
                   for v in (r.get("childId"), r.get("episodeId"), r.get("aboutId"), (r.get("props") or {}).get("id"))):
                out[c.stage].append(r)
    return out


def _children(episodes: list[dict[str, Any]], as_of: date, place_key: str, place: str, lo: int, hi: int) -> set[str]:
    """Distinct children with an episode at `place` reported in [as_of - hi days, as_of - lo days)."""
    t = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    return {e["childId"] for e in episodes if e[place_key] == place
            and t - timedelta(days=hi) <= e["props"]["reportedAt"] < t - timedelta(days=lo)}


@pytest.mark.parametrize("as_of", [AS_OF, LATER])
@pytest.mark.parametrize(("place_key", "place", "windows"), [
    ("fromLocationId", ds.HOME_KENT, [(0, 30), (30, 60), (0, 90), (90, 180), (0, 365), (365, 730)]),
    ("foundLocationId", ds.TOWN_CENTRE_KENT, [(0, 30), (30, 60), (0, 90), (90, 180), (0, 365), (365, 730)]),
])
def test_planted_hotspots_are_never_small_numbers(streams, as_of: date, place_key: str, place: str,
                                                  windows: list[tuple[int, int]]) -> None:  # type: ignore[no-untyped-def]
    episodes = _planted(streams[as_of])["episode"]
    for lo, hi in windows:
        # a preset ending today or tomorrow: both current periods and the periods before them
        for shift in (0, 1):
            n = len(_children(episodes, as_of, place_key, place, lo - shift, hi - shift))
            assert n >= 5, (place, lo, hi, shift, n)


def test_planted_rows_are_as_written(streams) -> None:  # type: ignore[no-untyped-def]
    rows = _planted(streams[AS_OF])
    children = {r["props"]["id"]: r for r in rows["child"]}
    assert sorted(children) == sorted(ds.CHILD_IDS)
    assert {cid: (r["props"]["givenName"], r["lookedAfterBy"]) for cid, r in children.items()} == {
        c.id: (c.given_name, c.home_la if c.looked_after else None) for c in ds.CHILDREN}
    episodes = {r["props"]["id"]: r for r in rows["episode"]}
    assert len(episodes) == sum(len(c.episodes) for c in ds.CHILDREN) == 49
    amy_now, zara_now = episodes[ds.AMY_MISSING_NOW], episodes[ds.ZARA_MISSING_NOW]
    assert (amy_now["props"]["status"], amy_now["reportedTo"], amy_now["fromLocationId"]) == (
        "open", ds.KENT_POLICE, ds.HOME_KENT)
    assert (zara_now["props"]["status"], zara_now["reportedTo"]) == ("open", ds.MET_POLICE)
    with_ = {(r["episodeId"], r["childId"]) for r in rows["with_child"]}
    assert (ds.AMY_MISSING_NOW, ds.ZARA) in with_ and (ds.ZARA_MISSING_NOW, ds.AMY) in with_
    rhi = {r["props"]["id"]: r["props"] for r in rows["return_interview"]}
    assert all(rhi[i]["status"] == "offered" and rhi[i]["completedAt"] is None for i in ds.OVERDUE_RHI)
    notes = {r["props"]["id"]: r for r in rows["placement_notification"] + rows["episode_notification"]}
    for nid, kind, src, dst in ds.UNSENT_NOTIFICATIONS:
        assert (notes[nid]["props"]["kind"], notes[nid]["from"], notes[nid]["to"], notes[nid]["props"]["sentAt"]) == (
            kind, src, dst, None)
    assert notes[ds.FOUND_NOT_NOTIFIED]["props"]["sentAt"] is None


def test_planting_leaves_the_random_children_as_they_were(streams) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    without = SyntheticGenerator(replace(get_profile("demo"), planted_scenarios=False), 42, REF).stream()
    planted = set(ds.CHILD_IDS) | {p.id for p in ds.PLACES}

    def random_rows(chunks: Iterable[Chunk]) -> list[tuple[str, str]]:
        return [(c.stage, json.dumps([r for r in c.rows if not ({str(v) for v in r.values()} & planted)
                                      and "DEMO" not in str((r.get("props") or {}).get("id"))
                                      and "DEMO" not in str(r.get("episodeId")) and "DEMO" not in str(r.get("aboutId"))],
                                     sort_keys=True, default=str)) for c in chunks]

    assert random_rows(without) == [x for x in random_rows(streams[AS_OF]) if x[1] != "[]"]


def test_only_demo_plants_scenarios() -> None:
    gen = SyntheticGenerator(get_profile("tiny"), 42, REF)
    assert not any(r["props"]["id"].startswith("CH-DEMO") for c in gen.stream() if c.stage == "child" for r in c.rows)


# --- mpdb seed --as-of ------------------------------------------------------------------------------

def test_as_of_is_an_iso_date_not_in_the_future() -> None:
    assert parse_as_of("2026-11-01", today=date(2026, 12, 1)) == date(2026, 11, 1)
    assert parse_as_of(" 2026-12-01 ", today=date(2026, 12, 1)) == date(2026, 12, 1)
    with pytest.raises(typer.BadParameter, match="not a date: use YYYY-MM-DD"):
        parse_as_of("1 Nov 2026")
    with pytest.raises(typer.BadParameter, match="2026-12-02 is in the future"):
        parse_as_of("2026-12-02", today=date(2026, 12, 1))


def test_seed_refuses_a_bad_as_of_before_touching_the_database() -> None:
    from mpdb.cli import _register_subcommands, app

    _register_subcommands()
    result = CliRunner().invoke(app, ["seed", "--profile", "demo", "--as-of", "2026-13-01"])
    assert result.exit_code == 2
    assert "Invalid value for --as-of" in result.output and "not a date" in result.output
