"""Deterministic, calibrated synthetic data for mpdb.

`SyntheticGenerator(profile, seed, ref).stream()` yields `Chunk(stage, rows)`: plain dicts shaped
for the loader's `UNWIND $rows` Cypher (mpdb/graph/queries/seed.py). Same profile + seed + reference
data => the identical stream, byte for byte: every random draw comes from `random.Random` objects
seeded from (seed, purpose) strings, nothing reads the clock, and nothing iterates a set.

Phases:
1. world: hot-spot locations per LA (town centres, transport hubs, retail parks, parks; some near
   force boundaries), establishments (children's homes, semi-independent, secure units, foster
   agencies, residential schools), per-LA and per-force practice rates, adults of concern.
2. children (held in memory): attributes, episode budget, co-missing groups, sibling groups,
   links to adults of concern, placements, flags, associations; their locations and notifications.
3. episodes, streamed per `profile.chunk_children` children: episodes, who they were with, where
   they went, risk assessments, return interviews, referrals, police/LA records, notifications.
4. `demo` only: the planted scenarios of demo_scenarios.py, added after every random child (their
   places, children, placements and flags at the end of phase 2, their episodes as written in
   phase 3), so the random children and every draw made for them are the same with or without.

Calibration is by construction (shares in `profiles.Calibration`); `summarise` measures it.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, islice
from typing import Any

from mpdb.domain.geo import cell_id, haversine_km, offset_point
from mpdb.ingest.reference import (
    AUTHOR,
    RHI_PROVIDERS,
    SOURCE_SYSTEM,
    LocalAuthorityRef,
    ReferenceData,
    read_reference_data,
    region_of,
)
from mpdb.ingest.synthetic import demo_scenarios
from mpdb.ingest.synthetic.demo_scenarios import EpisodeSpec
from mpdb.ingest.synthetic.profiles import REPEAT_BAND_WEIGHTS, EpisodeCountDist, Profile

SCHEME_CHANGE = datetime(2017, 1, 1, tzinfo=UTC)
MILE_KM = 1.609344
BAND_KM = {"lt20mi": (1.0, 20 * MILE_KM), "20to50mi": (20 * MILE_KM, 50 * MILE_KM), "gt50mi": (50 * MILE_KM, 400.0)}

# Stage name -> node label it creates (None: relationships only). Order = load order.
STAGES: dict[str, str | None] = {
    "location": "Location",
    "establishment": "Establishment",
    "person": "Person",
    "child": "Child",
    "placement": "Placement",
    "placement_notification": "Notification",
    "flag": "Flag",
    "association": None,
    "episode": "Episode",
    "with_child": None,
    "with_person": None,
    "went_to": None,
    "risk_assessment": "RiskAssessment",
    "return_interview": "ReturnInterview",
    "referral": "Referral",
    "episode_record": "EpisodeRecord",
    "episode_notification": "Notification",
}

# Second records (issue 12 duplicates) are numbered from here: above any profile's children.
DUPLICATE_ID_BASE = 5_000_000
GIVEN_F = ("Amy", "Bella", "Chloe", "Daisy", "Ella", "Freya", "Grace", "Holly", "Isla", "Jess",
           "Kayla", "Lily", "Maya", "Nia", "Olivia", "Poppy", "Rosie", "Sophie", "Tia", "Zara")
GIVEN_M = ("Adam", "Ben", "Callum", "Dylan", "Ethan", "Finn", "George", "Harry", "Isaac", "Jake",
           "Kai", "Leo", "Mason", "Noah", "Owen", "Reece", "Sam", "Tyler", "Will", "Zak")
ETHNICITY = (("WBRI", 0.62), ("WIRI", 0.01), ("WOTH", 0.05), ("MWBC", 0.04), ("MWBA", 0.01),
             ("MWAS", 0.01), ("MOTH", 0.03), ("AIND", 0.02), ("APKN", 0.03), ("ABAN", 0.01),
             ("AOTH", 0.02), ("BCRB", 0.02), ("BAFR", 0.04), ("BOTH", 0.02), ("CHNE", 0.005),
             ("OOTH", 0.04), ("REFU", 0.01), ("NOBT", 0.065))
PLACE_ESTABLISHMENT = {"K2": "childrens_home", "H5": "semi_independent", "R1": "secure_unit",
                       "S1": "residential_school", "U4": "foster_agency", "U6": "foster_agency"}
ESTABLISHMENT_LOCATION_KIND = {"childrens_home": "childrens_home", "semi_independent": "semi_independent",
                               "secure_unit": "secure_unit", "residential_school": "other",
                               "foster_agency": "address"}
HOT_SPOT_KINDS = (("public_place", "town centre", 0.35), ("transport_hub", "bus and rail station", 0.25),
                  ("retail", "retail park", 0.25), ("park", "park", 0.15))
LA_RADIUS_KM = {"london_borough": 2.5, "metropolitan_district": 5.0, "unitary": 5.0, "county": 16.0,
                "welsh_principal_area": 9.0}
LA_WEIGHT = {"london_borough": 1.0, "metropolitan_district": 2.2, "unitary": 1.1, "county": 4.5,
             "welsh_principal_area": 0.6}
# LAs that host many other LAs' children (Kent: 1,337 placed by other LAs; Stoke; Lancashire...).
HOSTING_HOTSPOTS = {"E10000016": 4.0, "E06000021": 2.5, "E10000017": 3.0, "E06000009": 2.5,
                    "E10000024": 2.0, "E10000030": 1.8}
FLAG_TYPES = ("cse", "cce_county_lines", "trafficking", "gang", "mental_health", "self_harm",
              "substance_misuse", "unaccompanied", "other")
REFERRAL_TO = (("MASH", "safeguarding concern after return interview"),
               ("CSE team", "indicators of sexual exploitation"),
               ("Exploitation hub", "indicators of criminal exploitation / county lines"),
               ("CAMHS", "emotional wellbeing and self-harm"),
               ("Substance misuse service", "drug and alcohol use"),
               ("Youth justice", "offending while missing"))
DURATION_BANDS = ((0.5, 6.0, 0.25), (6.0, 24.0, 0.27), (24.0, 72.0, 0.30), (72.0, 336.0, 0.13),
                  (336.0, 900.0, 0.05))
GRADES_2017 = ("no_apparent_risk", "low", "medium", "high")
GRADES_2013 = ("absent", "low", "medium", "high")


@dataclass(frozen=True, slots=True)
class Chunk:
    stage: str
    rows: list[dict[str, Any]]


class Picker:
    """Weighted choice with precomputed cumulative weights (fast for repeated draws)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items: list[Any], weights: list[float]) -> None:
        if not items:
            raise ValueError("empty picker")
        self.items = items
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        i = bisect_right(self.cum, rng.random() * self.total)
        return self.items[min(i, len(self.items) - 1)]


def _dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _years(d1: datetime, d2: datetime) -> float:
    return (d2 - d1).total_seconds() / (365.25 * 86400)


def _prov(agency: str, at: datetime) -> dict[str, Any]:
    return {"recordedBy": agency, "recordedAt": at, "sourceSystem": SOURCE_SYSTEM, "author": AUTHOR}


@dataclass(slots=True)
class LaWorld:
    ref: LocalAuthorityRef
    force: str
    radius: float
    weight: float
    hosting: float
    hot_spots: list[str] = field(default_factory=list)
    hot_picker: Picker | None = None
    establishments: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    provider: str | None = None  # commissioned RHI provider
    rhi_offer: float = 0.9
    rhi_completion: float = 0.5
    referral_rate: float = 0.2
    notifies_police: bool = True
    bands: dict[str, list[str]] = field(default_factory=dict)  # distance band -> LA codes
    postcode_area: int = 0  # number used in synthetic partial postcodes ("ZZ12 3")


@dataclass(slots=True)
class JointEvent:
    id: int
    at: datetime  # last seen
    hours: float
    members: list[int]
    found_loc: str
    source: str


@dataclass(slots=True)
class PlacementRec:
    id: str
    start: datetime
    end: datetime | None
    place: str
    host_la: str
    force: str
    location: str
    establishment: str | None
    distance_km: float
    out_of_area: bool
    # planted scenarios: whether each notice kind was sent (None: drawn like any other placement)
    notices_sent: dict[str, bool] | None = None


