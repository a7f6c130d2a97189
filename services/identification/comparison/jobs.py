"""The comparison batch as a background job: snapshot, match, then findings, events and send-backs at once.

The runner holds the batch's lease (``shared.jobs.background``) from start to end. The registry's snapshot is
streamed to a local file; DuckDB (bounded by the service's settings) loads it and joins it with each dataset
kind's current file. Everything the batch decides is written in one transaction that also marks it done: the
findings in one ``executemany`` of rows DuckDB already shaped, one ``comparison.flagged`` per household with a
new finding (one ``executemany`` of ``emit_many``), and that household's open case sent back to
re-verification. A runner killed before that commit leaves no finding; its batch is marked failed when the
service starts again or the next batch is asked for.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Table, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.identification.comparison import cache, matching
from services.identification.comparison.cases import send_back_households
from services.identification.domain.comparison import condition_of
from services.identification.models import ComparisonBatch, DatasetFile, DatasetKind, Finding
from services.identification.rules.service import rule_set_for
from services.identification.settings import IdentificationSettings, identification_settings
from shared.calls import CallRefused, ServiceClient
from shared.clock import session_clock
from shared.db import Database
from shared.events.outbox import emit_many
from shared.faults import fault_point
from shared.ids import many_ids
from shared.jobs.background import JobLease, fail_abandoned
from shared.masking import mask_resident_id
from shared.settings import StackSettings

log = logging.getLogger(__name__)
KIND = "identification.comparison"
ABANDONED = "interrupted: the service stopped while this batch was running; no finding was kept. Run it again."
# SQLModel sets __table__ when it makes a table class; its stubs do not declare it.
FINDING_TABLE: Table = Finding.__table__  # type: ignore[attr-defined]
BATCH_TABLE: Table = ComparisonBatch.__table__  # type: ignore[attr-defined]
LOOKUP_CHUNK = 5000
MAX_PARTS = 16  # the registry's own bound on snapshot parts
COUNTY_DIGITS = 6
MEMBERS = "/snapshot/members.csv"  # every member of the households, active or not: the changes since a time
COMPACT = "/snapshot/compact.csv"  # the active members' five columns the batch reads: a whole snapshot
FINDING_COLUMNS = (
    "id",
    "batch_id",
    "fingerprint",
    "first_id",
    "kind_id",
    "dataset",
    "file_id",
    "line",
    "rule",
    "member_id",
    "household_id",
    "region_code",
    "resident_id_masked",
    "evidence",
    "case_id",
    "case_action",
)


class BatchFailed(Exception):
    """The batch cannot run as asked; the message says why."""


def fail_abandoned_batches(session: Session) -> list[str]:
    """Mark failed every running (or long-queued) batch whose runner is gone; their ids."""
    return fail_abandoned(session, ComparisonBatch, kind=KIND, message=ABANDONED)


def run_batch(db: Database, stack: StackSettings, batch_id: str, folder: Path) -> None:
    """Run one batch to its end under its lease; the snapshot files are removed however it ends."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    snapshot = folder / f"snapshot-{batch_id}.csv"
    try:
        with JobLease(db.engine, KIND, batch_id).hold():
            try:
                _run(db, stack, batch_id, snapshot, folder)
            except Exception as exc:  # the batch reports its failure; the service keeps running
                log.exception("comparison batch %s failed", batch_id)
                _set(db, batch_id, status="failed", message=str(exc)[:500], finished=True)
    finally:
        for path in (snapshot, *part_files(snapshot, MAX_PARTS)):
            path.unlink(missing_ok=True)


def _set(db: Database, batch_id: str, *, finished: bool = False, **values: Any) -> None:
    with db.transaction() as session:
        if finished:
            values["finished_at"] = session_clock(session).now()
        session.execute(update(BATCH_TABLE).where(BATCH_TABLE.c.id == batch_id).values(**values))


def _kinds(session: Session) -> list[matching.KindQuery]:
    """Every kind with a current file, joined against its newest version."""
    out = []
    for kind in session.exec(select(DatasetKind).order_by(col(DatasetKind.code))):
        file = session.exec(
            select(DatasetFile).where(DatasetFile.kind_id == kind.id).order_by(col(DatasetFile.version).desc())
        ).first()
        if file is None:
            continue
        out.append(
            matching.KindQuery(
                kind_id=kind.id,
                code=kind.code,
                rule=kind.rule,
                file_id=file.id,
                prepared_path=file.prepared_path,
                evidence_columns=tuple(kind.evidence_columns),
                conditions=tuple(condition_of(c) for c in kind.conditions),
                rows=file.rows,
                rejects=file.bad_rows,
            )
        )
    return out


