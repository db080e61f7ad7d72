"""Signed, typed page cursors (mpdb/api/pagination.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mpdb.api import pagination as p
from mpdb.domain.errors import InvalidInput
from mpdb.settings import Settings


@pytest.fixture
def key_in(tmp_path: Path):  # type: ignore[no-untyped-def]
    saved = p._key
    p.configure_cursor_key(Settings(env="test", state_dir=tmp_path))
    yield tmp_path
    p._key = saved


def _refused(cursor: str, *kinds: object) -> str:
    with pytest.raises(InvalidInput) as exc:
        p.decode_cursor(cursor, *kinds)  # type: ignore[arg-type]
    assert exc.value.extensions == {"code": "BAD_USER_INPUT", "field": "after"}
    return exc.value.message


def test_round_trip_with_types(key_in: Path) -> None:
    at = datetime(2026, 1, 3, 20, 0, tzinfo=UTC)
    cursor = p.encode_cursor(at.isoformat(), "EP-1")
    assert p.decode_cursor(cursor, datetime, str) == [at, "EP-1"]
    assert p.decode_cursor(p.encode_cursor(3), int) == [3]
    assert p.decode_cursor(p.encode_cursor(2, "k"), float, str) == [2.0, "k"]
    assert p.decode_cursor(p.encode_cursor("a", 1, 2.5), 3) == ["a", 1, 2.5]


def test_edited_forged_or_foreign_cursors_are_refused(key_in: Path) -> None:
    cursor = p.encode_cursor("2026-01-03T20:00:00+00:00", "EP-1")
    payload, tag = cursor.rsplit(".", 1)
    forged = p.encode_cursor("2027-01-03T20:00:00+00:00", "EP-1").rsplit(".", 1)[0] + "." + tag
    assert _refused(forged, datetime, str) == "invalid cursor: not one this API issued"
    assert _refused(payload, datetime, str) == "malformed cursor"  # no tag at all
    assert _refused(payload + ".", datetime, str) == "invalid cursor: not one this API issued"
    assert _refused("x" * 600, datetime, str) == "malformed cursor"
    # Another deployment's key: refused the same way.
    saved = p._key
    p._key = b"\x01" * 32
    try:
        assert _refused(cursor, datetime, str) == "invalid cursor: not one this API issued"
    finally:
        p._key = saved


@pytest.mark.parametrize("values", [[7, 8], ["2026-01-01T00:00:00", "x"], ["yesterday", "x"], ["2026-02-31T00:00:00Z", "x"],
                                    ["2026-01-01T00:00:00Z"], ["2026-01-01T00:00:00Z", True], ["2026-01-01T00:00:00Z", None],
                                    ["2026-01-01T00:00:00Z", ["x"]]])
def test_signed_cursors_with_the_wrong_values_are_refused(key_in: Path, values: list) -> None:  # type: ignore[type-arg]
    assert _refused(p.encode_cursor(*values), datetime, str) == "malformed cursor"


def test_the_key_is_made_once_per_state_dir_and_shared(tmp_path: Path) -> None:
    first = p._load_key(Settings(env="test", state_dir=tmp_path))
    again = p._load_key(Settings(env="test", state_dir=tmp_path))  # another worker, or a restart
    assert first == again and len(first) == 32
    assert (tmp_path / "cursor.key").stat().st_mode & 0o777 == 0o600
    assert list(tmp_path.iterdir()) == [tmp_path / "cursor.key"]  # no temporary file left
    other = p._load_key(Settings(env="test", state_dir=tmp_path / "elsewhere"))
    assert other != first
    configured = p._load_key(Settings(env="test", state_dir=tmp_path, cursor_key="shared secret"))
    assert configured == p._load_key(Settings(env="test", state_dir=tmp_path / "x", cursor_key="shared secret"))
    assert configured != first
