"""Commands and rules for reviewing possible duplicates (graph_schema/MODEL.md, "Identities").

A pair's status moves proposed -> confirmed -> unmerged, or proposed -> rejected. A decided pair
stays decided: the resolver never proposes it again, and no later click turns a rejection into a
merge. A reviewer who finds a rejection or an unmerge was wrong reopens the pair, with a reason
(rejected or unmerged -> proposed): it is back in the review queue, to be decided again like any
proposed pair, never merged by the reopening itself. Asking for the state a pair is already in
changes nothing and answers as the first decision did.
"""

from __future__ import annotations

from typing import Literal

from mpdb.domain.commands import Command, Id, LongText
from mpdb.domain.errors import Conflict

Decision = Literal["confirm", "reject", "unmerge", "reopen"]

STATUSES = ("proposed", "confirmed", "rejected", "unmerged")
TARGET: dict[str, str] = {"confirm": "confirmed", "reject": "rejected", "unmerge": "unmerged",
                          "reopen": "proposed"}
_FROM: dict[str, frozenset[str]] = {"confirm": frozenset({"proposed"}), "reject": frozenset({"proposed"}),
                                    "unmerge": frozenset({"confirmed"}),
                                    "reopen": frozenset({"rejected", "unmerged"})}


class ConfirmIdentityCandidate(Command):
    candidate_id: Id
    note: LongText | None = None


class RejectIdentityCandidate(Command):
    candidate_id: Id
    note: LongText | None = None


class UnmergeIdentity(Command):
    candidate_id: Id
    reason: LongText


class ReopenIdentityCandidate(Command):
    candidate_id: Id
    reason: LongText


def check_transition(decision: str, status: str) -> bool:
    """True when the decision changes the pair, False when it is already in that state; a
    CONFLICT (with a reason code) when the pair's state does not allow it."""
    if status == TARGET[decision]:
        return False
    if status in _FROM[decision]:
        return True
    if decision == "reopen":  # only 'confirmed' is left
        raise Conflict("this pair is confirmed (merged): undo the merge with unmergeIdentity first",
                       field="input.candidateId", reason="CANDIDATE_CONFIRMED")
    if decision == "reject" and status == "confirmed":
        raise Conflict("this pair is confirmed (merged): undo the merge with unmergeIdentity instead",
                       field="input.candidateId", reason="CANDIDATE_CONFIRMED")
    if decision == "unmerge":
        raise Conflict(f"this pair is {status}, not merged: only a confirmed pair can be unmerged",
                       field="input.candidateId", reason="NOT_MERGED")
    raise Conflict(f"this pair was already decided ({status}): reopen it (reopenIdentityCandidate, with a reason) "
                   "to decide it again", field="input.candidateId", reason="CANDIDATE_DECIDED")
