"""Synthetic duplicates for entity resolution (issue 12): the same child recorded again by another agency.

Off unless a profile asks for it (`Profile.duplicate_share`, `mpdb seed --duplicates 0.05`), so the
existing data sets do not change. When on:
- every child gets a realistic given and family name (the plain `Testchild-0000123` family names
  would make every family name look alike to a string comparison), drawn from their own random
  stream, so nothing else in the data set moves;
- a share of the children is recorded a second time by the other kind of agency (a police force
  for a child the LA recorded, the LA for one the police recorded), under a new id and pseudonym,
  with the errors real records carry: typos, nicknames and spelling variants, diacritics dropped,
  hyphenated or changed family names, a date of birth with day and month swapped, a day recorded as
  the 1st, a digit slip or no date at all, a missing or wrong sex, a home address moved within the
  LA or to a neighbouring one, references held by one agency only;
- the truth (duplicate id -> original id) is returned to the caller and kept aside (a CSV in the
  state dir, or regenerated from profile + seed), never written to the graph.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# Given names: common in England and Wales across communities, several with nicknames (the
# `nicknames` package knows William/Will/Bill) and some with diacritics (transliteration).
GIVEN_F = ("Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Sophia", "Grace", "Freya",
           "Ella", "Evie", "Chloe", "Poppy", "Emily", "Jessica", "Rebecca", "Elizabeth", "Katherine", "Abigail",
           "Victoria", "Samantha", "Natalie", "Megan", "Charlotte", "Hannah", "Lauren", "Courtney", "Jade",
           "Aisha", "Fatima", "Maryam", "Zainab", "Amira", "Priya", "Simran", "Chidinma", "Ngozi", "Amara",
           "Zofia", "Julia", "Oliwia", "Zoë", "Chloé", "Siobhán", "Renée", "Aoife", "Niamh", "Demi", "Kayleigh",
           "Shannon", "Tia", "Leah", "Maisie", "Ruby", "Summer", "Skye", "Kacey", "Destiny")
GIVEN_M = ("Oliver", "George", "Noah", "Arthur", "Harry", "Leo", "Jack", "Charlie", "Oscar", "Jacob",
           "William", "Thomas", "James", "Joshua", "Daniel", "Matthew", "Nicholas", "Christopher", "Jonathan",
           "Benjamin", "Alexander", "Samuel", "Joseph", "Michael", "Robert", "Anthony", "Edward", "Kieran",
           "Callum", "Tyler", "Mohammed", "Muhammad", "Ibrahim", "Yusuf", "Omar", "Hamza", "Arjun", "Rohan",
           "Chukwuemeka", "Oluwaseun", "Kwame", "Jakub", "Szymon", "Mateusz", "Seán", "José", "Andrés",
           "Ciarán", "Darragh", "Reece", "Kai", "Jayden", "Tyrese", "Kyle", "Liam", "Connor", "Bradley",
           "Dominic", "Lewis", "Aaron")
# Family names: a head of common names from several communities plus a long tail of compounds
# (real surname frequencies are long-tailed: most pairs of children do not share a family name).
SURNAME_HEAD = ("Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
                "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes",
                "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin",
                "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison",
                "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett",
                "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins",
                "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson",
                "Ellis", "Adams", "Singh", "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers",
                "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes",
                "Mills", "Barnes", "Knight", "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens",
                "Jenkins", "Murray", "Dixon", "Harvey", "Ahmed", "Rahman", "Akhtar", "Okafor", "Adeyemi",
                "Mensah", "Nowak", "Kowalski", "Wiśniewska", "Kamińska", "O'Brien", "O'Connor", "McCarthy",
                "Ní Bhriain", "Ó Súilleabháin", "Nguyễn", "Şahin", "Yılmaz", "Da Silva", "Gonçalves")
STEMS = ("Ash", "Black", "Brad", "Bright", "Brook", "Cald", "Chad", "Clay", "Cole", "Crane", "Dal", "Dun",
         "East", "Ed", "Fair", "Farn", "Fox", "Glad", "Gold", "Green", "Hal", "Hart", "Haw", "Hay", "Hol",
         "Hum", "Kil", "Kings", "Lang", "Lock", "Mar", "Mid", "Mill", "Mor", "New", "North", "Ock", "Pen",
         "Pick", "Rad", "Red", "Ros", "Rush", "Sel", "Shel", "South", "Stan", "Stock", "Sut", "Thorn", "Tod",
         "Wad", "Wake", "Wal", "West", "Whit", "Wil", "Win", "Wood", "Wor")
ENDINGS = ("ley", "ton", "ford", "field", "wood", "worth", "by", "well", "combe", "stone", "ham", "bury",
           "more", "den", "ridge", "holm", "cott", "shaw", "wick", "brook", "gate", "land", "stead", "hurst")
MIDS = ("", "er", "en", "ing", "ald", "ow", "an", "es", "il", "or")
NEW_SURNAMES = ("Hargreaves", "Pemberton", "Ogunleye", "Bhatti", "Kaczmarek", "Fitzgerald", "Okonkwo",
                "Rowntree", "Siddiqui", "Wojcik", "Greenhalgh", "Ramsbottom")
KEYBOARD = "abcdefghijklmnopqrstuvwxyz"


@dataclass(slots=True)
class DuplicateTruth:
    """Which records are the same child: duplicate id -> original id (kept out of the graph)."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)  # duplicate id -> the errors applied

    def to_csv(self) -> str:
        lines = ["duplicate_id,original_id,errors"]
        lines += [f"{d},{o},{'|'.join(self.errors.get(d, []))}" for d, o in self.pairs]
        return "\n".join(lines) + "\n"


