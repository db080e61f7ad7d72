"""Node and relationship CSV files for `neo4j-admin database import full`.

Every call to `nodes()` / `relationships()` writes ONE file with its own header, typed from the
values it holds (str, bool, int -> long, float -> double, date, datetime, `Point`, list of str ->
string[]). Writers in several processes each write their own files under their own prefix; their
`Manifest`s are merged into one import command.

The transactional loader stores empty strings and empty lists (`SET n = row.props` keeps `''`
and `[]`). An empty string is written as a quoted empty cell (`""`), which the importer keeps as
`''` (`--ignore-empty-strings` is false by default), while an unquoted empty cell is "no
property". The empty list has no CSV spelling the importer keeps (a quoted empty cell in a
`string[]` column is "no property" too), so it is written as a sentinel and put back after import
(`Manifest.empties`, mpdb/graph/queries/bulk.py). A None value is "no property", as `to_wire`
makes it for the loader.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

SENTINEL = "\u0001mpdb-empty\u0001"
# Stands for an empty string while the csv module writes a row (it writes '' unquoted), and is
# then replaced by `""` in the file's text; it needs no quoting itself, so it is never inside quotes.
_EMPTY_STRING = "\u0001mpdb-empty-string\u0001"
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
        self._quoted_empty = False  # the file being written holds an empty string
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        self._n += 1
        return self.dir / f"{self.prefix}{self._n:04d}-{name.replace(':', '_')}.csv"

    def _columns(self, rows: Sequence[dict[str, Any]], skip: tuple[str, ...]) -> list[tuple[str, str, list[Any]]]:
        """(name, type, cells) of every property some row holds, typed from its first non-null value.
        Keys are gathered in C (dict.fromkeys over the rows), in first-seen order, so the header is
        the same whichever process writes the file."""
        out = []
        for k in dict.fromkeys(chain.from_iterable(rows)):
            if k in skip:
                continue
            values = [r.get(k) for r in rows]
            first = next((v for v in values if v is not None), None)
            if first is None:
                continue
            if not _NAME.match(k):
                raise BulkDataError(f"property name {k!r} cannot be written")
            out.append((k, _type_of(first), values))
        return out

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
                self._quoted_empty = True
                values = [_EMPTY_STRING if v == "" else v for v in values]
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
                    try:
                        cell = ARRAY_DELIMITER.join(v)
                    except TypeError:
                        raise BulkDataError(f"{owner}.{prop}: only lists of strings are written") from None
                    if "" in v or cell.count(ARRAY_DELIMITER) != len(v) - 1:
                        x = next(x for x in v if ARRAY_DELIMITER in x or not x)
                        raise BulkDataError(f"{owner}.{prop}: list item {x!r} is empty or holds {ARRAY_DELIMITER!r}")
                    out.append(cell)
            return out
        if typ.startswith("point"):
            return [None if v is None else f"{{latitude:{v.latitude!r},longitude:{v.longitude!r}}}" for v in values]
        return values  # long, double: the csv module writes repr(), which reads back to the same value

    def _write(self, path: Path, header: list[str], columns: list[list[Any]]) -> None:
        if not self._quoted_empty:
            with open(path, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
                w.writerows(zip(*columns, strict=True))
            return
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(zip(*columns, strict=True))
        path.write_text(buf.getvalue().replace(_EMPTY_STRING, '""'), encoding="utf-8", newline="")

    def nodes(self, labels: str, id_space: str, rows: Sequence[dict[str, Any]]) -> None:
        """One file of nodes; each row's `id` is the node's id in `id_space` (and its `id` property)."""
        if not rows:
            return
        owner = labels.split(":")[0]
        ids = [r.get("id") for r in rows]
        if not all(type(i) is str and i for i in ids):
            raise BulkDataError(f"{owner}: node without a string id: {rows[ids.index(next(i for i in ids if not (type(i) is str and i)))]!r}")
        cols = self._columns(rows, ("id",))
        path = self._path(labels)
        self._quoted_empty = False
        columns = [ids] + [self._column("node", owner, k, t, values) for k, t, values in cols]
        self._write(path, [f"id:ID({id_space})", *(f"{k}:{t}" for k, t, _ in cols)], columns)
        self.manifest.nodes.append((labels, path))
        self.manifest.node_counts[labels] += len(rows)

    def relationships(self, rtype: str, start_space: str, end_space: str,
                      rows: Iterable[tuple[str, str, dict[str, Any] | None]]) -> None:
        """One file of relationships (start id, end id, properties or None)."""
        rows = [r for r in rows if r[0] is not None and r[1] is not None]
        if not rows:
            return
        cols = self._columns([r[2] or {} for r in rows], ())
        path = self._path(rtype)
        self._quoted_empty = False
        columns = [[r[0] for r in rows], [r[1] for r in rows]]
        columns += [self._column("rel", rtype, k, t, values) for k, t, values in cols]
        self._write(path, [f":START_ID({start_space})", f":END_ID({end_space})", *(f"{k}:{t}" for k, t, _ in cols)],
                    columns)
        self.manifest.relationships.append((rtype, path))
        self.manifest.rel_counts[rtype] += len(rows)
