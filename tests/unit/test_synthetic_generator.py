"""The synthetic generator: deterministic, calibrated to DOMAIN.md, and shaped like MODEL.md (no DB)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date, datetime

import pytest

from mpdb.domain.geo import cell_centre, cell_id, haversine_km, offset_point
from mpdb.ingest.reference import read_reference_data
from mpdb.ingest.synthetic import demo_scenarios
from mpdb.ingest.synthetic.generator import STAGES, SyntheticGenerator
from mpdb.ingest.synthetic.measure import measure
from mpdb.ingest.synthetic.profiles import PROFILES, REPEAT_BAND_WEIGHTS, EpisodeCountDist, get_profile

REF = read_reference_data()


def _digest(profile: str, seed: int) -> str:
    h = hashlib.sha256()
    for chunk in SyntheticGenerator(get_profile(profile), seed, REF).stream():
        h.update(chunk.stage.encode())
        h.update(json.dumps(chunk.rows, sort_keys=True, default=str).encode())
    return h.hexdigest()


def test_same_seed_same_records() -> None:
    assert _digest("tiny", 42) == _digest("tiny", 42)


def test_different_seed_different_records() -> None:
    assert _digest("tiny", 42) != _digest("tiny", 43)


@pytest.fixture(scope="module")
def tiny_chunks() -> list:
    return list(SyntheticGenerator(get_profile("tiny"), 7, REF).stream())


def test_every_node_carries_provenance_and_unique_ids(tiny_chunks) -> None:  # type: ignore[no-untyped-def]
    ids: Counter[str] = Counter()
    for ch in tiny_chunks:
        if STAGES[ch.stage] is None:
            continue
        for r in ch.rows:
            p = r["props"]
            assert p["sourceSystem"] == "synthetic" and p["author"] == "mpdb-seed", (ch.stage, p["id"])
            assert p["recordedBy"] and isinstance(p["recordedAt"], datetime), (ch.stage, p["id"])
            ids[f"{STAGES[ch.stage]}:{p['id']}"] += 1
    assert ids and max(ids.values()) == 1


def test_names_are_obviously_synthetic(tiny_chunks) -> None:  # type: ignore[no-untyped-def]
    for ch in tiny_chunks:
        if ch.stage == "child":
            assert all(r["props"]["familyName"].startswith("Testchild-") for r in ch.rows)
        if ch.stage == "person":
            assert all(r["props"]["name"].startswith(("Testadult-", "Testparent-")) for r in ch.rows)


def test_episode_times_are_ordered_and_before_as_of(tiny_chunks) -> None:  # type: ignore[no-untyped-def]
    as_of = get_profile("tiny").as_of
    for ch in tiny_chunks:
        if ch.stage != "episode":
            continue
        for r in ch.rows:
            p = r["props"]
            assert p["lastSeenAt"] <= p["reportedAt"]
            assert p["reportedAt"].date() <= as_of
            if p["status"] == "closed":
                assert p["reportedAt"] <= p["foundAt"] <= p["returnedAt"]
            else:
                assert p["foundAt"] is None and p["returnedAt"] is None


def test_every_location_names_its_la_and_force(tiny_chunks) -> None:  # type: ignore[no-untyped-def]
    for ch in tiny_chunks:
        if ch.stage == "location":
            for r in ch.rows:
                p = r["props"]
                assert p["laCode"] in REF.las and p["forceCode"] in REF.forces
                assert p["cell"] == cell_id(r["lat"], r["lon"])


# --- calibration (demo profile, ~10,000 children) ---------------------------------------------

@pytest.fixture(scope="module")
def demo() -> dict:
    return measure(SyntheticGenerator(get_profile("demo"), 42, REF).stream())


def test_demo_size(demo) -> None:  # type: ignore[no-untyped-def]
    # 10,000 random children plus the planted scenarios (demo_scenarios.CHILDREN)
    assert demo["children"] == 10_000 + len(demo_scenarios.CHILDREN) == 10_009
    assert 22_000 <= demo["episodes"] <= 28_000


def test_ages_at_episode(demo) -> None:  # type: ignore[no-untyped-def]
    assert demo["age_share_12_17"] == pytest.approx(0.93, abs=0.03)
    assert demo["age_share_15_17"] == pytest.approx(0.66, abs=0.03)
    assert demo["age_share_18_plus"] == 0


def test_female_and_looked_after_shares(demo) -> None:  # type: ignore[no-untyped-def]
    assert demo["female_share"] == pytest.approx(0.55, abs=0.03)
    assert demo["looked_after_share"] == pytest.approx(0.19, abs=0.03)


def test_episodes_per_child_are_skewed(demo) -> None:  # type: ignore[no-untyped-def]
    assert demo["episodes_per_child"] == pytest.approx(2.5, abs=0.3)
    assert demo["episodes_per_lac_child"] == pytest.approx(6.1, abs=0.8)
    assert demo["share_children_1_2_episodes"] == pytest.approx(0.82, abs=0.05)
    assert demo["lac_more_than_once"] == pytest.approx(0.65, abs=0.05)
    # a small group of frequent runners (10+) accounts for a large share of episodes
    assert demo["frequent_runner_share_children"] < 0.07
    assert 0.25 <= demo["frequent_runner_share_episodes"] <= 0.50


def test_out_of_area_placements(demo) -> None:  # type: ignore[no-untyped-def]
    assert demo["out_of_area_share"] == pytest.approx(0.40, abs=0.05)
    assert demo["lac_episodes_from_placements_over_20mi"] == pytest.approx(0.20, abs=0.07)
    mix = demo["placement_mix"]
    assert mix["homes_secure_semi"] == pytest.approx(0.48, abs=0.05)
    assert mix["foster"] == pytest.approx(0.29, abs=0.05)
    assert mix["independent"] == pytest.approx(0.18, abs=0.04)


def test_risk_grades(demo) -> None:  # type: ignore[no-untyped-def]
    assert 0.10 <= demo["high_risk_share"] <= 0.20
    assert set(demo["grade_schemes"]) == {"2013", "2017"}
    assert demo["absent_male_share"] == pytest.approx(0.75, abs=0.07)
    assert demo["flagged_graded_absent_or_nar"] == 0


def test_notifications_and_return_interviews(demo) -> None:  # type: ignore[no-untyped-def]
    notes = demo["notifications"]
    assert notes["placement_to_host_la"]["never_sent"] == pytest.approx(0.10, abs=0.03)
    assert notes["placement_to_host_force"]["never_sent"] > 0.35
    assert notes["found_to_responsible_la"]["never_sent"] == pytest.approx(0.55, abs=0.12)
    assert demo["rhi_acceptance"] == pytest.approx(0.74, abs=0.05)
    lo, hi = demo["rhi_completion_by_la_range"]
    assert lo <= 0.05 and hi >= 0.80  # completion varies widely by LA


def test_records_and_co_missing(demo) -> None:  # type: ignore[no-untyped-def]
    recs = demo["episode_records"]
    assert recs["both"] > recs["police_only"] > recs["la_only"] > 0
    assert 0.02 <= demo["episodes_with_child"] <= 0.15


# --- profiles and geo -----------------------------------------------------------------------

def _mean(d: EpisodeCountDist) -> float:
    repeat = sum(k * w for k, w in REPEAT_BAND_WEIGHTS.items()) / sum(REPEAT_BAND_WEIGHTS.values())
    return d.p_one + 2 * d.p_two + d.p_repeat * repeat + d.p_frequent * d.frequent_mean


def test_national_profile_is_big_enough() -> None:
    p = PROFILES["national"]
    cal = p.calibration
    mean = cal.looked_after_share * _mean(cal.lac_episodes) + (1 - cal.looked_after_share) * _mean(cal.other_episodes)
    assert p.n_children >= 200_000
    assert p.n_children * mean >= 750_000
    assert (p.as_of - p.start).days >= 5 * 365


def test_geo_helpers() -> None:
    assert haversine_km(51.5074, -0.1278, 53.4808, -2.2426) == pytest.approx(262, abs=3)
    lat, lon = 52.0, -1.5
    assert cell_id(lat, lon) == cell_id(lat, lon)
    c_lat, c_lon = cell_centre(cell_id(lat, lon))
    assert haversine_km(lat, lon, c_lat, c_lon) < 0.36  # within half a cell diagonal
    east = offset_point(c_lat, c_lon, 0, 0.5)
    assert cell_id(*east) != cell_id(c_lat, c_lon)
    assert haversine_km(c_lat, c_lon, *cell_centre(cell_id(*east))) == pytest.approx(0.5, abs=0.02)
    assert isinstance(PROFILES["tiny"].as_of, date)


def test_rows_go_to_neo4j_with_temporals_as_strings() -> None:
    from datetime import UTC

    from mpdb.ingest.synthetic.loader import to_wire

    row = {"childId": "CH-1", "at": datetime(2024, 1, 2, 3, 4, tzinfo=UTC),
           "props": {"id": "x", "reportedAt": datetime(2024, 1, 1, tzinfo=UTC), "dateOfBirth": date(2010, 5, 6),
                     "foundAt": None, "n": 3}}
    wire = to_wire(row)
    assert wire["props"] == {"id": "x", "n": 3}
    assert wire["dt"] == {"reportedAt": "2024-01-01T00:00:00+00:00"}
    assert wire["d"] == {"dateOfBirth": "2010-05-06"}
    assert wire["at"] == "2024-01-02T03:04:00+00:00" and wire["childId"] == "CH-1"
