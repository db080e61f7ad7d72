"""Likely existing records of a child at entry: candidates through the model's blocking keys
(mpdb/graph/queries/entry_match.py), scored by the Splink model (mpdb/resolution), shaped for the
caller by what it may read.

One scorer per process: loading the model sets up Splink and DuckDB, which is not free, so it is
done once (`entry_scorer()`; the API warms it at start-up) and every request reuses it. DuckDB
work is synchronous and a connection is not for concurrent use: scoring runs in a worker thread
(the event loop keeps serving) under one lock.

Disclosure, as for registerChild's `matchedOn` before the model (docs/API.md): for a candidate
the caller may read in full, its id, names and date of birth and the model's reasons; for any
other, its summary form only (pseudonym, age band, responsible LA, active flags), the fields of
the caller's OWN input that agreed (`matchedOn`), and the probability, never the reasons, which
describe how the other record's values compare.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from mpdb.intel.co_missing import age_band
from mpdb.services.search import fold, lucene_escape, name_words, swapped, word_clause

# Per block and per record: a date of birth is shared by ~160 children a year in England, a name
# by more; the model then scores at most this many pairs per record.
PER_BLOCK = 100
MAX_CANDIDATES = 200
# An import scores a batch at once (up to 1,000 rows): smaller blocks, so a file of near-identical
# rows (placeholder names, one date of birth) stays a bounded amount of work in its transaction.
IMPORT_PER_BLOCK = 25
IMPORT_MAX_CANDIDATES = 50
# Kept per new record, best first: more likely duplicates than this is a data-quality problem to
# see in the report, not more pairs to review.
MAX_KEPT = 10
IMPORT_MAX_KEPT = 3
MAX_NAME_WORDS = 6

# A comparison of the model -> the input field it compares (matchedOn names input fields).
_FIELD_OF_COMPARISON = (
    ("ref", "lacReference"), ("upn", "lacReference"), ("birth", "dateOfBirth"), ("dob", "dateOfBirth"),
    ("family", "familyName"), ("surname", "familyName"), ("given", "givenName"), ("forename", "givenName"),
    ("sex", "sex"), ("ethnic", "ethnicity"), ("postcode", "home.postcode"),
)
_FIELD_ORDER = ("lacReference", "dateOfBirth", "familyName", "givenName", "sex", "ethnicity", "home.postcode")
# matchedOn name -> the key of the typed record (graph property names, as mpdb.resolution.records reads)
_TYPED_KEY = {"home.postcode": "postcode"}


def proposal_id(a: str, b: str) -> str:
    """The POSSIBLY_SAME_AS id of an unordered pair (graph_schema/MODEL.md)."""
    from mpdb.resolution.records import pair_id

    return pair_id(a, b)


def _iso(v: Any) -> str | None:
    if v is None:
        return None
    if hasattr(v, "to_native"):
        v = v.to_native()
    return v.isoformat() if isinstance(v, (date, datetime)) else str(v)


def _clause(word: str, fuzzy: bool) -> str:
    """One word's Lucene clause without its sign: "(...)" or "x*" (mpdb.services.search)."""
    if fuzzy:
        return word_clause(word)[1:]
    folded = fold(word)
    return lucene_escape(folded) + "*" if len(folded) == 1 else lucene_escape(folded)


def name_query(given: str | None, family: str | None, fuzzy: bool = True) -> str | None:
    """Lucene over `child_names`: every family-name word AND every given-name word, each exactly
    or (`fuzzy`) within its edit distance or as a nickname variant. None without both names (a
    block on one name alone would be every Smith)."""
    gw, fw = name_words(given or ""), name_words(family or "")
    if not gw or not fw or len(gw) + len(fw) > MAX_NAME_WORDS:
        return None
    return " ".join(f"+{fld}:{_clause(w, fuzzy)}" for fld, words in (("familyName", fw), ("givenName", gw))
                    for w in words)


def family_query(given: str | None, family: str | None, fuzzy: bool = True) -> str | None:
    """Lucene: every family-name word required, the given name's words only ranking."""
    gw, fw = name_words(given or ""), name_words(family or "")
    if not fw or len(gw) + len(fw) > MAX_NAME_WORDS:
        return None
    return " ".join([*(f"+familyName:{_clause(w, fuzzy)}" for w in fw),
                     *(f"givenName:{_clause(w, fuzzy)}" for w in gw)])


