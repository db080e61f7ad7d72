"""Checks on the hand-checked reference data in seed/reference/ (no database)."""
from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

REF = Path(__file__).resolve().parents[2] / "seed" / "reference"

# England: 21 county councils (E10) + 63 unitaries (E06, incl. Isles of Scilly and
# the 2019-2023 new unitaries) + 36 metropolitan districts (E08) + 33 London
# (E09: 32 boroughs and the City of London) = 153 upper-tier authorities with
# children's services.
ENGLISH_LA_COUNT = 153
WELSH_LA_COUNT = 22
KIND_COUNTS = {"county": 21, "unitary": 63, "metropolitan_district": 36,
               "london_borough": 33, "welsh_principal_area": 22}

KIND_PREFIX = {"E06": "unitary", "E08": "metropolitan_district", "E09": "london_borough",
               "E10": "county", "W06": "welsh_principal_area"}

# England + Wales bounding box (Isles of Scilly to Lowestoft, Scilly to Berwick).
LAT_MIN, LAT_MAX = 49.8, 55.85
LON_MIN, LON_MAX = -6.5, 1.8


def _read(name: str) -> list[dict[str, str]]:
    with open(REF / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def forces() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in _read("police_forces.csv")}


@pytest.fixture(scope="module")
def las() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in _read("local_authorities.csv")}


@pytest.fixture(scope="module")
def links() -> list[dict[str, str]]:
    return _read("la_force_areas.csv")


def _km(a: dict[str, str], b: dict[str, str]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (float(a["latitude"]), float(a["longitude"]),
                                            float(b["latitude"]), float(b["longitude"])))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def test_headers():
    for name, header in [
        ("police_forces.csv", ["code", "name", "short_name", "nation", "latitude", "longitude"]),
        ("local_authorities.csv", ["code", "name", "nation", "kind", "latitude", "longitude"]),
        ("la_force_areas.csv", ["la_code", "force_code", "share"]),
    ]:
        with open(REF / name, newline="", encoding="utf-8") as f:
            assert next(csv.reader(f)) == header, name


def test_forces_44_with_43_territorial_and_btp():
    rows = _read("police_forces.csv")
    assert len(rows) == 44
    codes = [r["code"] for r in rows]
    assert len(set(codes)) == 44
    territorial = [c for c in codes if c != "BTP"]
    assert len(territorial) == 43
    assert all(re.fullmatch(r"(E23|W15)\d{6}", c) for c in territorial)
    assert sorted(c for c in territorial if c.startswith("E23")) == [
        "E23%06d" % i for i in range(1, 40)]
    assert sorted(c for c in territorial if c.startswith("W15")) == [
        "W15%06d" % i for i in range(1, 5)]
    btp = next(r for r in rows if r["code"] == "BTP")
    assert btp["name"] == "British Transport Police" and btp["nation"] == "GB"
    assert len({r["name"] for r in rows}) == 44
    assert len({r["short_name"] for r in rows}) == 44
    for r in rows:
        if r["code"] != "BTP":
            assert r["nation"] == ("England" if r["code"].startswith("E") else "Wales")


@pytest.mark.parametrize("code,short_name", [
    ("E23000001", "Metropolitan Police"), ("E23000002", "Cumbria"),
    ("E23000003", "Lancashire"), ("E23000005", "Greater Manchester"),
    ("E23000007", "Northumbria"), ("E23000015", "Staffordshire"),
    ("E23000016", "West Mercia"), ("E23000029", "Thames Valley"),
    ("E23000032", "Kent"), ("E23000034", "City of London"),
    ("E23000035", "Devon and Cornwall"), ("E23000039", "Dorset"),
    ("W15000001", "North Wales"), ("W15000002", "Gwent"),
    ("W15000003", "South Wales"), ("W15000004", "Dyfed-Powys"),
])
def test_known_force_codes(forces, code, short_name):
    assert forces[code]["short_name"] == short_name


def test_btp_at_london_hq(forces):
    btp = forces["BTP"]
    assert abs(float(btp["latitude"]) - 51.54) < 0.02
    assert abs(float(btp["longitude"]) - (-0.14)) < 0.02


def test_la_codes_unique_and_well_formed():
    rows = _read("local_authorities.csv")
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"(E06|E08|E09|E10|W06)\d{6}", c) for c in codes)
    assert len({r["name"] for r in rows}) == len(rows)


def test_la_counts(las):
    english = [c for c in las if c.startswith("E")]
    welsh = [c for c in las if c.startswith("W")]
    assert len(english) == ENGLISH_LA_COUNT
    assert len(welsh) == WELSH_LA_COUNT
    assert Counter(r["kind"] for r in las.values()) == KIND_COUNTS
    for code, r in las.items():
        assert r["kind"] == KIND_PREFIX[code[:3]], code
        assert r["nation"] == ("England" if code.startswith("E") else "Wales"), code


def test_current_codes_after_reorganisations(las):
    for code, name in [
        ("E06000053", "Isles of Scilly"), ("E09000001", "City of London"),
        ("E06000058", "Bournemouth, Christchurch and Poole"), ("E06000059", "Dorset"),
        ("E06000060", "Buckinghamshire"), ("E06000061", "North Northamptonshire"),
        ("E06000062", "West Northamptonshire"), ("E06000063", "Cumberland"),
        ("E06000064", "Westmorland and Furness"), ("E06000065", "North Yorkshire"),
        ("E06000066", "Somerset"), ("E08000037", "Gateshead"),
        ("E08000038", "Barnsley"), ("E08000039", "Sheffield"),
    ]:
        assert las[code]["name"] == name
    abolished = {
        "E10000002",  # Buckinghamshire CC (2020)
        "E10000006",  # Cumbria CC (2023)
        "E10000009",  # Dorset CC (2019)
        "E10000021",  # Northamptonshire CC (2021)
        "E10000023",  # North Yorkshire CC (2023)
        "E10000027",  # Somerset CC (2023)
        "E06000028", "E06000029",  # Bournemouth, Poole (2019)
        "E06000048",  # old Northumberland code
        "E08000016", "E08000019", "E08000020",  # old Barnsley, Sheffield, Gateshead codes
    }
    assert not abolished & set(las)


