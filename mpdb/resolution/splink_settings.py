"""The Splink comparisons and blocking rules of the child model (what `mpdb resolve train` trains).

Levels, strongest first, each a Fellegi-Sunter level whose m (share among true matches) and u
(share among random pairs) the training estimates:
- given_name: exact (term-frequency adjusted: a rare name agreeing counts for more), one edit
  (Damerau-Levenshtein <= 1), Jaro-Winkler >= 0.92, a name variant or nickname (Will/William,
  from the `nicknames` package and seed/reference/given_name_variants.csv);
- family_name: exact (tf adjusted), one edit, Jaro-Winkler >= 0.92, a shared part (a hyphenated or
  double-barrelled name against one of its parts);
- dob: exact, day and month swapped, one character different, same year and month with one day
  the 1st (an unknown day recorded as the 1st), same year and month, within a year;
- sex: exact; postcode: exact or same sector, same district, homes within 5 km, within 25 km
  (haversine between the HOME_AT places' points);
- ethnicity: exact, different (weak; m set, not learnt: training.REASONED_M);
- references: the same UPN or the same LA child reference (SSDA903 CHILD id, qualified by its LA):
  very strong when present on both sides.
Null values (missing on either side) are neutral. Names are compared in their folded ASCII form
(records.py), so transliteration and diacritics do not count as differences.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on


def _name(col: str, keys_col: str, variant_label: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col, term_frequency_adjustments=True).configure(label_for_charts="Exact match"),
            cll.DamerauLevenshteinLevel(col, 1).configure(label_for_charts="One edit apart"),
            cll.JaroWinklerLevel(col, 0.92).configure(label_for_charts="Jaro-Winkler >= 0.92"),
            cll.ArrayIntersectLevel(keys_col, 1).configure(label_for_charts=variant_label),
            cll.ElseLevel().configure(label_for_charts="Different"),
        ],
        comparison_description=col,
    )


def _dob() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob").configure(label_for_charts="Exact match"),
            cll.CustomLevel("dob_swapped_l = dob_r", label_for_charts="Day and month swapped"),
            cll.DamerauLevenshteinLevel("dob", 1).configure(label_for_charts="One character different"),
            cll.CustomLevel("substr(dob_l, 1, 7) = substr(dob_r, 1, 7) AND (substr(dob_l, 9, 2) = '01' "
                            "OR substr(dob_r, 9, 2) = '01')", label_for_charts="Same year and month, one day the 1st"),
            cll.CustomLevel("substr(dob_l, 1, 7) = substr(dob_r, 1, 7)", label_for_charts="Same year and month"),
            cll.AbsoluteDateDifferenceLevel("dob", input_is_string=True, threshold=1, metric="year")
            .configure(label_for_charts="Within a year"),
            cll.ElseLevel().configure(label_for_charts="Different"),
        ],
        comparison_description="dob",
    )


def _exact(col: str, label: str) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[cll.NullLevel(col), cll.ExactMatchLevel(col).configure(label_for_charts=label),
                           cll.ElseLevel().configure(label_for_charts="Different")],
        comparison_description=col,
    )


def _postcode() -> cl.CustomComparison:
    # Imported postcodes are often partial ("ST1 3"): a full postcode and its sector agree at one level.
    def sector(c: str) -> str:
        return f"regexp_extract({c}, '^[A-Z]{{1,2}}[0-9][A-Z0-9]? [0-9]')"

    def district(c: str) -> str:
        return f"regexp_extract({c}, '^[A-Z]{{1,2}}[0-9][A-Z0-9]?')"

    return cl.CustomComparison(
        output_column_name="postcode",
        comparison_levels=[
            cll.NullLevel("postcode"),
            cll.CustomLevel(f"postcode_l = postcode_r OR ({sector('postcode_l')} = {sector('postcode_r')} "
                            f"AND {sector('postcode_l')} <> '')", label_for_charts="Same postcode or sector"),
            cll.CustomLevel(f"{district('postcode_l')} = {district('postcode_r')} AND {district('postcode_l')} <> ''",
                            label_for_charts="Same district"),
            # Children mostly move locally (to the next town, the neighbouring LA): the distance
            # between the two homes' points separates a local move from a stranger across the country.
            cll.DistanceInKMLevel("home_lat", "home_lon", 5).configure(label_for_charts="Homes within 5 km"),
            cll.DistanceInKMLevel("home_lat", "home_lon", 25).configure(label_for_charts="Homes within 25 km"),
            cll.ElseLevel().configure(label_for_charts="Different"),
        ],
        comparison_description="postcode",
    )


def _ethnicity() -> cl.CustomComparison:
    # Weak evidence. Not term-frequency adjusted: ethnicity correlates with the names, whose
    # agreement is already weighed by their frequency, so a rare code would count the same evidence
    # twice. Its m probabilities are set, not learnt (training.REASONED_M): agencies record ethnicity
    # differently (self-described or not), and the synthetic generator never does.
    return cl.CustomComparison(
        output_column_name="ethnicity",
        comparison_levels=[
            cll.NullLevel("ethnicity"),
            cll.ExactMatchLevel("ethnicity").configure(label_for_charts="Exact match"),
            cll.ElseLevel().configure(label_for_charts="Different"),
        ],
        comparison_description="ethnicity",
    )


def _references() -> cl.CustomComparison:
    # A UPN or an LA's child reference identifies one child; either agreeing is the same evidence.
    both_missing = ("(upn_l IS NULL OR upn_r IS NULL) AND (lac_ref_l IS NULL OR lac_ref_r IS NULL)")
    return cl.CustomComparison(
        output_column_name="references",
        comparison_levels=[
            cll.CustomLevel(both_missing, label_for_charts="No shared reference to compare").configure(is_null_level=True),
            cll.CustomLevel("upn_l = upn_r OR lac_ref_l = lac_ref_r", label_for_charts="Same UPN or LA child reference"),
            cll.ElseLevel().configure(label_for_charts="Different references"),
        ],
        comparison_description="references",
    )


# Candidate pairs: each rule is an equality join, so the pairs grow with the number of records
# sharing a key, not with the square of all records. Together they miss a duplicate only when its
# date of birth AND its names changed at once (measured in bench/resolution.py).
PREDICTION_BLOCKING_RULES = [
    block_on("dob", "substr(family_name, 1, 2)"),
    block_on("dob", "substr(given_name, 1, 2)"),
    "l.dob_swapped = r.dob",
    block_on("given_name", "family_name"),
    # The two rules for a date of birth with an error are the widest: each also keys on something
    # the sibling guard or the date rules would need anyway (a given name's initial; sex), which
    # cuts the national candidate pairs without losing duplicates the model could propose.
    block_on("family_name", "substr(dob, 1, 4)", "substr(given_name, 1, 1)"),
    block_on("given_name", "substr(dob, 1, 7)", "sex"),
    block_on("upn"),
    block_on("lac_ref"),
]

# Expectation maximisation runs once per rule: the comparisons a rule blocks on are fixed in that
# session, the others estimated, so the sessions between them estimate every comparison. Each rule
# is narrow enough that true matches are a good share of its pairs even at national scale: with
# date of birth alone or the two names alone, EM settled on another split of the pairs (by sex or
# postcode) and learnt nothing about the date of birth.
EM_BLOCKING_RULES = [
    block_on("dob", "postcode"),  # names, sex, references
    block_on("given_name", "family_name", "postcode"),  # date of birth, sex, references
    block_on("given_name", "family_name", "dob"),  # postcode, sex, references
]

# Pairs that are almost surely the same child: estimate the prior (lambda) from their count.
DETERMINISTIC_RULES = [
    "l.given_name = r.given_name AND l.family_name = r.family_name AND l.dob = r.dob",
    "l.upn = r.upn",
]


def settings_creator() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            _name("given_name", "given_keys", "Name variant or nickname"),
            _name("family_name", "family_parts", "Shares a name part"),
            _dob(),
            _exact("sex", "Exact match"),
            _postcode(),
            _ethnicity(),
            _references(),
        ],
        blocking_rules_to_generate_predictions=PREDICTION_BLOCKING_RULES,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        additional_columns_to_retain=["dob_swapped", "upn", "lac_ref"],
    )


def settings_dict() -> dict[str, Any]:
    return settings_creator()._as_naive_dict()  # noqa: SLF001 (Splink has no public to-dict)
