"""Opaque keyset cursors and page-size caps shared by every list field.

A cursor is the sort key of the last item seen, base64url-encoded JSON. It grants nothing: every
page query is scoped, so a cursor minted by another agency or edited by hand can only move where a
page starts within what the caller may already see. Malformed cursors are a client error.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

import strawberry

from mpdb.domain.errors import InvalidInput

T = TypeVar("T")


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int, field: str = "after") -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("malformed cursor", field=field) from None
    if not isinstance(key, list) or len(key) != arity or not all(isinstance(k, (str, int, float)) for k in key):
        raise InvalidInput("malformed cursor", field=field)
    return key


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
