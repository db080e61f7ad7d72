"""Synthetic data-set profiles, as data.

A profile fixes the size and the time window; `Calibration` holds the shares the generator builds
in by construction. Figures come from /work/shared/domain/DOMAIN.md ("Figures for a realistic
synthetic data set"); each constant says which figure it reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime


@dataclass(frozen=True, slots=True)
class EpisodeCountDist:
    """Episodes per child over the data-set window: 1, 2, a 3-9 'repeat' band, a 10+ tail."""

    p_one: float
    p_two: float
    p_repeat: float  # 3..9 episodes
    p_frequent: float  # 10+ episodes ("frequent runners")
    frequent_mean: float  # mean of the 10+ tail (exponential above 10, capped)
    frequent_cap: int = 150

    def __post_init__(self) -> None:
        total = self.p_one + self.p_two + self.p_repeat + self.p_frequent
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"episode count shares sum to {total}")


# 3..9 band: weights favour the low end (mean ~4.6).
REPEAT_BAND_WEIGHTS: dict[int, float] = {3: 0.30, 4: 0.22, 5: 0.16, 6: 0.12, 7: 0.09, 8: 0.06, 9: 0.05}


@dataclass(frozen=True, slots=True)
class Calibration:
    # Looked-after share of missing children: 11,530 looked-after of ~60,000 missing children a year.
    looked_after_share: float = 0.19
    # 55% of missing children are female.
    female_share: float = 0.55
    # Ages at episode: 93% 12-17, 66% 15-17 (so 27% 12-14, 7% 8-11).
    # (anchor weights: spreading a child's episodes over months moves a little mass to the edges)
    age_band_weights: tuple[tuple[int, int, float], ...] = ((8, 11, 0.055), (12, 14, 0.255), (15, 17, 0.69))
    # Looked-after: 65% more than once, mean ~6.1, heavily skewed (Kent: 59% had 1-2 episodes).
    lac_episodes: EpisodeCountDist = EpisodeCountDist(0.35, 0.20, 0.30, 0.15, frequent_mean=25.0)
    # Not looked after: mostly once; overall mean ~2.5 per child (148,050 incidents / ~60,000).
    other_episodes: EpisodeCountDist = EpisodeCountDist(0.72, 0.17, 0.095, 0.015, frequent_mean=13.0)
    # Placement mix of missing looked-after children: 48% children's homes, secure and
    # semi-independent; 29% foster; 18% living independently; 5% other.
    placement_weights: tuple[tuple[str, float], ...] = (
        ("K2", 0.28),  # children's home
        ("H5", 0.14),  # semi-independent accommodation
        ("R1", 0.03),  # secure unit
        ("U1", 0.06), ("U3", 0.05), ("U4", 0.08), ("U6", 0.11),  # foster (in-house and agency)
        ("P2", 0.19),  # independent living
        ("P1", 0.03),  # placed with parents
        ("S1", 0.03),  # residential school
    )
    # ~40% of looked-after children are placed outside their LA.
    out_of_area_share: float = 0.40
    # Out-of-area placements by distance band (miles from home): <20, 20-50, >50.
    out_of_area_bands: tuple[tuple[str, float], ...] = (("lt20mi", 0.62), ("20to50mi", 0.26), ("gt50mi", 0.12))
    # Extra missing propensity of a child placed far away (drives ~20% of looked-after
    # episodes from placements over 20 miles: 12,200 of 60,720).
    far_placement_episode_boost: float = 1.0
    # Risk: forces graded 6-39% high and 3-72% absent; aim ~15% high overall.
    force_high_range: tuple[float, float] = (0.05, 0.20)
    force_absent_range: tuple[float, float] = (0.03, 0.45)
    reassessed_share: float = 0.22  # episodes with a second (escalated/de-escalated) assessment
    # Flags: share of children carrying at least one risk flag.
    flag_share_lac: float = 0.38
    flag_share_other: float = 0.12
    unaccompanied_share_lac: float = 0.04
    # Return interviews: offered after most episodes; ~74% of those offered accept (Kent).
    rhi_acceptance: float = 0.74
    rhi_offer_range: tuple[float, float] = (0.80, 1.0)  # per LA share of episodes offered
    rhi_completion_range: tuple[float, float] = (0.01, 0.95)  # per LA share of accepted completed
    rhi_on_time_share: float = 0.62
    rhi_commissioned_share: float = 0.45  # LAs that commission their region's provider
    referral_range: tuple[float, float] = (0.066, 1.0)  # per LA share of completed RHIs referred
    # Notifications.
    host_la_never_sent: float = 0.10  # 10% of out-of-area placements never notified
    host_la_never_acknowledged: float = 0.15  # of those sent
    host_force_never_notifying_las: int = 37  # ~37 LAs never notify the host police
    host_force_sent_share: float = 0.55  # of the other LAs' cross-force placements
    found_nonsending_force_share: float = 0.5  # half of forces don't notify the responsible LA
    found_sent_share: float = 0.92  # of the other forces' episodes
    # Police vs LA records of looked-after children's episodes.
    records_both: float = 0.80
    records_police_only: float = 0.13  # the rest are LA-only ("A": away, not reported)
    records_date_mismatch: float = 0.18  # of pairs, dates differ
    # Co-missing and associates.
    group_share_lac: float = 0.10  # looked-after children in a co-missing group
    group_share_other: float = 0.015
    sibling_share: float = 0.04  # children with a sibling in the data set who go missing together
    adults_per_1000_children: float = 6.0
    adult_children_range: tuple[int, int] = (3, 12)
    open_recent_days: int = 10  # episodes reported this close to as_of may still be open
    open_share_recent: float = 0.45


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    n_children: int
    start: date  # first possible episode
    as_of: date  # reference date: nothing happens after it
    description: str
    chunk_children: int = 2_000  # children per streamed episode chunk
    calibration: Calibration = field(default_factory=Calibration)
    hot_spots_per_la: tuple[int, int] = (6, 24)
    homes_per_la: tuple[int, int] = (2, 20)
    # `mpdb seed` generates this profile up to today unless told otherwise (see `at`), so the
    # console's "last 30 days" and "due in the last 90 days" find data whenever it is opened.
    rolling_as_of: bool = False
    # Hand-written cases (mpdb/ingest/synthetic/demo_scenarios.py) added on top of the random
    # children, so every role's first screen shows something by construction, not by luck.
    planted_scenarios: bool = False
    # Issue 12: share of children recorded a second time by another agency (duplicates.py); 0 = none.
    duplicate_share: float = 0.0

    def with_children(self, n: int, name: str | None = None) -> Profile:
        return replace(self, n_children=n, name=name or f"{self.name}-{n}")

    def with_duplicates(self, share: float) -> Profile:
        """The profile with `share` of its children recorded twice (a different data set: its own name)."""
        if not 0.0 <= share <= 0.5:
            raise ValueError(f"duplicate share {share} is outside 0..0.5")
        if share == 0:
            return self
        return replace(self, duplicate_share=share, name=f"{self.name}+dup{share:g}")

    def at(self, as_of: date) -> Profile:
        """The same profile ending on `as_of`: the whole window moves by whole days, so every
        generated fact keeps its distance from `as_of` (a child missing "yesterday" is missing
        yesterday on any day) and the calibration holds whatever the date. Only facts tied to the
        calendar move with it: the 2017 grading scheme change, and adults' years of birth."""
        return replace(self, start=self.start + (as_of - self.as_of), as_of=as_of)

    def default_as_of(self, today: date | None = None) -> date:
        """The as-of `mpdb seed` uses without `--as-of`: today (UTC) for a rolling profile."""
        if not self.rolling_as_of:
            return self.as_of
        return today or datetime.now(UTC).date()


