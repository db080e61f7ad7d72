"""The alert kinds as data: for each kind, what raises it, who receives it and why (docs/ALERTS.md).

A recipient is an agency, chosen by a *basis* that says why it holds the child (docs/ACCESS.md, "The
bases"): `recipients.py` finds every (agency, basis) pair in the graph after the change, keeps the
bases this table lists for the kind, and makes ONE event per (alert, agency) whose `reason` is the
agency's strongest basis (first in `BASIS_ORDER`). The agency that made the change is never told
about it (`NEVER_THE_ACTOR`): it knows, and an alert it caused itself is noise that trains people to
ignore alerts. The table is checked when this module is imported (`_check`), so a kind without
recipients or a basis nobody computes fails at startup, not in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from mpdb.alerts.events import AlertKind

# Why an agency holds a child, strongest first (the reason an event carries when several apply).
BASIS_ORDER: Final[tuple[str, ...]] = (
    "responsible_la",   # LOOKED_AFTER_BY: the corporate parent; runs the response, owes the return interview
    "placing_la",       # PLACED_BY of a current placement (usually the responsible LA)
    "host_la",          # HOSTED_BY of a current placement: must know of children placed in its area
    "home_la",          # the LA of the child's HOME_AT place: owes the return interview of a child not in care
    "reporting_force",  # the force the episode is reported to: holds the investigation
    "host_force",       # IN_FORCE_AREA of a current placement (resolved postcode only, as REFRESH_ACCESS)
    "home_force",       # the force of the child's HOME_AT place
    "rule_area_la",     # the LA whose repeat-missing rule fired (it runs the meeting the rule calls)
    "owes",             # a duty: the agency that owes it (time-based alerts)
    "owed",             # a duty: the agency it is owed to
)

# The bases that make an agency one of a child's "holders" (who hold the child's case).
HOLDERS: Final[tuple[str, ...]] = (
    "responsible_la", "placing_la", "host_la", "home_la", "host_force", "home_force",
)
# Holders plus the force the episode is reported to, for alerts about an episode.
EPISODE_HOLDERS: Final[tuple[str, ...]] = (*HOLDERS, "reporting_force")

# Imports: a record is news (raises an alert) when what it records happened at most this long
# before the import; an annual SSDA903 return's year-old episodes page nobody. The scheduler uses
# the same window: a duty that fell due longer ago than this is history, not news.
NEWS_WINDOW: Final[timedelta] = timedelta(days=7)

NEVER_THE_ACTOR: Final[bool] = True


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: AlertKind
    raised_by: str          # which writes (or the scheduler) raise it
    subject: str            # what subject_type/subject_id name
    recipients: tuple[str, ...]  # bases, from BASIS_ORDER
    why: str                # why these agencies, in one sentence (docs/ALERTS.md repeats it)
    link: str | None = None  # for alerts about another child: how the recipient's child is linked


KINDS: Final[dict[AlertKind, KindSpec]] = {
    spec.kind: spec for spec in (
        KindSpec(
            AlertKind.CHILD_REPORTED_MISSING,
            "reportMissing, reportMissingTogether; imports: an episode reported within NEWS_WINDOW",
            "Episode (the new episode)", EPISODE_HOLDERS,
            "every agency holding the child's case must start its part of the response at once, wherever "
            "the child went missing (a child placed out of area is reported in another force)"),
        KindSpec(
            AlertKind.CHILD_FOUND,
            "recordFound; recordReturn of an episode with no finding; imports: found or returned within "
            "NEWS_WINDOW",
            "Episode", EPISODE_HOLDERS,
            "the same agencies stand their response down and owe what follows (the return interview, the "
            "found notification); the investigating force learns that another force found the child"),
        KindSpec(
            AlertKind.LINKED_CHILD_REPORTED_MISSING,
            "as child_reported_missing, for every child linked to the missing one",
            "Child (the recipient's linked child: the missing child's episode is not shown, only its link)",
            HOLDERS,
            "children who went missing together, or who share an adult of concern, go missing together "
            "again; the holders of the linked child check on theirs and read the link in summary form",
            link="co_missing or shared_adult"),
        KindSpec(
            AlertKind.TRIGGER_FIRED,
            "reportMissing when a repeat-missing trigger of the rule area fires (mpdb/domain/triggers.py); "
            "the scheduler when a child is still missing at the strategy-meeting day",
            "Episode", (*EPISODE_HOLDERS, "rule_area_la"),
            "the rule calls a multi-agency meeting (police and children's services): the LA whose rule it is "
            "runs it, the holders attend"),
        KindSpec(
            AlertKind.DUTY_OVERDUE,
            "the scheduler (raise_overdue_alerts), from the duties queries (mpdb/intel/duties.py)",
            "ReturnInterview, Notification, Placement (a notice never recorded) or Episode (found, not notified)",
            ("owes", "owed"),
            "the agency that owes the duty must do it; the agency owed it knows it is waiting and can chase"),
        KindSpec(
            AlertKind.ADULT_OF_CONCERN_IN_EPISODE,
            "reportMissing, updateEpisode, recordFound naming an adult of concern as a companion",
            "Person (the adult), child_id the recipient's child linked to that adult",
            HOLDERS,
            "an adult already linked to my child is active again with another child: the holders of every "
            "other child linked to the adult review their child's risk",
            link="adult_of_concern"),
        KindSpec(
            AlertKind.RISK_RAISED,
            "raiseFlag; a high grade in reportMissing or updateEpisode (when the grade was not high); imports: "
            "a flag raised or a high-graded episode reported within NEWS_WINDOW",
            "Flag or RiskAssessment", EPISODE_HOLDERS,
            "a new risk marker changes how every holder must respond (a flagged child is never 'no apparent "
            "risk'); the reporting force only for a grade of its episode"),
    )
}


def _check() -> None:
    missing = set(AlertKind) - set(KINDS)
    if missing:
        raise RuntimeError(f"alert kinds without recipients: {sorted(missing)}")
    for spec in KINDS.values():
        unknown = [b for b in spec.recipients if b not in BASIS_ORDER]
        if unknown or not spec.recipients:
            raise RuntimeError(f"alert kind {spec.kind}: unknown or no recipient bases {unknown}")


_check()


def strongest(bases: set[str]) -> str:
    """The reason an agency with several bases is given: the first in BASIS_ORDER."""
    return min(bases, key=BASIS_ORDER.index)
