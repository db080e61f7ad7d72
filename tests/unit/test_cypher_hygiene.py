"""Static checks over every Cypher constant in mpdb/graph/queries.

- A query that reads personal data (children, episodes, people and their satellites) must take the
  caller's scope (`$agencyId`/`$national`) unless it is on the allowlist below, each entry with
  the reason it is safe.
- No query updates or deletes an audit event: the trail is append-only.
- Cypher never leaves the data layer: no other module in mpdb/ holds MATCH/MERGE statements.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import mpdb
import mpdb.graph.queries as queries_pkg

PERSONAL_LABELS = re.compile(r":(Child|Episode|Person|ReturnInterview|Flag|Placement|RiskAssessment)\b")
WRITES = re.compile(r"\b(CREATE|MERGE|SET|DELETE|REMOVE)\b")

# (module, constant) -> why it may touch personal data without the caller's scope.
UNSCOPED_ALLOWED: dict[tuple[str, str], str] = {
    ("access", "REFRESH_ACCESS"): "maintains the access lists themselves; run by the data layer after writes",
    ("intel_links", "SAME_AS_PAIRS"): "confirmed SAME_AS pairs as ids, so coMissingGroups counts one child's records "
    "as one member; every id is then read under the caller's scope (GROUP_DETAILS); never returned to a caller",
    **{("entry_match", name): "the candidates of an import batch, across agencies, to be scored: ids only; "
       "IMPORT_CANDIDATE_ACCESS then reads the kept ones with the importer's scope (visible or summary form)"
       for name in ("IMPORT_CANDIDATE_IDS_BY_REF", "IMPORT_CANDIDATE_IDS_BY_NAME", "_IMPORT_TAIL")},
    ("entry_match", "IMPORT_CANDIDATE_FIELDS"): "an import batch's candidates' compared fields, scored in the process "
    "only; the kept candidates reach the importer through IMPORT_CANDIDATE_ACCESS (its scope: visible or summary)",
    **{("entry_match", name): "fragments of ENTRY_CANDIDATES / IMPORT_CANDIDATE_IDS_*, see their entries"
       for name in ("_REF_BLOCKS", "_NAME_DOB_BLOCKS")},
    ("entry_match", "_BLOCKS"): "a fragment of ENTRY_CANDIDATES / IMPORT_CANDIDATES, which take the caller's scope: "
    "candidates are fetched across agencies to be scored, and what reaches the caller is decided by `visible` "
    "(the full record) or the summary form",
    ("intel_links", "_ADULT_CHILDREN_BY_FORCE"): "a fragment of the scoped RISK_PROFILE, for adults linked to the "
    "visible child: counts of children per force only (issue 8, an adult's cross-force reach), no child returned",
    ("resolution", "READ_CHILDREN_PAGE"): "`mpdb resolve` (issue 12): an operator's batch comparing every child "
    "with every other; what it reads stays in the process (DuckDB in memory), only candidate pairs are written",
    ("resolution", "COUNT_CHILDREN"): "a count for the batch's progress bar",
    ("resolution", "READ_PROPOSED_PAIRS"): "`mpdb resolve charts`: an operator's offline charts of the proposals, "
    "without the compared values unless --show-values",
    **{("intel_areas", f"HOTSPOT_CELLS_{area}_{kind}"): "hot-spot aggregates: child ids are only counted in "
       "mpdb/intel/hotspots.py, never returned; evidence comes from the scoped HOTSPOT_DETAIL_* queries"
       for area in ("NATIONAL", "FORCE", "LA", "IN_CELLS") for kind in ("MISSING_FROM", "LAST_SEEN", "WENT_TO", "FOUND_AT")},
    **{("alerts", name): "alert recipients and the scheduler (issue 13): return agency codes and record ids that "
       "become thin outbox events, never to a caller; delivery re-checks each recipient's access"
       for name in ("HOLDERS", "LINKED_CHILDREN", "CHILDREN_OF_ADULTS", "_ADULTS_OF", "_CHILDREN_OF_ADULT",
                    "STRATEGY_MEETING_CANDIDATES", "RHI_OWED_TO")},
    **{("hotspot_buckets", name): "maintains the hot-spot pre-aggregates after a write (the write checked the "
       "caller's scope first) or rebuilds them: returns bucket keys, episode ids and days, never to a caller"
       for name in ("BUCKET_KEYS_OF_EPISODES", "EPISODES_OF_PLACEMENTS", "EPISODE_DAY_RANGE", "_E_TO_PLACES")},
}


def _constants() -> list[tuple[str, str, str]]:
    found = []
    for info in pkgutil.iter_modules(queries_pkg.__path__):
        module = importlib.import_module(f"mpdb.graph.queries.{info.name}")
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and re.search(r"\b(MATCH|MERGE|CREATE)\b", value):
                found.append((info.name, name, value))
    return found


def test_there_are_queries_to_check() -> None:
    assert len(_constants()) >= 8


def test_personal_data_reads_take_the_callers_scope() -> None:
    offenders = []
    for module, name, text in _constants():
        if not PERSONAL_LABELS.search(text) or WRITES.search(text):
            continue  # writes are scoped by the write services, which match the target with a scoped read first
        if module.startswith(("seed", "imports")) or (module, name) in UNSCOPED_ALLOWED:
            continue
        if "$agencyId" not in text or "$national" not in text:
            offenders.append(f"{module}.{name}")
    assert offenders == [], f"queries reading personal data without the caller's scope: {offenders}"


def test_audit_events_are_never_updated_or_deleted() -> None:
    for module, name, text in _constants():
        for match in re.finditer(r"\((\w+):AuditEvent\b", text):
            var = match.group(1)
            assert not re.search(rf"\b(SET|REMOVE)\s+{var}\.|\bDELETE\s+{var}\b|DETACH DELETE\s+{var}\b", text), (
                f"{module}.{name} modifies audit events"
            )
        # The appends set the properties of nodes they have just CREATEd: allowed.
        if name not in ("APPEND_EVENTS", "APPEND_LINKED_EVENTS"):
            assert not re.search(r"MATCH\s*\(\w+:AuditEvent[^)]*\)[^;]*\b(SET|DELETE)\b", text), f"{module}.{name}"


def test_cypher_lives_only_in_the_data_layer() -> None:
    root = Path(mpdb.__file__).parent
    outside = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("graph/") or rel.startswith("ingest/synthetic/loader") or rel == "ingest/reference.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"[\"'](\s*)(MATCH|MERGE|UNWIND)\s*\(", text) or re.search(r"\n\s*MATCH \(\w*:", text):
            outside.append(rel)
    assert outside == [], f"Cypher outside mpdb/graph: {outside}"
