"""Entity resolution below the graph: normalisation, explanations, synthetic duplicates."""

from __future__ import annotations

import json
from datetime import date

from mpdb.ingest.synthetic.generator import SyntheticGenerator
from mpdb.ingest.synthetic.profiles import get_profile
from mpdb.resolution.explain import MatchReason, reasons_from_json, reasons_to_json
from mpdb.resolution.records import (
    child_row,
    family_parts,
    fold_name,
    given_keys,
    iso_date,
    norm_postcode,
    pair_id,
    swapped_date,
)


def test_names_fold_to_lower_case_ascii() -> None:
    assert fold_name("Zoë") == "zoe"
    assert fold_name("  Siobhán  Ní Bhriain ") == "siobhan ni bhriain"
    assert fold_name("O'Brien") == "obrien"
    assert fold_name("Smith - Jones") == "smith-jones"
    assert fold_name("Nguyễn") == "nguyen"
    assert fold_name("Şahin") == "sahin"
    assert fold_name("  ") is None
    assert fold_name(None) is None


def test_given_name_keys_join_nicknames_and_their_names() -> None:
    assert "william" in given_keys("will") and "will" in given_keys("william")
    assert set(given_keys("will")) & set(given_keys("bill")) >= {"william"}
    assert given_keys("zak") == tuple(sorted(given_keys("zak")))
    assert given_keys(None) == ()


def test_family_name_parts() -> None:
    assert family_parts("smith-jones") == ("jones", "smith")
    assert family_parts("ni bhriain") == ("bhriain", "ni")
    assert family_parts(None) == ()


def test_dates_and_postcodes() -> None:
    assert iso_date(date(2010, 3, 4)) == "2010-03-04"
    assert iso_date("2010-03-04T00:00:00") == "2010-03-04"
    assert iso_date("not a date") is None
    assert swapped_date("2010-03-04") == "2010-04-03"
    assert swapped_date("2010-03-13") is None  # no 13th month
    assert swapped_date("2010-05-05") is None  # the same date
    assert norm_postcode(" st1  3ab ") == "ST1 3AB"
    assert norm_postcode("ST13AB") == "ST1 3AB"
    assert norm_postcode("ZZ12 3") == "ZZ12 3"


def test_a_child_becomes_one_model_row() -> None:
    row = child_row({"id": "CH-1", "givenName": "Zoë", "familyName": "Smith-Jones", "dateOfBirth": date(2010, 3, 4),
                     "sex": "U", "postcode": "zz1 2", "upn": "a123 456", "lacChildRef": "x9", "lacRefLa": "E10000016",
                     "ethnicity": "wbri", "homeLat": 51.27345, "homeLon": "0.5219",
                     "agencyForces": ["e23000032", "E23000032", ""]})
    assert row == {"unique_id": "CH-1", "given_name": "zoe", "given_keys": ["zoe"], "family_name": "smith-jones",
                   "family_parts": ["jones", "smith"], "dob": "2010-03-04", "dob_swapped": "2010-04-03", "sex": None,
                   "postcode": "ZZ1 2", "upn": "A123456", "lac_ref": "E10000016:X9", "ethnicity": "WBRI",
                   "home_lat": 51.273, "home_lon": 0.522, "agency_forces": ["E23000032"]}
    assert child_row({"id": "CH-2", "agencyForces": []})["agency_forces"] is None
    # no home point, or an unreadable one: no distance to compare (the postcode levels alone decide)
    row = child_row({"id": "CH-2", "homeLat": None, "homeLon": "x"})
    assert (row["home_lat"], row["home_lon"], row["ethnicity"]) == (None, None, None)


def test_pair_ids_are_one_per_unordered_pair() -> None:
    assert pair_id("CH-2", "CH-1") == pair_id("CH-1", "CH-2")
    assert pair_id("CH-1", "CH-2").startswith("psa-") and len(pair_id("CH-1", "CH-2")) == 28
    assert pair_id("CH-1", "CH-2") != pair_id("CH-1", "CH-3")


def test_reasons_round_trip_through_json() -> None:
    reasons = [MatchReason("given_name", "Exact match", 6.51234), MatchReason("dob", "Different", -2.5)]
    text = reasons_to_json(reasons)
    assert json.loads(text) == [{"comparison": "given_name", "level": "Exact match", "matchWeight": 6.512},
                                {"comparison": "dob", "level": "Different", "matchWeight": -2.5}]
    assert reasons_from_json(text) == [MatchReason("given_name", "Exact match", 6.512),
                                       MatchReason("dob", "Different", -2.5)]
    assert reasons_from_json(None) == [] and reasons_from_json("") == []


def _children(profile, seed: int = 3):  # type: ignore[no-untyped-def]
    gen = SyntheticGenerator(profile, seed)
    rows = [r for chunk in gen.static_chunks() if chunk.stage == "child" for r in chunk.rows]
    return gen, rows


