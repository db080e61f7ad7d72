"""Train the child model on synthetic data made for training (never the evaluation seed).

u probabilities by random sampling, the prior (lambda) from deterministic rules, m probabilities by
expectation maximisation over the blocking rules of splink_settings.EM_BLOCKING_RULES. The result
is a versioned file in mpdb/resolution/models/ holding Splink's settings with the trained
parameters plus mpdb's own section: version, review threshold, term frequencies, training data.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mpdb.resolution.records import child_row

MODELS_DIR = Path(__file__).parent / "models"
TRAINING_PROFILE = "national"
TRAINING_CHILDREN: int | None = None  # the whole profile: the prior (lambda) depends on the population size
TRAINING_SEED = 1201  # the evaluation uses other seeds (bench/resolution.py: 42)
TRAINING_DUPLICATES = 0.05
DEFAULT_REVIEW_THRESHOLD = 0.9
TF_COLUMNS = ("given_name", "family_name")
# m probabilities set by reasoning, not learnt, where the synthetic errors cannot teach them: the
# generator keeps or drops a duplicate's ethnicity but never records it differently, so EM would
# learn that a different code all but rules a match out (m ~ 0). Real agencies disagree on a
# child's ethnicity often (self-described by the family at school, ascribed by an officer): 15%
# of true pairs recording different codes is a deliberately cautious guess; with labelled real
# pairs, measure it.
REASONED_M = {"ethnicity": {"Exact match": 0.85, "Different": 0.15}}
# The postcode comparison's recording-area levels (splink_settings._home_and_area): the generator
# always has a child's two records made by agencies of one police area, so EM would learn that
# records far apart in different areas are never one child. Real records disagree more: a child
# placed out of area is reported missing to the host force while the placing LA keeps its record,
# and a family that moved is recorded where it lives now. So EM's m for "homes further apart" (or
# "no home") is kept as a total and split by these shares, guesses to measure on labelled pairs.
# A missing home is no evidence either way (child-v2's null level): only the synthetic duplicates
# lack one, so EM would learn that a missing home means a match. For the no-home levels the total
# m is therefore set to their total u (together neutral) before the split, and the weight left is
# the area's alone: log2(share / the share of random no-home pairs recorded in one area).
REASONED_AREA_SHARE = {
    "far": (0.6, "Homes further apart, recorded in one police area", "Homes further apart, recorded in different police areas"),
    "nohome": (0.8, "No home to compare, recorded in one police area", "No home to compare, recorded in different police areas"),
}
AREA_NEUTRAL_TOTAL = ("nohome",)
AREA_UNKNOWN = ("Homes further apart (recording areas unknown)",
                ("Homes further apart, recorded in one police area", "Homes further apart, recorded in different police areas"))
TF_MIN_COUNT = 5  # names seen fewer times are not stored (the smallest stored frequency stands in)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyntheticSet:
    rows: list[dict[str, Any]]  # model rows (records.child_row)
    truth: list[tuple[str, str]]  # (duplicate id, original id)
    description: str
    errors: dict[str, list[str]]  # duplicate id -> the errors the generator made in it


def synthetic_set(profile_name: str, n_children: int | None, seed: int, duplicates: float,
                  as_of: Any = None) -> SyntheticSet:
    """Children (with duplicates and their truth) straight from the generator: no graph needed."""
    from mpdb.ingest.synthetic.generator import SyntheticGenerator
    from mpdb.ingest.synthetic.profiles import get_profile

    prof = get_profile(profile_name)
    if as_of is not None:
        prof = prof.at(as_of)
    if n_children:
        prof = prof.with_children(n_children)
    prof = prof.with_duplicates(duplicates)
    gen = SyntheticGenerator(prof, seed)
    children = gen.child_rows_only()
    homes = {r["props"]["id"]: r for r in gen._loc_rows}  # noqa: SLF001
    rows = []
    for r in children:
        home = homes.get(r["homeLocationId"] or "")
        rows.append(child_row({**r["props"], "postcode": home["props"].get("postcode") if home else None,
                               "homeLat": home["lat"] if home else None, "homeLon": home["lon"] if home else None,
                               "agencyForces": agency_forces(gen.ref, r["props"].get("recordedBy"))}))
    truth = gen.duplicate_truth.pairs if gen.duplicate_truth else []
    return SyntheticSet(rows, truth, f"synthetic profile {prof.name}, seed {seed}: {len(rows)} records, "
                                    f"{len(truth)} known duplicate pairs",
                        gen.duplicate_truth.errors if gen.duplicate_truth else {})


def agency_forces(ref: Any, code: str | None) -> list[str] | None:
    """The police area(s) of a recording agency, as `mpdb resolve` reads them from the graph (READ_AGENCY_AREAS): a
    territorial force's own code, an LA's forces, None for British Transport Police and others."""
    if code in ref.forces:
        return [code] if ref.forces[code].territorial else None
    if code in ref.la_forces:
        return [force for force, _ in ref.la_forces[code]]
    return None


def truth_path(state_dir: Path, profile_name: str, seed: int) -> Path:
    """Where `mpdb seed --duplicates` keeps the truth of a seeded data set (never in the graph)."""
    return state_dir / "resolution" / f"truth-{profile_name}-seed{seed}.csv"


def write_truth(state_dir: Path, profile: Any, seed: int) -> Path:
    """Regenerate the children of PROFILE/SEED (deterministic) and write which records are one child."""
    from mpdb.ingest.synthetic.generator import SyntheticGenerator

    gen = SyntheticGenerator(profile, seed)
    gen.child_rows_only()
    path = truth_path(state_dir, profile.name, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(gen.duplicate_truth.to_csv() if gen.duplicate_truth else "duplicate_id,original_id,errors\n",
                    encoding="utf-8")
    return path


def read_truth(path: Path) -> list[tuple[str, str]]:
    import csv

    with path.open(encoding="utf-8") as f:
        return [(r["duplicate_id"], r["original_id"]) for r in csv.DictReader(f)]


def new_linker(rows: list[dict[str, Any]], settings: Any):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    table = pa.Table.from_pylist(rows, schema=arrow_schema())
    df = db_api.register(table, dataset_display_name="children")
    return Linker(df, settings, log_level=logging.WARNING)


def arrow_schema():  # type: ignore[no-untyped-def]
    import pyarrow as pa

    s, arr = pa.string(), pa.list_(pa.string())
    return pa.schema([("unique_id", s), ("given_name", s), ("given_keys", arr), ("family_name", s),
                      ("family_parts", arr), ("dob", s), ("dob_swapped", s), ("sex", s), ("postcode", s),
                      ("upn", s), ("lac_ref", s), ("ethnicity", s), ("home_lat", pa.float64()),
                      ("home_lon", pa.float64()), ("agency_forces", arr)])


def term_frequencies(rows: Iterable[dict[str, Any]], column: str) -> dict[str, float]:
    from collections import Counter

    counts = Counter(r[column] for r in rows if r[column])
    total = sum(counts.values()) or 1
    return {k: round(v / total, 8) for k, v in sorted(counts.items()) if v >= TF_MIN_COUNT}


def next_version(models_dir: Path = MODELS_DIR) -> str:
    nums = [int(m.group(1)) for p in models_dir.glob("child-v*.json") if (m := re.fullmatch(r"child-v(\d+)", p.stem))]
    return f"child-v{max(nums, default=0) + 1}"


M_FLOOR = 0.001


def set_reasoned_m(model: dict[str, Any]) -> None:
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            m = REASONED_M.get(comp["output_column_name"], {}).get(level.get("label_for_charts"))
            if m is not None:
                level["m_probability"] = m


def set_area_shares(model: dict[str, Any]) -> None:
    """Split EM's m between the one-area and different-area levels by REASONED_AREA_SHARE, and give
    the unknown-area level the two levels' sums (m and u): a pair whose areas are unknown weighs
    what the two together weigh, as child-v2's "different" level did."""
    for comp in model["comparisons"]:
        levels = {lv.get("label_for_charts"): lv for lv in comp["comparison_levels"]}
        for key, (share, one, other) in REASONED_AREA_SHARE.items():
            if one in levels and other in levels:
                column = "u_probability" if key in AREA_NEUTRAL_TOTAL else "m_probability"
                total = levels[one][column] + levels[other][column]
                levels[one]["m_probability"] = share * total
                levels[other]["m_probability"] = (1 - share) * total
        unknown, parts = AREA_UNKNOWN
        if unknown in levels and all(p in levels for p in parts):
            for key in ("m_probability", "u_probability"):
                levels[unknown][key] = sum(levels[p][key] for p in parts)


