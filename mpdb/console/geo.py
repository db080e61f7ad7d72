"""What the console's maps draw (static/js/map.js), built from the API's own GraphQL answers.

The map reads a JSON island (`<script type="application/json">`, rendered with Jinja's `tojson`,
which escapes `<`, `>`, `&` and `'`) with this shape:

    {"cells":  [{"id", "rank", "count", "measure", "suppressed", "label", "href",
                 "centre": [lat, lng], "squares": [[[south, west], [north, east]], ...]}],
     "points": [{"lat", "lng", "label", "count", "href"}],
     "threshold": int | null}

A hot spot is a peak ~500 m grid cell plus the busy cells touching it (mpdb/intel/hotspots.py), and
its counts belong to the hot spot, not to each cell: so one entry per hot spot, drawn as the squares
of its cells with one count label at the peak. `suppressed` means the count the map shows (children
or episodes) was withheld below the small-number threshold: the map then draws the squares hatched
with no count, and the label says "fewer than N". Grid cells are lat/lon rectangles (mpdb/domain/geo.py),
so their corners are exact in WGS84 without any projection.

The map is never the only carrier of these facts: the page puts a table with the same labels beside it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from mpdb.domain.geo import cell_bounds, cell_centre

# Approximate LA and police force outlines (seed/reference/outlines/README.md): the map's background,
# since no tiles can be fetched offline. Served by the console; name -> file.
OUTLINES_DIR = Path(__file__).resolve().parents[2] / "seed" / "reference" / "outlines"
OUTLINE_FILES: Mapping[str, str] = {
    "police_forces": "police_forces.geojson",
    "local_authorities": "local_authorities.geojson",
}
DECIMALS = 6  # ~0.1 m: exact enough for 500 m squares, short enough for the page
MEASURES = ("children", "episodes")


def outline_path(name: str) -> Path | None:
    """The GeoJSON file for an outline name ('police_forces', 'local_authorities'), or None: only
    these names are ever resolved, so a route can pass the URL's name straight in."""
    file = OUTLINE_FILES.get(name)
    return OUTLINES_DIR / file if file else None


@lru_cache(maxsize=len(OUTLINE_FILES))
def outline_version(name: str) -> str:
    """A short content hash of an outline file, for cache-busting URLs (`...?v=<version>`) and ETags:
    the files change only when rebuilt, so they can be cached for a long time."""
    path = outline_path(name)
    if path is None:
        raise KeyError(name)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def cell_square(cell: str) -> list[list[float]]:
    """[[south, west], [north, east]] of a grid cell: Leaflet's LatLngBounds order."""
    s, w, n, e = (round(v, DECIMALS) for v in cell_bounds(cell))
    return [[s, w], [n, e]]


_WORDS = {"children": ("child", "children"), "episodes": ("episode", "episodes")}


def _count(n: int, measure: str) -> str:
    one, many = _WORDS[measure]
    return f"{n} {one if n == 1 else many}"


def _place_text(place: Mapping[str, Any] | None) -> str | None:
    if not place:
        return None
    name, kind = place.get("name"), place.get("kind")
    if name:
        return f"{name} ({kind.replace('_', ' ')})" if kind else name
    return f"a {kind.replace('_', ' ')} (not named)" if kind else None


def hotspot_label(node: Mapping[str, Any], threshold: int | None, measure: str = "children") -> str:
    """The text a hot spot has on the map and in its table row, e.g. 'Hot spot 1: 12 children,
    15 episodes; Oakfield House (childrens_home)' or 'Hot spot 3: fewer than 3 children'."""
    rank = node["rank"]
    children, episodes = node.get("children"), node.get("episodes")
    shown = children if measure == "children" else episodes
    if shown is None:
        counts = f"fewer than {threshold} {measure}" if threshold else f"{measure} withheld (small number)"
    else:
        parts = [_count(children, "children") if children is not None else None,
                 _count(episodes, "episodes") if episodes is not None else None]
        counts = ", ".join(p for p in parts if p)
    place = _place_text(node.get("place")) if shown is not None else None
    return f"Hot spot {rank}: {counts}" + (f"; {place}" if place else "")


def hotspot_map_data(connection: Mapping[str, Any], *, measure: str = "children",
                     anchor_prefix: str | None = "hotspot-") -> dict[str, Any]:
    """The map island for a `hotspots` answer (the HotspotConnection dict: `suppressionThreshold`
    and `nodes` with `id`, `rank`, `cells`, `children`, `episodes`, `place`). `measure` is the
    count drawn (children or episodes, as the page ranks); `anchor_prefix` + rank is the id of the
    hot spot's row in the page's table (a click or Enter on the map goes there)."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}")
    threshold = connection.get("suppressionThreshold")
    cells = []
    for node in connection.get("nodes") or []:
        ids = list(node.get("cells") or []) or [node["id"]]
        peak = node["id"] if node["id"] in ids else ids[0]
        count = node.get(measure)
        lat, lng = cell_centre(peak)
        cells.append({
            "id": node["id"],
            "rank": node["rank"],
            "count": count,
            "measure": measure,
            "suppressed": count is None,
            "label": hotspot_label(node, threshold, measure),
            "href": f"#{anchor_prefix}{node['rank']}" if anchor_prefix else None,
            "centre": [round(lat, DECIMALS), round(lng, DECIMALS)],
            "squares": [cell_square(c) for c in ids],
        })
    return {"cells": cells, "points": [], "threshold": threshold}


def found_before_map_data(found_before: Sequence[Mapping[str, Any]], *,
                          anchor_prefix: str | None = "found-") -> dict[str, Any]:
    """The map island for a locate profile's `foundBefore` (newest first): one point per place,
    with how often and when the child was last found there. Places without coordinates are left
    to the table. `anchor_prefix` + the place's position (1-based, newest first) is the id of
    its first row in the page's table."""
    points: dict[tuple[float, float, str | None], dict[str, Any]] = {}
    for i, f in enumerate(found_before, start=1):
        place = f.get("place") or {}
        lat, lng = place.get("latitude"), place.get("longitude")
        if lat is None or lng is None:
            continue
        key = (round(lat, DECIMALS), round(lng, DECIMALS), place.get("id"))
        p = points.get(key)
        if p is None:
            points[key] = {"lat": key[0], "lng": key[1], "count": 1, "last": f.get("foundAt"),
                           "place": _place_text(place) or "a place", "href":
                           f"#{anchor_prefix}{i}" if anchor_prefix else None}
        else:
            p["count"] += 1
    out = []
    for p in points.values():
        when = f", last on {str(p['last'])[:10]}" if p["last"] else ""
        times = "once" if p["count"] == 1 else ("twice" if p["count"] == 2 else f"{p['count']} times")
        out.append({"lat": p["lat"], "lng": p["lng"], "count": p["count"], "href": p["href"],
                    "label": f"Found {times} at {p['place']}{when}"})
    return {"cells": [], "points": out, "threshold": None}