def test_duplicates_are_off_by_default_and_change_nothing_else() -> None:
    tiny = get_profile("tiny")
    gen, plain = _children(tiny)
    assert gen.duplicate_truth is None
    dgen, dup = _children(tiny.with_duplicates(0.2))
    originals = dup[:len(plain)]
    names = ("givenName", "familyName", "upn")
    assert [{k: v for k, v in r["props"].items() if k not in names} for r in originals] == \
           [{k: v for k, v in r["props"].items() if k not in names} for r in plain]
    assert [r["homeLocationId"] for r in originals] == [r["homeLocationId"] for r in plain]
    truth = dgen.duplicate_truth.pairs
    assert len(dup) == len(plain) + len(truth) and 40 <= len(truth) <= 80  # 20% of 300
    by_id = {r["props"]["id"]: r for r in dup}
    ids = [r["props"]["id"] for r in dup]
    assert len(set(ids)) == len(ids) and len({r["props"]["pseudonym"] for r in dup}) == len(ids)
    for dup_id, orig_id in truth:
        d, o = by_id[dup_id]["props"], by_id[orig_id]["props"]
        assert d["recordedBy"] != o["recordedBy"]  # the other agency
        assert by_id[dup_id]["lookedAfterBy"] is None and "lacChildRef" not in d
    assert tiny.with_duplicates(0.2).name == "tiny+dup0.2"


def test_duplicates_are_deterministic() -> None:
    p = get_profile("tiny").with_duplicates(0.1)
    (g1, r1), (g2, r2) = _children(p), _children(p)
    assert r1 == r2 and g1.duplicate_truth.pairs == g2.duplicate_truth.pairs
    assert g1.duplicate_truth.to_csv().splitlines()[0] == "duplicate_id,original_id,errors"


def test_the_model_scores_a_record_against_candidates_and_guards_twins() -> None:
    import pytest

    from mpdb.resolution.model import ModelFileError, load_child_model

    model = load_child_model()
    assert model.version == "child-v3" and 0 < model.review_threshold < 1
    with pytest.raises(ModelFileError, match="no model 'child-v999'"):
        load_child_model("child-v999")
    new = child_row({"id": "NEW", "givenName": "Will", "familyName": "Pemberton-Ashworth", "dateOfBirth": "2010-06-05",
                     "sex": "M", "postcode": "ZZ3 4"})
    same = child_row({"id": "CH-1", "givenName": "William", "familyName": "Pemberton", "dateOfBirth": "2010-05-06",
                      "sex": "M", "postcode": "ZZ3 4"})
    twin = child_row({"id": "CH-2", "givenName": "Harry", "familyName": "Pemberton-Ashworth",
                      "dateOfBirth": "2010-06-05", "sex": "M", "postcode": "ZZ3 4"})
    other = child_row({"id": "CH-3", "givenName": "Will", "familyName": "Okafor", "dateOfBirth": "2012-01-30",
                       "sex": "M", "postcode": "ZZ8 1"})
    scored = model.score(new, [twin, same, other, new])
    # the twin is guarded (given names wholly different), the record itself skipped
    assert [s.candidate_id for s in scored] == ["CH-1", "CH-3"]
    best = scored[0]
    assert best.match_probability >= model.review_threshold and scored[1].match_probability < 0.01
    assert {r.comparison: r.level for r in best.reasons} == {
        "given_name": "Name variant or nickname", "family_name": "Shares a name part", "dob": "Day and month swapped",
        "sex": "Exact match", "postcode": "Same postcode or sector", "ethnicity": "ethnicity is NULL",
        "references": "No shared reference to compare"}


def test_a_move_to_a_nearby_home_counts_for_not_against() -> None:
    from mpdb.resolution.model import load_child_model

    model = load_child_model("child-v2")
    base = {"givenName": "Olivia", "familyName": "Hargreaves", "dateOfBirth": "2011-03-04", "sex": "F"}
    # Maidstone -> Tonbridge (~18 km, another district), Maidstone -> Leeds (~300 km)
    here = child_row({**base, "id": "A", "postcode": "ZZ1 2", "homeLat": 51.2720, "homeLon": 0.5290})
    near = child_row({**base, "id": "B", "postcode": "ZZ2 3", "homeLat": 51.1950, "homeLon": 0.2750})
    far = child_row({**base, "id": "C", "postcode": "ZZ3 4", "homeLat": 53.8000, "homeLon": -1.5490})
    unplaced = child_row({**base, "id": "D", "postcode": "ZZ4 5"})
    by_id = {s.candidate_id: s for s in model.score(here, [near, far, unplaced])}
    level = {i: next(r for r in s.reasons if r.comparison == "postcode") for i, s in by_id.items()}
    assert (level["B"].level, level["C"].level, level["D"].level) == ("Homes within 25 km", "Different", "Different")
    assert level["B"].match_weight > 0 > level["C"].match_weight == level["D"].match_weight
    assert by_id["B"].match_weight > by_id["C"].match_weight


