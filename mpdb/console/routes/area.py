"""My area: for a local authority its linked children (a table and a network picture) and its
placements in and out; for a police force the co-missing groups touching its area.

Both come from the API as any client gets them: `linkedChildren(localAuthority)` (the LA's own
looked-after children with their current placement, other LAs' children placed in its area, and
children linked to either, in summary form unless the LA may read them) and `coMissingGroups(area)`.
Placements out are the LA's looked-after children whose current placement is hosted by another LA;
placements in are the PLACED_IN entries. The network picture is drawn by static/js/network.js from
a JSON island holding exactly the rows of the tables beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpdb.auth.principal import AgencyKind
from mpdb.console.gateway import ConsoleError
from mpdb.console.sessions import ConsoleSession
from mpdb.console.web import agency_name, reference_data, render, with_purpose

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
MAX_PAGES = 5  # 500 children or groups per screen; beyond it the page says so
RELATIONS = {"LOOKED_AFTER": "Looked after by us", "PLACED_IN": "Placed in our area", "LINKED": "Linked"}
EVIDENCE = {"EXPLICIT": "went missing together", "SAME_ADULT": "same adult", "SAME_PLACE": "same place",
            "SAME_CELL": "same area at the same time", "SHARED_ASSOCIATE": "shared associate",
            "SHARED_HOTSPOT": "same hot spot"}


@dataclass
class Network:
    """Nodes and edges for network.js; every node is a row of the children table and every edge a
    row of the links table, so the picture holds nothing the tables do not."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "edges": self.edges}


def _name(child: dict[str, Any] | None) -> str | None:
    if not child:
        return None
    return " ".join(p for p in (child.get("givenName"), child.get("familyName")) if p) or "Name not recorded"


def _node(pseudonym: str, child: dict[str, Any] | None) -> dict[str, Any]:
    if child:
        return {"id": pseudonym, "label": _name(child), "kind": "child", "href": f"/children/{child['id']}"}
    return {"id": pseudonym, "label": pseudonym, "kind": "summary"}  # never a name


def _area_kind(code: str) -> str | None:
    ref = reference_data()
    if code in ref.las:
        return "la"
    if code in ref.forces:
        return "force"
    return None


