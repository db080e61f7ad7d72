"""Measure a generated record stream against the calibration targets (no database).

`measure(chunks)` folds a `SyntheticGenerator.stream()` into the figures DOMAIN.md gives, so
tests and `python -m mpdb.ingest.synthetic.measure PROFILE` can compare them with the targets.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from mpdb.ingest.synthetic.generator import Chunk

FAR_KM = 20 * 1.609344


def _age(dob: date, at: Any) -> float:
    d = at.date()
    return d.year - dob.year - ((d.month, d.day) < (dob.month, dob.day))


def measure(chunks: Iterable[Chunk]) -> dict[str, Any]:
    children: dict[str, dict[str, Any]] = {}
    flagged: set[str] = set()
    placements: dict[str, dict[str, Any]] = {}
    eps_per_child: Counter[str] = Counter()
    ages: Counter[str] = Counter()
    grades: Counter[str] = Counter()
    absent_sex: Counter[str] = Counter()
    schemes: Counter[str] = Counter()
    flagged_low = 0
    lac_eps = lac_eps_far = 0
    notes: dict[str, Counter[str]] = defaultdict(Counter)
    rhi: Counter[str] = Counter()
    rhi_by_la: dict[str, Counter[str]] = defaultdict(Counter)
    records: dict[str, set[str]] = defaultdict(set)
    eps_with_child: set[str] = set()
    open_eps = 0
    ep_child: dict[str, str] = {}
    n_eps = 0
    for ch in chunks:
        rows = ch.rows
        if ch.stage == "child":
            for r in rows:
                children[r["props"]["id"]] = r["props"] | {"la": r["lookedAfterBy"]}
        elif ch.stage == "flag":
            flagged.update(r["childId"] for r in rows)
        elif ch.stage == "placement":
            for r in rows:
                placements[r["props"]["id"]] = r["props"] | {"childId": r["childId"]}
        elif ch.stage == "episode":
            for r in rows:
                p = r["props"]
                n_eps += 1
                cid = r["childId"]
                ep_child[p["id"]] = cid
                c = children[cid]
                eps_per_child[cid] += 1
                a = _age(c["dateOfBirth"], p["reportedAt"])
                ages["15-17" if 15 <= a <= 17 else "12-14" if 12 <= a <= 14 else "under 12" if a < 12 else "18+"] += 1
                if p["status"] == "open":
                    open_eps += 1
                if p["riskGrade"]:
                    grades[p["riskGrade"]] += 1
                    schemes[p["gradeScheme"]] += 1
                    if p["riskGrade"] in ("absent", "no_apparent_risk"):
                        absent_sex[c["sex"]] += 1
                        if cid in flagged:
                            flagged_low += 1
                if c["lookedAfter"]:
                    lac_eps += 1
                    pl = placements.get(r["placementId"] or "")
                    if pl and pl["distanceKm"] > FAR_KM:
                        lac_eps_far += 1
        elif ch.stage == "risk_assessment":
            for r in rows:
                if r["props"]["grade"] in ("absent", "no_apparent_risk") and ep_child[r["episodeId"]] in flagged:
                    flagged_low += 1
        elif ch.stage in ("placement_notification", "episode_notification"):
            for r in rows:
                p = r["props"]
                k = notes[p["kind"]]
                k["total"] += 1
                k["never_sent"] += p["sentAt"] is None
                k["sent_not_acknowledged"] += p["sentAt"] is not None and p["acknowledgedAt"] is None
        elif ch.stage == "return_interview":
            for r in rows:
                st = r["props"]["status"]
                rhi[st] += 1
                la = children[ep_child[r["episodeId"]]]["la"] or r["by"]
                rhi_by_la[la][st] += 1
        elif ch.stage == "episode_record":
            for r in rows:
                records[r["episodeId"]].add(r["props"]["id"][-1])
        elif ch.stage == "with_child":
            eps_with_child.update(r["episodeId"] for r in rows)

    n_children = len(children)
    lac = [c for c in children if children[c]["lookedAfter"]]
    lac_missing = [c for c in lac if eps_per_child[c] > 0]
    counts = [eps_per_child[c] for c in children]
    frequent = [c for c in children if eps_per_child[c] >= 10]
    graded = sum(grades.values())
    pl = list(placements.values())
    ooa = [p for p in pl if p["outOfArea"]]
    band = Counter("lt20mi" if p["distanceKm"] < FAR_KM else "20to50mi" if p["distanceKm"] <= 50 * 1.609344
                   else "gt50mi" for p in ooa)
    place_mix = Counter(p["placementType"] for p in pl)
    offered = rhi["offered"] + rhi["completed"] + rhi["declined"]
    la_completion = sorted(
        (v["completed"] / (v["completed"] + v["offered"])) for v in rhi_by_la.values()
        if v["completed"] + v["offered"] >= 20
    )
    rec_kinds = Counter("both" if len(v) == 2 else "police_only" if "P" in v else "la_only" for v in records.values())

    def share(a: float, b: float) -> float:
        return round(a / b, 4) if b else 0.0

    return {
        "children": n_children,
        "episodes": n_eps,
        "open_episodes": open_eps,
        "looked_after_share": share(len(lac), n_children),
        "female_share": share(sum(1 for c in children.values() if c["sex"] == "F"), n_children),
        "age_share_12_17": share(ages["12-14"] + ages["15-17"], n_eps),
        "age_share_15_17": share(ages["15-17"], n_eps),
        "age_share_18_plus": share(ages["18+"], n_eps),
        "episodes_per_child": share(sum(counts), n_children),
        "episodes_per_lac_child": share(sum(eps_per_child[c] for c in lac_missing), len(lac_missing)),
        "share_children_1_2_episodes": share(sum(1 for n in counts if n <= 2), n_children),
        "lac_more_than_once": share(sum(1 for c in lac_missing if eps_per_child[c] > 1), len(lac_missing)),
        "frequent_runner_share_children": share(len(frequent), n_children),
        "frequent_runner_share_episodes": share(sum(eps_per_child[c] for c in frequent), n_eps),
        "high_risk_share": share(grades["high"], graded),
        "absent_share": share(grades["absent"] + grades["no_apparent_risk"], graded),
        "absent_male_share": share(absent_sex["M"], sum(absent_sex.values())),
        "grade_schemes": dict(schemes),
        "flagged_children_share": share(len(flagged), n_children),
        "flagged_graded_absent_or_nar": flagged_low,
        "placements": len(pl),
        "out_of_area_share": share(len(ooa), len(pl)),
        "out_of_area_bands": {k: share(v, len(ooa)) for k, v in sorted(band.items())},
        "cross_force_share": share(sum(1 for p in pl if p["crossForce"]), len(pl)),
        "lac_episodes_from_placements_over_20mi": share(lac_eps_far, lac_eps),
        "placement_mix": {
            "homes_secure_semi": share(sum(place_mix[k] for k in ("K2", "H5", "R1")), len(pl)),
            "foster": share(sum(v for k, v in place_mix.items() if k.startswith("U")), len(pl)),
            "independent": share(place_mix["P2"], len(pl)),
        },
        "notifications": {
            k: {"total": v["total"], "never_sent": share(v["never_sent"], v["total"]),
                "sent_not_acknowledged": share(v["sent_not_acknowledged"], v["total"] - v["never_sent"])}
            for k, v in sorted(notes.items())
        },
        "rhi_offered_share": share(offered, sum(rhi.values())),
        "rhi_acceptance": share(rhi["offered"] + rhi["completed"], offered),
        "rhi_completion_by_la_range": (
            [round(la_completion[0], 3), round(la_completion[-1], 3)] if la_completion else []
        ),
        "episode_records": dict(rec_kinds),
        "episodes_with_child": share(len(eps_with_child), n_eps),
    }


def main(argv: list[str]) -> None:
    import json

    from mpdb.ingest.synthetic.generator import SyntheticGenerator
    from mpdb.ingest.synthetic.profiles import get_profile

    profile = get_profile(argv[0] if argv else "demo")
    seed = int(argv[1]) if len(argv) > 1 else 42
    print(json.dumps(measure(SyntheticGenerator(profile, seed).stream()), indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