def test_child_v3_weighs_the_recording_area_where_the_homes_do_not_settle_it() -> None:
    from mpdb.ingest.reference import read_reference_data
    from mpdb.resolution.model import load_child_model
    from mpdb.resolution.training import agency_forces

    ref = read_reference_data()
    kent_cc, kent_police, west_yorks = "E10000016", "E23000032", "E23000010"
    assert agency_forces(ref, kent_cc) == [kent_police] and agency_forces(ref, kent_police) == [kent_police]
    assert agency_forces(ref, "BTP") is None and agency_forces(ref, "NCA-MPU") is None

    model = load_child_model("child-v3")
    base = {"givenName": "Olivia", "familyName": "Hargreaves", "dateOfBirth": "2011-03-04", "sex": "F"}
    maidstone = {"postcode": "ZZ1 2", "homeLat": 51.2720, "homeLon": 0.5290}
    here = child_row({**base, "id": "A", **maidstone, "agencyForces": [kent_police]})
    cands = [
        child_row({**base, "id": "HOME", **maidstone, "agencyForces": [kent_police]}),  # the same address
        child_row({**base, "id": "SECTOR", "postcode": "ZZ1 2", "homeLat": 51.2900, "homeLon": 0.5290,
                   "agencyForces": [kent_police]}),  # ~2 km away, same sector
        # Maidstone -> Margate (~55 km) within Kent Police's area, or -> Leeds recorded in West Yorkshire
        child_row({**base, "id": "FAR-ONE", "postcode": "ZZ9 1", "homeLat": 51.3890, "homeLon": 1.3860,
                   "agencyForces": [kent_police]}),
        child_row({**base, "id": "FAR-OTHER", "postcode": "ZZ3 4", "homeLat": 53.8000, "homeLon": -1.5490,
                   "agencyForces": [west_yorks]}),
        child_row({**base, "id": "FAR-UNKNOWN", "postcode": "ZZ3 4", "homeLat": 53.8000, "homeLon": -1.5490}),
        child_row({**base, "id": "NOHOME-ONE", "agencyForces": [kent_police]}),
        child_row({**base, "id": "NOHOME-OTHER", "agencyForces": [west_yorks]}),
    ]
    by_id = {s.candidate_id: s for s in model.score(here, cands)}
    home = {i: next(r for r in s.reasons if r.comparison == "postcode") for i, s in by_id.items()}
    assert {i: r.level for i, r in home.items()} == {
        "HOME": "Same home (within 100 m)", "SECTOR": "Same postcode or sector",
        "FAR-ONE": "Homes further apart, recorded in one police area",
        "FAR-OTHER": "Homes further apart, recorded in different police areas",
        "FAR-UNKNOWN": "Homes further apart (recording areas unknown)",
        "NOHOME-ONE": "No home to compare, recorded in one police area",
        "NOHOME-OTHER": "No home to compare, recorded in different police areas"}
    w = {i: r.match_weight for i, r in home.items()}
    assert w["HOME"] > w["SECTOR"] > 0
    assert w["FAR-ONE"] > 0 > w["FAR-UNKNOWN"] > w["FAR-OTHER"]
    assert w["NOHOME-ONE"] > 0 > w["NOHOME-OTHER"]
    # no home and no area on one side: no evidence either way, as in child-v2
    nothing = model.score(child_row({**base, "id": "BARE"}), [cands[0]])[0]
    assert next(r for r in nothing.reasons if r.comparison == "postcode").match_weight == 0.0


def test_child_v3_tells_a_slipped_day_or_year_from_any_one_character() -> None:
    from mpdb.resolution.model import load_child_model

    model = load_child_model("child-v3")
    base = {"givenName": "Jakub", "familyName": "Kaczmarek", "sex": "M", "postcode": "ZZ5 6"}
    here = child_row({**base, "id": "A", "dateOfBirth": "2010-04-17"})
    cands = [child_row({**base, "id": "DAY", "dateOfBirth": "2010-04-18"}),
             child_row({**base, "id": "YEAR", "dateOfBirth": "2011-04-17"}),
             child_row({**base, "id": "MONTH", "dateOfBirth": "2010-09-17"})]
    dob = {s.candidate_id: next(r for r in s.reasons if r.comparison == "dob") for s in model.score(here, cands)}
    assert {i: r.level for i, r in dob.items()} == {"DAY": "One day apart", "YEAR": "Same day and month, year one apart",
                                                   "MONTH": "One character different"}
    assert min(dob["DAY"].match_weight, dob["YEAR"].match_weight) > dob["MONTH"].match_weight + 2
