"""The console map's data: grid cell squares and the JSON island built from the API's answers."""
from __future__ import annotations

import math

import pytest

from mpdb.console import geo
from mpdb.domain.geo import cell_bounds, cell_centre, cell_id, haversine_km

# Canterbury, Kent: the ~500 m cell holding (51.2785, 1.0803).
CANTERBURY = "g500:31418:25191"


def test_known_cell_corners_exact():
    assert cell_id(51.2785, 1.0803) == CANTERBURY
    assert geo.cell_square(CANTERBURY) == [[51.274236, 1.075147], [51.278733, 1.082335]]
    # from the grid's definition: rows are 500 m of latitude, columns 500 m at the row's middle
    row_deg = 0.5 / (math.pi * 6371.0088 / 180)
    s, w, n, e = cell_bounds(CANTERBURY)
    assert s == pytest.approx(31418 * row_deg - 90, abs=1e-12)
    assert n == pytest.approx(31419 * row_deg - 90, abs=1e-12)
    col_deg = row_deg / math.cos(math.radians((s + n) / 2))
    assert w == pytest.approx(25191 * col_deg - 180, abs=1e-9)
    assert e == pytest.approx(25192 * col_deg - 180, abs=1e-9)


def test_cell_square_is_the_cell():
    s, w, n, e = cell_bounds(CANTERBURY)
    assert ((s + n) / 2, (w + e) / 2) == pytest.approx(cell_centre(CANTERBURY), abs=1e-12)
    assert haversine_km(s, w, n, w) == pytest.approx(0.5, abs=1e-6)
    assert haversine_km((s + n) / 2, w, (s + n) / 2, e) == pytest.approx(0.5, abs=1e-3)
    eps = 1e-9
    for lat, lon in ((s + eps, w + eps), (n - eps, e - eps), (s + eps, e - eps), (n - eps, w + eps)):
        assert cell_id(lat, lon) == CANTERBURY
    assert cell_id(n + eps, w + eps) != CANTERBURY
    assert cell_id(s + eps, e + eps) != CANTERBURY


def _node(rank, cells, children, episodes, place=None, suppressed=False):
    return {"id": cells[0], "rank": rank, "cells": cells, "children": children, "episodes": episodes,
            "suppressed": suppressed, "place": place}


def test_hotspot_map_data():
    east = cell_id(51.2785, 1.0830)
    home = {"id": "loc-1", "name": "Oakfield House", "kind": "childrens_home", "latitude": 51.277,
            "longitude": 1.08}
    connection = {"area": "E23000032", "suppressionThreshold": 3, "nodes": [
        _node(1, [CANTERBURY, east], 12, 15, home),
        _node(2, ["g500:31300:25000"], 3, 4, {"id": None, "name": None, "kind": "residence"}),
        _node(3, ["g500:31200:25100"], None, None, {"id": None, "name": None, "kind": "residence"}, True),
    ]}
    data = geo.hotspot_map_data(connection)
    assert data["threshold"] == 3 and data["points"] == []
    first, second, third = data["cells"]
    assert first == {
        "id": CANTERBURY, "rank": 1, "count": 12, "measure": "children", "suppressed": False,
        "label": "Hot spot 1: 12 children, 15 episodes; Oakfield House (childrens home)",
        "href": "#hotspot-1",
        "centre": [round(v, 6) for v in cell_centre(CANTERBURY)],
        "squares": [[[51.274236, 1.075147], [51.278733, 1.082335]], geo.cell_square(east)],
    }
    assert geo.cell_square(east)[0] == [51.274236, 1.082335]  # shares the edge with its west neighbour
    assert second["label"] == "Hot spot 2: 3 children, 4 episodes; a residence (not named)"
    assert third["count"] is None and third["suppressed"] is True
    assert third["label"] == "Hot spot 3: fewer than 3 children"  # no place for a withheld count
    assert len(third["squares"]) == 1


def test_hotspot_map_data_by_episodes_and_without_threshold():
    nodes = [_node(1, [CANTERBURY], 1, 1)]
    data = geo.hotspot_map_data({"suppressionThreshold": None, "nodes": nodes}, measure="episodes",
                                anchor_prefix=None)
    assert data["cells"][0]["count"] == 1 and data["cells"][0]["href"] is None
    assert data["cells"][0]["label"] == "Hot spot 1: 1 child, 1 episode"
    withheld = geo.hotspot_map_data({"suppressionThreshold": None, "nodes": [_node(1, [CANTERBURY], None, 7)]})
    assert withheld["cells"][0]["label"] == "Hot spot 1: children withheld (small number)"
    with pytest.raises(ValueError):
        geo.hotspot_map_data({"nodes": []}, measure="places")
    assert geo.hotspot_map_data({"nodes": []}) == {"cells": [], "points": [], "threshold": None}


def test_found_before_map_data_groups_by_place():
    station = {"id": "loc-9", "name": "Ashford International", "kind": "transport_hub",
               "latitude": 51.1435, "longitude": 0.8753}
    found = [
        {"episodeId": "e3", "foundAt": "2026-10-02T21:15:00+00:00", "foundBy": "E23000032", "place": station},
        {"episodeId": "e2", "foundAt": "2026-08-30T09:00:00+00:00", "foundBy": "E23000032",
         "place": {"id": "loc-2", "name": None, "kind": "address", "latitude": None, "longitude": None}},
        {"episodeId": "e1", "foundAt": "2026-07-14T18:40:00+00:00", "foundBy": "E23000032", "place": station},
    ]
    data = geo.found_before_map_data(found)
    assert data == {"cells": [], "threshold": None, "points": [{
        "lat": 51.1435, "lng": 0.8753, "count": 2, "href": "#found-1",
        "label": "Found twice at Ashford International (transport hub), last on 2026-10-02"}]}


def test_outline_path_only_known_names():
    assert geo.outline_path("police_forces") == geo.OUTLINES_DIR / "police_forces.geojson"
    assert geo.outline_path("local_authorities").is_file()
    assert geo.outline_path("../../pyproject") is None
    assert geo.outline_path("police_forces.geojson") is None


def test_outline_version_is_a_content_hash():
    import hashlib

    data = (geo.OUTLINES_DIR / "police_forces.geojson").read_bytes()
    assert geo.outline_version("police_forces") == hashlib.sha256(data).hexdigest()[:12]
    with pytest.raises(KeyError):
        geo.outline_version("elsewhere")
