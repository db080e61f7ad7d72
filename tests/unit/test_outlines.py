"""Checks on the approximate LA and police force outlines in seed/reference/outlines/ (no database).

The outlines are derived from postcode centroids at 2 km (seed/reference/build_outlines.py), so the
checks allow 2 km where the reference points sit near a border or a coast."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

REF = Path(__file__).resolve().parents[2] / "seed" / "reference"
OUTLINES = REF / "outlines"
MAX_BYTES = 1_500_000


def _read(name: str) -> list[dict[str, str]]:
    with open(REF / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _features(name: str) -> list[dict]:
    return json.loads((OUTLINES / name).read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def la_features() -> list[dict]:
    return _features("local_authorities.geojson")


@pytest.fixture(scope="module")
def force_features() -> list[dict]:
    return _features("police_forces.geojson")


@pytest.fixture(scope="module")
def la_shapes(la_features) -> dict[str, shapely.Geometry]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in la_features}


@pytest.fixture(scope="module")
def force_shapes(force_features) -> dict[str, shapely.Geometry]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in force_features}


@pytest.fixture(scope="module")
def la_points() -> dict[str, Point]:
    return {r["code"]: Point(float(r["longitude"]), float(r["latitude"])) for r in _read("local_authorities.csv")}


def _local_km(geom: shapely.Geometry, lat0: float) -> shapely.Geometry:
    """Degrees to kilometres on a plane tangent at latitude lat0 (good to a few metres over 10 km)."""
    kx, ky = 111.195 * math.cos(math.radians(lat0)), 111.195
    return shapely.transform(geom, lambda xy: xy * np.array([kx, ky]))


def _km_outside(geom: shapely.Geometry, p: Point) -> float:
    return shapely.distance(_local_km(geom, p.y), _local_km(p, p.y))


def test_files_are_small_feature_collections():
    for name in ("local_authorities.geojson", "police_forces.geojson"):
        path = OUTLINES / name
        assert path.stat().st_size < MAX_BYTES, name
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection"
        codes = [f["properties"]["code"] for f in doc["features"]]
        assert codes == sorted(codes), f"{name}: features in code order (stable diffs)"


def test_one_feature_per_local_authority(la_features):
    las = {r["code"]: r for r in _read("local_authorities.csv")}
    force_of = {r["la_code"]: r["force_code"] for r in _read("la_force_areas.csv")}
    codes = [f["properties"]["code"] for f in la_features]
    assert len(codes) == len(set(codes)) == 175
    assert set(codes) == set(las)
    for f in la_features:
        p = f["properties"]
        assert p == {"code": p["code"], "name": las[p["code"]]["name"], "force": force_of[p["code"]]}


def test_one_feature_per_territorial_force(force_features):
    territorial = {r["code"]: r for r in _read("police_forces.csv") if r["code"] != "BTP"}
    codes = [f["properties"]["code"] for f in force_features]
    assert len(codes) == len(set(codes)) == 43
    assert set(codes) == set(territorial)
    for f in force_features:
        assert f["properties"] == {"code": f["properties"]["code"], "name": territorial[f["properties"]["code"]]["name"]}


def test_geometries_valid_wgs84_rounded(la_features, force_features):
    for f in la_features + force_features:
        g = f["geometry"]
        assert g["type"] in ("Polygon", "MultiPolygon"), f["properties"]["code"]
        geom = shape(g)
        assert geom.is_valid and not geom.is_empty, f["properties"]["code"]
        minx, miny, maxx, maxy = geom.bounds
        assert -6.5 < minx and maxx < 1.8 and 49.8 < miny and maxy < 55.9, f["properties"]["code"]
        coords = shapely.get_coordinates(geom)
        assert np.array_equal(coords, np.round(coords, 4)), f["properties"]["code"]


def test_each_la_reference_point_in_or_within_2km_of_its_outline(la_shapes, la_points):
    far = {code: round(_km_outside(la_shapes[code], p), 2) for code, p in la_points.items()
           if not la_shapes[code].contains(p) and _km_outside(la_shapes[code], p) > 2.0}
    assert far == {}
    inside = sum(la_shapes[code].contains(p) for code, p in la_points.items())
    assert inside >= 170  # nearly all are inside; a few coastal ones sit just off the smoothed coast


def test_las_tile_without_overlaps(la_shapes):
    """Coverage simplification keeps one shared border between neighbours (rounding aside)."""
    geoms = list(la_shapes.values())
    total = sum(g.area for g in geoms)
    union = shapely.union_all(geoms).area
    assert total - union < 1e-6 * total


def test_each_la_lies_in_its_force(la_shapes, force_shapes):
    force_of = {r["la_code"]: r["force_code"] for r in _read("la_force_areas.csv")}
    for code, geom in la_shapes.items():
        outside = geom.difference(force_shapes[force_of[code]]).area
        assert outside < 1e-6 * geom.area + 1e-9, code


@pytest.mark.parametrize(("la", "force", "not_force"), [
    ("E10000016", "E23000032", "E23000028"),  # Kent CC: Kent Police, not Essex
    ("E06000035", "E23000032", "E23000028"),  # Medway: Kent, not Essex (across the Thames)
    ("E06000034", "E23000028", "E23000032"),  # Thurrock: Essex, not Kent
    ("E10000012", "E23000028", "E23000025"),  # Essex CC: Essex, not Suffolk
    ("E08000025", "E23000014", "E23000017"),  # Birmingham: West Midlands, not Warwickshire
    ("E09000033", "E23000001", "E23000034"),  # Westminster: the Met, not City of London Police
    ("E09000001", "E23000034", "E23000001"),  # City of London: its own force, not the Met
    ("E06000053", "E23000035", "E23000036"),  # Isles of Scilly: Devon and Cornwall
    ("W06000015", "W15000003", "W15000002"),  # Cardiff: South Wales, not Gwent
    ("W06000001", "W15000001", "W15000004"),  # Isle of Anglesey: North Wales
    ("E06000046", "E23000030", "E23000033"),  # Isle of Wight: Hampshire, not Sussex
    ("E06000057", "E23000007", "E23000002"),  # Northumberland: Northumbria, not Cumbria
])
def test_known_la_points_in_force_outlines(la, force, not_force, la_points, force_shapes):
    p = la_points[la]
    assert force_shapes[force].contains(p)
    assert not force_shapes[not_force].contains(p)
    # clear of the other force by more than the outlines' 2 km error, except the City (3 km2)
    assert _km_outside(force_shapes[not_force], p) > (0.2 if la == "E09000001" else 2.0)


# --- the build's raster steps (seed/reference/build_outlines.py), on a few synthetic postcodes ---

def _build_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_outlines", REF / "build_outlines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_raster_vote_closing_hole_fill_and_nearest_owner():
    b = _build_module()
    m = b.CELL_M

    def at(x, y):  # a postcode inside square (x, y)
        return (x * m + m // 2, y * m + m // 2)

    points, owner = [], []
    for x in range(10, 15):  # a 5 x 5 ring of LA 0 around an empty square (12, 12)
        for y in range(10, 15):
            if (x, y) != (12, 12) and (x in (10, 14) or y in (10, 14)):
                points.append(at(x, y))
                owner.append(0)
    points += [at(13, 12)] * 2 + [at(11, 12)]  # inside the ring: 2 postcodes of LA 1, 1 of LA 0
    owner += [1, 1, 0]
    points += [at(15, 10), at(15, 10)]  # a tie on the ring's edge: the lower index (code order) wins
    owner += [0, 1]
    points += [at(17, 10), at(40, 40)]  # one empty square east of the ring; an island far away
    owner += [1, 1]
    e = np.array([p[0] for p in points])
    n = np.array([p[1] for p in points])
    grid, best = b.raster_owners(e, n, np.array(owner))
    assert grid[12, 13] == 1 and grid[12, 11] == 0 and grid[10, 15] == 0
    assert grid[12, 12] == -1 and grid[10, 16] == -1
    assert tuple(best[1]) == (12, 13)  # the square holding most of LA 1's postcodes (row, column)
    land = b.land_mask(grid)
    assert land[12, 12]  # enclosed: land
    assert land[10, 16]  # a one-square gap between land squares: closed
    assert not land[20, 20] and not land[40, 41]  # sea, and nothing grows round an island
    filled = b.fill_owners(grid, land)
    assert filled[12, 12] == 0  # nearest owned square in breadth-first order: (11, 12) is LA 0, seeded first
    assert filled[10, 16] == 0  # its west neighbour (15, 10) is LA 0
    assert filled[20, 20] == -1
