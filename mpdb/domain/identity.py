"""Commands and rules for reviewing possible duplicates (graph_schema/MODEL.md, "Identities").

A pair's status moves proposed -> confirmed -> unmerged, or proposed -> rejected, and nowhere
else: a decided pair is final apart from undoing a merge, so the resolver never proposes it again
(a wrong rejection is not silently turned into a merge by a later click). Asking for the state a
pair is already in changes nothing and answers as the first decision did.
"""

from __future__ import annotations

from typing import Literal

from mpdb.domain.commands import Command, Id, LongText
from mpdb.domain.errors import Conflict

Decision = Literal["confirm", "reject", "unmerge"]

STATUSES = ("proposed", "confirmed", "rejected", "unmerged")
TARGET: dict[str, str] = {"confirm": "confirmed", "reject": "rejected", "unmerge": "unmerged"}
_FROM: dict[str, str] = {"confirm": "proposed", "reject": "proposed", "unmerge": "confirmed"}


class ConfirmIdentityCandidate(Command):
    candidate_id: Id
    note: LongText | None = None


class RejectIdentityCandidate(Command):
    candidate_id: Id
    note: LongText | None = None


class UnmergeIdentity(Command):
    candidate_id: Id
    reason: LongText


def check_transition(decision: str, status: str) -> bool:
    """True when the decision changes the pair, False when it is already in that state; a
    CONFLICT (with a reason code) when the pair's state does not allow it."""
    if status == TARGET[decision]:
        return False
    if status == _FROM[decision]:
        return True
    if decision == "reject" and status == "confirmed":
        raise Conflict("this pair is confirmed (merged): undo the merge with unmergeIdentity instead",
                       field="input.candidateId", reason="CANDIDATE_CONFIRMED")
    if decision == "unmerge":
        raise Conflict(f"this pair is {status}, not merged: only a confirmed pair can be unmerged",
                       field="input.candidateId", reason="NOT_MERGED")
    raise Conflict(f"this pair was already decided ({status}); decisions are final apart from unmerging a "
                   "confirmed pair", field="input.candidateId", reason="CANDIDATE_DECIDED")
