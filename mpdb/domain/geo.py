"""Small geographic helpers shared by ingest, hot-spot analytics and the API. No I/O.

`cell_id` buckets a WGS84 point into a ~500 m x ~500 m grid cell, so hot-spot queries can group
locations by `Location.cell` (an indexed string) instead of doing pairwise distance work.
The grid is an equal-area-ish lat/lon grid: rows are fixed 500 m bands of latitude; within a row,
columns are 500 m wide at the row's central latitude. The id is stable for a given point and
does not depend on any data set.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
CELL_SIZE_M = 500.0
_KM_PER_DEG_LAT = math.pi * EARTH_RADIUS_KM / 180.0  # ~111.195 km
_ROW_DEG = (CELL_SIZE_M / 1000.0) / _KM_PER_DEG_LAT  # degrees of latitude per row
KM_PER_MILE = 1.609344


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _row_col(lat: float, lon: float) -> tuple[int, int]:
    row = math.floor((lat + 90.0) / _ROW_DEG)
    row_centre = (row + 0.5) * _ROW_DEG - 90.0
    col_deg = _ROW_DEG / max(math.cos(math.radians(row_centre)), 1e-6)
    col = math.floor((lon + 180.0) / col_deg)
    return row, col


def cell_id(lat: float, lon: float) -> str:
    """Id of the ~500 m grid cell holding (lat, lon), e.g. ``'g500:31456:20187'``."""
    row, col = _row_col(lat, lon)
    return f"g500:{row}:{col}"


def cell_centre(cell: str) -> tuple[float, float]:
    """The (lat, lon) centre of a cell id produced by `cell_id`."""
    _, row_s, col_s = cell.split(":")
    row, col = int(row_s), int(col_s)
    lat = (row + 0.5) * _ROW_DEG - 90.0
    col_deg = _ROW_DEG / max(math.cos(math.radians(lat)), 1e-6)
    lon = (col + 0.5) * col_deg - 180.0
    return lat, lon


def cell_bounds(cell: str) -> tuple[float, float, float, float]:
    """(south, west, north, east) in degrees of a cell id produced by `cell_id`: the cell is the
    lat/lon rectangle [south, north) x [west, east), so maps can draw it as a square."""
    _, row_s, col_s = cell.split(":")
    row, col = int(row_s), int(col_s)
    # the column width follows the row's central latitude, computed exactly as `_row_col` does
    col_deg = _ROW_DEG / max(math.cos(math.radians((row + 0.5) * _ROW_DEG - 90.0)), 1e-6)
    return row * _ROW_DEG - 90.0, col * col_deg - 180.0, (row + 1) * _ROW_DEG - 90.0, (col + 1) * col_deg - 180.0


def km_to_miles(km: float) -> float:
    return km / KM_PER_MILE


def distance_band(km: float) -> str:
    """Placement distance band analysts use: ``'lt20mi'``, ``'20to50mi'`` or ``'gt50mi'``."""
    miles = km_to_miles(km)
    if miles < 20:
        return "lt20mi"
    if miles <= 50:
        return "20to50mi"
    return "gt50mi"


def offset_point(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    """The point `north_km` north and `east_km` east of (lat, lon) (small-distance approximation)."""
    dlat = north_km / _KM_PER_DEG_LAT
    dlon = east_km / (_KM_PER_DEG_LAT * max(math.cos(math.radians(lat)), 1e-6))
    return lat + dlat, lon + dlon
