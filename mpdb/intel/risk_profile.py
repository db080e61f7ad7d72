"""riskProfile: a child's cross-force picture at the moment of a report, every figure with the
records behind it.

What the caller sees is what the access model lets them see: a force without a current open
episode for the child sees the episodes in its own area only, so its counts are "episodes you
may see"; an LA or a force holding an open episode sees the full history. Peers the caller may
not read are shown in summary form, never left out, with the records of the link (the peer's own
records without ids); linked adults carry their children per force across all forces
(docs/ACCESS.md, linked risk).

Repeat-missing triggers come from the area rules (seed/rules/area_rules.toml via
mpdb/domain/rules.py): the rule area is the child's responsible LA, else the LA the latest episode
went missing from; each trigger is evaluated on the visible episodes at `asOf`, and an open
episode older than the area's strategy-meeting days is reported too.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from mpdb.domain.rules import AreaRuleBook, evaluate_triggers, load_area_rules, rule_area
from mpdb.graph.repositories.intel_links import IntelLinkRepository
from mpdb.intel.co_missing import Evidence, require_named_child_access, resolve_window, strength
from mpdb.services.context import ServiceContext


def triggered_rules(episodes: list[dict[str, Any]], responsible_la: str | None, as_of: datetime,
                    book: AreaRuleBook | None = None) -> list[dict[str, Any]]:
    """The rules this child meets at `asOf`, each with the episodes that make it fire."""
    book = book or load_area_rules()
    latest_from = next((e.get("missingFromLa") for e in episodes if e.get("missingFromLa")), None)
    rules = book.for_area(rule_area(responsible_la, latest_from))
    out = []
    for result in evaluate_triggers([e["reportedAt"] for e in episodes], as_of, rules.triggers, rules.area):
        if not result.fired:
            continue
        t = result.trigger
        start = as_of - timedelta(days=t.window_days) if t.window_days else None
        hits = [e["id"] for e in episodes if e["reportedAt"] <= as_of and (start is None or e["reportedAt"] > start)]
        out.append({"rule": t.id, "description": t.description, "condition": t.describe(), "area": result.area,
                    "count": result.count, "episodeIds": hits})
    cutoff = as_of - timedelta(days=rules.strategy_meeting_days)
    still_missing = [e["id"] for e in episodes if e["status"] == "open" and e["reportedAt"] <= cutoff]
    if still_missing:
        out.append({"rule": "strategy_meeting", "area": rules.area,
                    "description": f"still missing {rules.strategy_meeting_days} days after the report: strategy meeting",
                    "condition": f"open episode reported >= {rules.strategy_meeting_days} days before asOf",
                    "count": len(still_missing), "episodeIds": still_missing})
    return out


def episode_counts(episodes: list[dict[str, Any]], as_of: datetime) -> dict[str, Any]:
    d90, d365 = as_of - timedelta(days=90), as_of - timedelta(days=365)
    by_force: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for e in episodes:
        by_force[e.get("reportedTo")].append(e)

    def counts(eps: list[dict[str, Any]]) -> dict[str, Any]:
        return {"last90Days": sum(e["reportedAt"] > d90 for e in eps),
                "last12Months": sum(e["reportedAt"] > d365 for e in eps),
                "ever": len(eps),
                "lastReportedAt": max((e["reportedAt"] for e in eps), default=None),
                "episodeIds": [e["id"] for e in sorted(eps, key=lambda e: (e["reportedAt"], e["id"]), reverse=True)]}

    return {**counts(episodes),
            "byForce": sorted(({"forceCode": f, **counts(eps)} for f, eps in by_force.items()),
                              key=lambda r: (-r["ever"], r["forceCode"] or ""))}


def where_to_look(places: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Places the child was found at (or went to), ranked by times found there, then by last visit.
    `places`: each place once, with its visits ({role, episodeId, at}), as RISK_PROFILE sends them."""
    out = []
    for p in places:
        found = {v["episodeId"] for v in p["visits"] if v["role"] == "FOUND_AT"}
        went_to = {v["episodeId"] for v in p["visits"] if v["role"] != "FOUND_AT"}
        out.append({"place": p["place"], "timesFound": len(found), "timesWentTo": len(went_to),
                    "lastAt": max((v["at"] for v in p["visits"] if v["at"] is not None), default=None),
                    "lastFoundAt": max((v["at"] for v in p["visits"] if v["at"] is not None
                                        and v["role"] == "FOUND_AT"), default=None),
                    "episodeIds": sorted(found | went_to)})
    out.sort(key=lambda r: (-r["timesFound"], -r["timesWentTo"],
                            -(r["lastAt"].timestamp() if r["lastAt"] else 0), r["place"]["id"]))
    return out


