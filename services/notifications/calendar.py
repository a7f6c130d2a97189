"""Duty rules as data: the versions each jurisdiction set, and the ones in force for a village on a day.
Nothing here commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import literal, or_
from sqlmodel import Session, col, select

from services.notifications.domain.duties import Frequency, effective_rules, rule_refusals
from services.notifications.duties import rule_versions
from services.notifications.models import DutyRuleVersion
from services.notifications.outbound import template_text
from services.notifications.schemas import DutyRuleCreate
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict
from shared.pagination import PageParams, paginate
from shared.refusals import Refusal, refuse_if
from shared.scope import in_scope, narrow, require_region


def create_rule(session: Session, body: DutyRuleCreate, principal: Principal) -> DutyRuleVersion:
    require_region(principal, body.region_code)
    refusals = rule_refusals(
        region_code=body.region_code,
        frequency=Frequency(body.frequency),
        remind_day=body.remind_day,
        escalate_day=body.escalate_day,
    )
    if template_text(session, body.template_code) is None:
        refusals.append(Refusal("unknown_template", "no template with this code", "template_code"))
    refuse_if(refusals)
    same = select(DutyRuleVersion.id).where(
        DutyRuleVersion.code == body.code,
        DutyRuleVersion.region_code == body.region_code,
        DutyRuleVersion.effective_from == body.effective_from,
    )
    if session.exec(same).first() is not None:
        raise Conflict("this jurisdiction already has a version of this duty from that day", field="effective_from")
    row = DutyRuleVersion(**body.model_dump(), created_by=principal.subject, created_at=session_clock(session).now())
    session.add(row)
    session.flush()
    return row


def list_rules(
    session: Session, principal: Principal, page: PageParams, *, region: str | None, code: str | None
) -> tuple[list[DutyRuleVersion], str | None]:
    """The versions that bear on the caller's region: its own and those below it, and those above it that it
    inherits (the county's, the province's, the built-in ones)."""
    prefix = narrow(principal.region, region) or principal.region
    above = literal(prefix).startswith(col(DutyRuleVersion.region_code))
    query = select(DutyRuleVersion).where(or_(in_scope(col(DutyRuleVersion.region_code), principal, region), above))
    if code:
        query = query.where(DutyRuleVersion.code == code)
    order = [col(DutyRuleVersion.code), col(DutyRuleVersion.region_code), col(DutyRuleVersion.effective_from)]
    return paginate(session, query, order=order, page=page)


def rules_in_force(session: Session, principal: Principal, *, region: str, day: date) -> list[DutyRuleVersion]:
    """The rule of each duty that governs ``region`` on ``day`` (the most specific jurisdiction wins)."""
    require_region(principal, region, field="region")
    rows = {(r.code, r.region_code, r.effective_from): r for r in session.exec(select(DutyRuleVersion)).all()}
    chosen = effective_rules(rule_versions(session), region_code=region, day=day)
    return [rows[(code, v.region_code, v.effective_from)] for code, v in sorted(chosen.items())]


def rule_public(row: DutyRuleVersion) -> dict[str, Any]:
    return row.model_dump() | {"built_in": row.region_code == ""}
