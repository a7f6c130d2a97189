"""Cursor pagination for list endpoints: an opaque cursor holding the sort key of the last item."""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from shared.errors import ValidationFailed

T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one (null at the end)."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The sort key a cursor holds; a cursor that was not made by ``encode_cursor`` is a 422 on ``cursor``."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValidationFailed("not a cursor this list handed out", field="cursor") from exc
    if not isinstance(key, list):
        raise ValidationFailed("not a cursor this list handed out", field="cursor")
    return key


def page_of(rows: list[T], *, limit: int, key: Any) -> tuple[list[T], str | None]:
    """Cut ``limit + 1`` fetched rows to a page; the extra row only says whether another page exists."""
    if len(rows) <= limit:
        return rows, None
    kept = rows[:limit]
    return kept, encode_cursor(key(kept[-1]))