def block_keys(record: dict[str, Any], fuzzy: bool = True) -> dict[str, Any]:
    """The blocking parameters of one record (the shape ENTRY_CANDIDATES / IMPORT_CANDIDATE_IDS_*
    take). Entry asks with fuzzy names (one typed record, a person at the keyboard); an import
    batch with exact words, as the model's blocking rules compare names."""
    dob = record.get("dateOfBirth")
    dobs = [] if dob is None else [d for d in (dob, swapped(dob)) if d is not None]
    given, family = record.get("givenName"), record.get("familyName")
    return {"id": record.get("id"), "lacRefLa": record.get("lacRefLa"), "lacChildRef": record.get("lacChildRef"),
            "upn": record.get("upn"), "dobs": dobs, "year": dob.year if dob is not None else None,
            "lucene": name_query(given, family, fuzzy), "luceneFamily": family_query(given, family, fuzzy)}


# --- the scorer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    candidate_id: str
    match_probability: float
    match_weight: float
    reasons: list[Any]  # mpdb.resolution.explain.MatchReason


# Splink's own pair keys would be the candidate ids; a candidate of two records is scored twice,
# so each right-hand row is keyed "<record id> US <candidate id>".
_SEP = "\x1f"


class EntryScorer:
    """The process-wide model and its scoring SQL (mpdb.resolution.compiled: generated by Splink
    once, run on one DuckDB connection).

    Each call is ONE query over all its (record, candidate) pairs, joined on a pair key so exactly
    those pairs are compared: a registration's handful, or a whole import batch. Term frequencies
    are the model file's (`ChildModel.with_tf`), as `ChildModel.score` uses them: a handful of
    candidates is no population.
    """

    def __init__(self) -> None:
        from mpdb.resolution.model import load_child_model

        self._model = load_child_model()
        self.version: str = self._model.version
        self.review_threshold: float = float(self._model.review_threshold)
        self._compiled = self._model.compiled()
        out = self._compiled.sql
        # Twins and siblings left out in SQL as ChildModel.sibling_guard does (checked again in
        # Python), when the model has those comparisons, so the best `top` are real candidates.
        self._guard_sql = ("not (gamma_given_name = 0 and gamma_references is distinct from 1)"
                           if "gamma_given_name" in out and "gamma_references" in out else "true")

    def _score_sync(self, jobs: list[tuple[dict[str, Any], list[dict[str, Any]]]],
                    threshold: float | None = None, top: int | None = None) -> list[list[Match]]:
        """`jobs`: (record, candidates) in graph property names; per job its matches, best first
        (at or above `threshold`, and at most `top` of them, when given)."""
        from mpdb.resolution.records import child_row

        model = self._model
        left, right = [], []
        rows: dict[str, dict[str, Any]] = {}  # a candidate of many records is normalised once
        for rec, cands in jobs:
            row = model.with_tf(child_row(rec))
            left.append({**row, "pair_key": row["unique_id"]})
            for cand in cands:
                crow = rows.get(str(cand["id"])) or rows.setdefault(str(cand["id"]), model.with_tf(child_row(cand)))
                if crow["unique_id"] == row["unique_id"]:
                    continue
                right.append({**crow, "unique_id": row["unique_id"] + _SEP + crow["unique_id"],
                              "pair_key": row["unique_id"]})
        out: dict[str, list[Match]] = {str(rec["id"]): [] for rec, _ in jobs}
        if not right:
            return [[] for _ in jobs]
        where = ["match_probability >= ?"] if threshold is not None else []
        params: list[Any] = [threshold] if threshold is not None else []
        post = "select * from p" + (f" where {' and '.join(where)}" if where else "")
        if top is not None:
            # the best `top` of each record in DuckDB, so explaining the pairs (Python) stays
            # bounded by the rows, not the pairs
            post = (f"select * from p where {' and '.join([*where, self._guard_sql])} qualify row_number() over "
                    "(partition by unique_id_l order by match_probability desc, unique_id_r) <= ?")
            params.append(int(top))
        records = self._compiled.run(left, right, post, params).to_pylist()
        for r in records:
            if model.sibling_guard(r):  # twins and siblings: never a candidate (ChildModel)
                continue
            rid, cid = str(r["unique_id_r"]).split(_SEP, 1)
            out[rid].append(Match(cid, float(r["match_probability"]), float(r["match_weight"]), model.reasons(r)))
        return [sorted(out[str(rec["id"])], key=lambda m: (-m.match_probability, m.candidate_id)) for rec, _ in jobs]

    async def score(self, record: dict[str, Any], candidates: list[dict[str, Any]]) -> list[Match]:
        """The candidates at or above the review threshold, scored against `record`."""
        if not candidates:
            return []
        return (await asyncio.to_thread(self._score_sync, [(record, candidates)], self.review_threshold,
                                        MAX_KEPT))[0]

    async def score_batch(self, jobs: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[list[Match]]:
        """One Splink call for a whole import batch; per job, its candidates at or above the threshold."""
        if not any(c for _, c in jobs):
            return [[] for _ in jobs]
        return await asyncio.to_thread(self._score_sync, jobs, self.review_threshold, IMPORT_MAX_KEPT)


_scorer_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> EntryScorer:
    return EntryScorer()


def entry_scorer() -> EntryScorer:
    with _scorer_lock:  # two first requests at once load the model once
        return _load()


async def get_entry_scorer() -> EntryScorer:
    """The scorer, loaded off the event loop the first time (the API warms it at start-up)."""
    if _load.cache_info().currsize:
        return _load()
    return await asyncio.to_thread(entry_scorer)


async def warm_entry_scorer() -> None:
    """Load the model in the background at API start-up, so the first registration is not slow.
    A failure is logged here and raised again by the first write that needs the model."""
    try:
        await get_entry_scorer()
    except Exception:  # noqa: BLE001
        logging.getLogger(__name__).exception("the record-linkage model did not load")


# --- shaping ---------------------------------------------------------------------------------


def matched_on(typed: dict[str, Any], match: Match | None, same_ref: bool) -> list[str]:
    """The caller's own input fields that agreed (comparisons with a positive weight), never the
    recorded values."""
    from mpdb.resolution.splink_settings import AREA_FAR_ONE, AREA_NOHOME_ONE

    fields = {"lacReference"} if same_ref else set()
    for reason in (match.reasons if match else []):
        # "recorded in one police area" weighs the agencies, not the homes: the postcode did not agree
        if reason.match_weight <= 0 or reason.level in (AREA_FAR_ONE, AREA_NOHOME_ONE):
            continue
        name = reason.comparison.lower()
        field = next((f for key, f in _FIELD_OF_COMPARISON if key in name), None)
        if field is not None and (field == "lacReference" or typed.get(_TYPED_KEY.get(field, field)) not in (None, "", "U")):
            fields.add(field)
    return [f for f in _FIELD_ORDER if f in fields]


def reasons_data(match: Match | None) -> list[dict[str, Any]]:
    return [r.to_dict() for r in match.reasons] if match else []


def shape_candidate(row: dict[str, Any], match: Match | None, typed: dict[str, Any], now: datetime,
                    candidate_id: str | None) -> dict[str, Any]:
    """One candidate as the caller may see it (the stored result of the mutation)."""
    base = {"matchedOn": matched_on(typed, match, bool(row.get("sameRef"))),
            "matchProbability": round(match.match_probability, 6) if match else None,
            "matchWeight": round(match.match_weight, 4) if match else None,
            "candidateId": candidate_id}
    if row["visible"]:
        r = row["record"]
        return {**base, "reasons": reasons_data(match), "summary": None,
                "child": {"id": row["id"], "givenName": r.get("givenName"), "familyName": r.get("familyName"),
                          "dateOfBirth": _iso(r.get("dateOfBirth"))}}
    s = row["summary"]
    return {**base, "reasons": None, "child": None, "summary": {
        "pseudonym": s["pseudonym"], "ageBand": age_band(s.get("dateOfBirth"), now),
        "responsibleAuthority": s.get("responsibleAuthority"),
        "activeFlags": [{"type": f["type"], "raisedBy": f.get("raisedBy"), "raisedAt": _iso(f.get("raisedAt"))}
                        for f in sorted(s.get("activeFlags") or [], key=lambda f: (f["type"], f.get("raisedBy") or ""))],
    }}


def likely(rows: list[dict[str, Any]], matches: list[Match], threshold: float) -> list[tuple[dict[str, Any], Match | None]]:
    """The candidates kept: the same LA reference whatever the score, and every other at or above
    the review threshold; by probability, highest first (then id); at most
    MAX_KEPT."""
    by_id = {m.candidate_id: m for m in matches}
    kept = [(r, by_id.get(r["id"])) for r in rows
            if r.get("sameRef") or (r["id"] in by_id and by_id[r["id"]].match_probability >= threshold)]
    # the same LA reference first, whatever its score: it is the one record that cannot be created twice
    kept.sort(key=lambda rm: (not rm[0].get("sameRef"), -(rm[1].match_probability if rm[1] else 0.0), rm[0]["id"]))
    return kept[:MAX_KEPT]


def proposals(new_id: str, kept: list[tuple[dict[str, Any], Match | None]], model_version: str) -> list[Any]:
    """The POSSIBLY_SAME_AS pairs of a new child and its scored candidates (resolution.Proposal)."""
    from mpdb.graph.repositories.resolution import Proposal
    from mpdb.resolution.explain import reasons_to_json

    return [Proposal(new_id, row["id"], m.match_probability, m.match_weight, model_version, reasons_to_json(m.reasons))
            for row, m in kept if m is not None]
