/*
 * mpdb console maps: hot spots (grid cell squares, counts shaded, small numbers hatched) and
 * "where found before" (points), over the project's own LA and police force outlines.
 *
 * No tile layer: an offline police or council network cannot fetch tiles, so the background is the
 * GeoJSON the console serves (seed/reference/outlines/, approximations at 2 km). Plain JS on
 * Leaflet 1.9.4 (window.L, vendored): no build step.
 *
 * Markup (the page also shows a table with the same facts: the map is never the only carrier):
 *   <div class="mpdb-map" data-mpdb-map data-source="hotspot-map-data"
 *        data-outlines-url="/geo/outlines/local_authorities.geojson /geo/outlines/police_forces.geojson"
 *        data-focus-code="E23000032" data-label="Hot spots in Kent"></div>
 *   <script type="application/json" id="hotspot-map-data">{{ map_data | tojson }}</script>
 * map_data comes from mpdb/console/geo.py: {cells: [...], points: [...], threshold}.
 *
 * Once drawn, the element gets data-rendered="true", data-cells (squares drawn), data-hotspots,
 * data-points and data-outlines ("loaded", "partial", "failed" or "none"), so browser tests can wait for it.
 * API: window.mpdbMap.render(element) -> Promise; window.mpdbMap.renderAll(root).
 */
