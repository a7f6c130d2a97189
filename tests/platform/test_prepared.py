"""``shared.db.Prepared`` on both backends: a statement run on the driver's cursor gives the same rows, converted
by the same column types, as SQLAlchemy's own execution; it runs in the caller's transaction; IN lists are refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Column, Date, Integer, MetaData, Numeric, String, Table, bindparam, func, select

from shared.clock import SHANGHAI
from shared.db import AwareDateTime, Database, Prepared

META = MetaData()
THING = Table(
    "thing",
    META,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("born", Date),
    Column("seen_at", AwareDateTime),
    Column("tags", JSON),
    Column("active", Boolean),
    Column("area", Numeric(10, 2)),
)
ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "王一",
     "born": date(1960, 2, 29), "seen_at": datetime(2026, 3, 1, 8, 0, 0, 1234, tzinfo=SHANGHAI),
     "tags": ["ILL", "EDU"], "active": True, "area": Decimal("1.50")},
    {"id": 2, "name": "李二", "born": date(2001, 12, 31), "seen_at": datetime(2026, 3, 1, 23, 59, tzinfo=SHANGHAI),
     "tags": [], "active": False, "area": None},
    {"id": 3, "name": None, "born": None, "seen_at": None, "tags": None, "active": None, "area": Decimal("0.00")},
]  # fmt: skip
BY_DAY = select(THING).where(THING.c.born <= bindparam("day")).order_by(THING.c.id)
NAMES = select(func.aggregate_strings(THING.c.name, ",").label("names"), func.count().label("n")).where(
    THING.c.active == bindparam("active")
)  # the separator is a literal the dialect renders at run time


@pytest.fixture
def db(database_url: Callable[[str], str]) -> Iterator[Database]:
    database = Database(database_url("prepared"), service="test")
    META.create_all(database.engine)
    with database.engine.begin() as conn:
        conn.execute(THING.insert(), ROWS)
    yield database
    database.dispose()


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        (BY_DAY, {"day": date(2030, 1, 1)}),
        (BY_DAY, {"day": date(1960, 2, 29)}),
        (BY_DAY, {"day": date(1900, 1, 1)}),
        (select(THING).where(THING.c.id == bindparam("id")), {"id": 3}),
        (NAMES, {"active": True}),
        (NAMES, {"active": False}),
    ],
)
def test_the_same_rows_as_sqlalchemy_gives(db: Database, statement: Any, params: dict[str, Any]) -> None:
    with db.connection() as conn:
        expected = [tuple(r) for r in conn.execute(statement, params)]
    prepared = Prepared(statement)
    for _ in range(2):  # the first run learns the driver's types, the second uses them
        with db.connection() as conn:
            assert prepared.rows(conn, params) == expected
    with db.connection() as conn:
        assert prepared.dicts(conn, params) == [dict(zip(prepared.keys, r, strict=True)) for r in expected]


def test_it_reads_inside_the_callers_transaction(db: Database) -> None:
    prepared = Prepared(select(THING.c.name).where(THING.c.id == bindparam("id")))
    with db.transaction() as session:
        session.execute(THING.insert(), {"id": 4, "name": "张四"})
        assert prepared.rows(session, {"id": 4}) == [("张四",)]  # its own uncommitted row
        session.rollback()
    with db.connection() as conn:
        assert prepared.rows(conn, {"id": 4}) == []


def test_in_lists_are_refused(db: Database) -> None:
    prepared = Prepared(select(THING.c.id).where(THING.c.id.in_(bindparam("ids", expanding=True))))
    with db.connection() as conn, pytest.raises(ValueError, match="IN lists"):
        prepared.rows(conn, {"ids": [1, 2]})


def test_an_insert_of_many_rows_stores_what_sqlalchemy_would(db: Database) -> None:
    again = [row | {"id": row["id"] + 10} for row in ROWS]
    with db.transaction() as session:
        inserting = Prepared.inserting(THING)
        inserting.many(session, again[:1])  # one row: one execute
        inserting.many(session, again[1:])  # more: one executemany
    with db.connection() as conn:
        ours = [tuple(r)[1:] for r in conn.execute(select(THING).where(THING.c.id > 10).order_by(THING.c.id))]
        theirs = [tuple(r)[1:] for r in conn.execute(select(THING).where(THING.c.id <= 10).order_by(THING.c.id))]
    assert ours == theirs  # every type read back as the rows inserted through SQLAlchemy are
    with db.transaction() as session:  # a failed transaction takes its rows with it
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            Prepared.inserting(THING, ["id", "name"]).many(session, [{"id": 30, "name": "x"}, {"id": 30, "name": "y"}])
        session.rollback()
    with db.connection() as conn:
        assert conn.execute(select(func.count()).where(THING.c.id == 30)).scalar() == 0