def surname_pool() -> list[str]:
    return list(SURNAME_HEAD) + [s + m + e for s in STEMS for m in MIDS for e in ENDINGS]


def pick_surname(rng: random.Random, pool: list[str]) -> str:
    # the head (the first names in the pool) takes ~35% of families, the long tail the rest
    if rng.random() < 0.35:
        return pool[min(int(rng.expovariate(1 / 25)), len(SURNAME_HEAD) - 1)]
    return pool[rng.randrange(len(SURNAME_HEAD), len(pool))]


def realistic_names(rows: list[dict[str, Any]], families: list[int | None], rng: random.Random) -> None:
    """Give every child row a realistic given name (by sex) and family name (one per family);
    rows whose family is None (the demo's planted scenarios, named as their docs say) keep theirs."""
    pool = surname_pool()
    by_family: dict[int, str] = {}
    given_in_family: dict[int, set[str]] = {}
    for row, fam in zip(rows, families, strict=True):
        if fam is None:
            continue
        p = row["props"]
        if fam not in by_family:
            by_family[fam] = pick_surname(rng, pool)
            given_in_family[fam] = set()
        p["familyName"] = by_family[fam]
        given = rng.choice(GIVEN_F if p["sex"] == "F" else GIVEN_M)
        while given in given_in_family[fam]:  # parents do not give two children one name
            given = rng.choice(GIVEN_F if p["sex"] == "F" else GIVEN_M)
        given_in_family[fam].add(given)
        p["givenName"] = given


# -- errors -------------------------------------------------------------------------------------------
def typo(rng: random.Random, s: str) -> str:
    letters = [i for i, ch in enumerate(s) if ch.isalpha()]
    if len(letters) < 3:
        return s
    i = rng.choice(letters[1:])  # the first letter is rarely the one mistyped
    kind = rng.random()
    if kind < 0.3:  # substitution
        return s[:i] + rng.choice(KEYBOARD) + s[i + 1:]
    if kind < 0.55:  # deletion
        return s[:i] + s[i + 1:]
    if kind < 0.8 and i + 1 < len(s):  # transposition
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    return s[:i] + s[i] + s[i:]  # doubled letter


def nickname(rng: random.Random, name: str) -> str | None:
    from nicknames import NickNamer

    nn = NickNamer()
    options = sorted(nn.nicknames_of(name.lower())) or sorted(nn.canonicals_of(name.lower()))
    options = [o for o in options if len(o) > 2]
    return rng.choice(options).title() if options else None


def strip_accents(s: str) -> str:
    from anyascii import anyascii

    return anyascii(s)


def vary_given(rng: random.Random, name: str, errors: list[str]) -> str:
    u = rng.random()
    if u < 0.78:
        return name
    if u < 0.86:
        errors.append("given-typo")
        return typo(rng, name)
    if u < 0.94:
        nick = nickname(rng, name)
        if nick:
            errors.append("given-nickname")
            return nick
    if strip_accents(name) != name:
        errors.append("given-ascii")
        return strip_accents(name)
    if u < 0.97:
        errors.append("given-case")
        return name.upper()
    return name


def vary_family(rng: random.Random, name: str, errors: list[str]) -> str:
    u = rng.random()
    if u < 0.76:
        if strip_accents(name) != name and rng.random() < 0.6:
            errors.append("family-ascii")
            return strip_accents(name)
        return name
    if u < 0.84:
        errors.append("family-typo")
        return typo(rng, name)
    if u < 0.91:
        errors.append("family-hyphenated")
        other = rng.choice(SURNAME_HEAD[:60])
        return f"{name}-{other}" if rng.random() < 0.5 else f"{other}-{name}"
    if u < 0.96:
        errors.append("family-changed")
        return rng.choice(NEW_SURNAMES)
    if u < 0.98:
        errors.append("family-spaced")
        return name.replace("-", " ").upper()
    return name


