"""Public notices: publish held names, take objections, end by the clock. Nothing here commits."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.identification.cases import service as cases
from services.identification.models import WORKFLOW, Case, Notice, NoticeEntry, Objection
from services.identification.notices import exports
from services.identification.notices.schemas import NoticeCreate, ObjectionCreate, Resolution
from services.identification.registry import notice_line
from shared.auth import Principal, Role
from shared.calls import ServiceClient
from shared.clock import session_clock
from shared.errors import Conflict, Forbidden
from shared.events.outbox import emit
from shared.masking import mask_phone
from shared.pagination import PageParams, paginate
from shared.places import place_name
from shared.refusals import Refusal, Refused
from shared.scope import get_in_scope, in_scope, require_region
from shared.workflow import engine, store

DEFAULT_DAYS = {"group": 7, "village": 7, "township": 5, "county": 5}
SYSTEM = "system:notice-period"


def open_notice(session: Session, body: NoticeCreate, principal: Principal, registry: ServiceClient) -> Notice:
    """Publish the list of names held at ``step`` in ``region_code``; the end is computed from the duration.

    Each name is kept as the board shows it (read from the registry now), so a reprint says what was posted.
    """
    require_region(principal, body.region_code)
    query = select(Case).where(
        Case.kind == body.kind,
        Case.status == "held",
        Case.held_step == body.step,
        col(Case.region_code).startswith(body.region_code, autoescape=True),
    )
    held = [c for c in session.exec(query) if not _on_open_notice(session, c.id)]
    if body.case_ids is not None:
        wanted = set(body.case_ids)
        held = [c for c in held if c.id in wanted]
        missing = wanted - {c.id for c in held}
        if missing:
            raise Refused(Refusal("not_held", f"not waiting for this notice: {', '.join(sorted(missing))}", "case_ids"))
    if not held:
        raise Refused(Refusal("nothing_held", f"no {body.kind} name waits for the {body.step} notice here", "step"))
    tpl = store.get(session, WORKFLOW, held[0].template_id)
    spec = engine.step_of(tpl, body.step)
    if not principal.roles.intersection(spec.roles):
        raise Forbidden(f"the {spec.label} notice is published by: {', '.join(spec.roles)}", field="role")
    assert spec.notice is not None
    days = body.days or spec.notice.days or DEFAULT_DAYS.get(spec.notice.level.value, 5)
    now = session_clock(session).now()
    version = (
        session.exec(
            select(func.count())
            .select_from(Notice)
            .where(Notice.region_code == body.region_code, Notice.step == body.step, Notice.kind == body.kind)
        ).one()
        + 1
    )
    notice = Notice(
        kind=body.kind,
        step=body.step,
        level=spec.notice.level.value,
        region_code=body.region_code,
        list_version=version,
        days=days,
        starts_at=now,
        ends_at=now + timedelta(days=days),
        channel=body.channel,
        location=body.location,
        place=place_name(registry, body.region_code),
        opened_by=principal.subject,
    )
    session.add(notice)
    session.flush()
    for case in held:
        line = notice_line(registry, case.household_id)
        session.add(NoticeEntry(notice_id=notice.id, case_id=case.id, household_id=case.household_id, **asdict(line)))
    session.flush()
    emit(session, "publicity.started", notice.id, publicity_data(notice, [c.household_id for c in held]))
    return notice


def _on_open_notice(session: Session, case_id: str) -> bool:
    return (
        session.exec(
            select(NoticeEntry)
            .join(Notice, col(Notice.id) == NoticeEntry.notice_id)
            .where(NoticeEntry.case_id == case_id, Notice.status == "open")
        ).first()
        is not None
    )


def publicity_data(notice: Notice, household_ids: list[str]) -> dict[str, object]:
    return {
        "notice_id": notice.id,
        "level": notice.level,
        "region_code": notice.region_code,
        "starts_at": notice.starts_at,
        "ends_at": notice.ends_at,
        "household_ids": household_ids,
        "kind": notice.kind,
        "step": notice.step,
        "list_version": notice.list_version,
    }


def entries(session: Session, notice_id: str) -> list[NoticeEntry]:
    return list(
        session.exec(select(NoticeEntry).where(NoticeEntry.notice_id == notice_id).order_by(NoticeEntry.case_id))
    )


def board_of(session: Session, notice_id: str, principal: Principal) -> exports.Board:
    """The notice as the board shows it: the names as published, IDs masked."""
    notice = get_notice(session, notice_id, principal)
    listed = entries(session, notice.id)
    case = session.get(Case, listed[0].case_id) if listed else None
    label = engine.step_of(store.get(session, WORKFLOW, case.template_id), notice.step).label if case else notice.step
    return exports.board(notice, listed, label)


def get_notice(session: Session, notice_id: str, principal: Principal) -> Notice:
    return get_in_scope(session, Notice, notice_id, principal, what="notice")


def list_notices(
    session: Session, principal: Principal, *, region: str | None, status: str | None, page: PageParams
) -> tuple[list[Notice], str | None]:
    query = select(Notice).where(in_scope(Notice.region_code, principal, region))
    if status:
        query = query.where(Notice.status == status)
    return paginate(session, query, order=[Notice.id], page=page)


def file_objection(session: Session, notice_id: str, body: ObjectionCreate, principal: Principal) -> Objection:
    """Anyone may object to a name while the notice runs; the contact is kept whole, shown masked."""
    notice = get_notice(session, notice_id, principal)
    now = session_clock(session).now()
    if notice.status != "open" or now >= notice.ends_at:
        raise Conflict(f"the notice ended at {notice.ends_at.isoformat()}", field="notice_id")
    entry = session.exec(
        select(NoticeEntry).where(NoticeEntry.notice_id == notice.id, NoticeEntry.household_id == body.household_id)
    ).first()
    if entry is None:
        raise Refused(Refusal("not_on_notice", "this household is not on the notice", "household_id"))
    objection = Objection(
        notice_id=notice.id,
        case_id=entry.case_id,
        household_id=body.household_id,
        region_code=notice.region_code,
        objector=body.objector,
        contact=body.contact,
        content=body.content,
        filed_by=principal.subject,
        filed_at=now,
    )
    session.add(objection)
    session.flush()
    return objection


def list_objections(
    session: Session, notice_id: str, principal: Principal, page: PageParams
) -> tuple[list[Objection], str | None]:
    notice = get_notice(session, notice_id, principal)
    return paginate(session, select(Objection).where(Objection.notice_id == notice.id), order=[Objection.id], page=page)


def shown(objection: Objection, principal: Principal) -> dict[str, object]:
    """The contact whole for the county office only."""
    data = objection.model_dump()
    if not principal.has(Role.county_office):
        data["contact"] = mask_phone(objection.contact)
    return data


def resolve(session: Session, objection_id: str, body: Resolution, principal: Principal) -> Objection:
    """Record what the re-review found; the name can then be reviewed and noticed again."""
    objection = get_in_scope(session, Objection, objection_id, principal, what="objection")
    if objection.resolved_at is not None:
        raise Conflict("the objection is already resolved", field="objection_id")
    objection.resolution, objection.resolved_by = body.resolution, principal.subject
    objection.resolved_at = session_clock(session).now()
    session.add(objection)
    return objection


def end_due_notices(session: Session, day: date) -> str:
    """The periodic job: every notice whose period has passed ends; names go on, or back if objected to."""
    now = session_clock(session).now()
    due = session.exec(select(Notice).where(Notice.status == "open", Notice.ends_at <= now).order_by(Notice.id)).all()
    for notice in due:
        end_notice(session, notice)
    return f"ended {len(due)} notice(s)"


def end_notice(session: Session, notice: Notice) -> None:
    objected = {o.case_id for o in session.exec(select(Objection).where(Objection.notice_id == notice.id))}
    for entry in entries(session, notice.id):
        case = session.get(Case, entry.case_id)
        if case is None or case.status != "held" or case.held_step != notice.step:
            entry.outcome = "withdrawn"
            session.add(entry)
            continue
        tpl = store.get(session, WORKFLOW, case.template_id)
        move = engine.end_notice(tpl, cases.progress_of(case), objected=entry.case_id in objected)
        cases.apply_move(session, case, move, actor=SYSTEM)
        entry.outcome = "objected" if entry.case_id in objected else "passed"
        session.add(entry)
    notice.status, notice.ended_at = "ended", session_clock(session).now()
    session.add(notice)
    emit(
        session,
        "publicity.ended",
        notice.id,
        publicity_data(notice, [e.household_id for e in entries(session, notice.id)]),
    )