async def _all_pages(request: Request, session: ConsoleSession, operation: str, key: str,
                     variables: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    gateway = request.app.state.console_gateway
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        page = (await gateway.run(request, session, operation, {**variables, "first": PAGE_SIZE, "after": after}))[key]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return page, nodes, False
        after = page["pageInfo"]["endCursor"]
    return page, nodes, True


def _la_view(la: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    net = Network()
    children, links, placed_in, placed_out = [], [], [], []
    for e in entries:
        summary, child = e["summary"], e.get("child")
        pseudonym = summary["pseudonym"]
        net.nodes.append(_node(pseudonym, child))
        current = e["placements"][0] if e["placements"] else None
        children.append({
            "pseudonym": pseudonym, "name": _name(child), "href": f"/children/{child['id']}" if child else None,
            "relation": RELATIONS.get(e["relation"], e["relation"]), "age_band": summary.get("ageBand") or "unknown",
            "responsible": agency_name(summary.get("responsibleAuthority")),
            "flags": ", ".join(f["type"].replace("_", " ") for f in summary.get("activeFlags") or []),
            "placement": (f"{agency_name(current.get('placedBy'))} in {agency_name(current.get('hostedBy'))}"
                          if current else ""),
        })
        for lk in e.get("links") or []:
            label = ", ".join(dict.fromkeys(EVIDENCE.get(ev["kind"], ev["kind"]) for ev in lk["evidence"]))
            net.edges.append({"source": lk["anchor"]["pseudonym"], "target": pseudonym, "label": label,
                              "weight": round(lk["strength"], 2), "explicit": lk["explicit"]})
            links.append({"from": _name(lk["anchor"]), "from_pseudonym": lk["anchor"]["pseudonym"],
                          "to": _name(child) or f"{pseudonym} (summary only)", "to_pseudonym": pseudonym,
                          "strength": f"{lk['strength']:.2f}", "evidence": label})
        for p in e["placements"]:
            row = {"pseudonym": pseudonym, "name": _name(child),
                   "href": f"/children/{child['id']}" if child else None,
                   "placed_by": agency_name(p.get("placedBy")), "hosted_by": agency_name(p.get("hostedBy")),
                   "force": agency_name(p.get("forceArea")), "start": p.get("startDate") or "",
                   "type": p.get("placementType") or "",
                   "distance": f"{p['distanceKm']:.0f} km" if p.get("distanceKm") is not None else ""}
            if e["relation"] == "PLACED_IN" and p.get("hostedBy") == la:
                placed_in.append(row)
            elif e["relation"] == "LOOKED_AFTER" and p.get("hostedBy") and p.get("hostedBy") != la:
                placed_out.append(row)
    return {"children": children, "links": links, "placed_in": placed_in, "placed_out": placed_out,
            "network": net.as_json()}


def _force_view(groups: list[dict[str, Any]]) -> dict[str, Any]:
    net = Network()
    members, links, rows = [], [], []
    for g in groups:
        rows.append({"id": g["id"], "size": g["size"], "episodes": g["episodeCount"],
                     "forces": ", ".join(agency_name(c) for c in g["forces"]),
                     "las": ", ".join(agency_name(c) for c in g["localAuthorities"])})
        names = {}
        for m in g["members"]:
            child = m.get("child")
            names[m["pseudonym"]] = _name(child) or f"{m['pseudonym']} (summary only)"
            net.nodes.append(_node(m["pseudonym"], child))
            members.append({"group": g["id"], "pseudonym": m["pseudonym"], "name": _name(child),
                            "href": f"/children/{child['id']}" if child else None,
                            "age_band": m.get("ageBand") or "unknown",
                            "responsible": agency_name(m.get("responsibleAuthority"))})
        for lk in g["links"]:
            label = "went missing together" if lk["explicit"] else "inferred"
            net.edges.append({"source": lk["fromPseudonym"], "target": lk["toPseudonym"], "label": label,
                              "weight": round(lk["strength"], 2), "explicit": lk["explicit"]})
            links.append({"from": names.get(lk["fromPseudonym"], lk["fromPseudonym"]), "from_pseudonym": lk["fromPseudonym"],
                          "to": names.get(lk["toPseudonym"], lk["toPseudonym"]), "to_pseudonym": lk["toPseudonym"],
                          "strength": f"{lk['strength']:.2f}", "evidence": label})
    return {"groups": rows, "members": members, "links": links, "network": net.as_json()}


@router.get("/area")
async def area_page(request: Request, session: Annotated[ConsoleSession, Depends(with_purpose)],
                    area: str = "") -> Response:
    p = session.principal
    own = p.agency_id if p.agency_kind in (AgencyKind.LOCAL_AUTHORITY, AgencyKind.POLICE_FORCE) else None
    code = area.strip() or own
    errors: dict[str, str] = {}
    context: dict[str, Any] = {"mode": None, "code": code, "area_value": area, "capped": False,
                               "may_pick_area": own is None}
    if code is None:
        if request.query_params:
            errors["area"] = "Enter a police force or local authority code"
    else:
        kind = _area_kind(code)
        if kind is None:
            errors["area"] = f"{code} is not a police force or local authority code"
        else:
            try:
                if kind == "la":
                    page, entries, capped = await _all_pages(
                        request, session, "ConsoleLinkedChildren", "linkedChildren", {"localAuthority": code})
                    context.update(mode="la", capped=capped, since=page["since"][:10], as_of=page["asOf"][:10],
                                   **_la_view(code, entries))
                else:
                    page, groups, capped = await _all_pages(
                        request, session, "ConsoleCoMissingGroups", "coMissingGroups", {"area": code})
                    context.update(mode="force", capped=capped, since=page["since"][:10], as_of=page["asOf"][:10],
                                   **_force_view(groups))
            except ConsoleError as exc:
                if exc.code != "BAD_USER_INPUT":
                    raise
                errors["area"] = exc.message
    return render(request, "pages/area.html", 400 if errors else 200, errors=errors, **context)
