"""Income declarations (收入申报) per household and year, with the per-capita net income worked out."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from services.registry.domain.changes import Period, member_on
from services.registry.domain.income import IncomeLines, net_income, per_capita_net_income
from services.registry.models import IncomeDeclaration, Member
from services.registry.schemas import IncomeCreate
from services.registry.service import get_household
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict, ValidationFailed

LINE_NAMES = ("wages", "production_gross", "production_costs", "property", "transfers", "policy_payments")


def household_size_in(session: Session, household_id: str, *, year: int, today: date) -> int:
    """Members counted for a year's income: those in the household at year end (or today, for this year)."""
    day = min(date(year, 12, 31), today)
    members = session.exec(select(Member).where(Member.household_id == household_id)).all()
    return sum(member_on(period=Period(m.joined_on, m.left_on), day=day) for m in members)


def declare_income(session: Session, household_id: str, body: IncomeCreate, principal: Principal) -> IncomeDeclaration:
    """Record one year's income from one source; the per-capita figure is computed, never typed in."""
    get_household(session, household_id, principal)
    clock = session_clock(session)
    if body.year > clock.today().year:
        raise ValidationFailed(f"income for {body.year} cannot be declared before that year", field="year")
    known = session.exec(
        select(IncomeDeclaration.id).where(
            IncomeDeclaration.household_id == household_id,
            IncomeDeclaration.year == body.year,
            IncomeDeclaration.source == body.source,
        )
    ).first()
    if known:
        raise Conflict(f"{body.source} income for {body.year} is already recorded as {known}", field="year")
    amounts = {name: getattr(body, name) for name in LINE_NAMES}  # Decimals (model_dump would give strings)
    lines = IncomeLines(**amounts)
    size = household_size_in(session, household_id, year=body.year, today=clock.today())
    row = IncomeDeclaration(
        household_id=household_id,
        year=body.year,
        source=body.source,
        **amounts,
        household_size=size,
        net_income=net_income(lines=lines),
        per_capita_net_income=per_capita_net_income(lines=lines, household_size=size),
        recorded_by=principal.subject,
        recorded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def list_incomes(session: Session, household_id: str, principal: Principal) -> list[IncomeDeclaration]:
    get_household(session, household_id, principal)
    query = select(IncomeDeclaration).where(IncomeDeclaration.household_id == household_id)
    return list(session.exec(query.order_by(col(IncomeDeclaration.year), col(IncomeDeclaration.source))).all())
