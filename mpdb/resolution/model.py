"""The trained child model: load it, score one record against candidates, predict over many.

`load_child_model()` reads the newest mpdb/resolution/models/child-v*.json (or a given file).
Splink runs on DuckDB in memory. Term frequencies come from the model file (names seen at least
`TF_MIN_COUNT` times in the training data; rarer names take the smallest stored frequency), so a
batch over the graph and one record scored at entry weigh a name alike.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mpdb.resolution.explain import MatchReason

MODELS_DIR = Path(__file__).parent / "models"
DUCKDB_MEMORY_LIMIT = "2GB"  # the batch's DuckDB; past it, joins spill to a temporary directory
TF_COLUMNS = ("given_name", "family_name")
log = logging.getLogger(__name__)


class ModelFileError(Exception):
    """The model file is missing or not a model mpdb can use."""


@dataclass(frozen=True, slots=True)
class Scored:
    candidate_id: str
    match_probability: float
    match_weight: float
    reasons: list[MatchReason]


@dataclass(frozen=True, slots=True)
class ScoredPair:
    low_id: str  # string order, as POSSIBLY_SAME_AS runs
    high_id: str
    match_probability: float
    match_weight: float
    reasons: list[MatchReason]


class ChildModel:
    def __init__(self, model: dict[str, Any], path: Path | None = None) -> None:
        meta = model.get("mpdb")
        if not isinstance(meta, dict) or "version" not in meta or "review_threshold" not in meta:
            raise ModelFileError(f"{path or 'model'}: no mpdb section (version, review_threshold)")
        self.path = path
        self.version: str = meta["version"]
        self.review_threshold: float = float(meta["review_threshold"])
        self.meta = meta
        self.settings: dict[str, Any] = {k: v for k, v in model.items() if k != "mpdb"}
        self._tf: dict[str, dict[str, float]] = meta.get("term_frequencies", {})
        self._tf_floor = {c: min(v.values(), default=1e-5) for c, v in self._tf.items()}
        # The term-frequency-adjusted columns are the model's own (child-v2 adds ethnicity).
        self.tf_columns: tuple[str, ...] = tuple(self._tf) or TF_COLUMNS
        self._labels: dict[str, dict[int, str]] | None = None
        self._compiled: Any = None

    # -- rows ---------------------------------------------------------------------------------------
    def with_tf(self, row: dict[str, Any]) -> dict[str, Any]:
        out = dict(row)
        for c in self.tf_columns:
            v = row.get(c)
            out[f"tf_{c}"] = self.tf(c, v)
        return out

    def _linker(self, rows: list[dict[str, Any]], *, spill_dir: str | None = None):  # type: ignore[no-untyped-def]
        import pyarrow as pa
        from splink import DuckDBAPI, Linker

        from mpdb.resolution.training import arrow_schema

        if spill_dir is not None:
            import duckdb

            # Bounded memory: past the limit DuckDB spills joins to `spill_dir` (a first national run
            # without it grew to 14 GB).
            con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY_LIMIT, "temp_directory": spill_dir})
            db_api = DuckDBAPI(con)
        else:
            db_api = DuckDBAPI()
        df = db_api.register(pa.Table.from_pylist(rows, schema=arrow_schema()), dataset_display_name="children")
        linker = Linker(df, self.settings, log_level=logging.WARNING)
        # Term frequencies are part of the model (those of the population it was trained on), not of
        # the records at hand: a small graph or a handful of candidates is no population.
        for c in self.tf_columns:
            values = sorted({r[c] for r in rows if r.get(c)}) or [""]
            table = pa.table({c: values, f"tf_{c}": [self.tf(c, v) for v in values]})
            linker.table_management.register_term_frequency_lookup(db_api.register(table), c)
        return linker

    def tf(self, column: str, value: str | None) -> float | None:
        if not value:
            return None
        return self._tf.get(column, {}).get(value, self._tf_floor.get(column, 1e-5))

    def labels(self) -> dict[str, dict[int, str]]:
        """comparison -> comparison vector value -> level label."""
        if self._labels is None:
            from splink.internals.settings_creator import SettingsCreator

            sc = SettingsCreator.from_path_or_dict(self.settings)
            settings = sc.get_settings("duckdb")
            self._labels = {c.output_column_name: {lv.comparison_vector_value: lv.label_for_charts
                                                   for lv in c.comparison_levels}
                            for c in settings.comparisons}
        return self._labels

    def reasons(self, rec: dict[str, Any]) -> list[MatchReason]:
        out = []
        for comp, levels in self.labels().items():
            gamma = rec.get(f"gamma_{comp}")
            if gamma is None:
                continue
            mw = float(rec.get(f"mw_{comp}") or 0.0) + float(rec.get(f"mw_tf_adj_{comp}") or 0.0)
            out.append(MatchReason(comp, levels.get(int(gamma), str(gamma)), mw))
        return out

    @staticmethod
    def sibling_guard(rec: dict[str, Any]) -> bool:
        """True for a pair that must not be proposed: given names wholly different (no edit, no
        variant) and no shared reference. Fellegi-Sunter treats the comparisons as independent, so
        twins (same family name, date of birth, sex and home) would outweigh one different given
        name; a duplicate whose given name changed outright is rare, and a shared UPN or LA
        reference still lets it through."""
        return rec.get("gamma_given_name") == 0 and rec.get("gamma_references") != 1

    def compiled(self):  # type: ignore[no-untyped-def]
        """This model's scoring SQL on one DuckDB connection, built on first use."""
        if self._compiled is None:
            from mpdb.resolution.compiled import CompiledScorer
            from mpdb.resolution.training import arrow_schema

            self._compiled = CompiledScorer(self.settings, arrow_schema(), TF_COLUMNS)
        return self._compiled

    # -- scoring ------------------------------------------------------------------------------------
    def score(self, record: dict[str, Any], candidates: list[dict[str, Any]]) -> list[Scored]:
        """`record` and each candidate are model rows (records.child_row); every candidate is scored,
        best first, except those `sibling_guard` excludes (the caller chooses the candidates, e.g. by
        the blocking keys, and applies the threshold)."""
        cands = [c for c in candidates if c["unique_id"] != record["unique_id"]]
        if not cands:
            return []
        # term frequencies from the model file (a handful of candidates is no population); the SQL
        # is Splink's, generated once per model (mpdb.resolution.compiled)
        table = self.compiled().run([{**self.with_tf(record), "pair_key": "p"}],
                                    [{**self.with_tf(c), "pair_key": "p"} for c in cands])
        res = table.to_pylist()
        out = [Scored(str(r["unique_id_r"]), float(r["match_probability"]), float(r["match_weight"]), self.reasons(r))
               for r in res if not self.sibling_guard(r)]
        return sorted(out, key=lambda s: (-s.match_probability, s.candidate_id))

    def predict(self, rows: list[dict[str, Any]], threshold: float | None = None) -> Prediction:
        """Every candidate pair the blocking rules find among `rows`, scored; the pairs at or above
        `threshold` (default: the review threshold) come back, with the number of candidate pairs."""
        threshold = self.review_threshold if threshold is None else threshold
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold {threshold} is outside 0..1")
        # The spill directory lives only as long as the run: a national run can spill gigabytes.
        with tempfile.TemporaryDirectory(prefix="mpdb-resolve-") as spill_dir:
            linker = self._linker(rows, spill_dir=spill_dir)
            blocked = linker.inference.compute_blocked_pairs_for_predict()  # kept in Splink's cache for predict
            candidates = int(blocked.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0])
            kept = linker.inference.predict(threshold_match_probability=threshold,
                                            warning_mode="never").as_record_list()
        pairs: list[ScoredPair] = []
        guarded = 0
        for r in kept:
            if self.sibling_guard(r):
                guarded += 1
                continue
            a, b = str(r["unique_id_l"]), str(r["unique_id_r"])
            pairs.append(ScoredPair(min(a, b), max(a, b), float(r["match_probability"]), float(r["match_weight"]),
                                    self.reasons(r)))
        pairs.sort(key=lambda p: (p.low_id, p.high_id))
        return Prediction(pairs, candidates, guarded, threshold)


