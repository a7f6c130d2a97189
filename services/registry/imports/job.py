"""The import job: stream the file in chunks, check each household, land the good ones set-based.

One background task per job. The file is read row by row (CSV, or XLSX by the streaming reader of ``tabular``) and
cut into chunks of households (``reading.CHUNK_ROWS`` rows at most); only a chunk or two and one trailing
household are held, so memory stays flat in the size of the file. Each chunk: one look-up of its hukou
numbers, one of its resident IDs, a check of every household in memory, then in one transaction one COPY /
executemany per table (households, members, their ``household.registered`` outbox rows, the bad rows) and
the job's progress, so ``GET /imports/{id}`` shows rows done and errors so far while it runs. No pydantic
model or ORM object per row: rows are tuples from the file to the driver. A large file is read and checked
row by row in a parser process (``parallel``) while this thread lands the chunks it sends; the process is
stopped and joined when the job ends, however it ends.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import Table, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.registry.domain.regions import Level
from services.registry.events import NewHousehold, registered_rows
from services.registry.imports.bulk import Bulk, TimeOrderedIds, constant, timestamp
from services.registry.imports.leases import hold
from services.registry.imports.reading import File, Households, Reading, read_file
from services.registry.imports.template import (
    ADDRESS_AT,
    ERRORS,
    H_CORE,
    HEADER,
    HOUSEHOLD,
    HOUSEHOLD_KEYS,
    HUKOU_NUMBER,
    ID_AT,
    MEMBER,
    MEMBER_KEYS,
    REGION_AT,
    REGISTERED_AT,
    RELATION_AT,
    ROW,
    ParsedRow,
    RowError,
    household_errors,
)
from services.registry.models import Household, ImportJob, ImportRowError, Member
from shared.clock import Clock, session_clock
from shared.db import Database
from shared.events.outbox import OUTBOX, OUTBOX_COLUMNS

log = logging.getLogger(__name__)
ATTEMPTS = 3  # a chunk that loses a race on a unique key (a concurrent import) is read again and retried
HOUSEHOLD_TABLE: Table = Household.__table__  # type: ignore[attr-defined]  # SQLModel sets it; its stubs lack it
MEMBER_TABLE: Table = Member.__table__  # type: ignore[attr-defined]  # SQLModel sets it; its stubs lack it
ERROR_TABLE: Table = ImportRowError.__table__  # type: ignore[attr-defined]  # SQLModel sets it; its stubs lack it
JOB_TABLE: Table = ImportJob.__table__  # type: ignore[attr-defined]  # SQLModel sets it; its stubs lack it
HUKOU = HEADER["hukou_number"]
STATUS_AT = HOUSEHOLD_KEYS.index("status")


def _defaults(model: type[Any]) -> dict[str, Any]:
    """A table's column defaults as the model declares them, for rows written without the ORM."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            out[name] = info.default_factory()
        elif info.default is not PydanticUndefined:
            out[name] = info.default
    return out


MEMBER_DEFAULTS = _defaults(Member)
HOUSEHOLD_DEFAULTS = _defaults(Household)
# The columns each row fills, in the order of the tuples built below; then every other column with a default.
HOUSEHOLD_FIXED = ("id", "hukou_number", "head_member_id", "version", "valid_from", "created_at", "updated_at")
MEMBER_FIXED = ("id", "household_id", "joined_on")


@dataclass(frozen=True)
class Columns:
    """What a chunk writes to one table: the columns, in the order of the tuples ``apply`` builds."""

    names: tuple[str, ...]
    rest: tuple[str, ...]  # the trailing columns left to their model defaults


def _columns(model_defaults: dict[str, Any], table: Table, filled: tuple[str, ...]) -> Columns:
    """``filled``, then every other column whose default is a value (None is the database's own default).

    A column the other parts of the registry add keeps working here if it has a default or is nullable; a
    NOT NULL one without either fails the job with this message rather than writing bad rows.
    """
    rest = tuple(k for k, v in model_defaults.items() if k not in filled and v is not None and k in table.c)
    unfilled = [
        c.name
        for c in table.columns
        if not c.nullable and not c.primary_key and c.name not in filled + rest and c.server_default is None
    ]
    if unfilled:
        raise RuntimeError(f"the import does not fill {table.name}.{', '.join(unfilled)}; teach imports/job.py")
    return Columns(filled + rest, rest)


