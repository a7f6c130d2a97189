"""Database access: one engine per service, SQLite (WAL, foreign keys) by default, PostgreSQL by URL."""

from __future__ import annotations

import ctypes
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from pydantic_core import PydanticUndefined
from sqlalchemy import (
    CompoundSelect,
    Connection,
    DateTime,
    Engine,
    Insert,
    MetaData,
    Numeric,
    Select,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import registry, sessionmaker
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from shared.clock import SHANGHAI, Clock, SystemClock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class AwareDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend: stored as UTC, read back in Asia/Shanghai.

    SQLite has no time zones; without this, times would come back naive and compare wrongly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: business times must carry a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(SHANGHAI)


READ_POOL = 40
LOCK_WAIT_SECONDS = 30.0  # as SQLite's busy_timeout
BUSY_TIMEOUT_MS = int(LOCK_WAIT_SECONDS * 1000)


SQLITE_CONFIG_MEMSTATUS = 9


def sqlite_without_memory_statistics() -> bool:
    """Turn off SQLite's memory statistics in this process, when it is still safe; whether they are off now.

    SQLite keeps its allocation counts under one process-wide lock, and Debian's build (no lookaside memory)
    allocates for nearly every value it makes: threads reading at once (the registry's snapshot parts, the read
    pool under load) then wait on that lock instead of running side by side (on 331,158 members: 2 snapshot parts
    0.61 s with it, 0.28-0.32 s without, 1 part 0.43-0.54 s). Nothing in the services reads those counts. The
    setting can only change while SQLite is shut down, so this does it only when SQLite holds no memory at all (no
    connection is open: a fresh process, at import); otherwise it changes nothing. It asks the SQLite that
    Python's ``sqlite3`` module runs on."""
    if sys.platform != "linux":
        return False
    try:
        import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        if lib.sqlite3_memory_used() != 0:
            return False
        lib.sqlite3_shutdown()
        changed = lib.sqlite3_config(SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0
        lib.sqlite3_initialize()
        return bool(changed)
    except (ImportError, OSError, AttributeError):
        return False


# Every service imports this module before it opens a database: the one moment the setting can change.
SQLITE_MEMORY_STATISTICS_OFF = sqlite_without_memory_statistics()


def service_registry() -> registry:
    """A mapper registry with its own MetaData, so each service's tables stay apart."""
    return registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, immediate: bool = True, pool_size: int = 10) -> Engine:
    """An engine; on SQLite, ``immediate`` makes every transaction take the write lock at BEGIN.

    A deferred SQLite transaction that reads and then writes can fail with "database is locked"
    when another writer commits in between; BEGIN IMMEDIATE waits for the lock instead.
    ``pool_size`` connections are kept open and as many again lent out beyond them; on SQLite too (its default
    pool keeps 5, so under load every request past the fifth opened a new connection, four PRAGMAs included,
    and closed it again).
    """
    if not is_sqlite(url):
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
        _ping_when_idle(engine)
        return engine
    path = url.split("///", 1)[-1]
    in_file = bool(path) and path != ":memory:" and "mode=memory" not in path
    if in_file:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    pool = {"pool_size": pool_size, "max_overflow": pool_size} if in_file else {}  # memory: one connection a thread
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    if not immediate:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Straight to the driver: the statement has no parameters or result, and every read pays for it.
            conn.connection.driver_connection.execute("BEGIN")

        return engine
    _queue_writers(engine)
    return engine


class WriterBusy(Exception):
    """The write lock was not free at once, for a transaction begun with ``Database.transaction(wait=False)``:
    nothing was written; do the work again where waiting is allowed."""


# Set for a transaction that must not wait for the write lock (see Database.transaction).
_NO_WAIT: ContextVar[bool] = ContextVar("fupin_db_no_wait", default=False)


def _begin(conn: Any, *, at_once: bool) -> None:
    """BEGIN IMMEDIATE; ``at_once``: failing at once (``WriterBusy``) rather than waiting in SQLite's busy handler
    when another process (a second worker, the CLI) holds the write lock. The connection keeps the busy timeout
    it was last given (a PRAGMA only when it changes)."""
    driver = conn.connection.driver_connection
    wanted = 0 if at_once else BUSY_TIMEOUT_MS
    if conn.info.get("busy_timeout_ms", BUSY_TIMEOUT_MS) != wanted:
        driver.execute(f"PRAGMA busy_timeout={wanted}")
        conn.info["busy_timeout_ms"] = wanted
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if not at_once or exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # BUSY or one of its extended codes
            raise
        raise WriterBusy("another process holds the write lock") from exc


PING_AFTER_IDLE_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has sat idle: the server may have closed it meanwhile
    (a restart, an idle timeout), and a ping finds that out before a request fails on it. SQLAlchemy's
    ``pool_pre_ping`` pings at every checkout, one more round trip per request (and GIL hand-off) on a connection
    used a millisecond ago. A connection that fails its ping is replaced (``DisconnectionError``: the pool tries
    a new one)."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_conn.rollback()
        except Exception as exc:  # any failure: the connection is gone for us
            raise DisconnectionError(f"a pooled connection failed its ping: {exc}") from exc


def _queue_writers(engine: Engine) -> None:
    """The process's writers take SQLite's write lock one after another, in the order they ask.

    Left to SQLite, a writer that finds the lock taken sleeps in its busy handler (1, 2, 5, 10 … ms) and looks
    again: under a few concurrent writers the lock sits free while they sleep, and throughput falls to a fraction
    of what one writer does alone. A thread lock in front of ``BEGIN IMMEDIATE`` hands the database to the next
    writer the moment the last one commits. Other processes (more workers, the CLI) still meet at SQLite's lock;
    the wait here is bounded by the same 30 s as SQLite's, after which SQLite's own wait decides.
    """
    lock = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        at_once = _NO_WAIT.get()
        held = lock.acquire(blocking=False) if at_once else lock.acquire(timeout=LOCK_WAIT_SECONDS)
        if at_once and not held:
            raise WriterBusy("another writer of this process holds the write lock")
        try:
            _begin(conn, at_once=at_once)
        except BaseException:
            if held:
                lock.release()
            raise
        conn.info["queued_writer"] = held

    def _ending(end: str) -> Any:
        def _end(conn: Any) -> None:
            # SQLAlchemy fires these events before it ends the transaction: let go then, and the next writer's
            # BEGIN IMMEDIATE meets the lock still held through the COMMIT (its fsync) and sleeps in SQLite's busy
            # handler. So the transaction is ended here, through the driver, and the lock let go after; the
            # driver's own commit/rollback that SQLAlchemy calls next finds no transaction and does nothing.
            if conn.invalidated:  # its record let go when it was invalidated (and its info is out of reach now)
                return
            if not conn.info.get("queued_writer"):
                return
            dbapi_conn = conn.connection.driver_connection
            try:
                getattr(dbapi_conn, end)()
            except sqlite3.Error as exc:
                if end == "commit":  # a failed COMMIT is raised as SQLAlchemy raises it, never passed over
                    if not dbapi_conn.in_transaction:  # SQLite rolled it back itself: nothing left to wait for
                        conn.info.pop("queued_writer")
                        lock.release()
                    raise DBAPIError.instance("COMMIT", None, exc, sqlite3.Error) from exc
                # a failed ROLLBACK: the lock is let go below, SQLAlchemy's own rollback tries again and raises
            conn.info.pop("queued_writer")
            lock.release()

        return _end

    def _release_record(_dbapi_conn: Any, record: Any, *_exc: Any) -> None:
        # A connection given back or dropped with its transaction never ended (it broke mid-way) lets go too.
        if record.info.pop("queued_writer", False):
            lock.release()

    event.listen(engine, "commit", _ending("commit"))
    event.listen(engine, "rollback", _ending("rollback"))
    event.listen(engine, "checkin", _release_record)
    event.listen(engine, "invalidate", _release_record)


class NewRows:
    """A table's new rows as plain dicts, every column filled as the model would fill it: what was given, else the
    field's default (a ``default_factory``, such as a new id, called for each row), decimals at the column's scale
    (as the database keeps and reads them back). For a hot insert: a table model instance is built, instrumented and
    dumped again only to learn its defaults, and the dict is also the response to build without reading back.
    """

    def __init__(self, model: type[SQLModel]) -> None:
        self.table: Table = model.__table__  # type: ignore[attr-defined]
        self._fixed: dict[str, Any] = {}
        self._factories: dict[str, Callable[[], Any]] = {}
        self._required: set[str] = set()
        for column in self.table.columns:
            field = model.model_fields[column.name]
            if field.default_factory is not None:
                self._factories[column.name] = field.default_factory  # type: ignore[assignment]
            elif field.default is PydanticUndefined:
                self._required.add(column.name)
            else:
                self._fixed[column.name] = field.default
        self._columns = frozenset(self.table.columns.keys())
        self._scales = {
            c.name: Decimal(1).scaleb(-c.type.scale)
            for c in self.table.columns
            if isinstance(c.type, Numeric) and c.type.asdecimal and c.type.scale is not None
        }

    def __call__(self, **values: Any) -> dict[str, Any]:
        unknown = values.keys() - self._columns
        missing = self._required - values.keys()
        if unknown or missing:
            raise TypeError(f"{self.table.name}: unknown columns {sorted(unknown)}, missing {sorted(missing)}")
        row = self._fixed | {k: make() for k, make in self._factories.items() if k not in values} | values
        for name, step in self._scales.items():
            if isinstance(row[name], Decimal):
                row[name] = row[name].quantize(step)
        return row


@contextmanager
def _as_sqlalchemy_errors(conn: Connection, sql: str) -> Iterator[None]:
    """The driver's errors raised as SQLAlchemy raises them (``IntegrityError`` for a unique violation …), so that
    the problem handlers answer a statement run below SQLAlchemy as they answer any other (409, not 500)."""
    base = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        raise DBAPIError.instance(sql, None, exc, base) from exc


class Prepared:
    """A Core ``SELECT`` (or an ``INSERT`` of many rows) compiled once per dialect and run on the DBAPI cursor of
    the pooled connection: the same SQL through the same driver, each parameter and column converted by its own type
    (dates, JSON, booleans, aware times), none of SQLAlchemy's per-execution work (cache key, execution context,
    result object). For the hottest statements; IN lists (expanding parameters) are not supported. It runs in the
    connection's transaction, begun if none is, so that two reads of one request see one snapshot and a write joins
    its transaction; being below SQLAlchemy, it fires no cursor events.
    """

    def __init__(self, statement: Select[Any] | CompoundSelect[Any] | Insert) -> None:
        self.statement = statement
        self.keys: list[str] = [] if isinstance(statement, Insert) else list(statement.selected_columns.keys())
        self._plans: dict[str, _Plan] = {}
        self._readers: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}

    @classmethod
    def inserting(cls, table: Table, columns: Iterable[str] | None = None) -> Prepared:
        """An INSERT of ``columns`` (every column of the table by default) for ``many``: each row gives them all
        (``NewRows`` fills them), so no column default of SQLAlchemy's is left to apply."""
        names = list(columns) if columns is not None else [c.name for c in table.columns]
        return cls(insert(table).values({name: bindparam(name) for name in names}))

    def many(self, db: Connection | Session, rows: list[dict[str, Any]]) -> None:
        """Run an INSERT (from ``inserting``) for each row, in one ``executemany`` of the driver."""
        conn, plan = self._ready(db)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with _as_sqlalchemy_errors(conn, plan.sql):
                if len(rows) == 1:  # psycopg runs executemany in a pipeline: heavier than one execute for one row
                    cursor.execute(plan.sql, plan.bind(rows[0]))
                else:
                    cursor.executemany(plan.sql, [plan.bind(row) for row in rows])
        finally:
            cursor.close()

    def _ready(self, db: Connection | Session) -> tuple[Connection, _Plan]:
        conn = db.connection() if isinstance(db, Session) else db
        if not conn.in_transaction():
            conn.begin()
        return conn, self._plans.get(conn.dialect.name) or self._plan(conn.dialect)

    def rows(self, db: Connection | Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        conn, plan = self._ready(db)
        dialect = conn.dialect
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with _as_sqlalchemy_errors(conn, plan.sql):
                cursor.execute(plan.sql, plan.bind(params))
                found = cursor.fetchall()
            readers = self._readers.get(dialect.name)
            if readers is None:  # the driver's type codes are known once it has run the statement
                readers = self._readers[dialect.name] = self._reading(dialect, cursor.description)
        finally:
            cursor.close()
        return _converted(found, readers)

    def dicts(self, db: Connection | Session, params: dict[str, Any]) -> list[dict[str, Any]]:
        keys = self.keys
        return [dict(zip(keys, row, strict=True)) for row in self.rows(db, params)]

    def _plan(self, dialect: Any) -> _Plan:
        plain = self.statement.compile(dialect=dialect)
        if any(b.expanding for b in plain.binds.values()):
            raise ValueError("Prepared statements take no IN lists (expanding parameters)")
        # Literals the dialect renders at run time (a separator, a LIMIT on some) rendered now, the rest left as
        # placeholders (their values stand in only so that the statement compiles).
        compiled = plain
        if _selects(self.statement):
            stand_ins = {b.key: None for b in plain.binds.values() if b.required}
            compiled = self.statement.params(**stand_ins).compile(
                dialect=dialect, compile_kwargs={"render_postcompile": True}
            )
        names = list(compiled.positiontup) if compiled.positiontup is not None else list(compiled.binds)
        fixed = {n: compiled.binds[n].value for n in names}
        binders = {n: compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names}
        binding: dict[str, Callable[[Any], Any]] = {n: f for n, f in binders.items() if f is not None}
        plan = _Plan(compiled.string, names, fixed, binding, compiled.positiontup is not None)
        self._plans[dialect.name] = plan
        return plan

    def _reading(self, dialect: Any, description: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        assert not isinstance(self.statement, Insert)  # only a SELECT has rows to read
        columns = zip(self.statement.selected_columns, description, strict=True)
        readers = [c.type.dialect_impl(dialect).result_processor(dialect, d[1]) for c, d in columns]
        return [(i, f) for i, f in enumerate(readers) if f is not None]


def _selects(statement: Any) -> bool:
    return isinstance(statement, Select | CompoundSelect)


def _converted(rows: list[Any], readers: list[tuple[int, Callable[[Any], Any]]]) -> list[tuple[Any, ...]]:
    if not readers:
        return [tuple(r) for r in rows]
    out = []
    for row in rows:
        items = list(row)
        for i, read in readers:
            items[i] = read(items[i])
        out.append(tuple(items))
    return out


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    names: list[str]
    fixed: dict[str, Any]
    binders: dict[str, Callable[[Any], Any]]
    positional: bool
    # (name, value when not given, the type's conversion or None), in the statement's order: one pass per row
    steps: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...] = ()

    def __post_init__(self) -> None:
        steps = tuple((n, self.fixed[n], self.binders.get(n)) for n in self.names)
        object.__setattr__(self, "steps", steps)

    def bind(self, params: dict[str, Any]) -> Any:
        get = params.get
        values = [
            get(name, default) if convert is None else convert(get(name, default))
            for name, default, convert in self.steps
        ]
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))


