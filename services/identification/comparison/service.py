"""Dataset kinds, their files, comparison batches and findings: the database work. Nothing here commits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, or_
from sqlmodel import Session, col, select

from services.identification.comparison import matching
from services.identification.comparison.jobs import FINDING_TABLE, fail_abandoned_batches
from services.identification.comparison.schemas import (
    BatchCreate,
    BatchPublic,
    DatasetFilePublic,
    DatasetKindCreate,
    DatasetKindPublic,
    FindingPublic,
    RejectPublic,
    ResolutionIn,
    SummaryLine,
)
from services.identification.domain import comparison as rules
from services.identification.domain.resident_ids import PROBLEM_TEXT
from services.identification.models import ComparisonBatch, DatasetFile, DatasetKind, DatasetReject, Finding
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, NotFound
from shared.files.uploads import Spooled
from shared.masking import mask_resident_id
from shared.pagination import PageParams, paginate
from shared.refusals import Refused
from shared.scope import get_in_scope, in_scope, narrow, require_region

# SQLModel sets __table__ when it makes a table class; its stubs do not declare it.
REJECT_TABLE: Table = DatasetReject.__table__  # type: ignore[attr-defined]


def create_kind(session: Session, body: DatasetKindCreate, principal: Principal) -> DatasetKind:
    """Register a department's file kind once (its code unique)."""
    conditions = [rules.condition_of(c.stored()) for c in body.conditions]
    found = rules.kind_refusals(
        key_column=body.key_column, evidence_columns=body.evidence_columns, rule=body.rule, conditions=conditions
    )
    if found:
        raise Refused(*found)
    if session.exec(select(DatasetKind).where(DatasetKind.code == body.code)).first() is not None:
        raise Conflict(f"a dataset kind {body.code!r} exists already", field="code")
    kind = DatasetKind(
        code=body.code,
        name=body.name,
        department=body.department,
        key_column=body.key_column,
        evidence_columns=list(body.evidence_columns),
        rule=body.rule,
        conditions=[c.stored() for c in body.conditions],
        created_by=principal.subject,
        created_at=session_clock(session).now(),
    )
    session.add(kind)
    session.flush()
    audit.record(session, actor=principal.subject, action="dataset_kind.created", resource=f"dataset/{kind.code}")
    return kind


def kind_of(session: Session, code: str) -> DatasetKind:
    kind = session.exec(select(DatasetKind).where(DatasetKind.code == code)).first()
    if kind is None:
        raise NotFound(f"no dataset kind {code!r}", field="code")
    return kind


def current_file(session: Session, kind_id: str) -> DatasetFile | None:
    query = select(DatasetFile).where(DatasetFile.kind_id == kind_id).order_by(col(DatasetFile.version).desc())
    return session.exec(query.limit(1)).first()


def kind_public(session: Session, kind: DatasetKind) -> DatasetKindPublic:
    current = current_file(session, kind.id)
    return DatasetKindPublic.model_validate(
        kind.model_dump()
        | {"rule_label": rules.RULES.get(kind.rule, kind.rule), "current_version": current and current.version}
    )


def list_kinds(session: Session, page: PageParams) -> tuple[list[DatasetKind], str | None]:
    return paginate(session, select(DatasetKind), order=[col(DatasetKind.code)], page=page)


