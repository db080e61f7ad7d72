"""Whether two recorded names are likely the same person's: the duplicate check of registerChild.

Pure functions over three small, maintained libraries rather than hand-written tables:
`anyascii` (transliteration: "Zoë" -> "Zoe", "Łukasz" -> "Lukasz"), `nicknames` (a curated
English given-name/nickname data set: "Bill" ~ "William", "Liz" ~ "Elizabeth") and `jellyfish`
(Damerau-Levenshtein distance: one typo or transposition, "Jnoes" ~ "Jones"; Metaphone: names that
sound alike, "Mohammed" ~ "Muhammad", "Catherine" ~ "Kathryn").

Agencies spell the same child differently (a police call taken by phone, the LA's SSDA903 record,
a school's register), so the comparison ignores case, diacritics, hyphens, apostrophes and spaces
("Mary-Jane" = "Mary Jane" = "Maryjane") and allows one edit on names long enough that one edit
still leaves them distinctive. A match is only ever a *candidate* shown to the caller, never an
automatic merge, so it errs towards showing one too many.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

import jellyfish
from anyascii import anyascii
from nicknames import NickNamer

# One edit in a 4-letter name ("Jon"/"Jan" are 3) already turns most names into other real names;
# from 5 letters on one edit is nearly always a slip of the same name.
MIN_LEN_FOR_TYPO = 5

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`.,_]+")
_NON_LETTERS = re.compile(r"[^a-z ]")


class NameMatch(StrEnum):
    EXACT = "exact"        # equal once case, diacritics and separators are ignored
    NICKNAME = "nickname"  # a known nickname/diminutive of the other (given names only)
    SPELLING = "spelling"  # one typo or transposition, or the same Metaphone sound


def normalise(name: str | None) -> str:
    """Lower-case ASCII letters with single spaces: "  Zoë  O'Brien-Smith " -> "zoe o brien smith"."""
    if not name:
        return ""
    ascii_ = anyascii(name).lower()
    return " ".join(_NON_LETTERS.sub("", _SEPARATORS.sub(" ", ascii_)).split())


def _compact(name: str) -> str:
    return name.replace(" ", "")


@lru_cache(maxsize=1)
def _namer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=4096)
def _given_family(name: str) -> frozenset[str]:
    """A given name with its nicknames and the names it is a nickname of."""
    n = _namer()
    return frozenset({name, *n.nicknames_of(name), *n.canonicals_of(name)})


def _typo(a: str, b: str) -> bool:
    shortest = min(len(a), len(b))
    # Two swapped letters ("Kahn", "Khan") are the commonest keying slip and keep every letter;
    # any other edit needs the longer names.
    if (shortest >= 4 and jellyfish.damerau_levenshtein_distance(a, b) <= 1
            and (shortest >= MIN_LEN_FOR_TYPO or sorted(a) == sorted(b))):
        return True
    # Below 4 letters a shared sound is mostly coincidence ("Jon", "Jan").
    return min(len(a), len(b)) >= 4 and jellyfish.metaphone(a) == jellyfish.metaphone(b)


def match_family_name(typed: str | None, recorded: str | None) -> NameMatch | None:
    a, b = _compact(normalise(typed)), _compact(normalise(recorded))
    if not a or not b:
        return None
    if a == b:
        return NameMatch.EXACT
    return NameMatch.SPELLING if _typo(a, b) else None


def match_given_name(typed: str | None, recorded: str | None) -> NameMatch | None:
    """Compared as a whole ("Mary-Jane" vs "Maryjane") and by first names ("Mary Jane" vs "Mary"
    is not a match: a second given name is not assumed away), with nicknames on the first name."""
    a, b = normalise(typed), normalise(recorded)
    if not a or not b:
        return None
    if _compact(a) == _compact(b):
        return NameMatch.EXACT
    a_first, a_rest = a.split(" ", 1)[0], a.split(" ", 1)[1:]
    b_first, b_rest = b.split(" ", 1)[0], b.split(" ", 1)[1:]
    # Two diminutives of one name ("Bill", "Will") share it, so the families intersect.
    if a_rest == b_rest and _given_family(a_first) & _given_family(b_first):
        return NameMatch.NICKNAME
    return NameMatch.SPELLING if _typo(_compact(a), _compact(b)) else None
