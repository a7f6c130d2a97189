"""Keyset pagination: any ordered columns, a cursor that survives inserts, and every malformed cursor a 422."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlmodel import Session, create_engine

from shared.clock import SHANGHAI
from shared.db import AwareDateTime
from shared.errors import ValidationFailed
from shared.pagination import PageParams, cursor_key, encode_cursor, paginate

metadata = MetaData()
ITEMS = Table(
    "item",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", AwareDateTime(), nullable=False),
    Column("rank", Integer, nullable=False),
)
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=SHANGHAI)
ORDER = [ITEMS.c.at, ITEMS.c.id]


@pytest.fixture
def session():  # type: ignore[no-untyped-def]
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as s:
        s.execute(
            insert(ITEMS), [{"id": f"i{n:03}", "at": T0 + timedelta(minutes=n % 7), "rank": n} for n in range(40)]
        )
        s.commit()
        yield s


def walk(session: Session, limit: int) -> list[str]:
    seen, cursor = [], None
    while True:
        rows, cursor = paginate(session, select(ITEMS), order=ORDER, page=PageParams(cursor=cursor, limit=limit))
        seen += [r.id for r in rows]
        if cursor is None:
            return seen


def test_pages_cover_every_row_once_in_order(session) -> None:  # type: ignore[no-untyped-def]
    everything = [r.id for r in session.execute(select(ITEMS).order_by(*ORDER))]
    for limit in (1, 3, 7, 40, 100):
        assert walk(session, limit) == everything


def test_a_cursor_survives_inserts_before_and_after_it(session) -> None:  # type: ignore[no-untyped-def]
    rows, cursor = paginate(session, select(ITEMS), order=ORDER, page=PageParams(limit=10))
    last = rows[-1]
    session.execute(insert(ITEMS), [{"id": "a-early", "at": T0 - timedelta(days=1), "rank": -1}])
    session.execute(insert(ITEMS), [{"id": "z-late", "at": T0 + timedelta(days=1), "rank": 99}])
    rest, _ = paginate(session, select(ITEMS), order=ORDER, page=PageParams(cursor=cursor, limit=100))
    ids = [r.id for r in rest]
    assert "a-early" not in ids and ids[-1] == "z-late"
    assert all((r.at, r.id) > (last.at, last.id) for r in rest)


def raw(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        raw(["abc"]),
        raw([None, "x"]),
        raw([{"a": 1}, "x"]),
        raw(["1e309", "x"]),
        raw(["2026-01-01T08:00:00+08:00", "x", "y"]),
        raw([["2026-01-01"], "x"]),
        raw({"at": "x"}),
        raw(["not a time", "x"]),
        raw(["2026-01-01T08:00:00", "x"]),
        "%%%not-base64",
        raw([True, "x"]),
    ],
    ids=lambda c: c[:24],
)
def test_a_malformed_cursor_is_a_422_on_cursor(session, cursor: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        paginate(session, select(ITEMS), order=ORDER, page=PageParams(cursor=cursor, limit=5))
    assert refused.value.field == "cursor"


def test_integer_columns_want_integers() -> None:
    assert cursor_key(encode_cursor([3]), [ITEMS.c.rank]) == [3]
    with pytest.raises(ValidationFailed):
        cursor_key(encode_cursor(["3"]), [ITEMS.c.rank])


@given(st.binary(max_size=64))
def test_no_bytes_make_anything_but_a_key_or_a_422(data: bytes) -> None:
    cursor = base64.urlsafe_b64encode(data).decode().rstrip("=")
    try:
        cursor_key(cursor, ORDER)
    except ValidationFailed as exc:
        assert exc.field == "cursor"