def store_file(session: Session, kind: DatasetKind, spooled: Spooled, principal: Principal) -> DatasetFilePublic:
    """Keep an uploaded file as the kind's next version, prepared for matching; the same bytes again: nothing new."""
    same = session.exec(
        select(DatasetFile).where(DatasetFile.kind_id == kind.id, DatasetFile.sha256 == spooled.sha256)
    ).first()
    if same is not None:
        spooled.path.unlink(missing_ok=True)
        return DatasetFilePublic.model_validate(same.model_dump() | {"unchanged": True})
    prepared_path = spooled.path.with_suffix(".prepared.parquet")
    try:
        prepared = matching.prepare(
            spooled.path, prepared_path, key_column=kind.key_column, evidence_columns=kind.evidence_columns
        )
    except BaseException:
        spooled.path.unlink(missing_ok=True)
        raise
    latest = current_file(session, kind.id)
    file = DatasetFile(
        kind_id=kind.id,
        version=(latest.version + 1) if latest else 1,
        filename=(spooled.original_name or spooled.path.name)[:200],
        size=spooled.size,
        sha256=spooled.sha256,
        path=str(spooled.path),
        prepared_path=str(prepared_path),
        rows=prepared.rows,
        bad_rows=prepared.bad_rows,
        uploaded_by=principal.subject,
        uploaded_at=session_clock(session).now(),
    )
    session.add(file)
    session.flush()
    for chunk in matching.rejects(prepared_path):
        rows = [{"file_id": file.id, "line": n, "value_masked": _masked(v), "reason": r} for n, v, r in chunk]
        session.execute(insert(REJECT_TABLE), rows)
    audit.record(
        session,
        actor=principal.subject,
        action="dataset_file.uploaded",
        resource=f"dataset/{kind.code}/files/{file.id}",
        detail={"version": file.version, "sha256": file.sha256, "rows": file.rows},
    )
    return DatasetFilePublic.model_validate(file.model_dump())


def _masked(value: str) -> str:
    return (mask_resident_id(value) or "")[:40] if len(value) >= 8 else "*" * min(len(value), 40)


def list_files(session: Session, kind: DatasetKind, page: PageParams) -> tuple[list[DatasetFile], str | None]:
    query = select(DatasetFile).where(DatasetFile.kind_id == kind.id)
    return paginate(session, query, order=[col(DatasetFile.version)], page=page)


def list_rejects(
    session: Session, kind: DatasetKind, file_id: str, page: PageParams
) -> tuple[list[RejectPublic], str | None]:
    file = session.get(DatasetFile, file_id)
    if file is None or file.kind_id != kind.id:
        raise NotFound(f"no file {file_id} of {kind.code}", field="file_id")
    query = select(DatasetReject).where(DatasetReject.file_id == file_id)
    rows, cursor = paginate(session, query, order=[col(DatasetReject.line)], page=page)
    items = [RejectPublic(**r.model_dump(), message=PROBLEM_TEXT.get(r.reason, r.reason)) for r in rows]
    return items, cursor


def create_batch(session: Session, body: BatchCreate, principal: Principal) -> ComparisonBatch:
    """A queued batch over a region inside the caller's scope; batches whose runner died are failed first."""
    require_region(principal, body.region_code)
    fail_abandoned_batches(session)
    running = session.exec(
        select(ComparisonBatch).where(
            ComparisonBatch.region_code == body.region_code, col(ComparisonBatch.status).in_(("queued", "running"))
        )
    ).first()
    if running is not None:
        raise Conflict(f"batch {running.id} is already comparing {body.region_code}", field="region_code")
    clock = session_clock(session)
    batch = ComparisonBatch(
        region_code=body.region_code,
        year=body.year or clock.today().year,
        full=body.full,
        started_by=principal.subject,
        started_roles=sorted(r.value for r in principal.roles),
        started_region=principal.region,
        created_at=clock.now(),
    )
    session.add(batch)
    session.flush()
    return batch


def get_batch(session: Session, batch_id: str, principal: Principal) -> ComparisonBatch:
    """A batch whose region overlaps the caller's scope: a county batch is seen by its villages' staff too (each
    sees only the findings inside its own scope); otherwise a 404."""
    batch = session.get(ComparisonBatch, batch_id)
    if batch is None or narrow(principal.region, batch.region_code) is None:
        raise NotFound(f"no comparison {batch_id}", field="batch_id")
    return batch


def _wider(principal: Principal) -> list[str]:
    return [principal.region[:n] for n in (2, 4, 6, 9) if n < len(principal.region)]