AS_OF = date(2026, 11, 1)

PROFILES: dict[str, Profile] = {
    "tiny": Profile(
        name="tiny",
        n_children=300,
        start=date(2016, 6, 1),
        as_of=AS_OF,
        description="~300 children over ten years: both grading schemes, every pattern, fast tests",
        chunk_children=100,
        hot_spots_per_la=(2, 6),
        homes_per_la=(1, 4),
    ),
    "demo": Profile(
        name="demo",
        n_children=10_000,
        start=date(2016, 6, 1),
        as_of=AS_OF,
        description="~10,000 children over ten years up to today, for demos and calibration checks, "
                    "with planted scenarios for every role (docs/SYNTHETIC.md)",
        rolling_as_of=True,
        planted_scenarios=True,
    ),
    "national": Profile(
        name="national",
        n_children=310_000,
        start=date(2021, 11, 1),
        as_of=AS_OF,
        description="five years of England and Wales: ~310,000 children, ~780,000 episodes",
        chunk_children=5_000,
        hot_spots_per_la=(12, 60),
        homes_per_la=(8, 60),
    ),
    # Issue 10 point 6 (cost as work grows): three times `national` over the same five years.
    "national-3x": Profile(
        name="national-3x",
        n_children=930_000,
        start=date(2021, 11, 1),
        as_of=AS_OF,
        description="three times `national`: ~930,000 children, ~2.3 million episodes (scaling measurements)",
        chunk_children=5_000,
        hot_spots_per_la=(12, 60),
        homes_per_la=(8, 60),
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
