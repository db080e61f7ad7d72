"""Reviewing possible duplicates: the review queue, a child's identity, and the decisions
(confirm = merge, reject, unmerge). Rules in docs/ACCESS.md ("Possible duplicates") and
graph_schema/MODEL.md ("Identities").

Reads go out through `ServiceContext.consulted` like every other read: records returned in full
are a consultation, sides shown in summary form a disclosure to the caller's agency. Decisions run
through the mutation machinery of mpdb/services/writes.py (one transaction, the idempotency key,
the access refresh of both records' identities and the audit event).
"""

from __future__ import annotations

import logging
from typing import Any

from mpdb.audit.trail import AuditAction
from mpdb.domain import identity as rules
from mpdb.auth.access import check_pair_decision
from mpdb.domain.errors import NotFound
from mpdb.graph.repositories.identity import IdentityRepository, IdentityWriteRepository
from mpdb.intel.co_missing import require_named_child_access
from mpdb.resolution.explain import reasons_from_json
from mpdb.services.context import ServiceContext
from mpdb.services.writes import NOT_FOUND_MESSAGE, Write, _mutate

log = logging.getLogger(__name__)


def parse_reasons(raw: str | None) -> list[dict[str, Any]]:
    """The `reasons` JSON a proposal stores (mpdb/resolution/explain.py), as dicts. A malformed
    value shows as no reasons, logged without its content."""
    try:
        return [{"comparison": r.comparison, "level": r.level, "matchWeight": r.match_weight}
                for r in reasons_from_json(raw)]
    except (TypeError, ValueError, KeyError):
        log.warning("unreadable reasons on a POSSIBLY_SAME_AS pair")
        return []


def _pair_view(row: dict[str, Any]) -> dict[str, Any]:
    """A pair as the API shows it to this caller: both sides readable -> names, reasons and the
    note; otherwise the reasons (which disclose the other record's values) and note are left out."""
    pair, low, high = row["pair"], row["low"], row["high"]
    both = low["visible"] and high["visible"]
    return {
        "id": pair["id"], "status": pair["status"], "matchProbability": pair.get("matchProbability"),
        "matchWeight": pair.get("matchWeight"), "modelVersion": pair.get("modelVersion"),
        "proposedAt": pair.get("proposedAt"), "proposedBy": pair.get("proposedBy"),
        "decidedAt": pair.get("decidedAt"), "decidedByAgency": pair.get("decidedByAgency"),
        "decisionNote": pair.get("decisionNote") if both else None,
        "reasons": parse_reasons(pair.get("reasons")) if both else None,
        "bothVisible": both,
        "low": low, "high": high,
    }


def _audit_ids(views: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    full: list[str] = []
    summaries: list[str] = []
    for v in views:
        full.append(v["id"])
        for side in (v["low"], v["high"]):
            (full if side["visible"] else summaries).append(side["id"])
    return list(dict.fromkeys(full)), summaries


async def candidates(ctx: ServiceContext, status: str | None, child_id: str | None, limit: int,
                     after: tuple[float, str] | None) -> list[dict[str, Any]]:
    """Pairs the caller may know of, best first: `limit` rows (ask one more to know of a next page)."""
    require_named_child_access(ctx.scope)
    ctx.require_purpose()
    rows = await IdentityRepository(ctx.graph).candidates(ctx.scope, status, child_id, limit, after)
    views = [_pair_view(r) for r in rows]
    full, summaries = _audit_ids(views)
    await ctx.consulted("identityCandidates", full, summaries=summaries)
    return views


async def candidate(ctx: ServiceContext, candidate_id: str) -> dict[str, Any] | None:
    require_named_child_access(ctx.scope)
    ctx.require_purpose()
    row = await IdentityRepository(ctx.graph).candidate(ctx.scope, candidate_id)
    if row is None:
        return None
    view = _pair_view(row)
    full, summaries = _audit_ids([view])
    await ctx.consulted("identityCandidate", full, summaries=summaries)
    return view


async def identity_members(ctx: ServiceContext, child_id: str) -> list[dict[str, Any]]:
    """The other records of a child's identity (confirmed SAME_AS), nearest first."""
    require_named_child_access(ctx.scope)
    members = await IdentityRepository(ctx.graph).members(ctx.scope, child_id)
    full = [m["member"]["id"] for m in members if m["member"]["visible"]]
    hidden = [m["member"]["id"] for m in members if not m["member"]["visible"]]
    await ctx.consulted("child.sameAs", full, summaries=hidden)
    return members


# --- decisions ------------------------------------------------------------------------------------

_OPERATION = {"confirm": "confirmIdentityCandidate", "reject": "rejectIdentityCandidate",
              "unmerge": "unmergeIdentity", "reopen": "reopenIdentityCandidate"}
# A merge combines two records of personal data (DPA 2018 s.62(1)(e)); rejecting and unmerging
# change the pair (and unmerging the access lists back).
_ACTION = {"confirm": AuditAction.COMBINATION, "reject": AuditAction.ALTERATION,
           "unmerge": AuditAction.ALTERATION, "reopen": AuditAction.ALTERATION}


async def decide(ctx: ServiceContext, decision: rules.Decision,
                 command: rules.ConfirmIdentityCandidate | rules.RejectIdentityCandidate | rules.UnmergeIdentity
                 | rules.ReopenIdentityCandidate,
                 idempotency_key: str) -> dict[str, Any]:
    note = command.reason if isinstance(command, rules.UnmergeIdentity | rules.ReopenIdentityCandidate) \
        else command.note

    async def work(w: Write) -> dict[str, Any]:
        ctx.require_purpose()  # a decision names both records: its purpose goes in the audit event
        repo = IdentityWriteRepository(w.repo.tx, ctx.scope)
        row = await repo.lock_candidate(command.candidate_id)
        if row is None or not (ctx.scope.national or row["lowVisible"] or row["highVisible"]):
            raise NotFound(NOT_FOUND_MESSAGE.format(kind="candidate pair"), field="input.candidateId")
        check_pair_decision(ctx.scope, row["lowVisible"], row["highVisible"])
        if rules.check_transition(decision, row["status"]):
            status = await repo.decide(decision, command.candidate_id, w.now, ctx.principal.subject, note)
            decided_at, by = w.now, ctx.principal.agency_id
            w.touched(command.candidate_id, row["lowId"], row["highId"])
            w.children.extend([row["lowId"], row["highId"]])  # both identities' access lists
        else:
            # Already so: nothing written, nothing to audit; the answer is the first decision's.
            status, decided_at, by = row["status"], row["decision"]["decidedAt"], row["decision"]["decidedByAgency"]
            w.audit = False
        return {"candidateId": command.candidate_id, "status": status, "childIds": [row["lowId"], row["highId"]],
                "decidedAt": decided_at.isoformat() if decided_at else None, "decidedByAgency": by}

    return await _mutate(ctx, _OPERATION[decision], idempotency_key, command, _ACTION[decision], work)
