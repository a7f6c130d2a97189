"""Keyset pagination for every list: an opaque cursor holding the sort key of the last item handed out.

A list route takes ``page: PageDep`` and returns ``paginate(session, query, order=[...], page=page)``:
the query is ordered by ``order`` (ascending, the last column unique) and cut after ``limit`` rows. A cursor
survives inserts (it is a position in the order, not an offset), and a cursor this list did not hand out is a
422 on ``cursor``, whatever it holds.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Connection, and_, or_
from sqlmodel import Session

from shared.errors import ValidationFailed

T = TypeVar("T")
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
NOT_OURS = "not a cursor this list handed out"


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one (null at the end)."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


async def page_params(
    cursor: Annotated[str | None, Query(max_length=1000, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most this many items")] = DEFAULT_LIMIT,
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]


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
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise ValidationFailed(NOT_OURS, field="cursor") from exc
    if not isinstance(key, list):
        raise ValidationFailed(NOT_OURS, field="cursor")
    return key


def _python_type(column: Any) -> type:
    """The Python type of a column's values; a decorated type (an aware timestamp) answers for its base type."""
    kind = getattr(column, "type", None)
    while kind is not None:
        try:
            found = kind.python_type
        except (NotImplementedError, AttributeError):
            found = object
        if found is not object:
            return found
        kind = getattr(kind, "impl", None)
    return str


def _coerce(value: Any, kind: type) -> Any:
    """One cursor element back into the column's type; anything else is not our cursor."""
    if kind is bool or isinstance(value, bool | list | dict) or value is None:
        raise ValueError("unexpected cursor element")
    if kind is int:
        if not isinstance(value, int):
            raise ValueError("not an integer")
        return value
    if not isinstance(value, str):
        raise ValueError("not a string")
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a time without its zone")
        return moment
    if kind is date:
        return date.fromisoformat(value)
    if kind is Decimal:
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError("not a finite number")
        return number
    return value


def cursor_key(cursor: str | None, order: Sequence[Any]) -> list[Any] | None:
    """The decoded key, checked element by element against the order columns' types."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != len(order):
        raise ValidationFailed(NOT_OURS, field="cursor")
    try:
        return [_coerce(value, _python_type(column)) for value, column in zip(key, order, strict=True)]
    except (ValueError, InvalidOperation, OverflowError) as exc:
        raise ValidationFailed(NOT_OURS, field="cursor") from exc


def after(order: Sequence[Any], key: Sequence[Any]) -> Any:
    """Rows strictly after ``key`` in the (ascending) order of ``order``."""
    clauses = []
    for i, column in enumerate(order):
        equal = [order[j] == key[j] for j in range(i)]
        clauses.append(and_(*equal, column > key[i]))
    return or_(*clauses)


def paginate(
    session: Session | Connection,
    query: Any,
    *,
    order: Sequence[Any],
    page: PageParams,
    key: Callable[[Any], list[Any]] | None = None,
) -> tuple[list[Any], str | None]:
    """One page of ``query`` in ``order``, and the cursor of the next (None at the end).

    ``key`` reads the order values off a returned row (default: the attributes named like the columns).
    ``session`` may be a Core connection for a Core select (rows, no ORM objects).
    """
    position = cursor_key(page.cursor, order)
    if position is not None:
        query = query.where(after(order, position))
    run = session.exec if isinstance(session, Session) else session.execute
    rows = list(run(query.order_by(*order).limit(page.limit + 1)))
    read = key or (lambda row: [getattr(row, column.key) for column in order])
    return page_of(rows, limit=page.limit, key=read)


def page_of(rows: list[T], *, limit: int, key: Callable[[T], list[Any]]) -> tuple[list[T], str | None]:
    """Cut ``limit + 1`` fetched rows to a page; the extra row only says whether another page exists."""
    if len(rows) <= limit:
        return rows, None
    kept = rows[:limit]
    return kept, encode_cursor(key(kept[-1]))