@dataclass(frozen=True, slots=True)
class Prediction:
    pairs: list[ScoredPair]  # at or above the threshold, in (low id, high id) order
    candidate_pairs: int  # pairs the blocking rules compared
    guarded: int  # above the threshold but excluded by ChildModel.sibling_guard
    threshold: float


def model_path(version: str | None = None, models_dir: Path = MODELS_DIR) -> Path:
    if version:
        path = models_dir / f"{version}.json"
        if not path.exists():
            raise ModelFileError(f"no model {version!r} in {models_dir}")
        return path
    found = sorted(((int(m.group(1)), p) for p in models_dir.glob("child-v*.json")
                    if (m := re.fullmatch(r"child-v(\d+)", p.stem))), reverse=True)
    if not found:
        raise ModelFileError(f"no child model in {models_dir}: run `mpdb resolve train`")
    return found[0][1]


@cache
def _load(path: Path) -> ChildModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return ChildModel(data, path)


def load_child_model(version: str | None = None, path: Path | None = None) -> ChildModel:
    """The newest child model (or `version`, or the file at `path`); cached per file."""
    return _load((path or model_path(version)).resolve())


__all__ = ["ChildModel", "ModelFileError", "Prediction", "Scored", "ScoredPair", "load_child_model", "model_path"]
