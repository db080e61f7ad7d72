"""The per-agency token bucket, and the data-layer refusal of named reads for aggregates-only callers."""

from __future__ import annotations

import pytest

from mpdb.api.rate_limit import _SCHEMA, AgencyRateLimiter
from mpdb.auth.access import access_scope_for
from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.domain.errors import Forbidden
from mpdb.graph.repositories.records import RecordRepository
from mpdb.shared_state import SharedDb


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refuses_with_the_wait() -> None:
    clock = Clock()
    limiter = AgencyRateLimiter(per_minute=3, clock=clock)
    assert [limiter.acquire("A") for _ in range(3)] == [None, None, None]
    assert limiter.acquire("A") == pytest.approx(20.0)  # one token per 20 s at 3/min
    clock.now += 5
    assert limiter.acquire("A") == pytest.approx(15.0)
    clock.now += 15
    assert limiter.acquire("A") is None
    assert limiter.acquire("A") == pytest.approx(20.0)


def test_agencies_have_separate_buckets_and_refill_is_capped() -> None:
    clock = Clock()
    limiter = AgencyRateLimiter(per_minute=2, clock=clock)
    assert limiter.acquire("A") is None and limiter.acquire("A") is None
    assert limiter.acquire("A") is not None
    assert limiter.acquire("B") is None  # A's flood does not touch B
    clock.now += 3600  # an idle hour refills to capacity, not beyond
    assert [limiter.acquire("A") for _ in range(3)][2] is not None


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        AgencyRateLimiter(per_minute=0)
    with pytest.raises(ValueError):
        AgencyRateLimiter(per_minute=5, per_kind={AgencyKind.NATIONAL_UNIT: 0})


def test_limiters_on_one_file_share_one_budget(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two limiters over one SQLite file stand for two worker processes (tests/e2e/test_workers.py
    runs real ones): together they allow the budget once, and agree on the wait."""
    clock = Clock()
    path = tmp_path / "rate-limit.sqlite"
    one, two = (AgencyRateLimiter(per_minute=3, clock=clock, db=SharedDb(path, _SCHEMA)) for _ in range(2))
    assert [one.acquire("A"), two.acquire("A"), one.acquire("A")] == [None, None, None]
    assert two.acquire("A") == pytest.approx(20.0) and one.acquire("A") == pytest.approx(20.0)
    assert one.acquire("B") is None
    clock.now += 20
    assert two.acquire("A") is None and one.acquire("A") == pytest.approx(20.0)


def test_budget_per_agency_kind() -> None:
    clock = Clock()
    limiter = AgencyRateLimiter(per_minute=2, clock=clock, per_kind={AgencyKind.NATIONAL_UNIT: 4})
    assert [limiter.acquire("N", AgencyKind.NATIONAL_UNIT) for _ in range(5)][3:] == [None, pytest.approx(15.0)]
    assert [limiter.acquire("F", AgencyKind.POLICE_FORCE) for _ in range(3)][2] == pytest.approx(30.0)
    assert limiter.per_minute(AgencyKind.NATIONAL_UNIT) == 4 and limiter.per_minute(AgencyKind.INSPECTORATE) == 2


def _principal(kind: AgencyKind, role: Role, *scopes: Scope) -> Principal:
    return Principal(subject="s", client_id="c", agency_id="X", agency_kind=kind, role=role,
                     scopes=frozenset(scopes))


class ExplodingGraph:
    async def read_one(self, *_: object, **__: object) -> None:
        raise AssertionError("the database must not be asked")

    async def read(self, *_: object, **__: object) -> None:
        raise AssertionError("the database must not be asked")


@pytest.mark.parametrize("principal", [
    # An inspectorate is aggregates-only whatever its token says, even with child:read.
    _principal(AgencyKind.INSPECTORATE, Role.ANALYST, Scope.CHILD_READ, Scope.ANALYTICS_READ),
    _principal(AgencyKind.POLICE_FORCE, Role.ANALYST, Scope.ANALYTICS_READ),
    _principal(AgencyKind.NATIONAL_UNIT, Role.ANALYST, Scope.ANALYTICS_READ),
])
async def test_aggregates_only_callers_never_reach_a_named_read(principal: Principal) -> None:
    scope = access_scope_for(principal)
    assert scope.aggregates_only
    repo = RecordRepository(ExplodingGraph())  # type: ignore[arg-type]
    for call in (repo.child(scope, "C1"), repo.episode(scope, "E1"), repo.episodes_of_child(scope, "C1", 10),
                 repo.locate_profile(scope, "C1")):
        with pytest.raises(Forbidden):
            await call
    # Aggregate queries still get their parameters.
    assert scope.cypher_params() == {"agencyId": "X", "national": principal.agency_kind is AgencyKind.NATIONAL_UNIT,
                                     "police": principal.agency_kind is AgencyKind.POLICE_FORCE}


def test_case_roles_are_not_aggregates_only() -> None:
    scope = access_scope_for(_principal(AgencyKind.POLICE_FORCE, Role.INVESTIGATOR, Scope.CHILD_READ))
    assert not scope.aggregates_only
    assert scope.named_record_params() == {"agencyId": "X", "national": False, "police": True}


async def test_hosts_sharing_redis_share_one_budget() -> None:
    """MPDB_RATE_LIMIT_REDIS_URL: pyrate-limiter's Lua script, run here by fakeredis (with Lua)."""
    import fakeredis

    clock = Clock()
    server = fakeredis.FakeServer()
    one, two = (AgencyRateLimiter(per_minute=3, clock=clock, redis=fakeredis.FakeAsyncRedis(server=server))
                for _ in range(2))
    assert [await one.acquire("A"), await two.acquire("A"), await one.acquire("A")] == [None, None, None]
    assert await two.acquire("A") == pytest.approx(20.0)
    assert await one.acquire("B") is None
    clock.now += 20
    assert await two.acquire("A") is None and await one.acquire("A") == pytest.approx(20.0)
