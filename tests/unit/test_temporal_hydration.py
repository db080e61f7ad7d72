"""mpdb.graph.temporal builds exactly the datetimes the driver's own hydration + to_native() give."""

from __future__ import annotations

import datetime
import itertools

import neo4j
import pytest
import pytz

from mpdb.graph import temporal
from mpdb.graph.db import to_native

SECONDS = (0, 1, 59, 86_399, 951_782_400, 1_700_000_000, 1_764_633_600, 4_102_444_799, -1, -86_401,
           -2_208_988_800)
NANOS = (0, 1, 999, 1_000, 123_456_789, 999_999_999)
OFFSETS = (None, 0, 3600, -3600, 19_800, -34_200, 50_400, 45)


def test_the_driver_is_the_version_this_was_checked_against() -> None:
    assert neo4j.__version__ == temporal.DRIVER_VERSION


@pytest.mark.parametrize("seconds,nanos,tz", list(itertools.product(SECONDS, NANOS, OFFSETS)))
def test_same_value_as_the_driver(seconds: int, nanos: int, tz: int | None) -> None:
    expected = to_native(temporal._original(seconds, nanos, tz))
    got = temporal.hydrate_datetime(seconds, nanos, tz)
    assert got == expected
    assert (got.isoformat(), got.utcoffset(), got.tzinfo) == (expected.isoformat(), expected.utcoffset(),
                                                               expected.tzinfo)


def test_named_zones_go_to_the_driver() -> None:
    got = temporal.hydrate_datetime(1_700_000_000, 5_000, "Europe/London")
    assert isinstance(got, neo4j.time.DateTime)
    assert to_native(got) == to_native(temporal._original(1_700_000_000, 5_000, "Europe/London"))


DAYS = (0, 1, -1, 365, 13_999, 20_424, -25_567, 2_932_896, -719_162)  # 0001-01-01 .. 9999-12-31


@pytest.mark.parametrize("days", DAYS)
def test_dates_same_value_as_the_driver(days: int) -> None:
    expected = to_native(temporal._original_date(days))
    got = temporal.hydrate_date(days)
    assert type(got) is datetime.date
    assert got == expected
    assert got.isoformat() == expected.isoformat()


@pytest.mark.parametrize("days", (-719_163, 2_932_897, 10**9, -(10**9)))
def test_dates_python_cannot_hold_go_to_the_driver(days: int) -> None:
    try:
        expected: object = temporal._original_date(days)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc).replace("(", r"\(").replace(")", r"\)")):
            temporal.hydrate_date(days)
    else:  # the driver's ZeroDate (ordinal 0)
        assert temporal.hydrate_date(days) == expected


def test_install_reaches_the_handlers_of_new_connections() -> None:
    from neo4j._codec.hydration.bolt.v2.hydration_handler import HydrationHandler as V2
    from neo4j._codec.hydration.bolt.v3.hydration_handler import HydrationHandler as V3

    temporal.install()
    for handler in (V2(), V3()):
        hooks = handler.struct_hydration_functions
        assert hooks[b"D"] is temporal.hydrate_date
        assert hooks[b"I"] is temporal.hydrate_datetime
        assert handler.dehydration_hooks.get_transformer(datetime.datetime.now(datetime.UTC)) is temporal.dehydrate_datetime


async def test_sessions_can_pipeline_begin() -> None:
    """mpdb.graph.db.pipelined_begin flips the driver's own switch (the one execute_query uses)."""
    from mpdb.graph.db import pipelined_begin

    driver = neo4j.AsyncGraphDatabase.driver("bolt://127.0.0.1:9")  # no connection is made
    try:
        session = driver.session()
        assert not session._pipelined_begin
        with pipelined_begin(session):
            assert session._pipelined_begin
        assert not session._pipelined_begin
    finally:
        await driver.close()


def _fields(structure: object) -> tuple[object, ...]:
    return (structure.tag, *structure.fields)  # type: ignore[attr-defined]


INSTANTS = [datetime.datetime(y, mo, d, h, mi, s, us) for y, mo, d, h, mi, s, us in (
    (2026, 11, 1, 12, 30, 5, 123_456), (1970, 1, 1, 0, 0, 0, 0), (1969, 12, 31, 23, 59, 59, 999_999),
    (1900, 3, 1, 0, 0, 0, 1), (2038, 1, 19, 3, 14, 8, 0), (1, 1, 2, 0, 0, 0, 0), (9999, 12, 30, 23, 0, 0, 5))]
ZONES = [datetime.UTC, datetime.timezone(datetime.timedelta(hours=1)), datetime.timezone(-datetime.timedelta(hours=9, minutes=30)),
         datetime.timezone(datetime.timedelta(hours=14)), pytz.FixedOffset(330), pytz.utc]


@pytest.mark.parametrize("zone", ZONES, ids=repr)
@pytest.mark.parametrize("naive", INSTANTS, ids=str)
def test_datetime_parameters_same_structure_as_the_driver(naive: datetime.datetime, zone: datetime.tzinfo) -> None:
    value = naive.replace(tzinfo=zone)
    assert _fields(temporal.dehydrate_datetime(value)) == _fields(temporal._original_dehydrate(value))


@pytest.mark.parametrize("value", [
    datetime.datetime(2026, 3, 29, 1, 30),  # naive
    pytz.timezone("Europe/London").localize(datetime.datetime(2026, 3, 29, 3, 30)),
], ids=["naive", "pytz-zone"])
def test_other_datetimes_go_to_the_driver(value: datetime.datetime) -> None:
    assert _fields(temporal.dehydrate_datetime(value)) == _fields(temporal._original_dehydrate(value))


def test_the_driver_s_own_datetimes_go_to_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    value = neo4j.time.DateTime(2026, 1, 2, 3, 4, 5, 123_456_789, tzinfo=pytz.FixedOffset(60))
    monkeypatch.setattr(temporal, "_original_dehydrate", lambda v: ("driver", v))
    assert temporal.dehydrate_datetime(value) == ("driver", value)


def test_sub_second_offsets_are_refused_as_by_the_driver() -> None:
    value = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(seconds=1, microseconds=5)))
    with pytest.raises(ValueError) as driver:
        temporal._original_dehydrate(value)
    with pytest.raises(ValueError) as ours:
        temporal.dehydrate_datetime(value)
    assert str(ours.value) == str(driver.value)
