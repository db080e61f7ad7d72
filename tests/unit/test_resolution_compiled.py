"""The scoring SQL generated once (mpdb.resolution.compiled) gives Splink's own numbers."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from mpdb.resolution.model import load_child_model
from mpdb.resolution.records import child_row
from mpdb.services.entry_match import EntryScorer

GIVEN = ("Olivia", "Olivai", "Livvy", "William", "Bill", "Zoey", "Zoe", None)
FAMILY = ("Smith", "Smyth", "O'Brien-Smith", "Okafor", None)
DOBS = (date(2011, 5, 17), date(2011, 5, 7), date(2011, 7, 5), date(2011, 5, 18), date(2012, 3, 1), None)


def children() -> list[dict]:
    """Variants spread over every level of the comparisons (names, date parts, sex, postcode and home
    distance, ethnicity, references), deterministic."""
    out = []
    for i, (g, f, d) in enumerate(itertools.product(GIVEN, FAMILY, DOBS)):
        if i % 3:  # a third of the product keeps the test quick and still spans the levels
            continue
        k = len(out)
        out.append({"id": f"U{i:04d}", "givenName": g, "familyName": f, "dateOfBirth": d, "sex": "FMU"[k % 3],
                    "postcode": ("ME1 2AB", "ME1 2AC", None, "ST1 3XY")[k % 4], "upn": ("A1", None, "A2")[k % 3],
                    "lacChildRef": ("R1", None)[k % 2], "lacRefLa": "E10000016",
                    "ethnicity": ("WBRI", None, "BAFR", "WBRI", "MWBC")[k % 5],
                    "homeLat": (51.38, 51.40, None, 53.00)[k % 4], "homeLon": (0.52, 0.55, None, -2.18)[k % 4]})
    return out


@pytest.fixture(scope="module")
def pairs() -> tuple[list[dict], list[dict]]:
    model = load_child_model()
    rows = [child_row(c) for c in children()]
    record = rows[0]
    compiled = model.compiled().run([{**model.with_tf(record), "pair_key": "p"}],
                                    [{**model.with_tf(c), "pair_key": "p"} for c in rows[1:]]).to_pylist()
    linker = model._linker([record])
    splink = linker.inference.score_pairs([model.with_tf(record)], [model.with_tf(c) for c in rows[1:]]).as_record_list()
    return compiled, splink


def test_every_pair_scores_as_splink_scores_it(pairs) -> None:  # type: ignore[no-untyped-def]
    compiled, splink = pairs
    assert len(compiled) == len(splink) == len(children()) - 1
    by_id = {r["unique_id_r"]: r for r in splink}
    cols = [k for k in splink[0] if k == "match_probability" or k == "match_weight" or k.startswith(("gamma_", "bf_", "mw_"))]
    assert "match_probability" in cols and any(c.startswith("gamma_") for c in cols)
    for r in compiled:
        s = by_id[r["unique_id_r"]]
        assert {c: r[c] for c in cols} == {c: s[c] for c in cols}, r["unique_id_r"]


def test_the_pairs_span_the_levels(pairs) -> None:  # type: ignore[no-untyped-def]
    """Otherwise the comparison above proves little."""
    compiled, _ = pairs
    model = load_child_model()
    for comp in model.labels():
        assert len({r[f"gamma_{comp}"] for r in compiled}) >= 2, comp
    probs = [r["match_probability"] for r in compiled]
    assert min(probs) < 0.01 and max(probs) > model.review_threshold


def test_model_score_and_an_entry_batch_agree_with_splink(pairs) -> None:  # type: ignore[no-untyped-def]
    compiled, splink = pairs
    model = load_child_model()
    kids = children()
    rows = [child_row(c) for c in kids]
    expected = sorted(((r["unique_id_r"], r["match_probability"]) for r in splink if not model.sibling_guard(r)),
                      key=lambda x: (-x[1], x[0]))
    assert [(s.candidate_id, s.match_probability) for s in model.score(rows[0], rows[1:])] == expected
    # one batch of two records: each gets what it gets alone, threshold and top applied
    scorer = EntryScorer()
    batch = scorer._score_sync([(kids[0], kids[1:]), (kids[5], kids[:5] + kids[6:])], scorer.review_threshold, 3)
    alone = [scorer._score_sync([(kids[5], kids[:5] + kids[6:])])[0]]
    above = [(cid, p) for cid, p in expected if p >= scorer.review_threshold][:3]
    assert [(m.candidate_id, m.match_probability) for m in batch[0]] == above
    assert [(m.candidate_id, m.match_probability) for m in batch[1]] == \
        [(m.candidate_id, m.match_probability) for m in alone[0] if m.match_probability >= scorer.review_threshold][:3]
    assert above and batch[1]
