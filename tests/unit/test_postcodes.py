"""The postcode resolver over the shipped reference tables and the installed ONS Postcode Directory
package (no database). Expected values are checked against the ONS Postcode Directory (Nov 2025)."""
from __future__ import annotations

import csv
import gzip
import time

import pytest

from mpdb.ingest import postcodes as pc
from mpdb.ingest.postcodes import PostcodePlace, PostcodeResolver, normalise, row_warning
from mpdb.ingest.reference import read_reference_data

STOKE, STAFFS = "E06000021", "E10000028"
STAFFS_POLICE, WEST_MIDS_POLICE = "E23000015", "E23000014"
BIRMINGHAM, CAMDEN, CARDIFF = "E08000025", "E09000007", "W06000015"
SHROPSHIRE, POWYS, WREXHAM = "E06000051", "W06000023", "W06000006"


@pytest.fixture(scope="module")
def resolver() -> PostcodeResolver:
    return pc.default_resolver()


@pytest.mark.parametrize(("value", "expected"), [
    ("st1 3", "ST1 3"), ("  ST1   3 ", "ST1 3"), ("st13ab", "ST1 3AB"), ("ST1 3AB", "ST1 3AB"),
    ("sw1a1aa", "SW1A 1AA"), ("b1", "B1"), ("", None), (None, None),
])
def test_normalise(value: str | None, expected: str | None) -> None:
    assert normalise(value) == expected


@pytest.mark.parametrize(("value", "level", "la", "force"), [
    ("ST1 3", "sector", STOKE, STAFFS_POLICE),          # Hanley: Stoke-on-Trent
    ("st1 3", "sector", STOKE, STAFFS_POLICE),          # lower case
    ("ST1", "district", STOKE, STAFFS_POLICE),
    ("ST13", "district", STAFFS, STAFFS_POLICE),        # Leek: the district ST13, not the sector ST1 3
    ("ws11", "district", STAFFS, STAFFS_POLICE),        # Cannock: the district WS11, not Walsall's WS1 1
    ("st135", "sector", STAFFS, STAFFS_POLICE),         # "ST13 5" (Leek) without its space
    ("ST1 3AB", "unit", STOKE, STAFFS_POLICE),
    ("st13ab", "unit", STOKE, STAFFS_POLICE),           # no space, lower case
    ("B1 1BB", "unit", BIRMINGHAM, WEST_MIDS_POLICE),
    ("NW1 9LN", "unit", CAMDEN, "E23000001"),
    ("CF10 1", "sector", CARDIFF, "W15000003"),         # Wales
    ("CA1 1", "sector", "E06000063", "E23000002"),      # Carlisle: Cumberland since April 2023
    ("LA9 4", "sector", "E06000064", "E23000002"),      # Kendal: Westmorland and Furness
    ("YO1 7", "sector", "E06000014", "E23000009"),      # York
    ("HG1 1", "sector", "E06000065", "E23000009"),      # Harrogate: North Yorkshire unitary
    ("TA1 1", "sector", "E06000066", "E23000036"),      # Taunton: Somerset unitary
])
def test_resolves(resolver: PostcodeResolver, value: str, level: str, la: str, force: str) -> None:
    got = resolver.resolve(value)
    assert (got.outcome, got.level, got.la, got.force, got.share) == ("resolved", level, la, force, 1.0)
    assert row_warning(got, "f.csv", 2, "PL_POST", "x") is None


def test_a_straddling_sector_takes_the_majority_and_says_so(resolver: PostcodeResolver) -> None:
    got = resolver.resolve("SY10 7")  # Oswestry: Shropshire, with parts in Powys and Wrexham
    assert (got.outcome, got.level, got.la, got.force) == ("straddles", "sector", SHROPSHIRE, "E23000016")
    assert got.share == pytest.approx(0.838)
    assert got.others == (WREXHAM, POWYS)  # W06000006, W06000023: sorted by code
    w = row_warning(got, "episodes.csv", 7, "PL_POST", "x")
    assert w is not None and (w.file, w.line, w.column, w.rule) == ("episodes.csv", 7, "PL_POST", "postcode_straddles")
    assert "SY10" not in w.reason  # never the postcode itself
    border = resolver.resolve("TD15 1")  # Berwick-upon-Tweed: Northumberland, partly Scotland
    assert (border.outcome, border.la, border.others) == ("straddles", "E06000057", ("Scotland",))


