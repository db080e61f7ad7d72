"""Why a pair was proposed: one reason per comparison (its level and partial match weight).

Stored on `POSSIBLY_SAME_AS.reasons` as a JSON string. The labels name the comparison level, never
the compared values, so a stored reason discloses only how the records compare.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MatchReason:
    comparison: str  # e.g. "given_name"
    level: str  # e.g. "Jaro-Winkler >= 0.92"
    match_weight: float  # partial match weight (log2 Bayes factor) of this level

    def to_dict(self) -> dict[str, Any]:
        return {"comparison": self.comparison, "level": self.level, "matchWeight": round(self.match_weight, 3)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MatchReason:
        return cls(str(d["comparison"]), str(d["level"]), float(d["matchWeight"]))


def reasons_to_json(reasons: list[MatchReason]) -> str:
    return json.dumps([r.to_dict() for r in reasons], separators=(",", ":"))


def reasons_from_json(text: str | None) -> list[MatchReason]:
    """The stored `reasons` property back as objects ([] for a missing or empty value)."""
    if not text:
        return []
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("reasons must be a JSON array")
    return [MatchReason.from_dict(d) for d in data]


__all__ = ["MatchReason", "reasons_from_json", "reasons_to_json"]
