"""The import job: stream the file in chunks, check each household, land the good ones set-based."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined
from sqlmodel import Session, col, select

from services.registry.domain.regions import Level
from services.registry.events import registered_outbox_rows
from services.registry.imports.bulk import insert_rows
from services.registry.imports.template import (
    HEADER,
    HOUSEHOLD_KEYS,
    ParsedRow,
    RowError,
    column_positions,
    household_errors,
    parse_row,
)
from services.registry.models import Household, ImportJob, ImportRowError, Member, Region, new_id
from services.registry.tabular import count_rows, open_table
from shared.db import Database
from shared.events.outbox import OUTBOX

log = logging.getLogger(__name__)
CHUNK_ROWS = 5000


def _defaults(model: type[Any]) -> dict[str, Any]:
    """A table's column defaults as the model declares them, for rows written without the ORM."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            out[name] = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined:
            out[name] = info.default
    return out


MEMBER_DEFAULTS = _defaults(Member)
HOUSEHOLD_DEFAULTS = _defaults(Household)


@dataclass
class Tally:
    rows_done: int = 0
    households: int = 0
    members: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def run_import(db: Database, job_id: str, path: Path) -> None:
    """Run one import job to its end; each chunk commits on its own, so progress is visible as it goes."""
    try:
        with db.transaction() as session:
            job = session.get(ImportJob, job_id)
            assert job is not None
            job.status = "running"
            job.rows_total = count_rows(path)
            scope = job.region_scope
        importer = Importer(scope=scope)
        table = open_table(path)
        positions = column_positions(table.headers)
        for chunk in importer.chunks(table.rows, positions):
            with db.transaction() as session:
                importer.apply(session, job_id, chunk)
        with db.transaction() as session:
            importer.flush_tail(session, job_id)
            _finish(session, job_id, "done", None)
    except Exception as exc:  # the job reports its failure; the service keeps running
        log.exception("import %s failed", job_id)
        with db.transaction() as session:
            _finish(session, job_id, "failed", str(exc)[:500])
    finally:
        path.unlink(missing_ok=True)


def _finish(session: Session, job_id: str, status: str, message: str | None) -> None:
    job = session.get(ImportJob, job_id)
    if job is not None:
        job.status = status
        job.message = message
        job.finished_at = session.info["clock"].now()
        session.add(job)


