"""The cases planted in the `demo` profile, with the fixed ids tests and demos can rely on.

The random part of `demo` is calibrated to national figures, so any one force or LA holds only a
handful of episodes a month: an analyst's hot spots are all small numbers (suppressed), and a
co-missing group that spans forces, or a duty that fell due last week, exists only by luck. These
cases are added on top of the random children (which stay exactly as they were), by the generator
(`SyntheticGenerator._plant_scenarios`), so that each role's first screen shows something real.
Every time is *days before the data set's as-of date* (`mpdb seed --as-of`, default today for
`demo`), so the cases are as fresh on any day the demo is seeded. docs/SYNTHETIC.md describes them
for people; this module is the one place their ids live (browser tests import it).

The cases, as of the seed date T:

1. **A Kent children's home with a missing problem** (`HOME_KENT`, Kent County Council's area,
   Kent Police). Seven children live there: four looked after by Kent CC, one each placed by
   Croydon, Medway and (60 days ago) Lewisham. At least five different children go missing from it
   in each of the windows [T-30, T), [T-60, T-30), [T-180, T-90) and [T-730, T-365), and at least
   five are found at a town centre (`TOWN_CENTRE_KENT`) in [T-30, T), [T-60, T-30), [T-180, T-90),
   [T-365, T) and [T-730, T-365). So for Kent Police (E23000032) and for Kent CC (E10000016) the
   30, 90 and 365-day hot spots, and the periods before them, are never small numbers: an analyst
   sees them unsuppressed ("missing from" in all three; "found at" too).
2. **A co-missing group across forces**: Amy (`AMY`, Kent CC looks after her, in the home, reported
   to Kent Police) goes missing with Zara (`ZARA`, lives with her family in Lewisham, reported to
   the Metropolitan Police) four times in the last 150 days; Chloe and Holly (`CHLOE`, `HOLLY`,
   also in the home) joined them 12 days ago. They are found together at a Lewisham station by the
   Met. Amy and Zara have been **missing together since yesterday** (open episodes, one reported
   to each force). A Kent investigator or Kent CC's missing lead sees Amy, Chloe and Holly in full
   (a co-missing group of three across Kent and the Met) and Zara in summary form; the Met, which
   found them all, sees the group of four.
3. **Overdue duties** due in the last 90 days: return interviews Kent CC owes (`OVERDUE_RHI`),
   a placement of Lewisham's in the Kent home never notified to Kent CC nor to Kent Police, a
   placement of Kent CC's in Medway never notified to Medway (`UNSENT_NOTIFICATIONS`), and a
   finding the Met never notified to Kent CC (`FOUND_NOT_NOTIFIED`).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- agencies ---------------------------------------------------------------------------------

KENT_POLICE = "E23000032"
MET_POLICE = "E23000001"
KENT_CC = "E10000016"
MEDWAY = "E06000035"
LEWISHAM = "E09000023"
CROYDON = "E09000008"

# --- places (ids are fixed; positions are offsets in km from the LA's reference point) ---------


@dataclass(frozen=True, slots=True)
class PlaceSpec:
    id: str
    kind: str  # Location.kind
    name: str
    la: str
    north_km: float
    east_km: float
    establishment: str | None = None  # the Establishment id, for a registered home


HOME_KENT = "LOC-DEMO-KENT-HOME"
HOME_KENT_ESTABLISHMENT = "EST-DEMO-KENT-HOME"
TOWN_CENTRE_KENT = "LOC-DEMO-KENT-TOWN"
STATION_LEWISHAM = "LOC-DEMO-LEWISHAM-STATION"
FOSTER_MEDWAY = "LOC-DEMO-MEDWAY-FOSTER"

PLACES: tuple[PlaceSpec, ...] = (
    PlaceSpec(HOME_KENT, "childrens_home", "Synthetic children's home (demo scenario)", KENT_CC, 0.8, -1.5,
              establishment=HOME_KENT_ESTABLISHMENT),
    PlaceSpec(TOWN_CENTRE_KENT, "public_place", "Kent town centre (demo scenario, synthetic)", KENT_CC, -1.2, 1.6),
    PlaceSpec(STATION_LEWISHAM, "transport_hub", "Lewisham bus and rail station (demo scenario, synthetic)",
              LEWISHAM, 0.3, 0.4),
    PlaceSpec(FOSTER_MEDWAY, "foster_home", "Foster home (demo scenario, synthetic)", MEDWAY, -0.6, 0.9),
    # children's family homes
    PlaceSpec("LOC-DEMO-HOME-AMY", "residence", "Home address of Amy's family (demo scenario, synthetic)",
              KENT_CC, 6.0, -7.0),
    PlaceSpec("LOC-DEMO-HOME-CHLOE", "residence", "Home address of Chloe's family (demo scenario, synthetic)",
              KENT_CC, -5.0, 8.0),
    PlaceSpec("LOC-DEMO-HOME-REECE", "residence", "Home address of Reece's family (demo scenario, synthetic)",
              KENT_CC, 9.0, 4.0),
    PlaceSpec("LOC-DEMO-HOME-TIA", "residence", "Home address of Tia's family (demo scenario, synthetic)",
              CROYDON, 1.0, -1.0),
    PlaceSpec("LOC-DEMO-HOME-KAI", "residence", "Home address of Kai's family (demo scenario, synthetic)",
              MEDWAY, 1.5, 0.5),
    PlaceSpec("LOC-DEMO-HOME-HOLLY", "residence", "Home address of Holly's family (demo scenario, synthetic)",
              KENT_CC, -8.0, -6.0),
    PlaceSpec("LOC-DEMO-HOME-JESS", "residence", "Home address of Jess's family (demo scenario, synthetic)",
              LEWISHAM, -1.0, -0.8),
    PlaceSpec("LOC-DEMO-HOME-ZARA", "residence", "Home address of Zara's family (demo scenario, synthetic)",
              LEWISHAM, 0.9, -0.6),
    PlaceSpec("LOC-DEMO-HOME-OWEN", "residence", "Home address of Owen's family (demo scenario, synthetic)",
              KENT_CC, 4.0, 10.0),
)

# --- children ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EpisodeSpec:
    days_ago: float  # last seen this many days before the as-of date
    hours: float | None  # missing for; None: still missing at the as-of date
    found_at: str | None = None  # a place id above (None when still missing)
    with_: tuple[str, ...] = ()  # the ids of the children recorded as missing with this one
    rhi: str = "completed"  # completed | completed_late | declined | offered | not_offered
    found_notice_sent: bool = True  # police -> responsible LA when a looked-after child is found


@dataclass(frozen=True, slots=True)
class PlacementSpec:
    location: str  # a place id above
    placement_type: str  # SSDA903 code: K2 children's home, U4 foster ...
    started_days_ago: float
    host_la_notice_sent: bool = True  # placing LA -> host LA (out of area only)
    host_force_notice_sent: bool = True  # placing LA -> host force (across a force boundary only)


@dataclass(frozen=True, slots=True)
class ChildSpec:
    id: str
    given_name: str
    sex: str
    age_years: float  # at the as-of date
    home_la: str  # the responsible LA of a looked-after child, else where the child lives
    home: str  # a place id above: the family home
    looked_after: bool
    placement: PlacementSpec | None
    flags: tuple[tuple[str, str, float], ...]  # (type, raised by, days ago)
    episodes: tuple[EpisodeSpec, ...]


AMY = "CH-DEMO-01"
CHLOE = "CH-DEMO-02"
REECE = "CH-DEMO-03"
TIA = "CH-DEMO-04"
KAI = "CH-DEMO-05"
HOLLY = "CH-DEMO-06"
JESS = "CH-DEMO-07"
ZARA = "CH-DEMO-08"
OWEN = "CH-DEMO-09"

H, T, S = HOME_KENT, TOWN_CENTRE_KENT, STATION_LEWISHAM

CHILDREN: tuple[ChildSpec, ...] = (
    ChildSpec(AMY, "Amy", "F", 15.4, KENT_CC, "LOC-DEMO-HOME-AMY", True, PlacementSpec(H, "K2", 1000),
              (("cse", KENT_CC, 420),),
              (EpisodeSpec(690, 20, T), EpisodeSpec(480, 14, T), EpisodeSpec(250, 9, T, rhi="declined"),
               EpisodeSpec(150, 30, S, (ZARA,)), EpisodeSpec(50, 26, S, (ZARA,), rhi="completed_late"),
               EpisodeSpec(12, 40, S, (ZARA, CHLOE, HOLLY), rhi="offered", found_notice_sent=False),
               EpisodeSpec(1, None, with_=(ZARA,)))),
    ChildSpec(CHLOE, "Chloe", "F", 16.1, KENT_CC, "LOC-DEMO-HOME-CHLOE", True, PlacementSpec(H, "K2", 900),
              (("substance_misuse", KENT_CC, 700),),
              (EpisodeSpec(650, 8, T), EpisodeSpec(420, 12, T), EpisodeSpec(300, 5, T), EpisodeSpec(155, 7, T),
               EpisodeSpec(52, 6, T), EpisodeSpec(20, 9, T), EpisodeSpec(12, 40, S, (AMY, ZARA, HOLLY))),),
    ChildSpec(REECE, "Reece", "M", 16.5, KENT_CC, "LOC-DEMO-HOME-REECE", True, PlacementSpec(H, "K2", 800),
              (("cce_county_lines", KENT_POLICE, 560),),
              (EpisodeSpec(700, 18, T), EpisodeSpec(540, 22, T), EpisodeSpec(380, 11, T), EpisodeSpec(200, 16, T),
               EpisodeSpec(120, 19, T), EpisodeSpec(40, 10, T), EpisodeSpec(19, 15, T, rhi="offered"))),
    ChildSpec(TIA, "Tia", "F", 15.0, CROYDON, "LOC-DEMO-HOME-TIA", True, PlacementSpec(H, "K2", 760),
              (),
              (EpisodeSpec(720, 30, "LOC-DEMO-HOME-TIA"), EpisodeSpec(600, 12, T), EpisodeSpec(410, 9, T),
               EpisodeSpec(170, 8, T), EpisodeSpec(55, 6, T), EpisodeSpec(8, 7, T))),
    ChildSpec(KAI, "Kai", "M", 16.8, MEDWAY, "LOC-DEMO-HOME-KAI", True, PlacementSpec(H, "K2", 740),
              (),
              (EpisodeSpec(710, 10, T), EpisodeSpec(500, 8, "LOC-DEMO-HOME-KAI"), EpisodeSpec(370, 13, T),
               EpisodeSpec(160, 9, T), EpisodeSpec(100, 4, T), EpisodeSpec(45, 11, T), EpisodeSpec(25, 6, T))),
    ChildSpec(HOLLY, "Holly", "F", 14.2, KENT_CC, "LOC-DEMO-HOME-HOLLY", True, PlacementSpec(H, "K2", 780),
              (("self_harm", KENT_CC, 600),),
              (EpisodeSpec(680, 9, T), EpisodeSpec(450, 7, T), EpisodeSpec(390, 16, T), EpisodeSpec(140, 5, T),
               EpisodeSpec(44, 12, T, rhi="offered"), EpisodeSpec(12, 40, S, (AMY, ZARA, CHLOE)),
               EpisodeSpec(6, 4, T))),
    ChildSpec(JESS, "Jess", "F", 15.7, LEWISHAM, "LOC-DEMO-HOME-JESS", True,
              PlacementSpec(H, "K2", 60, host_la_notice_sent=False, host_force_notice_sent=False),
              (),
              (EpisodeSpec(20, 22, T, rhi="not_offered"), EpisodeSpec(3, 8, T))),
    ChildSpec(ZARA, "Zara", "F", 15.2, LEWISHAM, "LOC-DEMO-HOME-ZARA", False, None,
              (("cse", MET_POLICE, 380),),
              (EpisodeSpec(400, 20, S), EpisodeSpec(150, 30, S, (AMY,)), EpisodeSpec(50, 26, S, (AMY,)),
               EpisodeSpec(12, 40, S, (AMY, CHLOE, HOLLY)), EpisodeSpec(1, None, with_=(AMY,)))),
    ChildSpec(OWEN, "Owen", "M", 13.1, KENT_CC, "LOC-DEMO-HOME-OWEN", True,
              PlacementSpec(FOSTER_MEDWAY, "U4", 40, host_la_notice_sent=False),
              (),
              (EpisodeSpec(10, 5, "LOC-DEMO-HOME-OWEN"),)),
)

CHILD_IDS: tuple[str, ...] = tuple(c.id for c in CHILDREN)
KENT_HOME_RESIDENTS: tuple[str, ...] = (AMY, CHLOE, REECE, TIA, KAI, HOLLY, JESS)

# What each role's first screen can rely on (the tests in tests/integration/test_demo_scenarios.py
# prove each of these against a loaded `demo`).
MISSING_NOW_TOGETHER: tuple[str, str] = (AMY, ZARA)  # open episodes: Amy to Kent Police, Zara to the Met
# Found together at the Lewisham station 12 days ago: Amy, Chloe and Holly (Kent) with Zara (Met).
# A Kent caller's group has the three it may read (groups hold readable children only); the Met's
# has all four (it found them all).
CO_MISSING_GROUP: tuple[str, ...] = (AMY, CHLOE, HOLLY, ZARA)
HOTSPOT_AREAS: tuple[str, ...] = (KENT_POLICE, KENT_CC)


def episode_id(child_id: str, seq: int) -> str:
    """The id of a planted child's `seq`-th episode (1 = the oldest)."""
    return f"EP-{child_id[3:]}-{seq:02d}"