@pytest.mark.parametrize(("value", "outcome", "region"), [
    ("EH1 1", "outside", "Scotland"), ("EH1 1AA", "outside", "Scotland"), ("BT1 1", "outside", "Northern Ireland"),
    ("GY1 1", "outside", "the Channel Islands"), ("IM1 1", "outside", "the Isle of Man"),
    ("ZZ1 1", "unknown", None), ("ZZ99 9ZZ", "unknown", None), ("XX", "invalid", None), ("12345", "invalid", None),
])
def test_not_in_england_or_wales(resolver: PostcodeResolver, value: str, outcome: str, region: str | None) -> None:
    got = resolver.resolve(value)
    assert (got.outcome, got.la, got.force, got.region) == (outcome, None, None, region)
    w = row_warning(got, "episodes.csv", 3, "HOME_POST", "placed in the importing LA")
    assert w is not None and w.rule == ("postcode_outside" if outcome == "outside" else "postcode_unknown")
    assert w.reason.endswith("placed in the importing LA")
    assert value.upper() not in w.reason


def test_a_full_postcode_not_in_the_directory_is_placed_by_its_sector(resolver: PostcodeResolver) -> None:
    got = resolver.resolve("ST1 3ZZ")
    assert (got.outcome, got.level, got.la, got.unit_unknown) == ("resolved", "sector", STOKE, True)
    w = row_warning(got, "f.csv", 2, "postcode", "x")
    assert w is not None and w.rule == "postcode_unit_unknown"


def test_every_la_in_the_tables_is_one_mpdb_knows() -> None:
    ref = read_reference_data()
    with gzip.open(pc.REFERENCE_DIR / "postcode_areas.csv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    inside = [r for r in rows if r["la_code"][:1] in "EW"]
    assert {r["la_code"] for r in inside} == set(ref.las)  # every LA has postcodes, and no other code
    assert all(r["force_code"] == ref.primary_force(r["la_code"]) for r in inside)
    assert {r["la_code"] for r in rows} - set(ref.las) == {"S12", "N09", "L99", "M99"}
    with open(pc.REFERENCE_DIR / "lower_tier_las.csv", encoding="utf-8") as f:
        lads = list(csv.DictReader(f))
    assert {r["la_code"] for r in lads} == set(ref.las)
    # shares of an area add up to 1
    total: dict[str, float] = {}
    for r in rows:
        total[r["area"]] = total.get(r["area"], 0.0) + float(r["share"])
    assert all(abs(t - 1.0) < 0.002 for t in total.values())


def test_resolving_is_fast_once_loaded(resolver: PostcodeResolver) -> None:
    resolver.resolve("ST1 3AB")  # the S letter file, once
    sectors = [f"ST{d} {s}" for d in range(1, 10) for s in range(10)] + [f"B{d} {s}" for d in range(1, 40)
                                                                          for s in range(10)]
    started = time.perf_counter()
    for _ in range(20):
        for s in sectors:
            resolver._resolve.__wrapped__(resolver, s)  # uncached: the table lookup itself
    per = (time.perf_counter() - started) / (20 * len(sectors))
    assert per < 50e-6, per  # 10k rows in well under a second
    started = time.perf_counter()
    for i in range(2000):
        resolver._resolve.__wrapped__(resolver, f"ST1 3A{chr(65 + i % 26)}")
    assert (time.perf_counter() - started) / 2000 < 200e-6


def test_a_place_without_an_la_is_not_placed() -> None:
    assert not PostcodePlace("ZZ1 1", "unknown").placed
