"""A content fingerprint of a graph: per label set and per relationship type, a count and a hash
of every element's properties (canonically serialised, sorted); relationships with their endpoint
labels and keys. Two graphs with equal fingerprints hold the same data, whatever their internal
ids or the order things were written in. `mpdb db fingerprint` prints it; the bulk-load tests
compare the offline and the transactional seed with it.

Two kinds of property are normalised, and said so in the output:
- volatile: when a thing was done, not what it holds (`DatasetInfo.generatedAt`,
  `SchemaMigration.appliedAt`, `OutboxHead.alertsFrom`/`lockedAt`): left out;
- bookkeeping: `HotspotStamp` nodes (random versions of the hot-spot buckets, for caches) are
  left out, the buckets themselves being compared; so is the `AlertLease` (which process holds the
  alert dispatcher, renewed every few seconds while a server runs);
- set-valued: the derived access lists (mpdb/graph/queries/access.py) are only ever asked
  `x IN list`; their order follows the store's relationship order, which differs between a store
  built by transactions and one built by neo4j-admin: compared sorted.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from neo4j import AsyncDriver
from neo4j.spatial import Point
from neo4j.time import Date, DateTime, Duration, Time

from mpdb.graph.queries import fingerprint as q

VOLATILE: dict[str, frozenset[str]] = {
    "DatasetInfo": frozenset({"generatedAt"}),
    "SchemaMigration": frozenset({"appliedAt"}),
    # when a load ended and when the head was last locked (mpdb/alerts/scheduler.py); its seq is compared
    "OutboxHead": frozenset({"alertsFrom", "lockedAt"}),
}
BOOKKEEPING_LABELS: frozenset[str] = frozenset({"HotspotStamp", "AlertLease"})
SET_VALUED: dict[str, frozenset[str]] = {
    "Child": frozenset({"accessAgencies", "historyAgencies", "openEpisodeForces"}),
    "Episode": frozenset({"areaAgencies"}),
}


@dataclass
class Part:
    count: int = 0
    hash: str = ""


@dataclass
class Fingerprint:
    nodes: dict[str, Part] = field(default_factory=dict)  # "Label" or "Label1:Label2" (sorted)
    relationships: dict[str, Part] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"nodes": {k: [v.count, v.hash] for k, v in sorted(self.nodes.items())},
                "relationships": {k: [v.count, v.hash] for k, v in sorted(self.relationships.items())}}

    def differences(self, other: Fingerprint) -> list[str]:
        """Human-readable differences (empty when equal)."""
        out = []
        for kind, mine, theirs in (("nodes", self.nodes, other.nodes),
                                   ("relationships", self.relationships, other.relationships)):
            for key in sorted(set(mine) | set(theirs)):
                a, b = mine.get(key), theirs.get(key)
                if a is None or b is None or a.count != b.count or a.hash != b.hash:
                    out.append(f"{kind} {key}: {a.count if a else 0} ({a.hash[:12] if a else '-'}) vs "
                               f"{b.count if b else 0} ({b.hash[:12] if b else '-'})")
        return out


def _canon(v: Any) -> Any:
    if isinstance(v, (DateTime, Date, Time)):
        return {"t": type(v).__name__, "v": v.iso_format()}
    # mpdb/graph/temporal.py hydrates DATETIME straight to Python's datetime (microseconds: mpdb
    # writes no finer times), so both stores being compared arrive in this form.
    if isinstance(v, datetime):
        return {"t": "DateTime", "v": v.isoformat()}
    if isinstance(v, date):
        return {"t": "Date", "v": v.isoformat()}
    if isinstance(v, Duration):
        return {"t": "Duration", "v": str(v)}
    if isinstance(v, Point):
        return {"t": "Point", "srid": v.srid, "v": [repr(float(x)) for x in v]}
    if isinstance(v, float):
        return {"t": "float", "v": repr(v)}
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    return v


def canonical_props(label: str, props: dict[str, Any]) -> str:
    skip = VOLATILE.get(label, frozenset())
    sets = SET_VALUED.get(label, frozenset())
    out = {}
    for k, v in props.items():
        if k in skip:
            continue
        c = _canon(v)
        if k in sets and isinstance(c, list):
            c = sorted(c)
        out[k] = c
    return json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(items: list[str]) -> str:
    h = hashlib.sha256()
    for s in sorted(items):
        h.update(s.encode())
        h.update(b"\n")
    return h.hexdigest()


async def fingerprint(driver: AsyncDriver, database: str, *, exclude: frozenset[str] = frozenset()) -> Fingerprint:
    """`exclude`: labels left out, with every relationship that touches them (e.g. the audit
    trail of a shared test database, which a reset keeps)."""
    exclude = exclude | BOOKKEEPING_LABELS
    nodes: dict[str, list[str]] = defaultdict(list)
    rels: dict[str, list[str]] = defaultdict(list)
    async with driver.session(database=database, default_access_mode="READ") as session:
        result = await session.run(q.ALL_NODES)
        async for rec in result:
            labels = sorted(rec["labels"])
            if exclude.intersection(labels):
                continue
            key = ":".join(labels)
            # properties normalised by the label that names them (Child, Episode, ...)
            main = next((lb for lb in labels if lb in VOLATILE or lb in SET_VALUED), labels[0] if labels else "")
            nodes[key].append(canonical_props(main, rec["props"]))
        result = await session.run(q.ALL_RELATIONSHIPS)
        async for rec in result:
            if exclude.intersection(rec["startLabels"]) or exclude.intersection(rec["endLabels"]):
                continue
            rels[rec["type"]].append(json.dumps(
                [":".join(sorted(rec["startLabels"])), rec["startKey"], ":".join(sorted(rec["endLabels"])),
                 rec["endKey"], json.loads(canonical_props(rec["type"], rec["props"]))],
                sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return Fingerprint({k: Part(len(v), _digest(v)) for k, v in nodes.items()},
                       {k: Part(len(v), _digest(v)) for k, v in rels.items()})