def _start(db: Database, batch_id: str) -> tuple[ComparisonBatch, list[matching.KindQuery], int | None]:
    with db.transaction() as session:
        batch = session.get(ComparisonBatch, batch_id)
        assert batch is not None
        kinds = _kinds(session)
        std = rule_set_for(session, batch.region_code.ljust(12, "0"), batch.year, required=False)
        needs_cutoff = any(c.op.value == "since_cutoff_year" for k in kinds for c in k.conditions)
        if needs_cutoff and std is None:
            raise BatchFailed(f"no rule set governs {batch.region_code} in {batch.year}: its cut-off year is needed")
        batch.status, batch.phase = "running", "snapshot"
        batch.started_at = session_clock(session).now()
        batch.kinds_total = len(kinds)
        batch.files = [k.file_id for k in kinds]
        session.add(batch)
        session.flush()
        session.expunge(batch)
    return batch, kinds, std.new_house_cutoff_year if std else None


def snapshot_parts(region: str, settings: IdentificationSettings | None = None) -> int:
    """How many parts to ask the registry's whole snapshot of ``region`` in: one per core (or as set) for a county
    or wider region, one request for a township or a village (a few thousand members)."""
    if len(region) > COUNTY_DIGITS:
        return 1
    wanted = (settings or identification_settings()).comparison_snapshot_parts or os.cpu_count() or 1
    return max(1, min(wanted, MAX_PARTS))


def part_files(target: Path, parts: int) -> list[Path]:
    """The files the parts of a snapshot asked in ``parts`` parts are streamed to (``target`` itself for one)."""
    if parts <= 1:
        return [target]
    return [target.with_name(f"{target.stem}-{k}{target.suffix}") for k in range(parts)]


def _download_one(stack: StackSettings, target: Path, params: dict[str, Any], route: str) -> datetime | None:
    client = ServiceClient(stack, "registry", caller="identification")
    try:
        headers = client.download(route, target, params=params)
    except CallRefused as exc:
        raise BatchFailed(f"the registry refused the snapshot: {exc.status} {exc.detail[:200]}") from exc
    finally:
        client.close()
    if "parts" in params and headers.get("Snapshot-Part") != f"{params['part']}/{params['parts']}":
        raise BatchFailed("the registry did not send the snapshot part asked for (an older registry?)")
    watermark = headers.get("Snapshot-Watermark")
    return datetime.fromisoformat(watermark) if watermark else None


def download_snapshot(
    stack: StackSettings,
    region: str | None,
    target: Path,
    changed_since: datetime | None = None,
    parts: int = 1,
    route: str = MEMBERS,
) -> datetime | None:
    """The registry's member snapshot of ``region`` (all in scope when None) streamed to ``target`` (never whole
    in memory); with ``changed_since`` only the members of households changed since; ``route`` the form asked for
    (``MEMBERS``, or ``COMPACT``: the active members' five columns, for a whole snapshot). With ``parts`` > 1 it is
    asked in that many parts at once, each its own stream to its own file (``part_files``; every member in exactly
    one), so the registry reads them on as many cores. Returns the registry's watermark for the next delta (its own
    clock, so another machine's skew does not matter; with parts, the earliest), if it sent one."""
    params: dict[str, Any] = {"region": region} if region else {}
    if changed_since is not None:
        params["changed_since"] = changed_since.isoformat()
    if parts <= 1:
        return _download_one(stack, target, params, route)
    files = part_files(target, parts)
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="snapshot") as pool:
        futures = [
            pool.submit(_download_one, stack, f, params | {"part": k, "parts": parts}, route)
            for k, f in enumerate(files)
        ]
        marks = [future.result() for future in futures]
    known = [m for m in marks if m is not None]
    return min(known) if len(known) == len(marks) else None


def load_members(
    db: Database, stack: StackSettings, con: duckdb.DuckDBPyConnection, batch: ComparisonBatch, snapshot: Path
) -> cache.Loaded:
    """Table ``members`` for the batch: the region's cache merged with the registry's changes since, else (first
    batch, no usable cache, ``full``) every member read again."""
    mark = db.clock.now()  # the fallback watermark, before the read starts: a change during it is read again
    with cache.held(batch.region_code):  # a batch of the region that has just ended may still be saving it
        kept = None if batch.full else cache.kept(db, batch.region_code)
        reuse = kept is not None and cache.usable(con, kept)
    if kept is not None and reuse:
        # the delta over the whole scope: a household that moved out of the region must leave the cache too
        watermark = download_snapshot(stack, None, snapshot, changed_since=cache.since(kept))
        rows, members = matching.merge_delta(con, snapshot, batch.region_code)
        return cache.Loaded("delta", rows, members, watermark or mark)
    parts = snapshot_parts(batch.region_code)
    watermark = download_snapshot(stack, batch.region_code, snapshot, parts=parts, route=COMPACT)
    members = matching.load_compact(con, part_files(snapshot, parts))
    return cache.Loaded("full", members, members, watermark or mark)  # a line per member downloaded


