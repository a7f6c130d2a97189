"""Reports per helper, unit and village: duty compliance by month, messages by status, delivery rate, opt-outs.
Counted in the database, a page of groups at a time. Nothing here writes."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import and_, distinct, literal, literal_column
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from services.notifications.models import Contact, DutyOutcome, Message, OptOut
from services.notifications.schemas import DutyCompliance, MessageGroup
from shared.auth import Principal
from shared.pagination import PageParams, paginate
from shared.scope import in_scope

GroupBy = Literal["helper", "unit", "village"]
STATUSES = ("queued", "sending", "sent", "delivered", "failed", "suppressed")
HELPER_PREFIX = "helper:"
# Inline SQL, not bound values: the grouping expression is repeated in SELECT, GROUP BY and ORDER BY, and
# PostgreSQL only sees them as one expression when no parameter differs between them.
NO_UNIT: Any = literal_column("''")


def _duty_group(by: GroupBy) -> Any:
    return {
        "helper": col(DutyOutcome.helper_id),
        "unit": func.coalesce(col(DutyOutcome.unit_id), NO_UNIT),
        "village": col(DutyOutcome.village_code),
    }[by]


def duty_compliance(
    session: Session, principal: Principal, page: PageParams, *, by: GroupBy, month: str | None, region: str | None
) -> tuple[list[DutyCompliance], str | None]:
    """Per group and month: the duties due (household × duty × helper), done, missed and still open."""
    group = _duty_group(by).label("group")
    status = col(DutyOutcome.status)
    query = sa_select(
        col(DutyOutcome.month),
        group,
        func.count(),
        func.count().filter(status == "done"),
        func.count().filter(status == "missed"),
        func.count().filter(status == "open"),
    ).where(in_scope(col(DutyOutcome.village_code), principal, region))
    if month:
        query = query.where(col(DutyOutcome.month) == month)
    query = query.group_by(col(DutyOutcome.month), _duty_group(by))
    rows, cursor = paginate(
        session, query, order=[col(DutyOutcome.month), _duty_group(by)], page=page, key=lambda r: [r[0], r[1]]
    )
    items = [DutyCompliance(month=m, group=g, due=n, done=d, missed=x, open=o) for m, g, n, d, x, o in rows]
    return items, cursor


def message_groups(
    session: Session, principal: Principal, page: PageParams, *, by: GroupBy, region: str | None
) -> tuple[list[MessageGroup], str | None]:
    """Per helper (messages to the helper), unit (to its helpers) or village: counts by status, delivery rate,
    distinct opted-out numbers."""
    conditions = [in_scope(col(Message.region_code), principal, region)]
    group: Any = col(Message.region_code)
    if by != "village":
        conditions.append(col(Message.recipient).startswith(HELPER_PREFIX))
        group = func.substr(col(Message.recipient), literal_column(str(len(HELPER_PREFIX) + 1)))
    if by == "unit":
        group = func.coalesce(col(Contact.unit_id), NO_UNIT)
    counts = [func.count().filter(col(Message.status) == s) for s in STATUSES]
    opted = func.count(distinct(col(Message.phone))).filter(col(Message.phone).in_(select(OptOut.phone)))
    query = sa_select(group.label("group"), func.count(), opted, *counts).select_from(Message)
    if by == "unit":
        helper = and_(col(Contact.kind) == "helper", literal(HELPER_PREFIX) + col(Contact.ref_id) == Message.recipient)
        query = query.join(Contact, helper, isouter=True)
    query = query.where(*conditions).group_by(group)
    rows, cursor = paginate(session, query, order=[group], page=page, key=lambda r: [r[0]])
    return [_message_group(row) for row in rows], cursor


def _message_group(row: Any) -> MessageGroup:
    group, total, opted, *counts = row
    by_status = {s: n for s, n in zip(STATUSES, counts, strict=True) if n}
    went = sum(by_status.get(s, 0) for s in ("delivered", "sent", "failed"))
    rate = round(by_status.get("delivered", 0) / went, 4) if went else None
    return MessageGroup(group=group, messages=total, by_status=by_status, delivery_rate=rate, opted_out=opted)
