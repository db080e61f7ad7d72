"""mpdb/console/static/js/map.js in a real chromium: hot-spot squares, points and the shipped outlines,
drawn with no request leaving 127.0.0.1 (no tiles, no CDN)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest_asyncio

from browser.map_fixture_data import FOUND_BEFORE, HOTSPOTS
from mpdb.console.geo import found_before_map_data, hotspot_map_data

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "map.html"
LA_FEATURES, FORCE_FEATURES = 175, 43


def _island(html: str, element_id: str) -> dict:
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert m, element_id
    return json.loads(m.group(1))


def test_fixture_islands_are_what_geo_builds():
    html = FIXTURE.read_text(encoding="utf-8")
    assert _island(html, "hotspot-map-data") == hotspot_map_data(HOTSPOTS)
    assert _island(html, "found-map-data") == found_before_map_data(FOUND_BEFORE)


@pytest_asyncio.fixture(loop_scope="session")
async def map_page(offline_page, static_site):
    page = offline_page.page
    await page.goto(f"{static_site}/fixtures/map.html")
    for map_id in ("hotspot-map", "found-map", "empty-map", "broken-map"):
        await page.wait_for_selector(f"#{map_id}[data-rendered='true']", state="attached", timeout=15_000)
    return offline_page


async def _attr(page, selector: str, name: str) -> list[str | None]:
    return await page.eval_on_selector_all(selector, f"els => els.map(e => e.getAttribute('{name}'))")


async def _attrs(page, selector: str, *names: str) -> tuple[str | None, ...]:
    return tuple([await page.get_attribute(selector, n) for n in names])


async def _count(page, selector: str) -> int:
    return await page.locator(selector).count()


async def test_hotspots_drawn_as_squares_counts_and_hatched_small_numbers(map_page):
    page = map_page.page
    assert await _attrs(page, "#hotspot-map", "data-cells", "data-hotspots", "data-points", "data-outlines") == (
        "8", "5", "0", "loaded")
    assert await _count(page, "#hotspot-map path.mpdb-map-cell") == 8  # 2 + 1 + 3 + 1 + 1 cells
    assert await _count(page, "#hotspot-map path.mpdb-map-hotspot") == 5  # a disc at each peak cell
    # counts: one label per hot spot with a count, none for the two suppressed ones
    assert await page.locator("#hotspot-map .mpdb-map-count").all_inner_texts() == ["12", "5", "3"]
    suppressed = "#hotspot-map path.mpdb-map-suppressed"
    assert await _attr(page, suppressed, "data-rank") == ["4", "4", "5", "5"]  # a square and a disc each
    assert all(f.startswith("url(#mpdb-map-hatch-") for f in await _attr(page, suppressed, "fill"))
    assert await _attr(page, suppressed + "[tabindex]", "aria-label") == [
        "Hot spot 4: fewer than 3 children", "Hot spot 5: fewer than 3 children"]
    # shading: darkest for the most children (12), second lightest for 3 of 12
    assert await _attr(page, "#hotspot-map path.mpdb-map-cell.mpdb-map-counted", "fill") == [
        "#bd0026", "#bd0026", "#fd8d3c", "#fecc5c", "#fecc5c", "#fecc5c"]
    assert await _attr(page, "#hotspot-map path.mpdb-map-hotspot.mpdb-map-counted", "fill") == [
        "#bd0026", "#fd8d3c", "#fecc5c"]
    # one keyboard stop per hot spot (its disc), labelled as in the table
    assert await _attr(page, "#hotspot-map path[tabindex='0']", "class") == [
        "mpdb-map-hotspot mpdb-map-counted leaflet-interactive"] * 3 + [
        "mpdb-map-hotspot mpdb-map-suppressed leaflet-interactive"] * 2
    assert await _attr(page, "#hotspot-map path[tabindex='0']", "aria-label") == [
        "Hot spot 1: 12 children, 15 episodes; Oakfield House (childrens home)",
        "Hot spot 2: 5 children, 9 episodes; Ashford International (transport hub)",
        "Hot spot 3: 3 children, 4 episodes; a residence (not named)",
        "Hot spot 4: fewer than 3 children",
        "Hot spot 5: fewer than 3 children",
    ]
    legend = await page.locator("#hotspot-map .mpdb-map-legend").inner_text()
    assert legend.split("\n") == ["Children", "1–2", "3–4", "5–7", "8–9", "10–12", "Fewer than 3 (not shown)"]
    # the background: one path per LA and per force outline, and no tile layer at all
    assert await _count(page, "#hotspot-map .leaflet-mpdbOutlines-pane path") == LA_FEATURES + FORCE_FEATURES
    assert await _count(page, "#hotspot-map .leaflet-tile-pane img") == 0
    assert map_page.external_requests == []
    assert map_page.page_errors == []
    # the only failed load is the broken map's missing outlines (and the favicon the fixture lacks)
    failed = {u.rsplit("/", 1)[1] for u in map_page.requests if u.endswith(("nowhere.geojson", "favicon.ico"))}
    assert "nowhere.geojson" in failed
    assert len(map_page.console_errors) == len(failed)
    assert all(u.startswith("http://127.0.0.1:") for u in map_page.requests)
    assert sum(u.endswith("/geo/outlines/local_authorities.geojson") for u in map_page.requests) == 1


async def test_hotspots_keyboard(map_page):
    page = map_page.page
    assert await page.get_attribute("#hotspot-map", "tabindex") == "0"  # Leaflet's keyboard panning and zoom
    await page.focus("#hotspot-map path[data-rank='4'][tabindex]")
    tip = page.locator("#hotspot-map .leaflet-tooltip")
    await tip.wait_for(state="visible")
    assert await tip.inner_text() == "Hot spot 4: fewer than 3 children"
    await page.keyboard.press("Tab")  # on to hot spot 5: its own tooltip
    await page.wait_for_function("document.querySelector('#hotspot-map .leaflet-tooltip')"
                                 "?.textContent === 'Hot spot 5: fewer than 3 children'")
    await page.focus("#hotspot-map path[data-rank='1'][tabindex]")
    await page.keyboard.press("Enter")  # follows to the hot spot's row in the table beside the map
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'hotspot-1'")
    assert await page.evaluate("location.hash") == "#hotspot-1"


async def test_where_found_before_points(map_page):
    page = map_page.page
    assert await _attrs(page, "#found-map", "data-points", "data-cells", "data-outlines") == ("2", "0", "loaded")
    assert await _attr(page, "#found-map path.mpdb-map-point", "aria-label") == [
        "Found twice at Ashford International (transport hub), last on 2026-10-02",
        "Found once at Stratford bus station (transport hub), last on 2026-08-30",
    ]
    assert await _count(page, "#found-map .leaflet-mpdbOutlines-pane path") == FORCE_FEATURES
    # the view frames both places (Ashford and east London)
    south, west, north, east = await page.evaluate(
        "(() => { const b = document.getElementById('found-map')._mpdbMap.getBounds();"
        " return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()")
    assert south < 51.1435 < north and south < 51.5418 < north and west < -0.0031 and 0.8753 < east


async def test_empty_map_frames_the_area_and_a_missing_outline_file_leaves_the_rest(map_page):
    page = map_page.page
    assert await _attrs(page, "#empty-map", "data-cells", "data-points") == ("0", "0")
    lat, lng = await page.evaluate("(() => { const c = document.getElementById('empty-map')._mpdbMap.getCenter();"
                                   " return [c.lat, c.lng]; })()")
    assert 50.9 < lat < 51.5 and 0.0 < lng < 1.5  # Kent Police's outline
    assert await _attrs(page, "#broken-map", "data-outlines", "data-points") == ("partial", "2")
    assert await _count(page, "#broken-map path.mpdb-map-point") == 2
    assert await _count(page, "#broken-map .leaflet-mpdbOutlines-pane path") == FORCE_FEATURES
    assert map_page.external_requests == []
