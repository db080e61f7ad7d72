"""From what a write did to the outbox events it raises: who receives each alert, and why.

A write path (a mutation's `_mutate`, an import batch) collects `Raised` facts while it works; at
the end of its transaction, AFTER the change and REFRESH_ACCESS, `events_for` finds the recipients
in the graph as it will commit (mpdb/graph/queries/alerts.py: at most three statements whatever the
number of facts) and returns one `AlertEvent` per (alert, recipient agency), which the caller
appends on the same transaction (`append_events`). The rules (which bases receive which kind, the
reason given, never the agency that made the change) are data in mpdb/alerts/kinds.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from mpdb.alerts.events import AlertEvent, AlertKind
from mpdb.alerts.kinds import KINDS, strongest
from mpdb.graph.db import run
from mpdb.graph.queries import alerts as q

# Kinds whose recipients hold the child the fact is about (the others are about linked children).
_DIRECT = (AlertKind.CHILD_REPORTED_MISSING, AlertKind.CHILD_FOUND, AlertKind.TRIGGER_FIRED,
           AlertKind.RISK_RAISED)


@dataclass(frozen=True, slots=True)
class Raised:
    """Something a write did that may alert, before anyone is chosen to receive it."""
    kind: AlertKind
    child_id: str
    subject_type: str
    subject_id: str
    occurred_at: datetime
    episode_id: str | None = None
    trigger: str | None = None          # trigger_fired: the rule's id ('strategy_meeting' for that rule)
    rule_area: str | None = None        # trigger_fired: the LA whose rule it is (None: the national rule)
    person_ids: tuple[str, ...] = ()    # adult_of_concern_in_episode: the companions named


def _key(*parts: str | None) -> str:
    return "|".join(p or "" for p in parts)


def _bases(pairs: Iterable[Sequence[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for agency, basis in pairs:
        out.setdefault(agency, set()).add(basis)
    return out


def _choose(kind: AlertKind, holders: dict[str, set[str]], actor: str | None) -> dict[str, str]:
    """recipient -> reason: the agencies with a basis this kind goes to, minus the actor."""
    allowed = set(KINDS[kind].recipients)
    out = {}
    for agency, bases in holders.items():
        kept = bases & allowed
        if kept and agency != actor:
            out[agency] = strongest(kept)
    return out


async def holders_of(tx: AsyncManagedTransaction, subjects: Iterable[tuple[str, str | None]]
                     ) -> dict[tuple[str, str | None], dict[str, set[str]]]:
    """(child id, episode id or None) -> {agency: bases}."""
    wanted = sorted(set(subjects), key=lambda s: (s[0], s[1] or ""))
    if not wanted:
        return {}
    rows = await run(tx, q.HOLDERS, {"subjects": [{"childId": c, "episodeId": e} for c, e in wanted]})
    return {(r["childId"], r["episodeId"]): _bases(r["holders"]) for r in rows}


async def events_for(tx: AsyncManagedTransaction, raised: Sequence[Raised], actor: str | None
                     ) -> list[AlertEvent]:
    """The outbox events of `raised`, computed on `tx` (after the change); `actor` never receives any."""
    if not raised:
        return []
    reported = [r for r in raised if r.kind is AlertKind.CHILD_REPORTED_MISSING]
    linked: dict[str, list[tuple[str, str]]] = {}  # missing child -> [(linked child, link)]
    if reported:
        rows = await run(tx, q.LINKED_CHILDREN, {"childIds": sorted({r.child_id for r in reported})})
        for row in rows:
            # co-missing is the stronger link: they went missing together before
            link = "co_missing" if "co_missing" in row["links"] else "shared_adult"
            linked.setdefault(row["childId"], []).append((row["linkedId"], link))
    adult_links: list[dict[str, Any]] = [
        {"episodeId": r.episode_id, "personId": p, "childId": r.child_id}
        for r in raised if r.kind is AlertKind.ADULT_OF_CONCERN_IN_EPISODE for p in r.person_ids]
    adults: dict[tuple[str, str], list[str]] = {}  # (episode, person) -> other children of the adult
    if adult_links:
        for row in await run(tx, q.CHILDREN_OF_ADULTS, {"links": adult_links}):
            adults[(row["episodeId"], row["personId"])] = sorted(row["linkedIds"])

    subjects: set[tuple[str, str | None]] = {(r.child_id, r.episode_id) for r in raised if r.kind in _DIRECT}
    subjects |= {(y, None) for pairs in linked.values() for y, _ in pairs}
    subjects |= {(y, None) for ys in adults.values() for y in ys}
    holders = await holders_of(tx, subjects)

    events: list[AlertEvent] = []

    def add(kind: AlertKind, key_parts: tuple[str | None, ...], recipients: dict[str, str], r: Raised,
            subject_type: str, subject_id: str, child_id: str, episode_id: str | None,
            reason_prefix: str | None = None) -> None:
        for agency, reason in sorted(recipients.items()):
            events.append(AlertEvent(
                kind=kind, key=_key(str(kind), *key_parts, agency), recipient=agency,
                reason=f"{reason_prefix}:{reason}" if reason_prefix else reason,
                subject_type=subject_type, subject_id=subject_id, occurred_at=r.occurred_at,
                child_id=child_id, episode_id=episode_id))

    for r in raised:
        if r.kind in _DIRECT:
            found = dict(holders.get((r.child_id, r.episode_id), {}))
            if r.kind is AlertKind.TRIGGER_FIRED and r.rule_area:
                found.setdefault(r.rule_area, set()).add("rule_area_la")
            recipients = _choose(r.kind, found, actor)
            parts: tuple[str | None, ...] = {
                AlertKind.CHILD_REPORTED_MISSING: (r.episode_id,),
                AlertKind.CHILD_FOUND: (r.episode_id,),
                AlertKind.TRIGGER_FIRED: (r.episode_id, r.trigger),
                AlertKind.RISK_RAISED: (r.subject_id,),
            }[r.kind]
            add(r.kind, parts, recipients, r, r.subject_type, r.subject_id, r.child_id, r.episode_id)
        if r.kind is AlertKind.CHILD_REPORTED_MISSING:
            # The missing child's episode is not named: the recipient may not be entitled to open it;
            # it reads its own child's links, where the missing child appears in summary form.
            kind = AlertKind.LINKED_CHILD_REPORTED_MISSING
            for y, link in linked.get(r.child_id, []):
                recipients = _choose(kind, holders.get((y, None), {}), actor)
                add(kind, (r.episode_id, y), recipients, r, "Child", y, y, None, link)
        if r.kind is AlertKind.ADULT_OF_CONCERN_IN_EPISODE:
            for person in r.person_ids:
                for y in adults.get((r.episode_id or "", person), []):
                    recipients = _choose(r.kind, holders.get((y, None), {}), actor)
                    add(r.kind, (r.episode_id, person, y), recipients, r, "Person", person, y, None,
                        "adult_of_concern")
    # A child linked only through an adult this very write named is already told by the
    # adult_of_concern alert: one alert for one fact.
    told = {(e.child_id, e.recipient) for e in events if e.kind is AlertKind.ADULT_OF_CONCERN_IN_EPISODE}
    return [e for e in events if not (e.kind is AlertKind.LINKED_CHILD_REPORTED_MISSING
                                      and e.reason.startswith("shared_adult:") and (e.child_id, e.recipient) in told)]