def vary_dob(rng: random.Random, dob: date, errors: list[str]) -> date | None:
    u = rng.random()
    if u < 0.85:
        return dob
    if u < 0.89 and dob.day <= 12 and dob.day != dob.month:
        errors.append("dob-swapped")
        return date(dob.year, dob.day, dob.month)
    if u < 0.93:
        errors.append("dob-day-unknown")
        return dob.replace(day=1)
    if u < 0.96:
        errors.append("dob-off-by-one-day")
        return dob + timedelta(days=rng.choice((-1, 1)))
    if u < 0.98:
        errors.append("dob-year-slip")
        try:
            return dob.replace(year=dob.year + rng.choice((-1, 1)))
        except ValueError:
            return dob.replace(day=28, year=dob.year + 1)
    errors.append("dob-missing")
    return None


@dataclass(frozen=True, slots=True)
class DuplicateContext:
    """What the generator tells the injector about one child."""

    row: dict[str, Any]
    home_la: str
    force: str
    lac: bool


def make_duplicates(contexts: list[DuplicateContext], share: float, rng: random.Random,
                    homes_by_la: dict[str, list[str]], neighbour_la: dict[str, str],
                    first_number: int, pseudonym: Callable[[int], str]) -> tuple[list[dict[str, Any]], DuplicateTruth]:
    """Second records for `share` of the children: new rows (same shape as the originals) and the truth."""
    truth = DuplicateTruth()
    out: list[dict[str, Any]] = []
    n = 0
    for ctx in contexts:
        if rng.random() >= share:
            continue
        n += 1
        src = ctx.row["props"]
        errors: list[str] = []
        dup_id = f"CH-{first_number + n:07d}"
        agency = ctx.force if ctx.lac else ctx.home_la  # the other agency than the original's
        props = dict(src)
        props.update({
            "id": dup_id,
            "pseudonym": pseudonym(first_number + n),
            "givenName": vary_given(rng, src["givenName"], errors),
            "familyName": vary_family(rng, src["familyName"], errors),
            "dateOfBirth": vary_dob(rng, src["dateOfBirth"], errors),
            "ethnicity": src.get("ethnicity") if rng.random() < 0.8 else None,
            "lookedAfter": False,
            "lacChildRef": None,
            "lacRefLa": None,
            "recordedBy": agency,
            "recordedAt": src["recordedAt"] + timedelta(days=rng.uniform(1, 400)),
        })
        if src.get("upn") and rng.random() < 0.3:
            props["upn"] = src["upn"]  # the school's number, sometimes known to the police too
        elif src.get("upn"):
            props.pop("upn", None)
            errors.append("upn-missing")
        u = rng.random()
        if u < 0.03:
            props["sex"] = "U"
            errors.append("sex-unknown")
        elif u < 0.04:
            props["sex"] = "M" if src["sex"] == "F" else "F"
            errors.append("sex-wrong")
        home = ctx.row["homeLocationId"]
        u = rng.random()
        if u < 0.30 and homes_by_la.get(ctx.home_la):
            home = rng.choice(homes_by_la[ctx.home_la])
            errors.append("moved-within-la")
        elif u < 0.40 and homes_by_la.get(neighbour_la.get(ctx.home_la, "")):
            home = rng.choice(homes_by_la[neighbour_la[ctx.home_la]])
            errors.append("moved-to-other-la")
        elif u < 0.48:
            home = None
            errors.append("address-missing")
        props = {k: v for k, v in props.items() if v is not None}
        out.append({"homeLocationId": home, "lookedAfterBy": None, "props": props})
        truth.pairs.append((dup_id, src["id"]))
        truth.errors[dup_id] = errors
    return out, truth


def with_upns(rows: list[dict[str, Any]], rng: random.Random) -> None:
    """UPNs (synthetic, 13 characters) for the LA-recorded children: 60% of them."""
    for row in rows:
        p = row["props"]
        if p.get("lookedAfter") and rng.random() < 0.6:
            p["upn"] = "Z" + "".join(rng.choice("0123456789") for _ in range(11)) + rng.choice("ABCDEFGHJKLMNPQRTUVWXYZ")


__all__ = ["DuplicateContext", "DuplicateTruth", "make_duplicates", "realistic_names", "with_upns"]