def floor_probabilities(model: dict[str, Any], n_records: int) -> None:
    """No level is impossible. A level random pairs never reach (two records sharing a UPN) gets
    u = 1 / records: random sampling cannot estimate a chance that small, and Splink cannot weigh a
    level without one. A level the training's true matches never reached (two different UPNs: the
    synthetic errors never mistype one) gets m = M_FLOOR rather than 0, an infinitely negative
    weight that no other evidence could outweigh."""
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            if level.get("u_probability") is None:
                level["u_probability"] = 1.0 / max(1, n_records)
            if level.get("m_probability") is None or level["m_probability"] < M_FLOOR:
                level["m_probability"] = M_FLOOR


def train(data: SyntheticSet, version: str, review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
          out_dir: Path = MODELS_DIR) -> tuple[Path, dict[str, Any]]:
    from mpdb.resolution import splink_settings as ss

    t0 = time.perf_counter()
    linker = new_linker(data.rows, ss.settings_creator())
    linker.training.estimate_probability_two_random_records_match(ss.DETERMINISTIC_RULES, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=TRAINING_SEED)
    log.info("resolve train: lambda and u in %.0f s", time.perf_counter() - t0)
    for rule in ss.EM_BLOCKING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
        log.info("resolve train: EM session done at %.0f s", time.perf_counter() - t0)
    model = linker.misc.save_model_to_json()
    floor_probabilities(model, len(data.rows))
    set_reasoned_m(model)
    set_area_shares(model)
    seconds = time.perf_counter() - t0
    model["mpdb"] = {
        "version": version,
        "review_threshold": review_threshold,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_data": data.description + "; m and u floored afterwards (training.floor_probabilities), "
                         "ethnicity m set (training.REASONED_M), recording-area m split (training.REASONED_AREA_SHARE)",
        "training_seconds": round(seconds, 1),
        "term_frequencies": {c: term_frequencies(data.rows, c) for c in TF_COLUMNS},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{version}.json"
    path.write_text(json.dumps(model, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return path, model


__all__ = ["MODELS_DIR", "SyntheticSet", "next_version", "read_truth", "synthetic_set", "train", "truth_path", "write_truth"]