@cache
def household_columns() -> Columns:
    return _columns(HOUSEHOLD_DEFAULTS, HOUSEHOLD_TABLE, HOUSEHOLD_FIXED + HOUSEHOLD_KEYS)


@cache
def member_columns() -> Columns:
    return _columns(MEMBER_DEFAULTS, MEMBER_TABLE, MEMBER_FIXED + MEMBER_KEYS)


ERROR_COLUMNS = ("job_id", "row", "column", "reason")


@dataclass
class Tally:
    rows_done: int = 0
    households: int = 0
    members: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def run_import(db: Database, job_id: str, path: Path) -> None:
    """Run one import job to its end, holding its lease; the spooled file is removed afterwards."""
    try:
        with hold(db, job_id):
            _run(db, job_id, path)
    finally:
        path.unlink(missing_ok=True)


def _run(db: Database, job_id: str, path: Path) -> None:
    try:
        reading = Reading(db.clock.today(), HOUSEHOLD_DEFAULTS, MEMBER_DEFAULTS)
        file = read_file(path, reading, overlapped=_overlapped(db))
        try:
            _land_file(db, job_id, file)
        finally:
            file.close()  # the parser process, if any, stopped and joined
    except Exception as exc:  # the job reports its failure; the service keeps running
        log.exception("import %s failed", job_id)
        with db.transaction() as session:
            _finish(session, job_id, "failed", str(exc)[:500])


def _land_file(db: Database, job_id: str, file: File) -> None:
    with db.transaction() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        job.status = "running"
        job.rows_total = file.total
        scope = job.region_scope
    importer = Importer(job_id, scope=scope, dialect=db.engine.dialect, clock=db.clock, filled=file.filled)
    finished = False
    with _Lander(db, importer) as lander:
        for households, last in file.chunks:
            if households or last:
                lander.land(households, finish=last)
            finished = last
    if not finished:  # an empty file
        with db.transaction() as session:
            _finish(session, job_id, "done", None)


def _overlapped(db: Database) -> bool:
    """Whether a writer thread writes one chunk while the next is read: on PostgreSQL, where the writing is
    mostly the server's work; not on SQLite, where it is this process's own (and holds the GIL per row)."""
    return db.engine.dialect.name == "postgresql"


RETRY_SQLSTATES = frozenset({"23505", "40P01", "40001"})  # unique violation, deadlock, serialization failure


def _clashed(exc: BaseException) -> bool:
    """The chunk lost a race to another writer (an import, the API) on a hukou number or resident ID: a
    unique-key violation, or on PostgreSQL a deadlock between two imports inserting the same keys."""
    if isinstance(exc, IntegrityError | sqlite3.IntegrityError):
        return True
    cause = getattr(exc, "orig", exc)
    return getattr(cause, "sqlstate", None) in RETRY_SQLSTATES