(function () {
  "use strict";

  var ENGLAND_AND_WALES = [[49.86, -6.45], [55.82, 1.77]];
  // Sequential, colour-blind safe (ColorBrewer YlOrRd), light = few, dark = many.
  var SHADES = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  var SUPPRESSED_COLOUR = "#505a5f";
  var POINT_COLOUR = "#1d70b8";
  var hatchSeq = 0;

  function textElement(tag, text, className) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function readIsland(el) {
    var id = el.getAttribute("data-source");
    var script = id ? document.getElementById(id) : null;
    if (!script) return { cells: [], points: [], threshold: null };
    var data = JSON.parse(script.textContent || "{}");
    return { cells: data.cells || [], points: data.points || [], threshold: data.threshold == null ? null : data.threshold };
  }

  function shadeIndex(count, max) {
    if (max <= 0) return 0;
    return Math.max(0, Math.min(SHADES.length - 1, Math.ceil((count / max) * SHADES.length) - 1));
  }

  function go(href) {
    if (!href) return;
    if (href.charAt(0) === "#") {
      var target = document.getElementById(href.slice(1));
      if (target) {
        if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
        target.scrollIntoView({ block: "center" });
        target.focus({ preventScroll: true });
      }
      if (history.replaceState) history.replaceState(null, "", href);
      return;
    }
    window.location.assign(href);
  }

  // A vector feature the keyboard can reach: Tab focuses it and shows its tooltip, Enter follows it.
  function makeFocusable(layer, label, href) {
    var el = layer.getElement && layer.getElement();
    if (!el) return;
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", href ? "link" : "img");
    el.setAttribute("aria-label", label);
    el.addEventListener("focus", function () { layer.openTooltip(); });
    el.addEventListener("blur", function () { layer.closeTooltip(); });
    el.addEventListener("keydown", function (ev) {
      if (href && (ev.key === "Enter" || ev.key === " ")) {
        ev.preventDefault();
        go(href);
      }
    });
  }

  function ensureHatch(map) {
    if (map._mpdbHatch) return map._mpdbHatch;
    var svg = map.getPanes().overlayPane.querySelector("svg");
    if (!svg) return null;
    var ns = "http://www.w3.org/2000/svg";
    var id = "mpdb-map-hatch-" + (++hatchSeq);
    var defs = document.createElementNS(ns, "defs");
    var pattern = document.createElementNS(ns, "pattern");
    pattern.setAttribute("id", id);
    pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("width", "6");
    pattern.setAttribute("height", "6");
    pattern.setAttribute("patternTransform", "rotate(45)");
    var bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", "6");
    bg.setAttribute("height", "6");
    bg.setAttribute("fill", "#f3f2f1");
    var line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0");
    line.setAttribute("y1", "0");
    line.setAttribute("x2", "0");
    line.setAttribute("y2", "6");
    line.setAttribute("stroke", SUPPRESSED_COLOUR);
    line.setAttribute("stroke-width", "2");
    pattern.appendChild(bg);
    pattern.appendChild(line);
    defs.appendChild(pattern);
    svg.insertBefore(defs, svg.firstChild);
    map._mpdbHatch = "url(#" + id + ")";
    return map._mpdbHatch;
  }

  // A hot spot is drawn twice: its ~500 m cells as squares (the true extent, visible once zoomed in)
  // and a fixed-size disc at the peak cell (visible at any zoom, the keyboard stop, the count label).
  function drawCells(map, cells) {
    var max = 0;
    cells.forEach(function (c) { if (!c.suppressed && c.count > max) max = c.count; });
    var group = L.featureGroup().addTo(map);
    var squares = 0;
    cells.forEach(function (c) {
      var suppressed = !!c.suppressed || c.count == null;
      var state = suppressed ? " mpdb-map-suppressed" : " mpdb-map-counted";
      var style = suppressed
        ? { color: SUPPRESSED_COLOUR, weight: 1.5, dashArray: "4 3", fillColor: "#b1b4b6", fillOpacity: 1 }
        : { color: "#6f3700", weight: 1, fillColor: SHADES[shadeIndex(c.count, max)], fillOpacity: 0.85 };
      var tooltip = function () { return textElement("span", c.label); };
      var layers = [];
      (c.squares || []).forEach(function (sq) {
        layers.push(L.rectangle(sq, L.extend({}, style, { className: "mpdb-map-cell" + state })));
        squares += 1;
      });
      var disc = c.centre ? L.circleMarker(c.centre, L.extend({}, style, {
        radius: 11, weight: 1.5, className: "mpdb-map-hotspot" + state })) : null;
      if (disc) layers.push(disc);
      layers.forEach(function (layer) {
        layer.addTo(group);
        layer.bindTooltip(tooltip, { direction: "top", offset: [0, -8] });
        if (c.href) layer.on("click", function () { go(c.href); });
        layer.getElement().setAttribute("data-rank", String(c.rank));
        if (suppressed) {
          // the pattern lives in the overlay SVG, which exists once the first shape is on the map
          var hatch = ensureHatch(map);
          if (hatch) layer.setStyle({ fillColor: hatch });
        }
      });
      // One keyboard stop per hot spot (its disc, or its first square), not one per cell.
      var stop = disc || layers[0];
      if (stop) makeFocusable(stop, c.label, c.href);
      if (!suppressed && c.centre) {
        var holder = document.createElement("div");
        holder.appendChild(textElement("span", String(Number(c.count))));
        var label = L.marker(c.centre, {
          icon: L.divIcon({ className: "mpdb-map-count", html: holder.innerHTML, iconSize: null }),
          interactive: false, keyboard: false
        }).addTo(group);
        label.getElement().setAttribute("aria-hidden", "true"); // the disc's label says it in words
      }
    });
    return { group: group, squares: squares, max: max };
  }

  function drawPoints(map, points) {
    var group = L.featureGroup().addTo(map);
    points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lng], {
        radius: 6 + Math.min(p.count || 1, 5), color: "#ffffff", weight: 2, fillColor: POINT_COLOUR,
        fillOpacity: 0.9, className: "mpdb-map-point"
      }).addTo(group);
      marker.bindTooltip(function () { return textElement("span", p.label); });
      if (p.href) marker.on("click", function () { go(p.href); });
      makeFocusable(marker, p.label, p.href);
    });
    return group;
  }

  function addLegend(map, drawn, threshold, measure) {
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      var box = L.DomUtil.create("div", "mpdb-map-legend");
      box.setAttribute("aria-hidden", "true"); // the table beside the map carries the same facts
      if (drawn.max > 0) {
        box.appendChild(textElement("div", measure === "episodes" ? "Episodes" : "Children", "mpdb-map-legend-title"));
        for (var i = 0; i < SHADES.length; i++) {
          var lo = Math.floor((i * drawn.max) / SHADES.length) + 1;
          var hi = Math.floor(((i + 1) * drawn.max) / SHADES.length);
          if (lo > hi) continue;
          var row = L.DomUtil.create("div", "mpdb-map-legend-row", box);
          var sw = L.DomUtil.create("span", "mpdb-map-swatch", row);
          sw.style.background = SHADES[i];
          row.appendChild(document.createTextNode(lo === hi ? String(lo) : lo + "\u2013" + hi));
        }
      }
      if (drawn.suppressedCount > 0) {
        var srow = L.DomUtil.create("div", "mpdb-map-legend-row", box);
        L.DomUtil.create("span", "mpdb-map-swatch mpdb-map-swatch-suppressed", srow);
        srow.appendChild(document.createTextNode(
          threshold ? "Fewer than " + threshold + " (not shown)" : "Small number (not shown)"));
      }
      return box;
    };
    legend.addTo(map);
  }

  function loadOutlines(map, urls) {
    if (!urls.length) return Promise.resolve({ state: "none", layers: [] });
    map.createPane("mpdbOutlines");
    map.getPane("mpdbOutlines").style.zIndex = 350; // under the hot spots (overlayPane is 400)
    // Each file on its own: a missing LA file still leaves the force outlines (and the data) drawn.
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error("outlines " + r.status);
        return r.json();
      }).catch(function () { return null; });
    })).then(function (results) {
      var collections = results.filter(Boolean);
      // local authorities (with a `force` property) below, forces above with a stronger line
      var sorted = collections.slice().sort(function (a, b) { return isLa(b) - isLa(a); });
      var layers = sorted.map(function (fc) {
        var la = isLa(fc);
        return L.geoJSON(fc, {
          pane: "mpdbOutlines", interactive: false,
          attribution: "Outlines approx. 2 km from ONS Postcode Directory (OGL v3)",
          style: la
            ? { color: "#8b9297", weight: 0.6, fillColor: "#ffffff", fillOpacity: 1 }
            : { color: "#0b0c0c", weight: 1.4, fill: !collections.some(isLa), fillColor: "#ffffff", fillOpacity: 1 }
        }).addTo(map);
      });
      var state = collections.length === urls.length ? "loaded" : (collections.length ? "partial" : "failed");
      return { state: state, layers: layers };
    });

    function isLa(fc) {
      var f = fc && fc.features && fc.features[0];
      return f && f.properties && f.properties.force ? 1 : 0;
    }
  }

  function focusBounds(layers, code) {
    var found = null;
    layers.forEach(function (layer) {
      layer.eachLayer(function (f) {
        if (f.feature && f.feature.properties && f.feature.properties.code === code) found = f.getBounds();
      });
    });
    return found;
  }

  function render(el) {
    if (!window.L) return Promise.reject(new Error("Leaflet is not loaded"));
    if (el._mpdbMap) {
      el._mpdbMap.remove();
      el._mpdbMap = null;
    }
    el.removeAttribute("data-rendered");
    var data = readIsland(el);
    var map = L.map(el, {
      zoomControl: true, attributionControl: true, keyboard: true, minZoom: 5, maxZoom: 16,
      maxBounds: [[48.5, -10.5], [57.5, 4.5]], maxBoundsViscosity: 0.8, zoomSnap: 0.5
    });
    el._mpdbMap = map;
    map.attributionControl.setPrefix(false);
    if (!el.getAttribute("aria-label")) el.setAttribute("aria-label", el.getAttribute("data-label") || "Map");
    map.fitBounds(ENGLAND_AND_WALES);

    var cells = drawCells(map, data.cells);
    cells.suppressedCount = data.cells.filter(function (c) { return c.suppressed || c.count == null; }).length;
    var points = drawPoints(map, data.points);
    var measure = data.cells.length ? data.cells[0].measure : null;
    if (data.cells.length) addLegend(map, cells, data.threshold, measure);

    var bounds = L.latLngBounds([]);
    if (data.cells.length) bounds.extend(cells.group.getBounds());
    if (data.points.length) bounds.extend(points.getBounds());
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 13 });

    var urls = (el.getAttribute("data-outlines-url") || "").split(/\s+/).filter(Boolean);
    return loadOutlines(map, urls).then(function (outlines) {
      var code = el.getAttribute("data-focus-code");
      if (!bounds.isValid() && code) {
        var area = focusBounds(outlines.layers, code);
        if (area) map.fitBounds(area, { padding: [12, 12] });
      }
      el.setAttribute("data-outlines", outlines.state);
      el.setAttribute("data-cells", String(cells.squares));
      el.setAttribute("data-hotspots", String(data.cells.length));
      el.setAttribute("data-points", String(data.points.length));
      el.setAttribute("data-rendered", "true");
      return map;
    });
  }

  function renderAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var els = Array.prototype.slice.call(scope.querySelectorAll("[data-mpdb-map]"));
    if (scope.matches && scope.matches("[data-mpdb-map]")) els.unshift(scope);
    return Promise.all(els.map(render));
  }

  window.mpdbMap = { render: render, renderAll: renderAll };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { renderAll(document); });
  } else {
    renderAll(document);
  }
  // Maps swapped in by htmx draw themselves too.
  document.addEventListener("htmx:load", function (ev) {
    if (ev.target !== document.body) renderAll(ev.target);
  });
})();
