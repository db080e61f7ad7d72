"""searchChildren and searchPersons: finding a record by name, date of birth, agency reference.

Names are fuzzy three ways, all built here into one Lucene query over the `child_names` /
`person_names` full-text indexes (analyzer `standard-no-stop-words`):

- typos: every word of 3+ letters also matches within 1 edit (3-5 letters) or 2 edits (6+);
- diacritics: the input is folded (Zoë -> zoe, Łukasz -> lukasz) and both forms are asked for;
  a stored name with a diacritic the caller left out is within the edit distance above. The
  index is not re-analysed with Neo4j's `standard-folding`: that analyzer drops English stop
  words, and "Will", "An" and "No" are given names;
- nicknames: a word in a group of seed/reference/given_name_variants.csv also matches the
  group's other names (Kate -> Katherine, Catherine, ...).

Every word must match (by one of those), so "Jess Smith" is not every Jess and every Smith:
a search discloses summaries of other agencies' children, and it should disclose few. Words of
one letter are initials (a prefix). User input never reaches Lucene as syntax: it is cut into
words of letters, digits and inner apostrophes, lower-cased (so AND/OR/NOT are words) and every
Lucene special character is escaped anyway.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from mpdb.domain.errors import InvalidInput
from mpdb.graph.repositories.intel_areas import IntelAreaRepository
from mpdb.graph.repositories.search import SearchRepository
from mpdb.services.context import ServiceContext
from mpdb.settings import PROJECT_ROOT

VARIANTS_FILE = PROJECT_ROOT / "seed" / "reference" / "given_name_variants.csv"
NAME_MIN_CHARS = 2  # letters or digits in the whole name
NAME_MAX_LENGTH = 100
NAME_MAX_WORDS = 6
REF_MAX_LENGTH = 64
DOB_EXACT_POINTS, DOB_SWAPPED_POINTS = 1.0, 0.6  # as in mpdb/graph/queries/search.py

# Lucene classic query syntax: every character with a meaning, escaped with a backslash.
_LUCENE_SPECIAL = frozenset('\\+-!():^[]"{}~*?|&/ \t\n\r')
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# Letters NFKD does not decompose into a base letter and a mark.
_FOLD_EXTRA = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ŀ": "l", "ß": "ss", "æ": "ae",
                             "œ": "oe", "þ": "th", "ð": "d"})


def lucene_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _LUCENE_SPECIAL else ch for ch in text)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_FOLD_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_words(name: str) -> list[str]:
    """The words of a name as the index sees them: lower case, apostrophes unified, no punctuation."""
    return _WORD.findall(name.lower().replace("\u2019", "'").replace("`", "'"))


@lru_cache(maxsize=1)
def name_variants() -> dict[str, frozenset[str]]:
    """name -> every other name sharing a group with it (seed/reference/given_name_variants.csv)."""
    groups: dict[str, set[str]] = defaultdict(set)
    with VARIANTS_FILE.open(encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            names = {fold(n.strip()) for n in row["names"].split("|") if n.strip()}
            for n in names:
                groups[n] |= names
    return {n: frozenset(g - {n}) for n, g in groups.items()}


def _fuzziness(word: str) -> int:
    if len(word) < 3 or not word.replace("'", "").isalpha():
        return 0
    return 1 if len(word) <= 5 else 2


def word_clause(word: str) -> str:
    """One required clause: the word exactly (boosted), folded, within its edit distance, or a variant."""
    folded = fold(word)
    if len(folded) == 1:
        return "+" + lucene_escape(folded) + "*"
    terms = [lucene_escape(word) + "^3"]
    if folded != word:
        terms.append(lucene_escape(folded) + "^3")
    edits = _fuzziness(folded)
    if edits:
        terms.append(lucene_escape(folded) + f"~{edits}")
    terms += [lucene_escape(v) + "^2" for v in sorted(name_variants().get(folded, ()))]
    return "+(" + " OR ".join(terms) + ")"


def lucene_query(name: str, field: str = "name") -> str:
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"`{field}` may be at most {NAME_MAX_LENGTH} characters", field=field)
    words = name_words(name)
    if sum(len(w.replace("'", "")) for w in words) < NAME_MIN_CHARS:
        raise InvalidInput(f"`{field}` needs at least {NAME_MIN_CHARS} letters or digits", field=field)
    if len(words) > NAME_MAX_WORDS:
        raise InvalidInput(f"`{field}` may have at most {NAME_MAX_WORDS} words", field=field)
    return " ".join(word_clause(w) for w in words)


def swapped(dob: date) -> date | None:
    """The date with day and month exchanged (03/05 for 05/03), when that is another valid date."""
    if dob.day == dob.month or dob.day > 12:
        return None
    return dob.replace(month=dob.day, day=dob.month)


def _after(after: list[Any] | None) -> tuple[float, str] | None:
    if after is None:
        return None
    score, key = after
    if not isinstance(score, (int, float)) or not isinstance(key, str):
        raise InvalidInput("malformed cursor", field="after")
    return float(score), key


@dataclass
class SearchPage:
    hits: list[dict[str, Any]]
    has_more: bool


async def search_children(
    ctx: ServiceContext, *, name: str | None, date_of_birth: date | None, source_ref: str | None,
    area: str | None, limit: int, after: list[Any] | None,
) -> SearchPage:
    ctx.scope.named_record_params()  # analysts are refused before anything else is said
    name = name.strip() if name is not None else None
    ref = source_ref.strip() if source_ref is not None else None
    if not name and not ref and date_of_birth is None:
        raise InvalidInput("give at least one of name, dateOfBirth or sourceRef (area only narrows a search)",
                           field="name")
    lucene = lucene_query(name) if name else None
    if ref is not None and (not ref or len(ref) > REF_MAX_LENGTH):
        raise InvalidInput(f"`sourceRef` must be 1 to {REF_MAX_LENGTH} characters", field="sourceRef")
    area_code = await _area(ctx, area)
    ctx.require_purpose()
    rows = await SearchRepository(ctx.graph).children(
        ctx.scope, lucene=lucene, ref=ref or None, dob=date_of_birth,
        dob_swapped=swapped(date_of_birth) if date_of_birth else None, area=area_code, limit=limit + 1,
        after=_after(after))
    page, more = rows[:limit], len(rows) > limit
    # `auditId` names a summary hit in the audit trail only; it never leaves the service.
    await ctx.consulted("searchChildren", [h["child"]["id"] for h in page if h["visible"]],
                        summaries=[h.pop("auditId") for h in page if not h["visible"]])
    for h in page:
        h.pop("auditId", None)
    # A child missing now, found by a force on the locate basis: its id was disclosed too.
    await ctx.consulted("searchChildren.locate", [h["locateId"] for h in page if h.get("locateId")])
    return SearchPage(page, more)


async def _area(ctx: ServiceContext, area: str | None) -> str | None:
    if area is None:
        return None
    value = area.strip()
    if not value or len(value) > 20:
        raise InvalidInput("`area` must be a police force code or a local authority code", field="area")
    row = await IntelAreaRepository(ctx.graph).area_kind(value)
    if row["kind"] is None:
        raise InvalidInput(f"unknown area {value!r}: use a police force code (e.g. E23000032) or a local "
                           "authority code (e.g. E10000016)", field="area")
    return value


async def search_persons(
    ctx: ServiceContext, *, name: str, date_of_birth: date | None, limit: int, after: list[Any] | None,
) -> SearchPage:
    ctx.scope.named_record_params()
    lucene = lucene_query(name.strip())
    ctx.require_purpose()
    rows = await SearchRepository(ctx.graph).persons(
        ctx.scope, lucene=lucene, dob=date_of_birth, dob_swapped=swapped(date_of_birth) if date_of_birth else None,
        limit=limit + 1, after=_after(after))
    page, more = rows[:limit], len(rows) > limit
    ids = [h["person"]["id"] for h in page] + [c["id"] for h in page for c in h["yourChildren"]]
    await ctx.consulted("searchPersons", ids)
    return SearchPage(page, more)


__all__ = ["SearchPage", "fold", "lucene_escape", "lucene_query", "name_variants", "name_words",
           "search_children", "search_persons", "swapped"]