def _land_inline(db: Database, importer: Importer, households: Households, *, finish: bool) -> None:
    """Look up, check and write one chunk in one transaction (the last one also ends the job, one commit
    fewer). A chunk that clashes with a concurrent write is looked up again and retried."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with db.transaction() as session:
                found = lookups(Bulk.for_session(session), households, importer.villages)
                importer.write(session, importer.plan(households, found), finish=finish)
            return
        except Exception as exc:
            if attempt == ATTEMPTS or not _clashed(exc):
                raise
            log.info("import %s: a chunk clashed with a concurrent write; retrying", importer.job_id)


def _write(db: Database, importer: Importer, plan: Plan, *, finish: bool) -> None:
    """Write one planned chunk in its transaction (the writer thread's part)."""
    with db.transaction() as session:
        importer.write(session, plan, finish=finish)


class _Lander:
    """Lands chunks in order.

    SQLite: each chunk is looked up, checked and written in one transaction, here; the writes are this
    process's own work. PostgreSQL: a writer thread writes chunk N (its COPY is mostly the server's work)
    while this thread reads chunk N+1, looks it up and checks it, adding what N is writing to the look-ups;
    chunk N+1 goes to the writer once N has committed. Should N lose a race on a unique key to another
    writer, N is done again here in one transaction, and N+1 checked again.
    """

    def __init__(self, db: Database, importer: Importer) -> None:
        self.db = db
        self.importer = importer
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") if _overlapped(db) else None
        self.landing: Future[None] | None = None
        self.pending: tuple[Households, bool] | None = None  # the chunk being written, to redo it

    def land(self, households: Households, *, finish: bool) -> None:
        if self.writer is None:
            _land_inline(self.db, self.importer, households, finish=finish)
            return
        plan = self._plan_ahead(households)
        if not self._written():
            plan = self._plan_ahead(households)  # the chunk before was done again: check this one again
        self.pending = (households, finish)
        self.landing = self.writer.submit(_write, self.db, self.importer, plan, finish=finish)

    def _plan_ahead(self, households: Households) -> Plan:
        with self.db.reader() as session:
            found = lookups(Bulk.for_session(session), households, self.importer.villages)
        found.known |= self.importer.recent_known  # the chunk still being written
        found.active |= self.importer.recent_active
        return self.importer.plan(households, found)

    def _written(self) -> bool:
        """Wait for the chunk being written; False when it clashed and was done again in line."""
        if self.landing is None:
            return True
        landing, self.landing = self.landing, None
        try:
            landing.result()
        except Exception as exc:
            if not _clashed(exc):
                raise
            assert self.pending is not None
            log.info("import %s: a chunk clashed with a concurrent write; doing it again", self.importer.job_id)
            households, finish = self.pending
            _land_inline(self.db, self.importer, households, finish=finish)
            return False
        return True

    def __enter__(self) -> _Lander:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._written()
        finally:
            if self.writer is not None:
                self.writer.shutdown(wait=True)


@dataclass
class Villages:
    """Region codes looked up so far: villages of the region tree, and codes that are not."""

    known: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)

    def learn(self, bulk: Bulk, codes: set[str]) -> None:
        wanted = codes - self.known - self.unknown - {""}
        if wanted:
            found = bulk.pairs(
                f"SELECT code, code FROM region WHERE level = '{Level.village.value}' AND code IN {{keys}}", wanted
            )
            self.known.update(found)
            self.unknown.update(wanted - found.keys())


@dataclass
class Lookups:
    """A chunk's look-ups: registered hukou numbers and active resident IDs, each to its household id."""

    known: dict[str, str]
    active: dict[str, str]


def lookups(bulk: Bulk, households: Households, villages: Villages) -> Lookups:
    """One query for the chunk's hukou numbers, one for its resident IDs, one for region codes not yet seen."""
    villages.learn(bulk, {r[HOUSEHOLD][REGION_AT] for h in households for r in h})
    known = bulk.pairs(
        "SELECT hukou_number, id FROM household WHERE hukou_number IN {keys}",
        {hukou for h in households if (hukou := h[0][HUKOU_NUMBER])},
    )
    active = bulk.pairs(
        "SELECT id_number, household_id FROM member WHERE active AND id_number IN {keys}",
        {n for h in households for r in h if (n := r[MEMBER][ID_AT]) is not None},
    )
    return Lookups(known, active)


@dataclass
class Plan:
    """One chunk checked: the rows to write (as the driver takes them), its events and its tally."""

    household_columns: tuple[str, ...]
    households: list[tuple[Any, ...]]
    members: list[tuple[Any, ...]]
    events: list[NewHousehold]
    event_ids: list[str]
    stamp: Any
    tally: Tally


def _finish(session: Session, job_id: str, status: str, message: str | None) -> None:
    job = session.get(ImportJob, job_id)
    if job is not None:
        job.status = status
        job.message = message
        job.finished_at = session_clock(session).now()
        session.add(job)


