from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="A territorial police force of England and Wales, or British Transport Police.")
class Force:
    code: str = strawberry.field(description="ONS police force area GSS code (BTP for British Transport Police).")
    name: str
    short_name: str | None
    nation: str
    latitude: float | None
    longitude: float | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Force:
        return cls(code=r["code"], name=r["name"], short_name=r.get("shortName"), nation=r["nation"],
                   latitude=r.get("latitude"), longitude=r.get("longitude"))


@strawberry.type(description="An upper-tier local authority with children's services.")
class LocalAuthority:
    code: str = strawberry.field(description="ONS GSS code.")
    name: str
    nation: str
    kind: str
    latitude: float | None
    longitude: float | None
    force_codes: list[str] = strawberry.field(description="Police force area(s) the authority lies in.")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> LocalAuthority:
        return cls(code=r["code"], name=r["name"], nation=r["nation"], kind=r["kind"],
                   latitude=r.get("latitude"), longitude=r.get("longitude"),
                   force_codes=r.get("forceCodes") or [])
