"""mpdb.graph.temporal builds exactly the datetimes the driver's own hydration + to_native() give."""

from __future__ import annotations

import itertools

import neo4j
import pytest

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
