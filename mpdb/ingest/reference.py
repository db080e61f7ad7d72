"""Reference data: police forces, local authorities, and the other agencies, into the graph.

Reads `seed/reference/police_forces.csv`, `local_authorities.csv` and `la_force_areas.csv` and
writes `(:Force:Agency)`, `(:LocalAuthority:Agency)` with `(:LocalAuthority)-[:IN_FORCE {share}]->
(:Force)`, plus the agencies that are neither: return-interview providers, the national missing
persons unit (`NCA-MPU`) and the inspectorate (`OFSTED`). Every write is a MERGE, so loading is
idempotent and safe to repeat.

Note on `kind`: MODEL.md gives both `Agency.kind` (the agency kind) and `LocalAuthority.kind`
(unitary, county, ...) on the same node. The agency meaning wins (`kind: 'local_authority'`,
indexed, read by access code); the LA's administrative type is stored as `laKind`.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from neo4j import AsyncDriver

from mpdb.graph.queries import seed as q
from mpdb.settings import PROJECT_ROOT

REFERENCE_DIR = PROJECT_ROOT / "seed" / "reference"

SOURCE_SYSTEM = "synthetic"
AUTHOR = "mpdb-seed"
# Reference data is stamped with a fixed time so repeated loads write identical values.
REFERENCE_RECORDED_AT = datetime(2026, 1, 1, tzinfo=UTC)
REFERENCE_RECORDED_BY = "MPDB"


@dataclass(frozen=True, slots=True)
class ForceRef:
    code: str
    name: str
    short_name: str
    nation: str
    lat: float
    lon: float

    @property
    def territorial(self) -> bool:
        return self.code != "BTP"


@dataclass(frozen=True, slots=True)
class LocalAuthorityRef:
    code: str
    name: str
    nation: str
    kind: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class AgencyRef:
    id: str
    kind: str
    name: str
    region: str | None = None  # rhi providers: the region whose LAs may commission them


# Return-interview providers: obviously synthetic organisations, one per region. Which LAs
# commission one is decided by the synthetic generator (deterministically from its seed).
RHI_PROVIDERS: tuple[AgencyRef, ...] = (
    AgencyRef("RHI-NORTH", "rhi_provider", "Northern Return Interview Service (synthetic)", "north"),
    AgencyRef("RHI-MIDLANDS", "rhi_provider", "Midlands Return Home Partnership (synthetic)", "midlands"),
    AgencyRef("RHI-SOUTH", "rhi_provider", "Southern Runaways Support (synthetic)", "south"),
    AgencyRef("RHI-LONDON", "rhi_provider", "London Return Conversations (synthetic)", "london"),
    AgencyRef("RHI-WALES", "rhi_provider", "Cymru Return Interview Service (synthetic)", "wales"),
    # The sample provider of the development identity provider (auth/dev_clients.toml): registered
    # like any other so its tokens pass the registry check; commissioned by no generated LA.
    AgencyRef("RHI-KENT-01", "rhi_provider", "Kent Return Home Interview Service (synthetic)"),
)
NATIONAL_AGENCIES: tuple[AgencyRef, ...] = (
    AgencyRef("NCA-MPU", "national_unit", "NCA UK Missing Persons Unit"),
    AgencyRef("OFSTED", "inspectorate", "Ofsted"),
)


def reference_agency_kinds(directory: Path = REFERENCE_DIR) -> dict[str, str]:
    """Every agency in the reference data (files, no database) with its kind: what `mpdb token` mints for."""
    ref = read_reference_data(directory)
    kinds = {code: "police_force" for code in ref.forces}
    kinds.update({code: "local_authority" for code in ref.las})
    kinds.update({a.id: a.kind for a in ref.agencies})
    return kinds


def region_of(la: LocalAuthorityRef) -> str:
    """Coarse region used to pick a return-interview provider for an LA."""
    if la.nation == "Wales":
        return "wales"
    if la.code.startswith("E09"):
        return "london"
    if la.lat >= 53.3:
        return "north"
    if la.lat >= 52.0:
        return "midlands"
    return "south"


@dataclass(slots=True)
class ReferenceData:
    forces: dict[str, ForceRef]
    las: dict[str, LocalAuthorityRef]
    la_forces: dict[str, list[tuple[str, float]]]  # la code -> [(force code, share)], by share desc
    agencies: tuple[AgencyRef, ...] = field(default=RHI_PROVIDERS + NATIONAL_AGENCIES)

    def primary_force(self, la_code: str) -> str:
        return self.la_forces[la_code][0][0]

    @property
    def territorial_forces(self) -> list[ForceRef]:
        return [f for f in self.forces.values() if f.territorial]


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_reference_data(directory: Path = REFERENCE_DIR) -> ReferenceData:
    forces = {
        r["code"]: ForceRef(
            r["code"], r["name"], r["short_name"], r["nation"], float(r["latitude"]), float(r["longitude"])
        )
        for r in _read(directory / "police_forces.csv")
    }
    las = {
        r["code"]: LocalAuthorityRef(
            r["code"], r["name"], r["nation"], r["kind"], float(r["latitude"]), float(r["longitude"])
        )
        for r in _read(directory / "local_authorities.csv")
    }
    la_forces: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for r in _read(directory / "la_force_areas.csv"):
        if r["la_code"] not in las or r["force_code"] not in forces:
            raise ValueError(f"la_force_areas.csv: unknown code in {r}")
        la_forces[r["la_code"]].append((r["force_code"], float(r["share"])))
    missing = sorted(set(las) - set(la_forces))
    if missing:
        raise ValueError(f"la_force_areas.csv: no force for {missing[:5]}")
    ordered = {k: sorted(v, key=lambda fs: (-fs[1], fs[0])) for k, v in sorted(la_forces.items())}
    return ReferenceData(forces=dict(sorted(forces.items())), las=dict(sorted(las.items())), la_forces=ordered)


def _provenance() -> dict[str, Any]:
    return {
        "recordedBy": REFERENCE_RECORDED_BY,
        "recordedAt": REFERENCE_RECORDED_AT,
        "sourceSystem": SOURCE_SYSTEM,
        "author": AUTHOR,
    }


def reference_rows(ref: ReferenceData) -> dict[str, list[dict[str, Any]]]:
    """Parameter rows for the three reference MERGE queries."""
    prov = _provenance()
    forces = [
        {
            "code": f.code,
            "props": {
                "name": f.name,
                "shortName": f.short_name,
                "nation": f.nation,
                "kind": "police_force",
                **prov,
            },
            "lat": f.lat,
            "lon": f.lon,
        }
        for f in ref.forces.values()
    ]
    las = [
        {
            "code": la.code,
            "props": {"name": la.name, "nation": la.nation, "kind": "local_authority", "laKind": la.kind, **prov},
            "lat": la.lat,
            "lon": la.lon,
            "forces": [{"code": fc, "share": share} for fc, share in ref.la_forces[la.code]],
        }
        for la in ref.las.values()
    ]
    agencies = [{"id": a.id, "props": {"kind": a.kind, "name": a.name, **prov}} for a in ref.agencies]
    return {"forces": forces, "las": las, "agencies": agencies}


async def load_reference(driver: AsyncDriver, database: str, ref: ReferenceData | None = None) -> dict[str, int]:
    """MERGE the reference agencies into the graph; returns rows written per kind."""
    ref = ref or read_reference_data()
    rows = reference_rows(ref)
    async with driver.session(database=database) as session:
        for key, query in (
            ("forces", q.MERGE_FORCES),
            ("las", q.MERGE_LOCAL_AUTHORITIES),
            ("agencies", q.MERGE_AGENCIES),
        ):
            await session.execute_write(_run, query, rows[key])
    return {k: len(v) for k, v in rows.items()}


async def _run(tx: Any, query: Any, rows: list[dict[str, Any]]) -> None:
    result = await tx.run(query, rows=rows)
    await result.consume()