def batch_public(batch: ComparisonBatch) -> BatchPublic:
    progress = (
        100 if batch.status == "done" else (100 * batch.kinds_done // batch.kinds_total if batch.kinds_total else 0)
    )
    return BatchPublic.model_validate(batch.model_dump() | {"progress": progress})


def list_batches(
    session: Session, principal: Principal, region: str | None, page: PageParams
) -> tuple[list[ComparisonBatch], str | None]:
    inside = in_scope(ComparisonBatch.region_code, principal, region)
    query = select(ComparisonBatch).where(or_(inside, col(ComparisonBatch.region_code).in_(_wider(principal))))
    return paginate(session, query, order=[col(ComparisonBatch.id)], page=page)


def _firsts(session: Session, findings: list[Finding]) -> dict[str, Finding]:
    ids = {f.first_id for f in findings if f.first_id}
    return {f.id: f for f in session.exec(select(Finding).where(col(Finding.id).in_(ids)))} if ids else {}


def findings_public(session: Session, findings: list[Finding]) -> list[FindingPublic]:
    """Findings as shown: a repeated one carries its first finding's resolution."""
    firsts = _firsts(session, findings)
    out = []
    for f in findings:
        holder = firsts.get(f.first_id or "", f)
        data = f.model_dump() | {
            "rule_label": rules.RULES.get(f.rule, f.rule),
            "repeat_of": f.first_id,
            "resolution": holder.resolution,
            "resolution_reason": holder.resolution_reason,
            "resolved_by": holder.resolved_by,
            "resolved_at": holder.resolved_at,
        }
        out.append(FindingPublic.model_validate(data))
    return out


def list_findings(
    session: Session,
    batch: ComparisonBatch,
    principal: Principal,
    *,
    region: str | None,
    rule: str | None,
    household_id: str | None,
    page: PageParams,
) -> tuple[list[Finding], str | None]:
    query = select(Finding).where(Finding.batch_id == batch.id, in_scope(Finding.region_code, principal, region))
    if rule:
        query = query.where(Finding.rule == rule)
    if household_id:
        query = query.where(Finding.household_id == household_id)
    return paginate(session, query, order=[col(Finding.id)], page=page)


def resolve(session: Session, finding_id: str, body: ResolutionIn, principal: Principal) -> Finding:
    """Record what re-verification found (confirmed / dismissed, with the reason) on the first finding."""
    finding = get_in_scope(session, Finding, finding_id, principal, what="finding")
    holder = session.get(Finding, finding.first_id) if finding.first_id else finding
    assert holder is not None
    found = rules.resolution_refusals(resolution=body.resolution, reason=body.reason, already=holder.resolution)
    if found:
        raise Refused(*found, status=409 if holder.resolution else None)
    holder.resolution = body.resolution.value
    holder.resolution_reason = body.reason.strip()
    holder.resolved_by = principal.subject
    holder.resolved_at = session_clock(session).now()
    session.add(holder)
    audit.record(
        session,
        actor=principal.subject,
        action=f"finding.{holder.resolution}",
        resource=f"finding/{holder.id}",
        detail={"reason": holder.resolution_reason, "household_id": holder.household_id, "rule": holder.rule},
    )
    return finding


def summary(session: Session, batch: ComparisonBatch, principal: Principal) -> list[SummaryLine]:
    """Findings of a batch by dataset and rule, with how many re-verification confirmed or dismissed."""
    first = FINDING_TABLE.alias("first")
    resolution = func.coalesce(first.c.resolution, Finding.resolution)
    query = (
        select(Finding.dataset, Finding.rule, resolution, func.count())
        .select_from(Finding)
        .outerjoin(first, first.c.id == Finding.first_id)
        .where(Finding.batch_id == batch.id, in_scope(Finding.region_code, principal))
        .group_by(Finding.dataset, Finding.rule, resolution)
    )
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    for dataset, rule, state, count in session.exec(query):
        line = lines.setdefault(
            (dataset, rule),
            {"dataset": dataset, "rule": rule, "findings": 0, "confirmed": 0, "dismissed": 0, "open": 0},
        )
        line["findings"] += count
        line[state or "open"] += count
    return [SummaryLine(**line) for _, line in sorted(lines.items())]


def spool_folder(data_dir: str) -> Path:
    return Path(data_dir) / "identification" / "comparison"
