"""Faster hydration of Neo4j DATETIME values, measured as the largest per-request cost.

Profiling a warm national riskProfile (bench/README.md, "Throughput") put about half of its
Python time in the driver turning each DATETIME into a `neo4j.time.DateTime` (pure Python,
nanosecond arithmetic and pytz), which mpdb.graph.db.to_native then turns into a `datetime`:
~700 values per request at 50-250 us each. The driver has no public hook for this, so
`install()` replaces the function its Bolt 5 hydration handlers call for DATETIME structures
(tag I, a UTC offset; tag d, local) with one that builds the same `datetime` that
`DateTime.to_native()` gives, directly. Named time zones (tag i) and anything unexpected go to
the driver's own function. tests/unit/test_temporal_hydration.py checks the two agree on a grid
of values, and that the driver version is the one this was written against (neo4j is pinned in
pyproject.toml: a driver upgrade must re-check this module).

The other way, every `datetime` query parameter (a window's `since` and `asOf`, on every read)
went through `neo4j.time.DateTime.from_native` and pytz in the driver's `dehydrate_datetime`,
~150-380 us each; `dehydrate_datetime` here sends the same structure (UTC epoch seconds,
nanoseconds, offset: Bolt 5's tag I) computed with `datetime` arithmetic for values with a fixed
UTC offset, and leaves named zones and naive values to the driver.

DATE values (tag D) likewise: the driver builds a `neo4j.time.Date` (pure Python ordinal
arithmetic) that `to_native` turns into a `datetime.date`; a national coMissing carries ~40 of
them (dates of birth, flags). `hydrate_date` gives the `date` directly; dates outside
`datetime.date`'s years 1-9999 go to the driver's own function.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytz
from neo4j._codec.hydration.bolt.v1 import temporal as _bolt_v1_temporal
from neo4j._codec.hydration.bolt.v2 import temporal as _bolt_v2_temporal
from neo4j._codec.packstream import Structure

DRIVER_VERSION = "6.4.1"
_original = _bolt_v2_temporal.hydrate_datetime
_original_date = _bolt_v1_temporal.hydrate_date
_original_dehydrate = _bolt_v2_temporal.dehydrate_datetime
_EPOCH_1970 = datetime(1970, 1, 1)
_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MAX_ORDINAL = date.max.toordinal()
_EPOCH = datetime(1970, 1, 1)
_ZONES: dict[int, Any] = {}  # UTC offset in minutes -> pytz.FixedOffset


def hydrate_datetime(seconds: int, nanoseconds: int, tz: Any = None) -> Any:
    """`hydrate_datetime(...).to_native()` of the driver, without the neo4j.time detour."""
    if not (isinstance(seconds, int) and isinstance(nanoseconds, int) and (tz is None or isinstance(tz, int))):
        return _original(seconds, nanoseconds, tz)
    # to_native() keeps microseconds, dropping the rest of the nanoseconds.
    if tz is None:
        return _EPOCH + timedelta(seconds=seconds, microseconds=nanoseconds // 1000)
    # The driver's value is the UTC instant moved to pytz.FixedOffset(whole minutes of tz): the
    # same wall time and the same tzinfo object (pytz caches fixed offsets), so the values
    # compare, print and serialise exactly alike. Built directly, without localize/astimezone.
    minutes = tz // 60
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES.setdefault(minutes, pytz.FixedOffset(minutes))
    return (_EPOCH + timedelta(seconds=seconds + minutes * 60, microseconds=nanoseconds // 1000)).replace(tzinfo=zone)


def hydrate_date(days: int) -> Any:
    """`hydrate_date(days).to_native()` of the driver (days since 1970-01-01), without neo4j.time."""
    if type(days) is int:
        ordinal = _UNIX_EPOCH_ORDINAL + days
        if 1 <= ordinal <= _MAX_ORDINAL:
            return date.fromordinal(ordinal)
    return _original_date(days)


def dehydrate_datetime(value: datetime) -> Any:
    """The driver's `dehydrate_datetime(value)` for a `datetime` with a fixed UTC offset, without
    the neo4j.time detour; anything else (naive, a named zone, a sub-second offset) goes to it."""
    if type(value) is not datetime:  # the driver sends its own neo4j.time.DateTime here too
        return _original_dehydrate(value)
    tz = value.tzinfo
    if tz is None or getattr(tz, "zone", None) or getattr(tz, "key", None):
        return _original_dehydrate(value)
    # The driver takes a `timezone`'s offset at any date, any other tzinfo's at the value.
    offset = tz.utcoffset(_EPOCH_1970) if isinstance(tz, timezone) else tz.utcoffset(value)
    if offset is None or offset.microseconds:
        return _original_dehydrate(value)
    since_epoch = value.replace(tzinfo=None) - offset - _EPOCH_1970
    return Structure(b"I", since_epoch.days * 86_400 + since_epoch.seconds, since_epoch.microseconds * 1000,
                     offset.days * 86_400 + offset.seconds)


def install() -> None:
    """Use `hydrate_datetime`, `hydrate_date` and `dehydrate_datetime` in every connection the
    driver opens from now on (idempotent)."""
    _bolt_v2_temporal.hydrate_datetime = hydrate_datetime
    _bolt_v1_temporal.hydrate_date = hydrate_date
    _bolt_v2_temporal.dehydrate_datetime = dehydrate_datetime