def test_every_la_maps_to_forces_with_shares_summing_to_one(las, forces, links):
    shares: dict[str, float] = defaultdict(float)
    pairs = set()
    for r in links:
        assert r["la_code"] in las, r
        assert r["force_code"] in forces and r["force_code"] != "BTP", r
        assert (r["la_code"], r["force_code"]) not in pairs, r
        pairs.add((r["la_code"], r["force_code"]))
        share = float(r["share"])
        assert 0 < share <= 1
        shares[r["la_code"]] += share
    assert set(shares) == set(las)
    for code, total in shares.items():
        assert math.isclose(total, 1.0, abs_tol=1e-9), code
    # every territorial force covers at least one LA; Welsh LAs lie in Welsh forces
    assert {f for _, f in pairs} == set(forces) - {"BTP"}
    for la, force in pairs:
        assert la[0] == force[0], (la, force)


def test_coordinates_inside_england_and_wales(las, forces):
    for r in list(las.values()) + list(forces.values()):
        lat, lon = float(r["latitude"]), float(r["longitude"])
        assert LAT_MIN <= lat <= LAT_MAX, r
        assert LON_MIN <= lon <= LON_MAX, r
        assert re.fullmatch(r"-?\d+\.\d{4}", r["latitude"]), r
        assert re.fullmatch(r"-?\d+\.\d{4}", r["longitude"]), r


@pytest.mark.parametrize("la_code,la_name,force_code", [
    ("E10000016", "Kent", "E23000032"),
    ("E06000035", "Medway", "E23000032"),
    ("E06000021", "Stoke-on-Trent", "E23000015"),
    ("E09000014", "Haringey", "E23000001"),
    ("E09000033", "Westminster", "E23000001"),
    ("E09000001", "City of London", "E23000034"),
    ("E08000004", "Oldham", "E23000005"),
    ("E10000017", "Lancashire", "E23000003"),
    ("E06000008", "Blackburn with Darwen", "E23000003"),
    ("W06000015", "Cardiff", "W15000003"),
    ("W06000024", "Merthyr Tydfil", "W15000003"),
    ("W06000018", "Caerphilly", "W15000002"),
    ("W06000023", "Powys", "W15000004"),
    ("W06000006", "Wrexham", "W15000001"),
    ("E06000063", "Cumberland", "E23000002"),
    ("E06000064", "Westmorland and Furness", "E23000002"),
    ("E06000065", "North Yorkshire", "E23000009"),
    ("E06000014", "York", "E23000009"),
    ("E06000066", "Somerset", "E23000036"),
    ("E06000005", "Darlington", "E23000008"),
    ("E06000004", "Stockton-on-Tees", "E23000013"),
    ("E06000013", "North Lincolnshire", "E23000012"),
    ("E06000006", "Halton", "E23000006"),
    ("E06000017", "Rutland", "E23000021"),
    ("E06000031", "Peterborough", "E23000023"),
    ("E06000042", "Milton Keynes", "E23000029"),
    ("E06000060", "Buckinghamshire", "E23000029"),
    ("E06000019", "Herefordshire, County of", "E23000016"),
    ("E06000046", "Isle of Wight", "E23000030"),
    ("E06000058", "Bournemouth, Christchurch and Poole", "E23000039"),
    ("E06000053", "Isles of Scilly", "E23000035"),
    ("E08000037", "Gateshead", "E23000007"),
    ("E08000039", "Sheffield", "E23000011"),
    ("E08000015", "Wirral", "E23000004"),
    ("E08000026", "Coventry", "E23000014"),
    ("E06000061", "North Northamptonshire", "E23000022"),
])
def test_known_la_force_pairs(las, links, la_code, la_name, force_code):
    assert las[la_code]["name"] == la_name
    assert [(r["force_code"], float(r["share"])) for r in links
            if r["la_code"] == la_code] == [(force_code, 1.0)]


# LA centroids more than 60 km from their force's centroid, and why:
LARGE_AREA_EXCEPTIONS = {
    # ~45 km off Land's End: far from any mainland centroid.
    "E06000053": 200.0,  # Isles of Scilly (Devon and Cornwall)
    # Devon and Cornwall spans ~250 km; its centroid is pulled east to Devon.
    "E06000052": 80.0,   # Cornwall
    # Dyfed-Powys is Wales's largest force area (~200 km across); its
    # postcode-weighted centroid lies in Carmarthenshire/Ceredigion, while
    # Powys's settlements lie along the English border.
    "W06000023": 80.0,   # Powys
}


def test_la_centroid_near_force_centroid(las, forces, links):
    for r in links:
        la, force = las[r["la_code"]], forces[r["force_code"]]
        limit = LARGE_AREA_EXCEPTIONS.get(r["la_code"], 60.0)
        assert _km(la, force) <= limit, (la["name"], force["short_name"], _km(la, force))


def test_single_la_forces_share_centroid(las, forces, links):
    by_force: dict[str, list[str]] = defaultdict(list)
    for r in links:
        by_force[r["force_code"]].append(r["la_code"])
    for force, members in by_force.items():
        if len(members) == 1:
            assert _km(las[members[0]], forces[force]) < 0.05, force