def _episode(child_id: str, days_ago: float) -> str:
    spec = next(c for c in CHILDREN if c.id == child_id)
    order = sorted(spec.episodes, key=lambda e: -e.days_ago)
    return episode_id(child_id, 1 + next(i for i, e in enumerate(order) if e.days_ago == days_ago))


AMY_MISSING_NOW = _episode(AMY, 1)
ZARA_MISSING_NOW = _episode(ZARA, 1)
# Return interviews Kent CC owes, overdue (due 72 hours after the return).
OVERDUE_RHI: tuple[str, ...] = tuple(f"RI-{_episode(c, d)[3:]}" for c, d in ((AMY, 12), (REECE, 19), (HOLLY, 44)))
# (notification id, kind, from, to): never sent, due 5 days after the placement started.
UNSENT_NOTIFICATIONS: tuple[tuple[str, str, str, str], ...] = (
    (f"NT-PL-{JESS[3:]}-1-LA", "placement_to_host_la", LEWISHAM, KENT_CC),
    (f"NT-PL-{JESS[3:]}-1-F", "placement_to_host_force", LEWISHAM, KENT_POLICE),
    (f"NT-PL-{OWEN[3:]}-1-LA", "placement_to_host_la", KENT_CC, MEDWAY),
)
# Amy found by the Met 12 days ago; the Met never told Kent CC.
FOUND_NOT_NOTIFIED = f"NT-{_episode(AMY, 12)}-F"