def _run(db: Database, stack: StackSettings, batch_id: str, snapshot: Path, folder: Path) -> None:
    batch, kinds, cutoff = _start(db, batch_id)
    hits: list[tuple[matching.KindQuery, list[matching.Hit]]] = []
    with matching.connect(folder) as con:
        loaded = load_members(db, stack, con, batch, snapshot)
        members = loaded.members
        _set(db, batch_id, phase="matching", members=members, snapshot=loaded.snapshot, snapshot_rows=loaded.rows)
        compared = 0
        for done, kind in enumerate(kinds, start=1):
            hits.append((kind, matching.match(con, kind, cutoff)))
            compared += kind.rows
            _set(db, batch_id, kinds_done=done, rows_compared=compared)
        _set(db, batch_id, phase="storing")
        with cache.held(batch.region_code):
            with db.transaction() as session:
                _store(session, batch, hits)
                fault_point("comparison.before_commit")
            # The members kept for the region's next batch, once this one is done: off the batch's own path, and a
            # batch killed before its commit never leaves a cache newer than its findings. A failure here only
            # costs the next batch a full read.
            try:
                cache.save(db, con, folder, batch.region_code, loaded, batch_id)
            except Exception:
                log.exception("comparison batch %s: the member cache of %s was not saved", batch_id, batch.region_code)


def _earlier(session: Session, fingerprints: Iterable[str]) -> dict[str, str]:
    """The first finding already kept for each fingerprint seen in an earlier batch (Core rows, a few big IN
    lists: no ORM object per row)."""
    wanted = list(fingerprints)
    found: dict[str, str] = {}
    connection = session.connection()
    table = FINDING_TABLE.c
    for i in range(0, len(wanted), LOOKUP_CHUNK):
        query = sa_select(table.fingerprint, table.id).where(
            table.fingerprint.in_(wanted[i : i + LOOKUP_CHUNK]), table.first_id.is_(None)
        )
        found.update({fingerprint: finding_id for fingerprint, finding_id in connection.execute(query)})
    return found


def _finding(batch: ComparisonBatch, kind: matching.KindQuery, hit: matching.Hit, finding_id: str) -> dict[str, Any]:
    _kind_id, member_id, household_id, region, resident_id, line, evidence, fingerprint = hit
    return {
        "id": finding_id,
        "batch_id": batch.id,
        "fingerprint": fingerprint,
        "kind_id": kind.kind_id,
        "dataset": kind.code,
        "file_id": kind.file_id,
        "line": line,
        "rule": kind.rule,
        "member_id": member_id,
        "household_id": household_id,
        "region_code": region,
        "resident_id_masked": mask_resident_id(resident_id) or "",
        "evidence": evidence,  # the JSON object's text, as DuckDB wrote it
        "case_id": None,
        "case_action": "none",
    }


def insert_findings(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """The findings in one ``executemany`` on the session's connection, straight to the driver: the values are
    final (the evidence is JSON text already), so nothing is converted row by row on the way."""
    if not rows:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {FINDING_TABLE.name} ({', '.join(FINDING_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(FINDING_COLUMNS))})"
    )
    connection.exec_driver_sql(sql, [tuple(row[c] for c in FINDING_COLUMNS) for row in rows])


def _store(session: Session, batch: ComparisonBatch, hits: list[tuple[matching.KindQuery, list[matching.Hit]]]) -> None:
    ids = iter(many_ids(sum(len(found) for _, found in hits)))
    rows = [_finding(batch, kind, hit, next(ids)) for kind, found in hits for hit in found]
    earlier = _earlier(session, (r["fingerprint"] for r in rows))
    flagged: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        row["first_id"] = earlier.get(row["fingerprint"])
        if row["first_id"] is None:
            flagged[row["household_id"]].append(row)
    actions = send_back_households(session, batch, flagged)
    for household_id, (case_id, action) in actions.items():
        for row in flagged[household_id]:
            row["case_id"], row["case_action"] = case_id, action
    insert_findings(session, rows)
    items = [(h, _flagged_data(batch, h, found)) for h, found in flagged.items()]
    emit_many(session, "comparison.flagged", items, event_ids=many_ids(len(items)))
    now = session_clock(session).now()
    session.execute(
        update(BATCH_TABLE)
        .where(BATCH_TABLE.c.id == batch.id)
        .values(
            status="done",
            phase="done",
            findings=len(rows),
            new_findings=sum(len(v) for v in flagged.values()),
            households_flagged=len(flagged),
            cases_sent_back=sum(1 for _, action in actions.values() if action == "sent_back"),
            rejects=sum(k.rejects for k, _ in hits),
            finished_at=now,
        )
    )


def _flagged_data(batch: ComparisonBatch, household_id: str, found: list[dict[str, Any]]) -> dict[str, Any]:
    """The event's data, exactly the fields the catalogue's ``comparison.flagged`` carries (so ``outbox_rows`` takes
    its fast path: one ``json.dumps`` per event, not one model)."""
    return {
        "batch_id": batch.id,
        "household_id": household_id,
        "region_code": found[0]["region_code"],
        "findings": [{"dataset": r["dataset"], "rule": r["rule"], "member_id": r["member_id"]} for r in found],
    }
