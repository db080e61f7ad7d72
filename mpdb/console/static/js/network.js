// Network pictures (Cytoscape.js, vendored: load /static/vendor/cytoscape/cytoscape.min.js first).
//
// Input: a JSON island, <script type="application/json" id="ISLAND">, holding
//   {
//     "nodes": [{"id": "P-1234",          // unique within the picture (a pseudonym, person or place id)
//                "label": "Jo Bloggs",    // what is written under the node; for kind "summary" the
//                                         // pseudonym, never a name (the page decides; this only draws)
//                "kind": "child" | "summary" | "adult" | "place" | "focus",  // focus: the page's own child
//                "href": "/children/..."  // optional: where a click on the node goes
//               }, ...],
//     "edges": [{"source": "P-1234", "target": "P-5678",   // node ids
//                "label": "same place",                     // optional, drawn along the edge
//                "weight": 0.42,                            // optional, 0..1: line thickness
//                "explicit": true                           // optional: recorded link (solid) vs inferred (dashed)
//               }, ...]
//   }
// and a container element with data-network="ISLAND". Edges naming a node that is not in "nodes"
// are dropped (and not counted), so the picture never shows more than its table.
//
// Output: after the layout, the container gets data-rendered="true", data-node-count and
// data-edge-count (what was drawn), which browser tests wait for. The picture is never the only
// way to the facts: every page that uses this has a table with the same nodes and edges beside it,
// and the canvas itself is not focusable.
//
// Load as a classic script after cytoscape.min.js (no build step, no module needed). It draws every
// [data-network] container once the page is parsed; `window.mpdbNetwork.renderNetwork(container,
// data)` draws `data` into another container and returns the Cytoscape instance.

(() => {
"use strict";

const COLOURS = {
  child: "#1d70b8",
  summary: "#b1b4b6",
  adult: "#d4351c",
  place: "#00703c",
};

const STYLE = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      "font-size": 11,
      "font-family": "arial, sans-serif",
      color: "#0b0c0c",
      "text-valign": "bottom",
      "text-margin-y": 4,
      "text-wrap": "ellipsis",
      "text-max-width": 120,
      width: 22,
      height: 22,
      "background-color": COLOURS.child,
      "border-width": 2,
      "border-color": "#0b0c0c",
    },
  },
  // Summary-form children: grey, dashed border, italic pseudonym: visibly "we know of, not who".
  {
    selector: 'node[kind = "summary"]',
    style: { "background-color": COLOURS.summary, "border-style": "dashed", "border-color": "#505a5f", "font-style": "italic" },
  },
  { selector: 'node[kind = "adult"]', style: { "background-color": COLOURS.adult, shape: "diamond" } },
  { selector: 'node[kind = "place"]', style: { "background-color": COLOURS.place, shape: "round-rectangle" } },
  { selector: 'node[kind = "focus"]', style: { width: 32, height: 32, "border-width": 4, "font-weight": "bold" } },
  { selector: "node[href]", style: { "underlay-color": "#1d70b8", "underlay-opacity": 0 } },
  {
    selector: "edge",
    style: {
      width: "mapData(weight, 0, 1, 1, 6)",
      "line-color": "#505a5f",
      "line-style": "dashed",
      "curve-style": "bezier",
      label: "data(label)",
      "font-size": 9,
      "text-rotation": "autorotate",
      "text-background-color": "#f3f2f1",
      "text-background-opacity": 1,
      "text-background-padding": 1,
    },
  },
  { selector: "edge[!weight]", style: { width: 2 } },
  { selector: "edge[?explicit]", style: { "line-style": "solid", "line-color": "#0b0c0c" } },
];

function elements(data) {
  const nodes = (data.nodes || []).filter((n) => n && n.id != null);
  const ids = new Set(nodes.map((n) => String(n.id)));
  const edges = (data.edges || []).filter((e) => ids.has(String(e.source)) && ids.has(String(e.target)));
  return {
    nodes: nodes.map((n) => ({ data: { ...n, id: String(n.id), label: n.label ?? String(n.id), kind: n.kind || "child" } })),
    edges: edges.map((e, i) => ({ data: { ...e, id: `e${i}`, source: String(e.source), target: String(e.target), label: e.label || "" } })),
  };
}

function renderNetwork(container, data) {
  const cytoscape = window.cytoscape;
  if (typeof cytoscape !== "function") {
    container.dataset.rendered = "false";
    container.textContent = "The picture could not be drawn; the tables on this page hold the same facts.";
    return null;
  }
  const els = elements(data);
  const done = (cy) => {
    container.dataset.nodeCount = String(cy.nodes().length);
    container.dataset.edgeCount = String(cy.edges().length);
    container.dataset.rendered = "true";
  };
  const cy = cytoscape({
    container,
    elements: els,
    style: STYLE,
    wheelSensitivity: 0.3,
    minZoom: 0.2,
    maxZoom: 3,
    layout: { name: "preset" },
  });
  cy.on("tap", "node[href]", (event) => {
    window.location.assign(event.target.data("href"));
  });
  if (els.nodes.length === 0) {
    done(cy);
    return cy;
  }
  const layout = cy.layout({
    name: els.nodes.length > 1 ? "cose" : "grid",
    animate: false,
    randomize: false,
    nodeDimensionsIncludeLabels: true,
    padding: 20,
  });
  layout.one("layoutstop", () => {
    cy.fit(undefined, 20);
    done(cy);
  });
  layout.run();
  return cy;
}

function renderAll() {
  for (const container of document.querySelectorAll("[data-network]")) {
    const island = document.getElementById(container.dataset.network);
    if (!island) continue;
    let data;
    try {
      data = JSON.parse(island.textContent || "{}");
    } catch {
      container.textContent = "The picture could not be drawn; the tables on this page hold the same facts.";
      continue;
    }
    renderNetwork(container, data);
  }
}

window.mpdbNetwork = { renderNetwork };
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", renderAll);
} else {
  renderAll();
}
})();