class Importer:
    """Holds only what bounds memory allows: the current chunk, a trailing household, the known villages."""

    def __init__(self, *, scope: str) -> None:
        self.scope = scope
        self.villages: set[str] = set()
        self.tail: list[ParsedRow] = []

    def chunks(
        self, rows: Iterator[tuple[int, list[str]]], positions: dict[str, int]
    ) -> Iterator[list[list[ParsedRow]]]:
        """Households in chunks of about CHUNK_ROWS rows; the last one waits for the next chunk, it may go on."""
        parsed = (parse_row(row=n, cells=cells, positions=positions) for n, cells in rows)
        while batch := list(islice(parsed, CHUNK_ROWS)):
            rows_in = self.tail + batch
            groups = _group(rows_in)
            self.tail = groups.pop() if groups else []
            yield groups

    def flush_tail(self, session: Session, job_id: str) -> None:
        if self.tail:
            groups, self.tail = [self.tail], []
            self.apply(session, job_id, groups)

    def apply(self, session: Session, job_id: str, households: list[list[ParsedRow]]) -> None:
        tally = Tally(rows_done=sum(len(h) for h in households))
        self._know_villages(session, households)
        hukous = [h[0].hukou_number for h in households if h[0].hukou_number]
        ids = [r.member["id_number"] for h in households for r in h if r.member.get("id_number")]
        known = dict(
            session.exec(
                select(Household.hukou_number, Household.id).where(col(Household.hukou_number).in_(hukous))
            ).all()
        )
        active = dict(
            session.exec(
                select(Member.id_number, Member.household_id).where(col(Member.id_number).in_(ids), col(Member.active))
            ).all()
        )
        new_households: list[dict[str, Any]] = []
        new_members: list[dict[str, Any]] = []
        clock = session.info["clock"]
        now, today = clock.now(), clock.today()
        for rows in households:
            errors = self._check(rows, known, active)
            if errors:
                tally.errors += errors
                continue
            if rows[0].hukou_number in known:
                tally.unchanged += len(rows)
                continue
            household, members = _build(rows, now=now, today=today)
            new_households.append(household)
            new_members += members
            for m in members:
                active[m["id_number"]] = household["id"]
            known[rows[0].hukou_number] = household["id"]
        insert_rows(session, Household.__table__, new_households)  # type: ignore[arg-type]
        insert_rows(session, Member.__table__, new_members)  # type: ignore[arg-type]
        insert_rows(session, OUTBOX, registered_outbox_rows(session, new_households, new_members))
        insert_rows(session, ImportRowError.__table__, [{"job_id": job_id, **vars(e)} for e in tally.errors])  # type: ignore[arg-type]
        tally.households, tally.members = len(new_households), len(new_members)
        _progress(session, job_id, tally)

    def _know_villages(self, session: Session, households: list[list[ParsedRow]]) -> None:
        wanted = {r.household["region_code"] for h in households for r in h} - self.villages - {""}
        if wanted:
            found = session.exec(
                select(Region.code).where(col(Region.code).in_(wanted), Region.level == Level.village.value)
            ).all()
            self.villages.update(found)

    def _check(self, rows: list[ParsedRow], known: dict[str, str], active: dict[str, str]) -> list[RowError]:
        """Every error of one household's rows; one bad row keeps the whole household out."""
        errors = [e for r in rows for e in r.errors] + household_errors(rows)
        hukou = rows[0].hukou_number
        for r in rows:
            code = str(r.household["region_code"])
            if code and code not in self.villages:
                errors.append(RowError(r.row, HEADER["region_code"], f"{code} is not a village in the region tree"))
            elif code and not code.startswith(self.scope):
                errors.append(RowError(r.row, HEADER["region_code"], f"{code} is outside your scope {self.scope}"))
            number = r.member.get("id_number")
            holder = active.get(number) if isinstance(number, str) else None
            if hukou in known:
                if holder != known[hukou]:
                    errors.append(
                        RowError(
                            r.row,
                            HEADER["id_number"],
                            f"household {hukou} is already registered without this member; "
                            "record a birth or marriage_in change instead",
                        )
                    )
            elif holder is not None:
                errors.append(RowError(r.row, HEADER["id_number"], f"already an active member of household {holder}"))
        if errors and not any(e.row for e in errors if e.column == HEADER["hukou_number"]):
            bad = sorted({e.row for e in errors})
            errors += [
                RowError(r.row, HEADER["hukou_number"], f"household {hukou} not imported: see row(s) {bad}")
                for r in rows
                if r.row not in bad
            ]
        return errors


def _group(rows: list[ParsedRow]) -> list[list[ParsedRow]]:
    """Rows by household, in the order households first appear."""
    groups: dict[str, list[ParsedRow]] = {}
    for r in rows:
        groups.setdefault(r.hukou_number or f"\0row{r.row}", []).append(r)
    return list(groups.values())


def _build(rows: list[ParsedRow], *, now: datetime, today: date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    head = next(r for r in rows if r.member["relation"] == "head")
    household_id = new_id()
    members = [
        MEMBER_DEFAULTS | r.member | {"id": new_id(), "household_id": household_id, "joined_on": today} for r in rows
    ]
    household = HOUSEHOLD_DEFAULTS | {k: head.household[k] for k in HOUSEHOLD_KEYS}
    household |= {
        "id": household_id,
        "hukou_number": head.hukou_number,
        "head_member_id": members[rows.index(head)]["id"],
        "version": 1,
        "registered_on": today,
        "valid_from": today,
        "created_at": now,
        "updated_at": now,
    }
    return household, members


def _progress(session: Session, job_id: str, tally: Tally) -> None:
    job = session.get(ImportJob, job_id)
    assert job is not None
    job.rows_done += tally.rows_done
    job.households_created += tally.households
    job.members_created += tally.members
    job.rows_unchanged += tally.unchanged
    job.error_count += len(tally.errors)
    session.add(job)
