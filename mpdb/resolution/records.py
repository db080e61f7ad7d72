"""One Child -> the normalised row the model compares.

Names are folded to lower-case ASCII with anyascii (so "Zoë"/"Zoe" and "Siobhán"/"Siobhan" compare
equal: the transliteration-insensitive form), punctuation other than a hyphen dropped. Each row also
carries the given name's variant keys (the name, its nicknames and the names it is a nickname of,
from the `nicknames` package and seed/reference/given_name_variants.csv) so "Will" and "William"
meet at the name-variant level, and the family name's parts so "Smith-Jones" and "Jones" meet at
the shared-part level. Dates of birth travel as ISO strings, with the day/month-swapped form
alongside for blocking.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Any

from anyascii import anyascii

ROW_COLUMNS = ("unique_id", "given_name", "given_keys", "family_name", "family_parts", "dob", "dob_swapped",
               "sex", "postcode", "upn", "lac_ref", "ethnicity", "home_lat", "home_lon", "agency_forces")

_NOT_NAME = re.compile(r"[^a-z\- ]+")
_SPACES = re.compile(r"[\s\-]+")


def fold_name(value: str | None) -> str | None:
    """Lower-case ASCII, letters, single hyphens and spaces only; None for an empty name."""
    if value is None:
        return None
    text = _NOT_NAME.sub("", anyascii(str(value)).lower())
    text = re.sub(r"\s*-\s*", "-", re.sub(r"\s+", " ", text)).strip(" -")
    return text or None


@cache
def _nicknamer():  # type: ignore[no-untyped-def]
    from nicknames import NickNamer

    return NickNamer()


@cache
def _csv_variants() -> dict[str, frozenset[str]]:
    from mpdb.services.search import name_variants

    return name_variants()


@cache
def given_keys(name: str | None) -> tuple[str, ...]:
    """The name and every name it may be a variant of or a nickname for (sorted, deduplicated)."""
    if not name:
        return ()
    out: set[str] = set()
    for part in name.replace("-", " ").split():
        nn = _nicknamer()
        out.add(part)
        out |= {n.lower() for n in nn.nicknames_of(part)}
        out |= {n.lower() for n in nn.canonicals_of(part)}
        out |= _csv_variants().get(part, frozenset())
    return tuple(sorted(out))


def family_parts(name: str | None) -> tuple[str, ...]:
    if not name:
        return ()
    return tuple(sorted({p for p in _SPACES.split(name) if len(p) > 1}))


def iso_date(value: Any) -> str | None:
    """A date of birth as YYYY-MM-DD (date, datetime, neo4j Date or ISO text); None if absent/invalid."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "to_native"):  # neo4j.time.Date
        return value.to_native().isoformat()
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None


def swapped_date(iso: str | None) -> str | None:
    """The date with day and month exchanged, when that is a different valid date."""
    if not iso:
        return None
    y, m, d = iso.split("-")
    if d == m or int(d) > 12:
        return None
    return f"{y}-{d}-{m}"


def norm_postcode(value: str | None) -> str | None:
    if not value:
        return None
    text = re.sub(r"\s+", " ", str(value).upper()).strip()
    if " " not in text and len(text) >= 5:  # "ST13AB" -> "ST1 3AB"
        text = f"{text[:-3]} {text[-3:]}"
    return text or None


def _ref(value: Any) -> str | None:
    text = re.sub(r"\s+", "", str(value)).upper() if value is not None else ""
    return text or None


def _coordinate(value: Any) -> float | None:
    # Three decimals (~100 m) are plenty for "within a few km" and keep the row small.
    try:
        return round(float(value), 3) if value is not None else None
    except (TypeError, ValueError):
        return None


def _codes(value: Any) -> list[str] | None:
    if not value:
        return None
    codes = sorted({str(v).strip().upper() for v in value if v and str(v).strip()})
    return codes or None


def child_row(child: dict[str, Any]) -> dict[str, Any]:
    """The model's row for one child.

    `child` uses the graph's property names (`id`, `givenName`, `familyName`, `dateOfBirth`, `sex`,
    `upn`, `lacChildRef`, `lacRefLa`, `ethnicity`) plus `postcode`, `homeLat` and `homeLon`: the
    postcode and WGS-84 point of its HOME_AT place, if any (child-v2 compares distance between homes),
    and `agencyForces`: the police force area(s) of the agency that recorded it (child-v3: a force's
    own code, an LA's IN_FORCE forces; none for an agency with no area, e.g. British Transport Police).
    """
    given = fold_name(child.get("givenName"))
    family = fold_name(child.get("familyName"))
    dob = iso_date(child.get("dateOfBirth"))
    sex = child.get("sex")
    lac = _ref(child.get("lacChildRef"))
    return {
        "unique_id": str(child["id"]),
        "given_name": given,
        "given_keys": list(given_keys(given)) or None,
        "family_name": family,
        "family_parts": list(family_parts(family)) or None,
        "dob": dob,
        "dob_swapped": swapped_date(dob),
        "sex": sex if sex in ("F", "M") else None,
        "postcode": norm_postcode(child.get("postcode")),
        "upn": _ref(child.get("upn")),
        "lac_ref": f"{_ref(child.get('lacRefLa')) or ''}:{lac}" if lac else None,
        "ethnicity": _ref(child.get("ethnicity")),
        "home_lat": _coordinate(child.get("homeLat")),
        "home_lon": _coordinate(child.get("homeLon")),
        "agency_forces": _codes(child.get("agencyForces")),
    }


__all__ = ["ROW_COLUMNS", "child_row", "pair_id", "family_parts", "fold_name", "given_keys", "iso_date", "norm_postcode",
           "swapped_date"]


def pair_id(a: str, b: str) -> str:
    """The POSSIBLY_SAME_AS id of an unordered pair: 'psa-' + 24 hex of sha256("<lowId>|<highId>")."""
    import hashlib

    low, high = sorted((a, b))
    return "psa-" + hashlib.sha256(f"{low}|{high}".encode()).hexdigest()[:24]