class Importer:
    """Checks chunks of households against what the database holds, and writes the good ones.

    Between chunks it keeps the villages it has looked up, and what the last checked chunk registers (for
    look-ups made while that chunk is still being written).
    """

    def __init__(self, job_id: str, *, scope: str, dialect: Dialect, clock: Clock, filled: set[int]) -> None:
        self.job_id = job_id
        self.scope = scope
        self.dialect = dialect
        self.clock = clock
        self.filled = filled
        self.layout: tuple[int, tuple[str, ...], Callable[[tuple[Any, ...]], tuple[Any, ...]]] | None = None
        self.villages = Villages()
        self.ids = TimeOrderedIds()
        self.recent_known: dict[str, str] = {}
        self.recent_active: dict[str, str] = {}
        self.h_columns, self.m_columns = household_columns(), member_columns()  # fails the job if it cannot fill
        self.h_rest = tuple(constant(dialect, HOUSEHOLD_TABLE, k, HOUSEHOLD_DEFAULTS[k]) for k in self.h_columns.rest)
        self.m_rest = tuple(constant(dialect, MEMBER_TABLE, k, MEMBER_DEFAULTS[k]) for k in self.m_columns.rest)

    def plan(self, households: Households, found: Lookups) -> Plan:
        """Check each household against the look-ups: a bad one gets its row errors, a registered one counts
        as unchanged, a new one gets its rows; those of later households then count it as registered."""
        today = self.clock.today().isoformat()
        stamp = timestamp(self.dialect, HOUSEHOLD_TABLE, "created_at", self.clock.now())
        household_columns, pick = self._household_layout()
        known, active = found.known, found.active
        h_rest, m_rest = self.h_rest, self.m_rest
        next_id = iter(self.ids.take(sum(len(h) + 1 for h in households))).__next__
        tally = Tally(rows_done=sum(len(h) for h in households))
        new_households: list[tuple[Any, ...]] = []
        new_members: list[tuple[Any, ...]] = []
        events: list[NewHousehold] = []
        recent_known: dict[str, str] = {}
        recent_active: dict[str, str] = {}
        for rows in households:
            hukou = rows[0][HUKOU_NUMBER]
            at_head = self._clean(rows, known.get(hukou), active)
            if at_head is None and (errors := self._check(rows, known, active)):
                tally.errors += errors
                continue
            if hukou in known:
                tally.unchanged += len(rows)
                continue
            if at_head is None:
                at_head = next(i for i, r in enumerate(rows) if r[MEMBER][RELATION_AT] == "head")
            values = rows[at_head][HOUSEHOLD]
            registered = values[REGISTERED_AT]
            if registered is None:
                registered = today
                values = (*values[:REGISTERED_AT], today, *values[REGISTERED_AT + 1 :])
            household_id = next_id()
            member_ids = tuple(next_id() for _ in rows)
            head_id = member_ids[at_head]
            new_households.append((household_id, hukou, head_id, 1, registered, stamp, stamp, *pick(values), *h_rest))
            for member_id, r in zip(member_ids, rows, strict=True):
                member = r[MEMBER]
                new_members.append((member_id, household_id, registered, *member, *m_rest))
                active[member[ID_AT]] = recent_active[member[ID_AT]] = household_id
            known[hukou] = recent_known[hukou] = household_id
            events.append((household_id, values[REGION_AT], head_id, member_ids, values[STATUS_AT], 1))
        tally.households, tally.members = len(new_households), len(new_members)
        self.recent_known, self.recent_active = recent_known, recent_active
        return Plan(household_columns, new_households, new_members, events, self.ids.take(len(events)), stamp, tally)

    def _household_layout(self) -> tuple[tuple[str, ...], Callable[[tuple[Any, ...]], tuple[Any, ...]]]:
        """The household columns to write: all but those no row of the file has filled so far and whose
        default is NULL anyway (a county's file leaves most blocks empty: fewer columns, cheaper inserts)."""
        if self.layout is None or self.layout[0] != len(self.filled):
            keep = [
                i
                for i, key in enumerate(HOUSEHOLD_KEYS)
                if i < len(H_CORE)
                or key == "registered_on"
                or HOUSEHOLD_DEFAULTS.get(key) is not None
                or i - len(H_CORE) in self.filled
            ]
            names = HOUSEHOLD_FIXED + tuple(HOUSEHOLD_KEYS[i] for i in keep) + self.h_columns.rest
            self.layout = (len(self.filled), names, itemgetter(*keep))
        return self.layout[1], self.layout[2]

    def write(self, session: Session, plan: Plan, *, finish: bool = False) -> None:
        """Households, members, their household.registered events, the bad rows and the progress, set-based."""
        bulk = Bulk.for_session(session)
        bulk.insert(HOUSEHOLD_TABLE, plan.household_columns, plan.households)
        bulk.insert(MEMBER_TABLE, self.m_columns.names, plan.members)
        outbox = registered_rows(session, plan.events, created_at=plan.stamp, event_ids=plan.event_ids)
        bulk.insert(OUTBOX, OUTBOX_COLUMNS, outbox)
        errors = [(self.job_id, e.row, e.column, e.reason[:500]) for e in plan.tally.errors]
        bulk.insert(ERROR_TABLE, ERROR_COLUMNS, errors)
        _progress(session, self.job_id, plan.tally)
        if finish:
            _finish(session, self.job_id, "done", None)

    def _clean(self, rows: Sequence[ParsedRow], registered: str | None, active: dict[str, str]) -> int | None:
        """Where the 户主 row is, when one pass finds nothing wrong with the household; else None.

        The common case, kept to a single pass; ``_check`` then finds every error, with its reason.
        """
        villages, scope = self.villages.known, self.scope
        at_head = None
        seen: set[str] = set()
        for i, (_row, _hukou, household, member, errors) in enumerate(rows):
            code = household[REGION_AT]
            if errors or code not in villages or not code.startswith(scope):
                return None
            if member[RELATION_AT] == "head":
                if at_head is not None:
                    return None
                at_head = i
            number = member[ID_AT]
            if active.get(number) != registered or number in seen:
                return None
            seen.add(number)
        if at_head is None or not rows[at_head][HOUSEHOLD][ADDRESS_AT]:
            return None
        return at_head

    def _check(self, rows: Sequence[ParsedRow], known: dict[str, str], active: dict[str, str]) -> list[RowError]:
        """Every error of one household's rows; one bad row keeps the whole household out."""
        errors = [e for r in rows for e in r[ERRORS]]
        errors += household_errors(rows)
        hukou = rows[0][HUKOU_NUMBER]
        registered = known.get(hukou)
        villages, scope = self.villages.known, self.scope
        for row, _hukou, household, member, _errors in rows:
            code = household[REGION_AT]
            if code and code not in villages:
                errors.append(RowError(row, HEADER["region_code"], f"{code} is not a village in the region tree"))
            elif code and not code.startswith(scope):
                errors.append(RowError(row, HEADER["region_code"], f"{code} is outside your scope {scope}"))
            number = member[ID_AT]
            holder = active.get(number) if number is not None else None
            if registered is not None:
                if holder != registered:
                    errors.append(
                        RowError(
                            row,
                            HEADER["id_number"],
                            f"household {hukou} is already registered without this member; "
                            "record a birth or marriage_in change instead",
                        )
                    )
            elif holder is not None:
                errors.append(RowError(row, HEADER["id_number"], f"already an active member of household {holder}"))
        if errors and not any(e.row for e in errors if e.column == HUKOU):
            bad = sorted({e.row for e in errors})
            errors += [
                RowError(r[ROW], HUKOU, f"household {hukou} not imported: see row(s) {bad}")
                for r in rows
                if r[ROW] not in bad
            ]
        return errors


def _progress(session: Session, job_id: str, tally: Tally) -> None:
    c = JOB_TABLE.c
    session.execute(
        update(JOB_TABLE)
        .where(c.id == job_id)
        .values(
            rows_done=c.rows_done + tally.rows_done,
            households_created=c.households_created + tally.households,
            members_created=c.members_created + tally.members,
            rows_unchanged=c.rows_unchanged + tally.unchanged,
            error_count=c.error_count + len(tally.errors),
        )
    )
