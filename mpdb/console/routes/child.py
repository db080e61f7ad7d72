"""A child's page: locate summary, episodes on a timeline, flags, where found before (map + table),
co-missing peers and adults of concern (network + table), placements, return interviews, triggers.

What the page shows is exactly what the API answers this user: the locate profile (which a police
force also gets while the child is missing elsewhere), the child's record, and the cross-force risk
profile for users with intel:read. A child the user may not see is the not-found page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mpdb.auth.principal import Scope
from mpdb.console.gateway import RecordNotFound
from mpdb.console.geo import found_before_map_data
from mpdb.console.routes.hotspots import outline_urls
from mpdb.console.sessions import ConsoleSession
from mpdb.console.web import agency_name, render, with_purpose

router = APIRouter(include_in_schema=False)

MAX_ID_LENGTH = 100


def _name(ref: dict[str, Any] | None) -> str:
    if not ref:
        return ""
    full = " ".join(p for p in (ref.get("givenName"), ref.get("familyName")) if p)
    return full or ref.get("pseudonym", "")


def _linked_node(child: dict[str, Any] | None, summary: dict[str, Any]) -> dict[str, Any]:
    """A linked child as a network node: in full when the API gave the child, else its summary form."""
    if child:
        return {"id": f"child:{child['id']}", "label": _name(child), "kind": "child",
                "href": f"/children/{child['id']}", "detail": f"{child.get('ageBand') or ''} "
                f"{agency_name(child.get('responsibleAuthority'))}".strip()}
    flags = ", ".join(f["type"].replace("_", " ") for f in summary.get("activeFlags") or [])
    return {"id": f"summary:{summary['pseudonym']}", "label": summary["pseudonym"], "kind": "summary",
            "detail": f"summary only; age {summary.get('ageBand') or 'unknown'}; "
                      f"{agency_name(summary.get('responsibleAuthority'))}" + (f"; flags: {flags}" if flags else "")}


def network_of(profile: dict[str, Any], risk: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """Nodes and edges for the network picture, and the same facts for the table beside it."""
    centre = {"id": f"child:{profile['id']}", "label": _name(profile), "kind": "focus",
              "detail": "this child"}
    nodes: dict[str, dict[str, Any]] = {centre["id"]: centre}
    edges: list[dict[str, Any]] = []
    if risk:
        for peer in risk["peers"]:
            node = _linked_node(peer["child"], peer["summary"])
            nodes.setdefault(node["id"], node)
            edges.append({"source": centre["id"], "target": node["id"], "kind": "co_missing",
                          "weight": round(peer["strength"], 2),
                          "label": f"missing together {peer['episodeCount']}x",
                          "detail": f"last together {(peer['lastTogether'] or '')[:10]}"})
        for adult in risk["adults"]:
            person = adult["person"]
            adult_id = f"person:{person['id']}"
            nodes.setdefault(adult_id, {"id": adult_id, "label": person.get("name") or "adult", "kind": "adult",
                                        "detail": (person.get("role") or "").replace("_", " ")})
            edges.append({"source": centre["id"], "target": adult_id, "kind": "adult",
                          "weight": 1.0, "label": f"{adult['episodeCount']} episode(s)",
                          "detail": f"last {(adult['lastAt'] or '')[:10]}"})
            for linked in adult["children"]:
                node = _linked_node(linked["child"], linked["summary"])
                if node["id"] == centre["id"]:
                    continue
                nodes.setdefault(node["id"], node)
                edges.append({"source": adult_id, "target": node["id"], "kind": "adult_child", "weight": 0.5,
                              "label": "linked to the same adult",
                              "detail": ", ".join(agency_name(f) for f in linked["forces"])})
    return {"nodes": list(nodes.values()), "edges": edges}


@router.get("/children/{child_id}")
async def child_page(request: Request, child_id: str,
                     session: Annotated[ConsoleSession, Depends(with_purpose)]) -> Response:
    if not child_id or len(child_id) > MAX_ID_LENGTH or not child_id.isprintable():
        raise RecordNotFound("no such child")
    # Which operation to ask for, not what may be seen (the API decides that): a call handler or
    # social worker has no intel:read, and riskProfile would refuse the whole page.
    with_intel = session.principal.has(Scope.CHILD_READ, Scope.INTEL_READ)
    data = await request.app.state.console_gateway.run(
        request, session, "ConsoleChildWithIntel" if with_intel else "ConsoleChild", {"id": child_id})
    profile = data.get("locateProfile")
    if profile is None:
        raise RecordNotFound("no such child")
    record = data.get("child")
    risk = data.get("riskProfile")
    network = network_of(profile, risk)
    return render(
        request, "pages/child.html", title=_name(profile) or profile["pseudonym"],
        profile=profile, record=record, risk=risk,
        episodes=(record or {}).get("episodes", {}).get("nodes", []),
        more_episodes=(record or {}).get("episodes", {}).get("pageInfo", {}).get("hasNextPage", False),
        network=network, node_names={n["id"]: n["label"] for n in network["nodes"]},
        found_map=found_before_map_data(profile["foundBefore"]), outline_urls=outline_urls(), name=_name(profile),
    )
