"""Risk grading: the two schemes, and the rule that a flagged child is never graded "no risk".

Pure functions, no I/O: the write service and the bulk importer both call them.

Schemes (graph_schema/MODEL.md, RiskAssessment):
- `2013` (APP definitions from April 2013): `absent` (no active response), `low`, `medium`, `high`;
- `2017` (January 2017 continuum of risk): `no_apparent_risk`, `low`, `medium`, `high`.

Flags "should be used to determine if a child should never be marked as 'no apparent risk'"
(Making Connections 2017, §RA Recommendations). Under the 2013 scheme "absent" carried the same
"no apparent risk" meaning (APPG 2019 digest: children classed as absent "were considered to be at
'no apparent risk'"), so an active flag forbids both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mpdb.domain.errors import InvalidInput, RuleViolation

Scheme = Literal["2013", "2017"]

SCHEME_GRADES: dict[str, tuple[str, ...]] = {
    "2013": ("absent", "low", "medium", "high"),
    "2017": ("no_apparent_risk", "low", "medium", "high"),
}

# Grades that mean "no apparent risk, no active response" in their scheme.
NO_RISK_GRADES: frozenset[tuple[str, str]] = frozenset({("2013", "absent"), ("2017", "no_apparent_risk")})


@dataclass(frozen=True, slots=True)
class ActiveFlag:
    id: str
    type: str


def check_grade_in_scheme(scheme: str, grade: str, *, field: str = "input.riskAssessment") -> None:
    if scheme not in SCHEME_GRADES:
        raise InvalidInput(
            f"unknown grading scheme {scheme!r}: use one of {', '.join(SCHEME_GRADES)}",
            field=f"{field}.scheme",
        )
    allowed = SCHEME_GRADES[scheme]
    if grade not in allowed:
        raise InvalidInput(
            f"grade {grade!r} does not belong to scheme {scheme}: use one of {', '.join(allowed)}",
            field=f"{field}.grade",
        )


def is_no_risk(scheme: str, grade: str) -> bool:
    return (scheme, grade) in NO_RISK_GRADES


def check_grade_allowed(
    scheme: str, grade: str, active_flags: Iterable[ActiveFlag], *, field: str = "input.riskAssessment"
) -> None:
    """A child with an active risk flag may not be graded no_apparent_risk (2017) or absent (2013)."""
    check_grade_in_scheme(scheme, grade, field=field)
    if not is_no_risk(scheme, grade):
        return
    flags = sorted(active_flags, key=lambda f: (f.type, f.id))
    if flags:
        first = flags[0]
        named = ", ".join(f"{f.type} ({f.id})" for f in flags)
        raise RuleViolation(
            f"the child has an active {first.type} flag ({first.id}), so the episode cannot be graded "
            f"{grade!r} under the {scheme} scheme; active flags: {named}",
            field=f"{field}.grade",
            rule="FLAGGED_CHILD_NO_RISK_GRADE",
            flagId=first.id,
            flagType=first.type,
            flagIds=[f.id for f in flags],
        )


def category_for(scheme: str, grade: str) -> str:
    """The police label at report time: `absent` for a no-risk grade, otherwise `missing`."""
    return "absent" if is_no_risk(scheme, grade) else "missing"
