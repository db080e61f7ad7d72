"""Opaque, signed keyset cursors and page-size caps shared by every list field.

A cursor is the sort key of the last item seen: base64url JSON, then "." and an HMAC-SHA256 tag
(truncated to 128 bits) over it. Only cursors this API issued are accepted, so a cursor edited by
hand or forged is refused as a client error (BAD_USER_INPUT, field `after`) rather than reaching a
query with values of the wrong type. A cursor still grants nothing: every page query is scoped, so
even a valid cursor minted for another agency only moves where a page starts within what the
caller may already see. Decoding also checks the type of each value (`decode_cursor(c, datetime,
str)`), so a cursor of another list, or of an older release, is refused the same way.

The key: MPDB_CURSOR_KEY when set (the same on every host behind one API), else a random key made
once in <state_dir>/cursor.key, shared by all `mpdb serve --workers` processes and kept across
restarts. Changing it only invalidates cursors in flight: clients start again from the first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import strawberry

from mpdb.domain.errors import InvalidInput
from mpdb.domain.values import CURSOR_MAX
from mpdb.settings import Settings, get_settings

T = TypeVar("T")

_TAG_BYTES = 16
_key: bytes | None = None


def configure_cursor_key(settings: Settings) -> None:
    """Called when the app is built, so a request never touches the key file."""
    global _key
    _key = _load_key(settings)


def _load_key(settings: Settings) -> bytes:
    if settings.cursor_key is not None:
        return hashlib.sha256(settings.cursor_key.get_secret_value().encode()).digest()
    path = Path(settings.state_dir) / "cursor.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"cursor.key.{os.getpid()}.tmp")
    tmp.write_text(secrets.token_hex(32))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # atomic and never overwrites: if another worker won the race, use its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


def _signing_key() -> bytes:
    if _key is None:
        configure_cursor_key(get_settings())
    assert _key is not None
    return _key


def _tag(payload: str) -> str:
    digest = hmac.new(_signing_key(), payload.encode(), hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cursor(*key: Any) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(list(key), default=str).encode()).decode().rstrip("=")
    return f"{payload}.{_tag(payload)}"


def decode_cursor(cursor: str, *kinds: type | int, field: str = "after") -> list[Any]:
    """The values of a cursor this API issued. `kinds` gives the type of each value (str, int,
    float, or datetime: an ISO 8601 string with an offset, returned as a datetime); a single int is
    an arity, for keys of mixed scalars."""
    if len(kinds) == 1 and isinstance(kinds[0], int):
        types: list[Any] = [None] * kinds[0]
    else:
        types = list(kinds)
    if len(cursor) > CURSOR_MAX or "." not in cursor:
        raise InvalidInput("malformed cursor", field=field)
    payload, tag = cursor.rsplit(".", 1)
    if not hmac.compare_digest(tag.encode(), _tag(payload).encode()):
        raise InvalidInput("invalid cursor: not one this API issued", field=field)
    try:
        key = json.loads(base64.urlsafe_b64decode((payload + "=" * (-len(payload) % 4)).encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("malformed cursor", field=field) from None
    if not isinstance(key, list) or len(key) != len(types):
        raise InvalidInput("malformed cursor", field=field)
    return [_typed(value, kind, field) for value, kind in zip(key, types, strict=True)]


def _typed(value: Any, kind: Any, field: str) -> Any:
    bad = InvalidInput("malformed cursor", field=field)
    if isinstance(value, bool):
        raise bad
    if kind is None:
        if not isinstance(value, (str, int, float)):
            raise bad
        return value
    if kind is datetime:
        if not isinstance(value, str):
            raise bad
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise bad from None
        if when.tzinfo is None:
            raise bad
        return when
    if kind is float:
        if not isinstance(value, (int, float)):
            raise bad
        return float(value)
    if not isinstance(value, kind):
        raise bad
    return value


def page_size(first: int | None, cap: int, default: int = 20, field: str = "first") -> int:
    if first is None:
        return min(default, cap)
    if first < 1 or first > cap:
        raise InvalidInput(f"`{field}` must be between 1 and {cap}", field=field)
    return first


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Page(Generic[T]):
    nodes: list[T]
    page_info: PageInfo
