"""One statement against a service's database, for tests that check what a request left behind."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import create_engine, text


class Sql:
    """``sql("SELECT count(*) FROM outbox")`` → the scalar (the row count for a write); ``sql.rows(...)`` → rows.

    Each call runs in a transaction of its own, committed; ``close()`` (or ``with``) disposes of the engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)

    def __call__(self, statement: str, **params: Any) -> Any:
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.scalar() if result.returns_rows else result.rowcount

    def rows(self, statement: str, **params: Any) -> list[Any]:
        with self.engine.begin() as conn:
            return list(conn.execute(text(statement), params).all())

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Sql:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
