"""An alert as the outbox stores it: thin (ids, kind, time, who receives it and why), never the
record's contents. The recipient reads details through the API, where access rules and audit apply.

One `AlertEvent` per (alert, recipient agency). Its `key` names that pair, so appending the same
key twice (a retried write, a second scheduler pass, an import re-run) fires nothing new; the `id`
is derived from the key, so it is the same on every machine and across restarts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertKind(StrEnum):
    CHILD_REPORTED_MISSING = "child_reported_missing"
    CHILD_FOUND = "child_found"
    LINKED_CHILD_REPORTED_MISSING = "linked_child_reported_missing"
    TRIGGER_FIRED = "trigger_fired"
    DUTY_OVERDUE = "duty_overdue"
    ADULT_OF_CONCERN_IN_EPISODE = "adult_of_concern_in_episode"
    RISK_RAISED = "risk_raised"


def alert_id(key: str) -> str:
    return "al-" + hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    kind: AlertKind
    key: str              # unique per (alert, recipient): e.g. "child_reported_missing|EP-1|E10000016"
    recipient: str        # agency code
    reason: str           # why this agency receives it, e.g. "responsible_la", "home_force"
    subject_type: str     # 'Episode', 'Child', 'Notification', 'ReturnInterview', 'Flag', ...
    subject_id: str
    occurred_at: datetime
    child_id: str | None = None    # the child whose record the alert is about (delivery re-checks access)
    episode_id: str | None = None

    @property
    def id(self) -> str:
        return alert_id(self.key)

    def as_params(self) -> dict[str, Any]:
        return {
            "id": self.id, "key": self.key, "kind": str(self.kind), "recipient": self.recipient,
            "reason": self.reason, "subjectType": self.subject_type, "subjectId": self.subject_id,
            "childId": self.child_id, "episodeId": self.episode_id,
            "occurredAt": self.occurred_at.isoformat(),
        }
