"""Node and relationship CSV files for `neo4j-admin database import full`.

Every call to `nodes()` / `relationships()` writes ONE file with its own header, typed from the
values it holds (str, bool, int -> long, float -> double, date, datetime, `Point`, list of str ->
string[]). Writers in several processes each write their own files under their own prefix; their
`Manifest`s are merged into one import command.

Two values have no CSV spelling the importer keeps: the empty string (an empty cell is "no
property") and the empty list. The transactional loader stores both (`SET n = row.props` keeps
`''` and `[]`), so they are written as a sentinel and put back after import (`Manifest.empties`,
mpdb/graph/queries/bulk.py). A None value is "no property", as `to_wire` makes it for the loader.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

SENTINEL = "\u0001mpdb-empty\u0001"
ARRAY_DELIMITER = ";"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Point(NamedTuple):
    """A WGS-84 point, as `point({latitude, longitude})` writes it."""

    latitude: float
    longitude: float


class BulkDataError(ValueError):
    """A value the offline importer cannot take as the transactional loader would store it."""


@dataclass
class Manifest:
    """What a set of writers produced: the import arguments and what to fix up afterwards."""

    nodes: list[tuple[str, Path]] = field(default_factory=list)  # ("Label:Label2", file)
    relationships: list[tuple[str, Path]] = field(default_factory=list)  # (TYPE, file)
    empties: set[tuple[str, str, str, str]] = field(default_factory=set)  # (node|rel, label/type, prop, str|list)
    node_counts: Counter[str] = field(default_factory=Counter)  # by label combination
    rel_counts: Counter[str] = field(default_factory=Counter)
    multiline: bool = False

    def merge(self, other: Manifest) -> None:
        self.nodes += other.nodes
        self.relationships += other.relationships
        self.empties |= other.empties
        self.node_counts.update(other.node_counts)
        self.rel_counts.update(other.rel_counts)
        self.multiline = self.multiline or other.multiline

    @property
    def rows(self) -> int:
        return sum(self.node_counts.values()) + sum(self.rel_counts.values())


_PY_TYPES: dict[str, set[type]] = {
    "string": {str}, "boolean": {bool}, "long": {int}, "double": {float}, "datetime": {datetime},
    "date": {date}, "point{crs:WGS-84}": {Point}, "string[]": {list, tuple},
}


def _type_of(v: Any) -> str:
    t = type(v)
    if t is str:
        return "string"
    if t is bool:
        return "boolean"
    if t is int:
        return "long"
    if t is float:
        return "double"
    if t is datetime:
        return "datetime"
    if t is date:
        return "date"
    if t is Point:
        return "point{crs:WGS-84}"
    if t is list or t is tuple:
        if all(type(x) is str for x in v):
            return "string[]"
        raise BulkDataError(f"list of {sorted({type(x).__name__ for x in v})}: only lists of strings are written")
    raise BulkDataError(f"no CSV type for {t.__name__} value {v!r}")


class GraphCsv:
    """Writes files into `directory`, named `<prefix><n>-<label or type>.csv`."""

    def __init__(self, directory: Path, prefix: str = "") -> None:
        self.dir = directory
        self.prefix = prefix
        self.manifest = Manifest()
        self._n = 0
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        self._n += 1
        return self.dir / f"{self.prefix}{self._n:04d}-{name.replace(':', '_')}.csv"

    def _columns(self, rows: Sequence[dict[str, Any]], skip: tuple[str, ...]) -> list[tuple[str, str]]:
        types: dict[str, str] = {}
        for r in rows:
            for k, v in r.items():
                if v is None or k in skip:
                    continue
                t = types.get(k)
                if t is None:
                    if not _NAME.match(k):
                        raise BulkDataError(f"property name {k!r} cannot be written")
                    types[k] = _type_of(v)
        return list(types.items())

    def _column(self, kind: str, owner: str, prop: str, typ: str, values: list[Any]) -> list[Any]:
        """One column's cells, converted a column at a time (list comprehensions, not a call per value)."""
        types = set(map(type, values))
        types.discard(type(None))
        want = _PY_TYPES[typ]
        if not types <= want:
            bad = next(v for v in values if v is not None and type(v) not in want)
            raise BulkDataError(f"{owner}.{prop}: {bad!r} is not a {typ} like the other rows")
        if typ == "string":
            if "" in values:
                self.manifest.empties.add((kind, owner, prop, "str"))
                values = [SENTINEL if v == "" else v for v in values]
            if not self.manifest.multiline and any("\n" in v or "\r" in v for v in values if v):
                self.manifest.multiline = True
            return values
        if typ in ("datetime", "date"):
            return [None if v is None else v.isoformat() for v in values]
        if typ == "boolean":
            return [None if v is None else ("true" if v else "false") for v in values]
        if typ == "string[]":
            if any(v is not None and len(v) == 0 for v in values):
                self.manifest.empties.add((kind, owner, prop, "list"))
            out = []
            for v in values:
                if v is None:
                    out.append(None)
                elif not v:
                    out.append(SENTINEL)
                else:
                    for x in v:
                        if type(x) is not str:
                            raise BulkDataError(f"{owner}.{prop}: only lists of strings are written")
                        if ARRAY_DELIMITER in x or not x:
                            raise BulkDataError(f"{owner}.{prop}: list item {x!r} is empty or holds {ARRAY_DELIMITER!r}")
                    out.append(ARRAY_DELIMITER.join(v))
            return out
        if typ.startswith("point"):
            return [None if v is None else f"{{latitude:{v.latitude!r},longitude:{v.longitude!r}}}" for v in values]
        return values  # long, double: the csv module writes repr(), which reads back to the same value

    def nodes(self, labels: str, id_space: str, rows: Sequence[dict[str, Any]]) -> None:
        """One file of nodes; each row's `id` is the node's id in `id_space` (and its `id` property)."""
        if not rows:
            return
        cols = self._columns(rows, ("id",))
        path = self._path(labels)
        owner = labels.split(":")[0]
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([f"id:ID({id_space})", *(f"{k}:{t}" for k, t in cols)])
            ids = [r.get("id") for r in rows]
            if not all(type(i) is str and i for i in ids):
                raise BulkDataError(f"{owner}: node without a string id: {rows[ids.index(next(i for i in ids if not (type(i) is str and i)))]!r}")
            columns = [ids] + [self._column("node", owner, k, t, [r.get(k) for r in rows]) for k, t in cols]
            w.writerows(zip(*columns, strict=True))
        self.manifest.nodes.append((labels, path))
        self.manifest.node_counts[labels] += len(rows)

    def relationships(self, rtype: str, start_space: str, end_space: str,
                      rows: Iterable[tuple[str, str, dict[str, Any] | None]]) -> None:
        """One file of relationships (start id, end id, properties or None)."""
        rows = [r for r in rows if r[0] is not None and r[1] is not None]
        if not rows:
            return
        cols = self._columns([r[2] for r in rows if r[2]], ())
        path = self._path(rtype)
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([f":START_ID({start_space})", f":END_ID({end_space})", *(f"{k}:{t}" for k, t in cols)])
            props = [r[2] or {} for r in rows]
            columns = [[r[0] for r in rows], [r[1] for r in rows]]
            columns += [self._column("rel", rtype, k, t, [p.get(k) for p in props]) for k, t in cols]
            w.writerows(zip(*columns, strict=True))
        self.manifest.relationships.append((rtype, path))
        self.manifest.rel_counts[rtype] += len(rows)