@dataclass(slots=True)
class ChildRec:
    idx: int
    id: str
    lac: bool
    sex: str
    home_la: str
    n_eps: int
    age_anchor: float
    span_days: float
    family: int
    ws: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    we: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    dob: date = date(2000, 1, 1)
    home_loc: str = ""
    friend_loc: str | None = None
    favourites: list[str] = field(default_factory=list)
    placements: list[PlacementRec] = field(default_factory=list)
    flagged: bool = False
    flag_types: list[str] = field(default_factory=list)
    unaccompanied: bool = False
    group: int | None = None
    joint: list[JointEvent] = field(default_factory=list)
    adults: list[tuple[str, str, datetime]] = field(default_factory=list)  # person id, address, since
    family_person: str | None = None
    lac_ref: str | None = None
    hub: tuple[str, str] | None = None  # forced (host LA, establishment) for group members
    given_name: str | None = None  # planted scenarios: a fixed given name
    script: tuple[EpisodeSpec, ...] | None = None  # planted scenarios: the episodes, as written


class SyntheticGenerator:
    def __init__(self, profile: Profile, seed: int, ref: ReferenceData | None = None) -> None:
        self.profile = profile
        self.seed = seed
        self.cal = profile.calibration
        self.ref = ref or read_reference_data()
        self.start = _dt(profile.start)
        self.as_of = _dt(profile.as_of)
        self.counts: Counter[str] = Counter()  # rows per stage, filled while streaming
        self.expected: dict[str, int] = {}  # known totals (for progress bars), once children exist
        self.children: list[ChildRec] = []
        self._loc_rows: list[dict[str, Any]] = []
        self._loc_index: dict[str, int] = {}
        self._n_loc = 0
        self.duplicate_truth = None  # duplicates.DuplicateTruth when the profile asks for duplicates

    # -- randomness ---------------------------------------------------------------------------
    def rng(self, purpose: str) -> random.Random:
        return random.Random(f"mpdb-seed:{self.seed}:{purpose}")

    # -- output ---------------------------------------------------------------------------------
    def stream(self) -> Iterator[Chunk]:
        """All records, in load order. Children are held in memory; episodes are streamed."""
        yield from self.static_chunks()
        for i in self.block_starts():
            yield from self.episode_block(i)

    # The parts of `stream()`, for the bulk loader (mpdb/ingest/bulk/), which writes the episode
    # blocks in worker processes forked after `static_chunks()`: a block only reads the world and
    # the children (and its own children's `favourites`), and its random draws come from its own
    # `rng(f"episodes:{i}")`, so blocks give the same rows in any process and any order.
    def static_chunks(self) -> Iterator[Chunk]:
        """World, children and everything but episodes (and what hangs off them)."""
        self.counts.clear()
        self._loc_rows, self._loc_index, self._n_loc = [], {}, 0
        self._build_world()
        self._build_children()
        self.expected = {"child": len(self.children), "episode": sum(c.n_eps for c in self.children),
                         "location": len(self._loc_rows)}
        yield from self._emit("location", self._loc_rows)  # kept: episodes look locations up
        yield from self._emit("establishment", self._est_rows)
        yield from self._emit("person", self._person_rows)
        if self.profile.duplicate_share > 0:
            yield from self._emit("child", self._child_rows())  # the duplicates are drawn from every row
        else:
            # in chunks: one list of every child's row was the static stages' largest transient
            # (~1.5 GB at national-3x, while the episode workers had already started)
            rows_iter = self._child_row_iter()
            while rows := list(islice(rows_iter, self.profile.chunk_children)):
                yield from self._emit("child", rows)
        placements, notes = self._placement_rows()
        yield from self._emit("placement", placements)
        yield from self._emit("placement_notification", notes)
        yield from self._emit("flag", self._flag_rows)
        yield from self._emit("association", self._assoc_rows)

    def child_rows_only(self) -> list[dict[str, Any]]:
        """The world and the children, and the child rows only (with any duplicates: their truth is
        then in `duplicate_truth`): what entity resolution needs, without the rest of `stream()`."""
        self._loc_rows, self._loc_index, self._n_loc = [], {}, 0
        self._build_world()
        self._build_children()
        return self._child_rows()

    def block_starts(self) -> range:
        """Index of the first child of each episode block (after `static_chunks()`)."""
        return range(0, len(self.children), self.profile.chunk_children)

    def episode_block(self, i: int) -> Iterator[Chunk]:
        """The episodes of children i .. i + chunk_children, and what hangs off them."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        rng = self.rng(f"episodes:{i}")
        for child in self.children[i : i + self.profile.chunk_children]:
            if child.script is not None:
                self._scripted_episodes(child, out)
            else:
                self._episodes_for(child, rng, out)
        for stage in STAGES:
            if out.get(stage):
                yield from self._emit(stage, out[stage])

    def _emit(self, stage: str, rows: list[dict[str, Any]]) -> Iterator[Chunk]:
        if rows:
            self.counts[stage] += len(rows)
            yield Chunk(stage, rows)

    def node_counts(self) -> dict[str, int]:
        """Nodes per label produced by the last full `stream()`."""
        out: Counter[str] = Counter()
        for stage, n in self.counts.items():
            label = STAGES[stage]
            if label:
                out[label] += n
        return dict(sorted(out.items()))

    # -- locations -------------------------------------------------------------------------------
    def _location(self, kind: str, name: str, la: str, lat: float, lon: float, agency: str,
                  at: datetime, force: str | None = None, lid: str | None = None) -> str:
        if lid is None:
            self._n_loc += 1
            lid = f"LOC-{self._n_loc:07d}"
        self._loc_index[lid] = len(self._loc_rows)
        law = self.las[la]
        sector = int(abs(lat * 1000 + lon * 100)) % 9 + 1
        self._loc_rows.append({
            "props": {
                "id": lid, "name": name, "kind": kind, "laCode": la, "forceCode": force or law.force,
                "cell": cell_id(lat, lon), "postcode": f"ZZ{law.postcode_area} {sector}",
                **_prov(agency, at),
            },
            "lat": round(lat, 6),
            "lon": round(lon, 6),
        })
        return lid

    def _point_in(self, rng: random.Random, la: str, spread: float = 1.0) -> tuple[float, float]:
        law = self.las[la]
        r = law.radius * spread * math.sqrt(rng.random())
        theta = rng.random() * 2 * math.pi
        return offset_point(law.ref.lat, law.ref.lon, r * math.cos(theta), r * math.sin(theta))

    # -- phase 1: world ----------------------------------------------------------------------------
    def _build_world(self) -> None:
        rng = self.rng("world")
        cal = self.cal
        t0 = self.start
        self.las: dict[str, LaWorld] = {}
        for n, la in enumerate(self.ref.las.values()):
            w = LaWorld(
                ref=la,
                force=self.ref.primary_force(la.code),
                radius=LA_RADIUS_KM.get(la.kind, 5.0) * (0.6 if la.code == "E06000053" else 1.0),
                weight=LA_WEIGHT.get(la.kind, 1.0) * rng.lognormvariate(0, 0.3),
                hosting=rng.lognormvariate(0, 0.6) * HOSTING_HOTSPOTS.get(la.code, 1.0),
            )
            w.postcode_area = n + 1
            self.las[la.code] = w
        codes = list(self.las)
        self.la_picker = Picker(codes, [self.las[c].weight for c in codes])
        # distance bands between LAs (centroid to centroid), for out-of-area placements
        for a in codes:
            la_a = self.las[a].ref
            bands: dict[str, list[str]] = {"lt20mi": [], "20to50mi": [], "gt50mi": []}
            for b in codes:
                if a == b:
                    continue
                la_b = self.las[b].ref
                d = haversine_km(la_a.lat, la_a.lon, la_b.lat, la_b.lon)
                for band, (lo, hi) in BAND_KM.items():
                    if lo <= d < hi:
                        bands[band].append(b)
            self.las[a].bands = bands
        self._band_pickers: dict[tuple[str, str], Picker] = {}

        # per-LA practice
        never_police = set(rng.sample(codes, min(cal.host_force_never_notifying_las, len(codes))))
        providers = {p.region: p.id for p in RHI_PROVIDERS if p.region}
        for c in codes:
            w = self.las[c]
            if rng.random() < cal.rhi_commissioned_share:
                w.provider = providers.get(region_of(w.ref))
            lo, hi = cal.rhi_offer_range
            w.rhi_offer = lo + (hi - lo) * rng.random() ** 0.5
            lo, hi = cal.rhi_completion_range
            w.rhi_completion = lo + (hi - lo) * rng.betavariate(1.3, 1.1)
            lo, hi = cal.referral_range
            w.referral_rate = lo + (hi - lo) * rng.betavariate(1.0, 3.0)
            w.notifies_police = c not in never_police
        # per-force practice
        self.forces: dict[str, dict[str, Any]] = {}
        terr = [f.code for f in self.ref.territorial_forces]
        non_senders = set(rng.sample(terr, round(len(terr) * cal.found_nonsending_force_share)))
        for f in self.ref.forces:
            lo, hi = cal.force_high_range
            alo, ahi = cal.force_absent_range
            self.forces[f] = {
                "high": lo + (hi - lo) * rng.random(),
                "absent": alo + (ahi - alo) * rng.random() ** 1.5,
                "sends_found": f not in non_senders,
                "short": "".join(ch for ch in self.ref.forces[f].short_name.upper() if ch.isalpha())[:4],
            }

        # hot spots
        lo_h, hi_h = self.profile.hot_spots_per_la
        kinds = Picker(list(HOT_SPOT_KINDS), [k[2] for k in HOT_SPOT_KINDS])
        for c in codes:
            w = self.las[c]
            n = max(lo_h, min(hi_h, round(lo_h + (hi_h - lo_h) * min(1.0, w.weight / 4.0))))
            for k in range(n):
                kind, label, _ = kinds.pick(rng)
                lat, lon = self._point_in(rng, c, 0.6)
                w.hot_spots.append(self._location(kind, f"{w.ref.name} {label} {k + 1} (synthetic)", c,
                                                  lat, lon, w.force, t0))
        # boundary hot spots: near a neighbouring LA in another force
        for c in codes:
            w = self.las[c]
            near = [b for b in w.bands["lt20mi"] if self.las[b].force != w.force]
            if near and rng.random() < 0.6:
                b = self.las[rng.choice(near)].ref
                f = 0.35 + 0.1 * rng.random()
                lat = w.ref.lat + (b.lat - w.ref.lat) * f
                lon = w.ref.lon + (b.lon - w.ref.lon) * f
                kind = rng.choice(("retail", "transport_hub"))
                w.hot_spots.append(self._location(kind, f"{w.ref.name} boundary {kind.replace('_', ' ')} "
                                                        f"(synthetic)", c, lat, lon, w.force, t0))
        for c in codes:
            w = self.las[c]
            weights = [1.0 / (r + 1) ** 1.1 for r in range(len(w.hot_spots))]
            if len(w.hot_spots) > 1 and "boundary" in self._loc_rows_name(w.hot_spots[-1]):
                weights[-1] = weights[0] * 0.8  # boundary spots are busy
            w.hot_picker = Picker(w.hot_spots, weights)

        # establishments
        self._est_rows: list[dict[str, Any]] = []
        lo_e, hi_e = self.profile.homes_per_la
        n_est = 0

        def add_est(c: str, kind: str) -> None:
            nonlocal n_est
            n_est += 1
            w = self.las[c]
            eid = f"EST-{n_est:05d}"
            lat, lon = self._point_in(rng, c, 0.9)
            label = kind.replace("_", " ")
            loc = self._location(ESTABLISHMENT_LOCATION_KIND[kind], f"Synthetic {label} {n_est}", c, lat, lon,
                                 c, t0)
            self._est_rows.append({
                "props": {"id": eid, "urn": f"SYN{n_est:06d}", "name": f"Synthetic {label} {n_est}", "kind": kind,
                          **_prov("OFSTED", t0)},
                "locationId": loc,
            })
            w.establishments[kind].append(eid)
            self._est_loc[eid] = loc

        self._est_loc: dict[str, str] = {}
        max_host = max(w.hosting for w in self.las.values())
        for c in codes:
            w = self.las[c]
            share = min(1.0, w.hosting / max_host * 3)
            n_homes = max(lo_e, min(hi_e, round(lo_e + (hi_e - lo_e) * share)))
            for _ in range(n_homes):
                add_est(c, "childrens_home")
            for _ in range(max(1, n_homes // 3)):
                add_est(c, "semi_independent")
            add_est(c, "foster_agency")
            if rng.random() < 0.08:
                add_est(c, "secure_unit")
            if rng.random() < 0.15:
                add_est(c, "residential_school")
        self._est_las: dict[str, list[str]] = {
            k: [c for c in codes if self.las[c].establishments.get(k)] for k in PLACE_ESTABLISHMENT.values()
        }
        for k, lst in self._est_las.items():
            if not lst:  # tiny reference sets: make sure every kind exists somewhere
                add_est(codes[0], k)
                self._est_las[k] = [codes[0]]

        # adults of concern
        self._person_rows: list[dict[str, Any]] = []
        self.adults: list[tuple[str, str, str, str]] = []  # id, la, address, focus (cse/cce)
        n_adults = max(2, round(self.profile.n_children * self.cal.adults_per_1000_children / 1000))
        for k in range(n_adults):
            la = self.la_picker.pick(rng)
            w = self.las[la]
            spot = w.hot_picker.pick(rng)  # type: ignore[union-attr]
            slat, slon = self._loc_point(spot)
            lat, lon = offset_point(slat, slon, rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3))
            pid = f"PER-A{k + 1:05d}"
            addr = self._location("address", f"Address of interest {k + 1} (synthetic)", la, lat, lon, w.force, t0)
            focus = "cse" if rng.random() < 0.55 else "cce_county_lines"
            age = rng.randint(18, 63)
            rec_at = self.start + timedelta(days=rng.uniform(0, 200))
            self._person_rows.append({"props": {
                "id": pid, "name": f"Testadult-{k + 1:05d}", "role": "adult_of_concern",
                "dateOfBirth": date(self.profile.as_of.year - age, rng.randint(1, 12), rng.randint(1, 28)),
                "notes": "synthetic adult of concern: "
                         + ("sexual exploitation concern" if focus == "cse" else "county lines / drug supply concern"),
                **_prov(w.force, rec_at)}})
            self.adults.append((pid, la, addr, focus))

    def _loc_rows_name(self, lid: str) -> str:
        return self._loc_rows[self._loc_index[lid]]["props"]["name"]

    def _loc_point(self, lid: str) -> tuple[float, float]:
        row = self._loc_rows[self._loc_index[lid]]
        return row["lat"], row["lon"]

    def _loc_force(self, lid: str) -> str:
        return self._loc_rows[self._loc_index[lid]]["props"]["forceCode"]

    def _loc_la(self, lid: str) -> str:
        return self._loc_rows[self._loc_index[lid]]["props"]["laCode"]

    def _loc_kind(self, lid: str) -> str:
        return self._loc_rows[self._loc_index[lid]]["props"]["kind"]

    # -- phase 2: children ---------------------------------------------------------------------------
    def _episode_count(self, rng: random.Random, dist: EpisodeCountDist) -> int:
        u = rng.random()
        if u < dist.p_one:
            return 1
        if u < dist.p_one + dist.p_two:
            return 2
        if u < dist.p_one + dist.p_two + dist.p_repeat:
            return self._repeat_picker.pick(rng)
        return min(dist.frequent_cap, 10 + int(rng.expovariate(1.0 / (dist.frequent_mean - 10))))

    def _build_children(self) -> None:
        rng = self.rng("children")
        cal = self.cal
        self._repeat_picker = Picker(list(REPEAT_BAND_WEIGHTS), list(REPEAT_BAND_WEIGHTS.values()))
        bands = Picker(list(cal.age_band_weights), [b[2] for b in cal.age_band_weights])
        window_days = (self.as_of - self.start).total_seconds() / 86400
        children: list[ChildRec] = []
        for i in range(self.profile.n_children):
            lac = rng.random() < cal.looked_after_share
            n_eps = self._episode_count(rng, cal.lac_episodes if lac else cal.other_episodes)
            lo, hi, _ = bands.pick(rng)
            age = rng.uniform(lo, hi + 1)
            per_ep = rng.uniform(6, 30)
            span = min(window_days - 2, 0.0 if n_eps == 1 else n_eps * per_ep)
            child = ChildRec(idx=i, id=f"CH-{i + 1:07d}", lac=lac, sex="F" if rng.random() < cal.female_share else "M",
                             home_la=self.la_picker.pick(rng), n_eps=n_eps, age_anchor=age, span_days=span,
                             family=i + 1)
            if lac and rng.random() < cal.unaccompanied_share_lac:
                child.unaccompanied = True
                child.sex = "M" if rng.random() < 0.85 else "F"
                child.age_anchor = rng.uniform(15.0, 17.8)
            children.append(child)
        self.children = children
        self._form_groups(rng)
        for child in children:
            self._place_in_time(child, rng)
        self._form_siblings(rng)
        self._homes(rng)
        self._joint_events(rng)
        self._placements(rng)
        self._link_adults(rng)
        self._flags(rng)
        if self.profile.planted_scenarios:
            self._plant_scenarios()

    def _place_in_time(self, child: ChildRec, rng: random.Random) -> None:
        window = (self.as_of - self.start).total_seconds() / 86400
        if child.group is None or child.ws.year == 2000:
            offset = rng.uniform(0, max(0.0, window - child.span_days - 1))
            child.ws = self.start + timedelta(days=offset)
            child.we = child.ws + timedelta(days=child.span_days)
        mid = child.ws + (child.we - child.ws) / 2
        dob = mid - timedelta(days=child.age_anchor * 365.25)
        if _years(dob, child.we) >= 17.98:  # everyone is under 18 at every episode
            dob = child.we - timedelta(days=17.98 * 365.25)
        child.dob = dob.date()

    def _form_groups(self, rng: random.Random) -> None:
        """Co-missing groups of 2-5, mostly looked-after children placed near each other."""
        cal = self.cal
        lac = [c for c in self.children if c.lac and c.n_eps >= 3 and not c.unaccompanied]
        other = [c for c in self.children if not c.lac and c.n_eps >= 2]
        rng.shuffle(lac)
        rng.shuffle(other)
        target = round(cal.group_share_lac * sum(1 for c in self.children if c.lac))
        target_other = round(cal.group_share_other * sum(1 for c in self.children if not c.lac))
        sizes = Picker([2, 3, 4, 5], [0.45, 0.30, 0.17, 0.08])
        self.groups: list[dict[str, Any]] = []
        used = 0
        while used < target and len(lac) >= 2:
            size = min(sizes.pick(rng), len(lac))
            members = [lac.pop() for _ in range(size)]
            if other and used < target_other * 3 and rng.random() < 0.3:
                members.append(other.pop())  # a local peer who is not looked after
            used += size
            self._make_group(members, rng)
        while target_other > 0 and len(other) >= 2:
            size = min(sizes.pick(rng), len(other), 3)
            members = [other.pop() for _ in range(size)]
            target_other -= size
            self._make_group(members, rng)

    def _make_group(self, members: list[ChildRec], rng: random.Random) -> None:
        gid = len(self.groups)
        leader = max(members, key=lambda c: c.n_eps)
        # Hub: an establishment in a host LA that takes other LAs' children; some groups are
        # split across a force boundary (two homes in neighbouring LAs of different forces).
        # hub near the leader's home area (most groups are local; some span LAs and forces)
        near = self._band_picker(leader.home_la, "lt20mi")
        host = near.pick(rng) if near and rng.random() < 0.6 else leader.home_la
        kinds = self.las[host].establishments
        est = rng.choice(kinds.get("childrens_home") or kinds.get("semi_independent") or [None])
        alt: tuple[str, str] | None = None
        cross = [b for b in self.las[host].bands["lt20mi"] if self.las[b].force != self.las[host].force]
        if cross and rng.random() < 0.35:
            b = rng.choice(cross)
            bk = self.las[b].establishments
            alt_est = rng.choice(bk.get("childrens_home") or bk.get("semi_independent") or [None])
            if alt_est:
                alt = (b, alt_est)
        span = max(60.0, leader.span_days)
        window = (self.as_of - self.start).total_seconds() / 86400
        ws = self.start + timedelta(days=rng.uniform(0, max(0.0, window - span - 1)))
        for k, m in enumerate(members):
            m.group = gid
            m.ws, m.we = ws, ws + timedelta(days=span)
            m.span_days = span
            if m.lac:
                m.hub = alt if (alt and k % 2 == 1) else (host, est) if est else None
            else:
                m.home_la = alt[0] if alt else host
        spot_la = alt[0] if alt and rng.random() < 0.5 else host
        self.groups.append({"id": gid, "members": [m.idx for m in members], "host": host, "spot_la": spot_la})

    def _host_picker(self) -> Picker:
        if not hasattr(self, "_hosts"):
            codes = list(self.las)
            self._hosts = Picker(codes, [self.las[c].hosting for c in codes])
        return self._hosts

    def _form_siblings(self, rng: random.Random) -> None:
        """Family groups: siblings sharing a home and family name who go missing together."""
        pool = [c for c in self.children if c.group is None and c.n_eps >= 2 and not c.unaccompanied]
        rng.shuffle(pool)
        target = round(self.cal.sibling_share * len(self.children))
        self.sibling_groups: list[list[int]] = []
        used = 0
        while used < target and len(pool) >= 2:
            size = 2 if rng.random() < 0.7 else min(len(pool), rng.choice((3, 3, 4)))
            lead = pool.pop()
            members = [lead]
            for _ in range(size - 1):
                # same care status as the lead where possible
                for j in range(len(pool) - 1, max(-1, len(pool) - 40), -1):
                    if pool[j].lac == lead.lac:
                        members.append(pool.pop(j))
                        break
            if len(members) < 2:
                continue
            gid = len(self.groups)
            for k, m in enumerate(members):
                m.group = gid
                m.family = lead.family
                m.home_la = lead.home_la
                m.ws, m.we, m.span_days = lead.ws, lead.we, lead.span_days
                if k:
                    # siblings are 1-3 years apart; keep them under 18 in the window
                    m.dob = (datetime.combine(lead.dob, datetime.min.time(), UTC)
                             + timedelta(days=365.25 * rng.uniform(1, 3) * rng.choice((-1, 1)))).date()
                    if _years(_dt(m.dob), m.we) >= 17.98:
                        m.dob = (m.we - timedelta(days=17.98 * 365.25)).date()
                    if _years(_dt(m.dob), m.ws) < 8:
                        m.dob = (m.ws - timedelta(days=8.2 * 365.25)).date()
            used += len(members)
            self.groups.append({"id": gid, "members": [m.idx for m in members], "host": lead.home_la,
                                "spot_la": lead.home_la, "siblings": True})
            self.sibling_groups.append([m.idx for m in members])

    def _homes(self, rng: random.Random) -> None:
        family_home: dict[int, str] = {}
        for c in self.children:
            w = self.las[c.home_la]
            if c.family in family_home:
                c.home_loc = family_home[c.family]
            else:
                lat, lon = self._point_in(rng, c.home_la)
                c.home_loc = self._location("residence", f"Home address of family {c.family:07d} (synthetic)",
                                            c.home_la, lat, lon, w.force, c.ws - timedelta(days=30))
                family_home[c.family] = c.home_loc
            if rng.random() < 0.4:
                lat, lon = self._point_in(rng, c.home_la)
                c.friend_loc = self._location("address", f"Friend's address (synthetic) for {c.id}", c.home_la,
                                              lat, lon, w.force, c.ws)
            if c.lac:
                c.lac_ref = f"SYN{c.idx + 1:07d}"
                if rng.random() < 0.25:
                    c.family_person = f"PER-F{c.idx + 1:07d}"
                    self._person_rows.append({"props": {
                        "id": c.family_person, "name": f"Testparent-{c.family:07d}", "role": "family",
                        "notes": "synthetic birth parent", **_prov(c.home_la, c.ws)}})

    def _joint_events(self, rng: random.Random) -> None:
        n_joint = 0
        for g in self.groups:
            members = [self.children[i] for i in g["members"]]
            k = max(1, round(min(m.n_eps for m in members) * rng.uniform(0.4, 0.9)))
            spot_w = self.las[g["spot_la"]]
            spot = spot_w.hot_picker.pick(rng) if not g.get("siblings") else None  # type: ignore[union-attr]
            ws, we = members[0].ws, members[0].we
            for _ in range(k):
                sub = members if len(members) <= 2 or rng.random() < 0.6 else rng.sample(members, rng.randint(2, len(members)))
                at = ws + (we - ws) * rng.random()
                hours = self._duration(rng)
                if g.get("siblings"):
                    found = rng.choice([members[0].friend_loc or members[0].home_loc,
                                        spot_w.hot_picker.pick(rng)])  # type: ignore[union-attr]
                else:
                    found = spot if rng.random() < 0.7 else spot_w.hot_picker.pick(rng)  # type: ignore[union-attr]
                n_joint += 1
                ev = JointEvent(n_joint, at, hours, [m.idx for m in sub], found,
                                "reported" if rng.random() < 0.6 else "found")
                for m in sub:
                    m.joint.append(ev)

    def _duration(self, rng: random.Random) -> float:
        u = rng.random()
        acc = 0.0
        for lo, hi, p in DURATION_BANDS:
            acc += p
            if u < acc:
                return rng.uniform(lo, hi)
        return rng.uniform(DURATION_BANDS[-1][0], DURATION_BANDS[-1][1])

    def _band_picker(self, la: str, band: str) -> Picker | None:
        key = (la, band)
        if key not in self._band_pickers:
            cands = self.las[la].bands[band]
            self._band_pickers[key] = Picker(cands, [self.las[c].hosting for c in cands]) if cands else None  # type: ignore[assignment]
        return self._band_pickers[key]

    def _placements(self, rng: random.Random) -> None:
        cal = self.cal
        place_picker = Picker([p for p, _ in cal.placement_weights], [w for _, w in cal.placement_weights])
        band_picker = Picker([b for b, _ in cal.out_of_area_bands], [w for _, w in cal.out_of_area_bands])
        for c in self.children:
            if not c.lac:
                continue
            # episodes fall in [ws, we]; placements cover it, the first starting before ws
            if c.unaccompanied:
                first_start = c.ws - timedelta(days=rng.uniform(2, 7))  # missing within days of care
            else:
                first_start = c.ws - timedelta(days=rng.uniform(20, 700))
            first_start = max(first_start, _dt(c.dob) + timedelta(days=365))
            n_pl = 1 if c.hub else (1 if rng.random() < 0.55 else 2 if rng.random() < 0.67 else 3)
            cuts = sorted(c.ws + (c.we - c.ws) * rng.random() for _ in range(n_pl - 1))
            starts = [first_start, *cuts]
            for k, start in enumerate(starts):
                end: datetime | None
                if k + 1 < len(starts):
                    end = starts[k + 1]
                else:
                    eighteen = _dt(c.dob) + timedelta(days=18 * 365.25)
                    end = None if rng.random() < 0.6 else c.we + timedelta(days=rng.uniform(5, 300))
                    if end is not None and end >= self.as_of:
                        end = None
                    if eighteen < self.as_of and (end is None or end > eighteen):
                        end = max(eighteen, c.we + timedelta(days=1))
                        end = end if end < self.as_of else None
                c.placements.append(self._placement(c, k, start, end, rng, place_picker, band_picker))

    def _placement(self, c: ChildRec, k: int, start: datetime, end: datetime | None, rng: random.Random,
                   place_picker: Picker, band_picker: Picker) -> PlacementRec:
        cal = self.cal
        home = self.las[c.home_la]
        est: str | None = None
        near = False  # an out-of-area placement meant to be under 20 miles from home
        if c.hub and k == len(c.placements) == 0:
            host, est = c.hub
            place = "K2" if est in self.las[host].establishments.get("childrens_home", []) else "H5"
        else:
            place = place_picker.pick(rng)
            if c.unaccompanied and place in ("P1", "S1"):
                place = "U4"
            host = c.home_la
            if place != "P1" and rng.random() < cal.out_of_area_share:
                band = band_picker.pick(rng)
                near = band == "lt20mi"
                picker = self._band_picker(c.home_la, band) or self._band_picker(c.home_la, "lt20mi")
                if picker:
                    host = picker.pick(rng)
            kind = PLACE_ESTABLISHMENT.get(place)
            if kind:
                if not self.las[host].establishments.get(kind):
                    # nearest LA that has one (secure units and schools are scarce)
                    hl = self.las[host].ref
                    host = min(self._est_las[kind], key=lambda x: (haversine_km(hl.lat, hl.lon, self.las[x].ref.lat,
                                                                               self.las[x].ref.lon), x))
                options = self.las[host].establishments[kind]
                if near:  # the one nearest the child's home
                    hlat, hlon = self._loc_point(c.home_loc)
                    est = min(options, key=lambda e: (haversine_km(hlat, hlon, *self._loc_point(self._est_loc[e])), e))
                else:
                    est = rng.choice(options)
        hw = self.las[host]
        pid = f"PL-{c.idx + 1:07d}-{k + 1}"
        if place == "P1":
            loc = c.home_loc
        elif place in ("K2", "H5", "R1", "S1"):
            loc = self._est_loc[est]  # type: ignore[index]
        else:
            lat, lon = self._point_in(rng, host)
            if near:  # pulled towards the home side of the host area
                hlat, hlon = self._loc_point(c.home_loc)
                f = rng.uniform(0.3, 0.6)
                lat, lon = lat + (hlat - lat) * f, lon + (hlon - lon) * f
            kind_l = "foster_home" if place.startswith("U") else "address"
            label = "Foster home" if place.startswith("U") else "Independent living address"
            loc = self._location(kind_l, f"{label} (synthetic) for {pid}", host, lat, lon, c.home_la, start)
        hlat, hlon = self._loc_point(c.home_loc)
        plat, plon = self._loc_point(loc)
        dist = haversine_km(hlat, hlon, plat, plon)
        return PlacementRec(pid, start, end, place, host, self._loc_force(loc), loc, est, round(dist, 2),
                            host != c.home_la)

    def _link_adults(self, rng: random.Random) -> None:
        """Adults of concern: each linked to several children across several forces."""
        by_la: dict[str, list[ChildRec]] = defaultdict(list)
        for c in self.children:
            area = c.placements[-1].host_la if c.placements else c.home_la
            if c.n_eps >= 2 and not c.unaccompanied:
                by_la[area].append(c)
        self._assoc_rows: list[dict[str, Any]] = []
        lo, hi = self.cal.adult_children_range
        for pid, la, addr, focus in self.adults:
            near = [la] + self.las[la].bands["lt20mi"] + self.las[la].bands["20to50mi"]
            want_sex = "F" if focus == "cse" else "M"
            cands: list[ChildRec] = []
            for x in near:
                cands.extend(by_la.get(x, []))
            if focus == "cce_county_lines":  # county lines reach far beyond the hub
                far = self.las[la].bands["gt50mi"]
                for x in rng.sample(far, min(4, len(far))):
                    cands.extend(by_la.get(x, [])[:20])
            if not cands:
                continue
            weights = [(3.0 if ch.sex == want_sex else 0.7) * (2.0 if ch.lac else 1.0) for ch in cands]
            picker = Picker(cands, weights)
            chosen: dict[int, ChildRec] = {}
            for _ in range(rng.randint(lo, hi) * 2):
                ch = picker.pick(rng)
                chosen.setdefault(ch.idx, ch)
                if len(chosen) >= hi:
                    break
            for ch in chosen.values():
                since = ch.ws + (ch.we - ch.ws) * rng.random() * 0.5 - timedelta(days=rng.uniform(0, 90))
                ch.adults.append((pid, addr, since))
                agency = self._loc_force(addr)
                self._assoc_rows.append({
                    "childId": ch.id, "personId": pid,
                    "props": {"kind": "adult_of_concern", "since": since.date(), "recordedBy": agency,
                              "recordedAt": since + timedelta(days=rng.uniform(1, 60))}})
                if rng.random() < 0.75 and focus not in ch.flag_types:
                    ch.flag_types.append(focus)
        for c in self.children:
            if c.family_person:
                self._assoc_rows.append({
                    "childId": c.id, "personId": c.family_person,
                    "props": {"kind": "parent", "since": c.dob, "recordedBy": c.home_la,
                              "recordedAt": c.ws - timedelta(days=10)}})

    def _flags(self, rng: random.Random) -> None:
        cal = self.cal
        other_types = Picker(["cse", "cce_county_lines", "gang", "mental_health", "self_harm", "substance_misuse",
                              "other"], [0.2, 0.15, 0.07, 0.2, 0.15, 0.18, 0.05])
        self._flag_rows: list[dict[str, Any]] = []
        for c in self.children:
            if c.unaccompanied:
                c.flag_types[:0] = ["unaccompanied"] + (["trafficking"] if rng.random() < 0.5 else [])
            share = cal.flag_share_lac if c.lac else cal.flag_share_other
            # frequent runners are much more likely to carry a flag
            if rng.random() < share * (1.6 if c.n_eps >= 5 else 0.8):
                t = other_types.pick(rng)
                if t == "cse" and c.sex == "M" and rng.random() < 0.6:
                    t = "cce_county_lines"
                if t not in c.flag_types:
                    c.flag_types.append(t)
            c.flagged = bool(c.flag_types)
            for k, t in enumerate(c.flag_types):
                raised = c.ws - timedelta(days=rng.uniform(0, 120)) if k == 0 else c.ws + (c.we - c.ws) * rng.random()
                raised = min(raised, self.as_of - timedelta(days=1))
                review_due = raised + timedelta(days=182)
                expired = review_due < self.as_of - timedelta(days=180) and rng.random() < 0.4
                agency = c.home_la if c.lac or rng.random() < 0.4 else self.las[c.home_la].force
                self._flag_rows.append({
                    "childId": c.id, "raisedBy": agency,
                    "props": {"id": f"FL-{c.idx + 1:07d}-{k + 1}", "type": t,
                              "status": "expired" if expired else "active", "raisedAt": raised,
                              "reviewDue": review_due.date(),
                              "reviewedAt": review_due - timedelta(days=rng.uniform(0, 20)) if expired else None,
                              "expiredAt": review_due if expired else None,
                              "note": f"synthetic {t.replace('_', ' ')} flag", **_prov(agency, raised)}})

    # -- planted scenarios (demo) ----------------------------------------------------------------------
    def _plant_scenarios(self) -> None:
        """Add the hand-written cases of demo_scenarios after every random child, so the random
        children (and every draw made for them) stay exactly as without them."""
        t_as_of = self.as_of
        for p in demo_scenarios.PLACES:
            ref = self.las[p.la].ref
            lat, lon = offset_point(ref.lat, ref.lon, p.north_km, p.east_km)
            public = p.kind in ("public_place", "transport_hub", "retail", "park")
            self._location(p.kind, p.name, p.la, lat, lon, self.las[p.la].force if public else p.la,
                           self.start, lid=p.id)
            if p.establishment:
                self._est_rows.append({
                    "props": {"id": p.establishment, "urn": f"SYN-{p.establishment}", "name": p.name,
                              "kind": "childrens_home", **_prov("OFSTED", self.start)},
                    "locationId": p.id,
                })
                self._est_loc[p.establishment] = p.id
        establishment_at = {p.id: p.establishment for p in demo_scenarios.PLACES if p.establishment}
        for spec in demo_scenarios.CHILDREN:
            idx = len(self.children)
            first_seen = t_as_of - timedelta(days=max(e.days_ago for e in spec.episodes))
            c = ChildRec(idx=idx, id=spec.id, lac=spec.looked_after, sex=spec.sex, home_la=spec.home_la,
                         n_eps=len(spec.episodes), age_anchor=spec.age_years,
                         span_days=(t_as_of - first_seen).total_seconds() / 86400, family=idx + 1)
            c.given_name, c.script = spec.given_name, spec.episodes
            c.ws, c.we = first_seen, t_as_of
            c.dob = (t_as_of - timedelta(days=spec.age_years * 365.25)).date()
            c.home_loc = spec.home
            c.lac_ref = f"SYN-{spec.id}" if spec.looked_after else None
            if spec.placement:
                pl = spec.placement
                start = t_as_of - timedelta(days=pl.started_days_ago)
                host = self._loc_la(pl.location)
                hlat, hlon = self._loc_point(spec.home)
                dist = haversine_km(hlat, hlon, *self._loc_point(pl.location))
                c.placements.append(PlacementRec(
                    f"PL-{spec.id[3:]}-1", start, None, pl.placement_type, host, self._loc_force(pl.location),
                    pl.location, establishment_at.get(pl.location), round(dist, 2), host != spec.home_la,
                    notices_sent={"placement_to_host_la": pl.host_la_notice_sent,
                                  "placement_to_host_force": pl.host_force_notice_sent}))
            for k, (ftype, agency, days_ago) in enumerate(spec.flags, start=1):
                raised = t_as_of - timedelta(days=days_ago)
                c.flag_types.append(ftype)
                self._flag_rows.append({
                    "childId": c.id, "raisedBy": agency,
                    "props": {"id": f"FL-{spec.id[3:]}-{k}", "type": ftype, "status": "active", "raisedAt": raised,
                              "reviewDue": (t_as_of + timedelta(days=60 + 10 * k)).date(),
                              "note": f"synthetic {ftype.replace('_', ' ')} flag (demo scenario)",
                              **_prov(agency, raised)}})
            c.flagged = bool(c.flag_types)
            self.children.append(c)

    def _scripted_episodes(self, c: ChildRec, out: dict[str, list[dict[str, Any]]]) -> None:
        """A planted child's episodes exactly as demo_scenarios writes them; only the details no
        scenario depends on (grades, record dates, notification timing) are drawn."""
        rng = self.rng(f"scenario-episodes:{c.id}")
        placement = c.placements[0] if c.placements else None
        script = sorted(c.script or (), key=lambda e: -e.days_ago)
        for seq, spec in enumerate(script, start=1):
            eid = demo_scenarios.episode_id(c.id, seq)
            last_seen = self.as_of - timedelta(days=spec.days_ago)
            reported = last_seen + timedelta(hours=1.5)
            in_placement = placement is not None and placement.start <= last_seen
            from_loc = placement.location if in_placement else c.home_loc  # type: ignore[union-attr]
            force = self._loc_force(from_loc)
            open_ = spec.hours is None
            found_t = None if open_ else reported + timedelta(hours=spec.hours)  # type: ignore[arg-type]
            returned = None if found_t is None else found_t + timedelta(hours=1)
            found_loc = None if open_ else spec.found_at
            found_by = self._loc_force(found_loc) if found_loc else None
            grade, scheme, ras = self._grades(c, eid, force, reported, placement if in_placement else None, rng)
            category = "absent" if grade in ("absent", "no_apparent_risk") else "missing"
            if in_placement:
                reporter = "childrens_home" if placement.place == "K2" else "carer"  # type: ignore[union-attr]
            else:
                reporter = "parent"
            out["episode"].append({
                "childId": c.id,
                "props": {
                    "id": eid, "status": "open" if open_ else "closed", "reportedAt": reported,
                    "lastSeenAt": last_seen, "foundAt": found_t, "returnedAt": returned, "whereaboutsKnown": False,
                    "consent": False, "reporterType": reporter, "category": category, "riskGrade": grade,
                    "gradeScheme": scheme, **_prov(force, reported + timedelta(minutes=12)),
                },
                "placementId": placement.id if in_placement else None,  # type: ignore[union-attr]
                "fromLocationId": from_loc,
                "lastSeenLocationId": from_loc,
                "foundLocationId": found_loc,
                "reportedTo": force,
                "foundBy": found_by,
            })
            out["risk_assessment"].extend(ras)
            for other in spec.with_:
                out["with_child"].append({"episodeId": eid, "childId": other, "source": "reported"})
            if c.lac:
                self._records(c, eid, "both", force, last_seen, reported, found_t, category, rng, out)
            if open_:
                continue
            self._scripted_rhi(c, eid, returned, spec, out)  # type: ignore[arg-type]
            if c.lac:
                out["episode_notification"].append(self._notification(
                    rng, f"NT-{eid}-F", "found_to_responsible_la", eid, found_by, c.home_la,  # type: ignore[arg-type]
                    found_t, sent=spec.found_notice_sent, ack_share=0.8,  # type: ignore[arg-type]
                    due=found_t + timedelta(hours=24), late_hours=(2.0, 20.0)))  # type: ignore[operator]

    def _scripted_rhi(self, c: ChildRec, eid: str, returned: datetime, spec: EpisodeSpec,
                      out: dict[str, list[dict[str, Any]]]) -> None:
        w = self.las[c.home_la]
        by = w.provider or w.ref.code
        offered_at = None if spec.rhi == "not_offered" else returned + timedelta(hours=5)
        completed_at = {"completed": returned + timedelta(hours=30),
                        "completed_late": returned + timedelta(hours=110)}.get(spec.rhi)
        status = "completed" if completed_at else spec.rhi
        props: dict[str, Any] = {"id": f"RI-{eid[3:]}", "status": status, "offeredAt": offered_at,
                                 "completedAt": completed_at, "dueAt": returned + timedelta(hours=72),
                                 **_prov(by, completed_at or offered_at or returned + timedelta(hours=72))}
        if completed_at:
            props |= {
                "confidentialAccount": "Synthetic confidential account: not real; stands in for the child's words.",
                "summaryPlaces": ["town centre", "railway station"] if spec.with_ else ["town centre"],
                "summaryPeople": [],
                "summaryWith": list(spec.with_),
                "summaryRiskTypes": c.flag_types[:2] or ["none identified"],
            }
        out["return_interview"].append({"episodeId": eid, "by": by, "props": props})

    # -- rows for the in-memory stages ---------------------------------------------------------------
    def _child_rows(self) -> list[dict[str, Any]]:
        rows = list(self._child_row_iter())
        if self.profile.duplicate_share > 0:
            rows += self._duplicate_rows(rows)
        return rows

    def _child_row_iter(self) -> Iterator[dict[str, Any]]:
        """The children's rows in child order, from one random stream (so the same in any chunking)."""
        rng = self.rng("child-rows")
        eth = Picker([e for e, _ in ETHNICITY], [w for _, w in ETHNICITY])
        for c in self.children:
            first = rng.choice(GIVEN_F if c.sex == "F" else GIVEN_M)
            first = c.given_name or first
            agency = c.home_la if c.lac else self.las[c.home_la].force
            # pseudonym: a bijective scramble of the index, so unique and not sequential
            pseudo = (c.idx * 7_368_787 + 1_046_527 * (self.seed % 97 + 1)) % 100_000_007
            yield {
                "homeLocationId": c.home_loc,
                "lookedAfterBy": c.home_la if c.lac else None,
                "props": {
                    "id": c.id, "pseudonym": f"MP-{pseudo:09d}", "givenName": first,
                    "familyName": f"Testchild-{c.family:07d}", "dateOfBirth": c.dob, "sex": c.sex,
                    "ethnicity": eth.pick(rng), "lookedAfter": c.lac, "unaccompanied": c.unaccompanied,
                    "lacChildRef": c.lac_ref, "lacRefLa": c.home_la if c.lac else None,
                    **_prov(agency, c.ws - timedelta(days=1) if c.lac else c.ws + timedelta(hours=1)),
                },
            }

    def _duplicate_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Issue 12: realistic names, then second records of a share of the children (duplicates.py).
        Own random streams, so the rest of the data set is the same with or without."""
        from mpdb.ingest.synthetic import duplicates

        duplicates.realistic_names(rows, [None if c.script is not None else c.family for c in self.children],
                                   self.rng("dup-names"))
        duplicates.with_upns(rows, self.rng("dup-upns"))
        homes: dict[str, list[str]] = defaultdict(list)
        for c in self.children:
            if c.home_loc and (not homes[c.home_la] or homes[c.home_la][-1] != c.home_loc):
                homes[c.home_la].append(c.home_loc)
        by_force: dict[str, list[str]] = defaultdict(list)
        for code, w in self.las.items():
            by_force[w.force].append(code)
        neighbour = {code: next((o for o in by_force[w.force] if o != code), code) for code, w in self.las.items()}
        contexts = [duplicates.DuplicateContext(row, c.home_la, self.las[c.home_la].force, c.lac)
                    for row, c in zip(rows, self.children, strict=True)]
        offset = 1_046_527 * (self.seed % 97 + 1)
        dup_rows, self.duplicate_truth = duplicates.make_duplicates(
            contexts, self.profile.duplicate_share, self.rng("duplicates"), dict(homes), neighbour,
            first_number=DUPLICATE_ID_BASE,
            pseudonym=lambda i: f"MP-{(i * 7_368_787 + offset) % 100_000_007:09d}")
        return dup_rows

    def _placement_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng("placement-rows")
        cal = self.cal
        rows: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for c in self.children:
            placing_force = self.las[c.home_la].force
            for p in c.placements:
                cross = p.force != placing_force
                rows.append({
                    "childId": c.id, "locationId": p.location, "establishmentId": p.establishment,
                    "placingLa": c.home_la, "hostLa": p.host_la, "forceCode": p.force,
                    "props": {"id": p.id, "startDate": p.start.date(), "endDate": p.end.date() if p.end else None,
                              "placementType": p.place, "distanceKm": p.distance_km, "outOfArea": p.out_of_area,
                              "crossForce": cross,
                              "dcsApproved": (rng.random() < 0.85) if p.out_of_area else None,
                              **_prov(c.home_la, p.start)}})
                planted = p.notices_sent or {}
                if p.out_of_area:
                    sent = rng.random() >= cal.host_la_never_sent
                    notes.append(self._notification(
                        rng, f"NT-{p.id}-LA", "placement_to_host_la", p.id, c.home_la, p.host_la, p.start,
                        sent=planted.get("placement_to_host_la", sent),
                        ack_share=1 - cal.host_la_never_acknowledged, due=p.start + timedelta(days=5)))
                if cross:
                    w = self.las[c.home_la]
                    sent = w.notifies_police and rng.random() < cal.host_force_sent_share
                    notes.append(self._notification(
                        rng, f"NT-{p.id}-F", "placement_to_host_force", p.id, c.home_la, p.force, p.start,
                        sent=planted.get("placement_to_host_force", sent), ack_share=0.6,
                        due=p.start + timedelta(days=5)))
        return rows, notes

    def _notification(self, rng: random.Random, nid: str, kind: str, about: str, src: str, dst: str,
                      event: datetime, *, sent: bool, ack_share: float, due: datetime,
                      late_hours: tuple[float, float] = (24.0, 24 * 30)) -> dict[str, Any]:
        sent_at = ack_at = None
        if sent:
            if rng.random() < 0.7:
                sent_at = event + timedelta(hours=rng.uniform(-48 if kind.startswith("placement") else 0.2, 20))
            else:
                sent_at = event + timedelta(hours=rng.uniform(*late_hours))
            if sent_at > self.as_of:
                sent_at = None
            elif rng.random() < ack_share:
                ack_at = sent_at + timedelta(hours=rng.uniform(0.5, 24 * 12))
                if ack_at > self.as_of:
                    ack_at = None
        return {"aboutId": about, "from": src, "to": dst,
                "props": {"id": nid, "kind": kind, "sentAt": sent_at, "acknowledgedAt": ack_at, "dueAt": due,
                          **_prov(src, sent_at or event)}}

    # -- phase 3: episodes ---------------------------------------------------------------------------
    def _schedule(self, c: ChildRec, rng: random.Random) -> list[tuple[datetime, float, JointEvent | None]]:
        events: list[tuple[datetime, float, JointEvent | None]] = [(j.at, j.hours, j) for j in c.joint]
        fixed = [j.at for j in c.joint]
        n_ind = max(0, c.n_eps - len(events))
        for k in range(n_ind):
            if c.unaccompanied and k == 0 and not fixed:
                t = c.ws
            else:
                for _ in range(6):
                    t = c.ws + (c.we - c.ws) * rng.random()
                    if all(abs((t - f).total_seconds()) > 3 * 86400 for f in fixed):
                        break
            events.append((t, self._duration(rng), None))
        events.sort(key=lambda e: (e[0], e[2].id if e[2] else 0))
        out: list[tuple[datetime, float, JointEvent | None]] = []
        free_from = self.start
        adult_at = _dt(c.dob) + timedelta(days=18 * 365.25 - 2)
        for t, hours, j in events:
            if t < free_from:
                t = free_from + timedelta(hours=rng.uniform(6, 72))
            if t > self.as_of - timedelta(hours=2) or t >= adult_at:
                break
            out.append((t, hours, j))
            free_from = t + timedelta(hours=hours + 10)
        return out

    def _episodes_for(self, c: ChildRec, rng: random.Random, out: dict[str, list[dict[str, Any]]]) -> None:
        cal = self.cal
        sched = self._schedule(c, rng)
        home_w = self.las[c.home_la]
        if not c.favourites:
            base = c.placements[-1].host_la if c.placements else c.home_la
            picker = self.las[base].hot_picker
            c.favourites = [picker.pick(rng) for _ in range(rng.randint(1, 3))]  # type: ignore[union-attr]
        rhi_la = home_w
        for seq, (last_seen, hours, joint) in enumerate(sched, start=1):
            eid = f"EP-{c.idx + 1:07d}-{seq:03d}"
            placement = None
            for p in c.placements:
                if p.start <= last_seen and (p.end is None or last_seen < p.end):
                    placement = p
            if c.lac and placement is None and c.placements:
                placement = c.placements[-1] if last_seen >= c.placements[-1].start else c.placements[0]
            from_loc = placement.location if placement else c.home_loc
            from_force = self._loc_force(from_loc)
            reported = last_seen + timedelta(hours=rng.uniform(0.3, 6))
            is_last = seq == len(sched)
            open_ = False
            found_at_t = reported + timedelta(hours=hours)
            if is_last and (found_at_t > self.as_of or (
                    (self.as_of - reported).days < cal.open_recent_days and rng.random() < cal.open_share_recent)):
                open_ = True
            if found_at_t > self.as_of:
                open_ = True
            returned = None if open_ else found_at_t + timedelta(hours=rng.uniform(0, 3))
            # police / LA records of a looked-after child's episode
            variant = "police"
            if c.lac:
                u = rng.random()
                variant = "both" if u < cal.records_both else "police" if u < cal.records_both + cal.records_police_only else "la"
                if joint is not None or open_:
                    variant = "both"
            police = variant != "la"
            # where they went and were found
            found_loc: str | None = None
            went: list[tuple[str, str]] = []
            adult = None
            active_adults = [a for a in c.adults if a[2] <= last_seen]
            if active_adults and rng.random() < 0.5:
                adult = active_adults[rng.randrange(len(active_adults))]
            if joint is not None:
                found_loc = joint.found_loc
            elif adult is not None and rng.random() < 0.45:
                found_loc = adult[1]
            else:
                u = rng.random()
                if u < 0.30:
                    found_loc = from_loc  # returned of own accord
                elif u < 0.50:
                    found_loc = c.home_loc if placement else (c.friend_loc or c.favourites[0])
                elif u < 0.80:
                    found_loc = c.favourites[rng.randrange(len(c.favourites))]
                elif u < 0.90:
                    found_loc = c.friend_loc or self.las[self._loc_la(from_loc)].hot_picker.pick(rng)  # type: ignore[union-attr]
                else:
                    far_la = self.la_picker.pick(rng)
                    found_loc = self.las[far_la].hot_picker.pick(rng)  # type: ignore[union-attr]
            if adult is not None:
                went.append((adult[1], rng.choice(("rhi", "sighting", "found"))))
            elif placement and placement.out_of_area and rng.random() < 0.35:
                went.append((c.home_loc, rng.choice(("rhi", "reported"))))  # back to the home area
            elif rng.random() < 0.15:
                went.append((c.favourites[0], rng.choice(("rhi", "sighting"))))
            last_seen_loc = from_loc if rng.random() < 0.7 else c.favourites[-1]
            found_force = None
            if not open_ and police and found_loc:
                found_force = self._loc_force(found_loc)
                if self._loc_kind(found_loc) == "transport_hub" and rng.random() < 0.25:
                    found_force = "BTP"
            # risk
            grade, scheme, ras = (None, None, [])
            if police:
                grade, scheme, ras = self._grades(c, eid, from_force, reported, placement, rng)
            whereabouts = (not police) or rng.random() < 0.08
            category = None if not police else ("absent" if grade in ("absent", "no_apparent_risk") else "missing")
            if placement:
                reporter = {"K2": "childrens_home", "H5": "childrens_home", "R1": "childrens_home",
                            "S1": "school"}.get(placement.place, "carer" if placement.place.startswith("U") else "other")
            else:
                reporter = "parent" if rng.random() < 0.82 else rng.choice(("school", "police", "other"))
            props = {
                "id": eid, "status": "open" if open_ else "closed", "reportedAt": reported, "lastSeenAt": last_seen,
                "foundAt": None if open_ else found_at_t, "returnedAt": returned,
                "whereaboutsKnown": whereabouts, "consent": False, "reporterType": reporter, "category": category,
                "riskGrade": grade, "gradeScheme": scheme,
                **_prov(from_force if police else c.home_la, reported + timedelta(minutes=rng.uniform(2, 40))),
            }
            out["episode"].append({
                "childId": c.id, "props": props,
                "placementId": placement.id if placement else None,
                "fromLocationId": from_loc,
                "lastSeenLocationId": last_seen_loc,
                "foundLocationId": None if open_ else found_loc,
                "reportedTo": from_force if police else None,
                "foundBy": found_force,
            })
            out["risk_assessment"].extend(ras)
            if joint is not None:
                for other in joint.members:
                    if other != c.idx:
                        out["with_child"].append({"episodeId": eid, "childId": self.children[other].id,
                                                  "source": joint.source})
            if adult is not None:
                out["with_person"].append({"episodeId": eid, "personId": adult[0],
                                           "source": rng.choice(("reported", "found", "sighting", "rhi"))})
            elif c.family_person and found_loc == c.home_loc and rng.random() < 0.5:
                out["with_person"].append({"episodeId": eid, "personId": c.family_person, "source": "found"})
            for k, (loc, src) in enumerate(went):
                at = last_seen + timedelta(hours=max(0.2, hours * rng.uniform(0.1, 0.8)))
                out["went_to"].append({"episodeId": eid, "locationId": loc, "at": at, "source": src})
            # records
            if c.lac:
                self._records(c, eid, variant, from_force, last_seen, reported, found_at_t if not open_ else None,
                              category, rng, out)
            if open_:
                continue
            self._return_interview(c, eid, returned, rhi_la, rng, out)  # type: ignore[arg-type]
            if c.lac and police:
                src = found_force or from_force
                fp = self.forces[src]
                out["episode_notification"].append(self._notification(
                    rng, f"NT-{eid}-F", "found_to_responsible_la", eid, src, c.home_la, found_at_t,
                    sent=fp["sends_found"] and rng.random() < cal.found_sent_share, ack_share=0.8,
                    due=found_at_t + timedelta(hours=24), late_hours=(24.0, 24 * 10)))

    def _grades(self, c: ChildRec, eid: str, force: str, reported: datetime, placement: PlacementRec | None,
                rng: random.Random) -> tuple[str, str, list[dict[str, Any]]]:
        fp = self.forces[force]
        scheme = "2013" if reported < SCHEME_CHANGE else "2017"
        names = GRADES_2013 if scheme == "2013" else GRADES_2017
        p_high = fp["high"] * (1.5 if c.flagged else 0.8) * (1.3 if placement and placement.distance_km > 32 else 1.0)
        p_absent = 0.0 if c.flagged else fp["absent"] * (2.0 if c.sex == "M" else 0.4)
        u = rng.random()
        if u < p_high:
            level = 3
        elif u < p_high + p_absent:
            level = 0
        else:
            level = 1 if rng.random() < 0.45 else 2
        floor = 1 if c.flagged else 0
        levels = [level]
        if rng.random() < self.cal.reassessed_share:
            levels.append(max(floor, min(3, level + (1 if rng.random() < 0.6 else -1))))
        ras = []
        at = reported + timedelta(minutes=rng.uniform(5, 60))
        for k, lv in enumerate(levels):
            ras.append({"episodeId": eid, "props": {
                "id": f"RA-{eid[3:]}-{k + 1}", "grade": names[lv], "scheme": scheme, "assessedAt": at,
                "reason": ("initial grading" if k == 0 else "regraded on new information"),
                **_prov(force, at)}})
            at = at + timedelta(hours=rng.uniform(2, 30))
        return names[levels[-1]], scheme, ras

    def _records(self, c: ChildRec, eid: str, variant: str, force: str, last_seen: datetime, reported: datetime,
                 found: datetime | None, category: str | None, rng: random.Random,
                 out: dict[str, list[dict[str, Any]]]) -> None:
        if variant in ("both", "police"):
            fp = self.forces[force]
            out["episode_record"].append({"episodeId": eid, "props": {
                "id": f"ER-{eid[3:]}-P", "agencyId": force, "sourceSystem": SOURCE_SYSTEM,
                "sourceRef": f"{fp['short']}/MP/{reported.year}/{eid[3:]}", "startAt": reported, "endAt": found,
                "missingType": category or "missing", "recordedBy": force,
                "recordedAt": reported + timedelta(minutes=rng.uniform(2, 60)), "author": AUTHOR}})
        if variant in ("both", "la"):
            start = datetime(last_seen.year, last_seen.month, last_seen.day, tzinfo=UTC)
            end = datetime(found.year, found.month, found.day, tzinfo=UTC) if found else None
            if variant == "both" and rng.random() < self.cal.records_date_mismatch:
                if rng.random() < 0.5 or end is None:
                    start += timedelta(days=rng.choice((-1, 1, 2)))
                else:
                    end += timedelta(days=rng.choice((1, 2, 3)))
            out["episode_record"].append({"episodeId": eid, "props": {
                "id": f"ER-{eid[3:]}-L", "agencyId": c.home_la, "sourceSystem": SOURCE_SYSTEM,
                "sourceRef": f"SSDA903/{c.home_la}/{c.lac_ref}/{start.date().isoformat()}", "startAt": start,
                "endAt": end, "missingType": "A" if variant == "la" or category == "absent" else "M",
                "recordedBy": c.home_la, "recordedAt": (found or reported) + timedelta(days=rng.uniform(1, 40)),
                "author": AUTHOR}})

    def _return_interview(self, c: ChildRec, eid: str, returned: datetime, w: LaWorld, rng: random.Random,
                          out: dict[str, list[dict[str, Any]]]) -> None:
        cal = self.cal
        by = w.provider or w.ref.code
        due = returned + timedelta(hours=72)
        rid = f"RI-{eid[3:]}"
        offered_at = completed_at = None
        if rng.random() >= w.rhi_offer:
            status = "not_offered"
        else:
            offered_at = returned + timedelta(hours=rng.uniform(1, 40))
            if offered_at > self.as_of:
                offered_at = self.as_of - timedelta(minutes=30)
            if rng.random() >= cal.rhi_acceptance:
                status = "declined"
            elif rng.random() < w.rhi_completion:
                on_time = rng.random() < cal.rhi_on_time_share
                completed_at = returned + timedelta(hours=rng.uniform(4, 72) if on_time else rng.uniform(73, 600))
                status = "completed" if completed_at <= self.as_of else "offered"
                if status == "offered":
                    completed_at = None
            else:
                status = "offered"  # accepted, never (or not yet) completed
        props: dict[str, Any] = {"id": rid, "status": status, "offeredAt": offered_at, "completedAt": completed_at,
                                 "dueAt": due, **_prov(by, completed_at or offered_at or due)}
        if status == "completed":
            risk = c.flag_types[:2] or ["none identified"]
            props |= {
                "confidentialAccount": "Synthetic confidential account: not real; stands in for the child's words.",
                "summaryPlaces": ["friend's address", "town centre"] if rng.random() < 0.5 else ["family home"],
                "summaryPeople": [a[0] for a in c.adults[:2]],
                "summaryWith": [self.children[m].id for j in c.joint[:1] for m in j.members if m != c.idx],
                "summaryRiskTypes": risk,
            }
        out["return_interview"].append({"episodeId": eid, "by": by, "props": props})
        if status == "completed" and rng.random() < w.referral_rate:
            to, reason = REFERRAL_TO[rng.randrange(len(REFERRAL_TO))]
            made = completed_at + timedelta(hours=rng.uniform(1, 72))  # type: ignore[operator]
            out["referral"].append({"episodeId": eid, "props": {
                "id": f"RF-{eid[3:]}", "to": to, "reason": reason, "madeAt": made, **_prov(w.ref.code, made)}})