def _peers(peer_links: list[dict[str, Any]], peers: list[dict[str, Any]], as_of: datetime) -> list[dict[str, Any]]:
    """Peers with the records that link them, newest first, and the link's strength (explicit
    evidence only, scored as coMissing scores it). A peer the caller may not read (`visible`
    false) keeps its evidence; the API shows it in summary form without the ids of episodes the
    caller may not open."""
    details = {p["id"]: p for p in peers}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in peer_links:
        grouped[link["childId"]].append(link)
    out = []
    for child_id, links in grouped.items():
        links = sorted({li["episodeId"] + "|" + (li["source"] or ""): li for li in links}.values(),
                       key=lambda li: (li["at"], li["episodeId"]), reverse=True)
        evidence = [Evidence("EXPLICIT", li["source"], [{"id": li["episodeId"], "reportedAt": li["at"],
                                                         "endAt": li.get("endAt")}]) for li in links]
        out.append({"child": details[child_id], "episodes": links,
                    "episodeCount": len({li["episodeId"] for li in links}),
                    "lastTogether": links[0]["at"] if links else None,
                    "strength": strength(evidence, as_of)})
    out.sort(key=lambda p: (-p["episodeCount"], -(p["lastTogether"].timestamp() if p["lastTogether"] else 0),
                            p["child"]["pseudonym"]))
    return out


def _adults(adult_links: list[dict[str, Any]], reach: list[dict[str, Any]]) -> list[dict[str, Any]]:
    people = {r["person"]["id"]: r for r in reach}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in adult_links:
        grouped[link["personId"]].append(link)
    out = []
    for pid, links in grouped.items():
        links.sort(key=lambda li: (li["at"] is not None, li["at"] or datetime.min), reverse=True)
        by_force = sorted(({"force": f, "children": n} for f, n in people[pid]["byForce"]),
                          key=lambda r: (-r["children"], r["force"] is None, r["force"] or ""))
        out.append({"person": people[pid]["person"], "otherChildren": people[pid]["otherChildren"],
                    "childrenByForce": by_force,
                    "links": links, "episodeCount": len({li["episodeId"] for li in links if li["episodeId"]}),
                    "lastAt": max((li["at"] for li in links if li["at"]), default=None)})
    out.sort(key=lambda a: (a["person"].get("role") != "adult_of_concern", -a["episodeCount"], a["person"]["id"]))
    return out


def _fill_episode_dates(row: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> None:
    """Dates RISK_PROFILE leaves out of entries derived from the child's own episodes: a peer link
    or an adult met on one of them is dated by its reportedAt; a place visit by its own `at`,
    else (found at) the episode's foundAt, else its reportedAt."""
    c_id = row["child"]["id"]
    for link in row["peerLinks"]:
        if link["episodeOf"] == c_id:
            e = by_id[link["episodeId"]]
            link["at"] = e["reportedAt"]
            link["endAt"] = e.get("foundAt") or e.get("returnedAt")
    for link in row["adultLinks"]:
        if link["kind"] == "WITH_PERSON":
            link["at"] = by_id[link["episodeId"]]["reportedAt"]
    for v in (v for place in row["placeVisits"] for v in place["visits"]):
        if v["at"] is None:
            e = by_id[v["episodeId"]]
            found = e.get("foundAt") if v["role"] == "FOUND_AT" else None
            v["at"] = found if found is not None else e["reportedAt"]


async def risk_profile(ctx: ServiceContext, child_id: str, as_of: datetime | None) -> dict[str, Any] | None:
    require_named_child_access(ctx.scope)
    as_of, _ = resolve_window(as_of, None, default_days=0)
    ctx.require_purpose()
    repo = IntelLinkRepository(ctx.graph)
    row = await repo.risk_profile(ctx.scope, child_id, as_of)
    if row is None:
        return None
    episodes = sorted(row["episodes"], key=lambda e: (e["reportedAt"], e["id"]), reverse=True)
    _fill_episode_dates(row, {e["id"]: e for e in episodes})
    adult_links = row["adultLinks"]
    reach = row["reach"]
    today = as_of.date()
    placements = sorted(row["placements"], key=lambda p: (p.get("startDate") is not None, p.get("startDate")),
                        reverse=True)
    for p in placements:
        p["current"] = (p.get("startDate") is None or p["startDate"] <= today) and (
            p.get("endDate") is None or p["endDate"] >= today)
    flags = row["flags"]
    for f in flags:
        f["active"] = f.get("status") == "active" and (f.get("expiredAt") is None or f["expiredAt"] > as_of)
    flags.sort(key=lambda f: (not f["active"], -(f["raisedAt"].timestamp() if f.get("raisedAt") else 0), f["id"]))
    profile = {
        "child": row["child"],
        "asOf": as_of,
        "priorEpisodes": episode_counts(episodes, as_of),
        "episodes": episodes,
        "flags": flags,
        "placements": placements,
        "peers": _peers(row["peerLinks"], row["peers"], as_of),
        "adults": _adults(adult_links, reach),
        "whereToLook": where_to_look(row["placeVisits"]),
        "returnInterviews": sorted(row["returnInterviews"],
                                   key=lambda r: (r.get("offeredAt") is not None, r.get("offeredAt"), r["id"]),
                                   reverse=True),
        "triggers": triggered_rules(episodes, row["child"].get("responsibleAuthority"), as_of),
    }
    peers = profile["peers"]
    ids = {child_id} | {e["id"] for e in episodes} | {p["child"]["id"] for p in peers if p["child"]["visible"]}
    ids |= {li["episodeId"] for p in peers for li in p["episodes"] if li["visible"]}
    ids |= {a["person"]["id"] for a in profile["adults"]}
    await ctx.consulted("riskProfile", sorted(ids),
                        summaries=[p["child"]["id"] for p in peers if not p["child"]["visible"]])
    return profile
