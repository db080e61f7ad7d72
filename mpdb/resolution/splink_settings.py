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
            # The two commonest slips, apart from the wider "one character" level (which also holds
            # dates a month or a decade apart, so random pairs reach it 10x as often): a day
            # off by one (born near midnight, a date typed from a form) and the year alone wrong.
            cll.AbsoluteDateDifferenceLevel("dob", input_is_string=True, threshold=1, metric="day")
            .configure(label_for_charts="One day apart"),
            cll.CustomLevel("substr(dob_l, 6, 5) = substr(dob_r, 6, 5) AND "
                            "abs(try_cast(substr(dob_l, 1, 4) AS INTEGER) - try_cast(substr(dob_r, 1, 4) AS INTEGER)) = 1",
                            label_for_charts="Same day and month, year one apart"),
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


# child-v3: the postcode comparison also weighs WHO recorded the two records when their homes do
# not settle it (further apart than 25 km, or no home on one side). A child's records are mostly
# made by agencies of one area (the LA that looks after the child and the force it reports the
# child missing to), so two records far apart but recorded within one police area are a move, and
# two far apart recorded in different areas are strangers more often. One comparison rather than
# two, because the recording agency and the home go together for strangers too: a second,
# independent comparison would count "same area" twice for every pair in one district. Where no
# area is known (a record scored at entry without its agency), the level is "homes further apart"
# with the two area levels' weights summed (training.combine_unknown_area).
SAME_HOME = "Same home (within 100 m)"
AREA_FAR_ONE = "Homes further apart, recorded in one police area"
AREA_FAR_OTHER = "Homes further apart, recorded in different police areas"
AREA_FAR_UNKNOWN = "Homes further apart (recording areas unknown)"
AREA_NOHOME_ONE = "No home to compare, recorded in one police area"
AREA_NOHOME_OTHER = "No home to compare, recorded in different police areas"


def _home_and_area() -> cl.CustomComparison:
    def sector(c: str) -> str:
        return f"regexp_extract({c}, '^[A-Z]{{1,2}}[0-9][A-Z0-9]? [0-9]')"

    def district(c: str) -> str:
        return f"regexp_extract({c}, '^[A-Z]{{1,2}}[0-9][A-Z0-9]?')"

    homes = "postcode_l IS NOT NULL AND postcode_r IS NOT NULL"
    areas = "agency_forces_l IS NOT NULL AND agency_forces_r IS NOT NULL"
    one_area = f"{areas} AND len(list_intersect(agency_forces_l, agency_forces_r)) > 0"
    return cl.CustomComparison(
        output_column_name="postcode",
        comparison_levels=[
            cll.CustomLevel(f"NOT ({homes}) AND NOT ({areas})",
                            label_for_charts="No home or area to compare").configure(is_null_level=True),
            # child-v3: the same address (the two HOME_AT points within 100 m: the same house or the
            # next door) apart from the rest of its sector. A sector holds thousands of homes, and two
            # different children with common names and one date of birth in one sector were most of
            # child-v2's wrong proposals; the same address is far stronger evidence.
            cll.DistanceInKMLevel("home_lat", "home_lon", 0.1).configure(label_for_charts=SAME_HOME),
            cll.CustomLevel(f"postcode_l = postcode_r OR ({sector('postcode_l')} = {sector('postcode_r')} "
                            f"AND {sector('postcode_l')} <> '')", label_for_charts="Same postcode or sector"),
            cll.CustomLevel(f"{district('postcode_l')} = {district('postcode_r')} AND {district('postcode_l')} <> ''",
                            label_for_charts="Same district"),
            cll.DistanceInKMLevel("home_lat", "home_lon", 5).configure(label_for_charts="Homes within 5 km"),
            cll.DistanceInKMLevel("home_lat", "home_lon", 25).configure(label_for_charts="Homes within 25 km"),
            cll.CustomLevel(f"{homes} AND {one_area}", label_for_charts=AREA_FAR_ONE),
            cll.CustomLevel(f"{homes} AND {areas}", label_for_charts=AREA_FAR_OTHER),
            cll.CustomLevel(homes, label_for_charts=AREA_FAR_UNKNOWN),
            cll.CustomLevel(one_area, label_for_charts=AREA_NOHOME_ONE),
            cll.ElseLevel().configure(label_for_charts=AREA_NOHOME_OTHER),
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


POSTCODE_DISTRICT = "nullif(regexp_extract(postcode, '^[A-Z]{1,2}[0-9][A-Z0-9]?'), '')"

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
    # child-v3: a date of birth missing or wrong in more than one place, with a name error too
    # (296 of child-v2's 1,334 national misses were never compared): the same day and month with
    # both names' first letters (a slipped year), and one name exact with the other's initial in
    # the same postcode district (no date of birth at all: only a shared home can carry such a pair).
    block_on("substr(dob, 6, 5)", "substr(given_name, 1, 2)", "substr(family_name, 1, 2)"),
    block_on("family_name", "substr(given_name, 1, 1)", POSTCODE_DISTRICT),
    block_on("given_name", "substr(family_name, 1, 1)", POSTCODE_DISTRICT),
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
            _home_and_area(),
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