class Database:
    """A service's database: a write engine and, on SQLite, a separate engine for reads."""

    def __init__(self, url: str, *, service: str, clock: Clock | None = None) -> None:
        self.url = url
        self.service = service
        self.clock: Clock = clock or SystemClock()
        self.engine = make_engine(url, immediate=True)
        # As many read connections kept as the thread pool has threads (anyio's 40), so none is opened under load.
        self.read_engine = make_engine(url, immediate=False, pool_size=READ_POOL) if is_sqlite(url) else self.engine
        self._write = sessionmaker(self.engine, class_=Session, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, class_=Session, expire_on_commit=False)
        self.after_commit: list[Any] = []

    @property
    def one_writer(self) -> bool:
        """Whether writers take turns for the whole database (SQLite): reads a write depends on are better made
        before its transaction, on a read connection, than inside it while every other writer waits."""
        return self.read_engine is not self.engine

    @contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or rolls back on any error.

        ``wait=False`` (SQLite): when the write lock is not free the moment the transaction begins, ``WriterBusy``
        is raised instead of waiting, and nothing is written. For a short write on the event loop, which must never
        block on another writer; PostgreSQL has no such lock and ignores it."""
        session = self._write()
        session.info["service"] = self.service
        session.info["clock"] = self.clock
        session.info["database"] = self
        waited = _NO_WAIT.get()
        _NO_WAIT.set(not wait)  # set back (not reset) in finally: a dependency may end in another context
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            _NO_WAIT.set(waited)
        for hook in self.after_commit:
            hook()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        session = self._read()
        session.info["service"] = self.service
        session.info["clock"] = self.clock
        session.info["database"] = self
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection for a read that builds no ORM objects: none of a session's set-up, identity map and
        tear-down. Its ``info`` carries the clock, as a session's does (``session_clock``); it rolls back on close.
        """
        with self.read_engine.connect() as conn:
            conn.info["clock"] = self.clock
            conn.info["service"] = self.service
            conn.info["database"] = self
            yield conn

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def alembic_config(migrations_dir: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def upgrade(migrations_dir: Path, url: str, *, service: str) -> None:
    """Bring a service's database to the newest migration; safe to run from many replicas at once."""
    ensure_database(url)
    cfg = alembic_config(migrations_dir, url)
    from shared.jobs.locks import holding  # shared.jobs builds on this module

    engine = make_engine(url, immediate=False, pool_size=2)
    try:
        with holding(engine, f"{service}.migrations"), engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it is missing (needs CREATEDB; skipped when it exists)."""
    if is_sqlite(url):
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    probe = create_engine(url, pool_size=1)
    try:
        with probe.connect():
            return
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    finally:
        probe.dispose()
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


__all__ = [
    "Database",
    "NewRows",
    "Prepared",
    "SQLModel",
    "Session",
    "WriterBusy",
    "make_engine",
    "service_registry",
    "upgrade",
]
