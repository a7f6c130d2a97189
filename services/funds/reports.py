"""Reports (报表): budget against arrival against spending by source, project and region; open findings by region."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from services.funds import accounts, budgets
from services.funds.domain.ledger import ZERO
from services.funds.models import Budget, Finding, FundSource, Payment, Project, ProjectLine
from shared.auth import Principal
from shared.money import Money
from shared.scope import in_scope

SPENT = ("sent", "paid")


class ExecutionRow(BaseModel):
    """One row of 预算执行: planned, arrived, allocated to projects, paid out (sent or paid)."""

    key: str
    name: str
    planned: Money
    arrived: Money
    allocated: Money
    spent: Money


class ExecutionReport(BaseModel):
    year: int
    by_source: list[ExecutionRow]
    by_project: list[ExecutionRow]
    by_region: list[ExecutionRow]


class FindingCount(BaseModel):
    region_code: str
    kind: str
    open: int
    amount: Money


def _spent_by_line(session: Session, line_ids: list[str]) -> dict[str, Decimal]:
    if not line_ids:
        return {}
    rows = session.exec(
        select(Payment.line_id, func.sum(Payment.amount))
        .where(col(Payment.line_id).in_(line_ids), col(Payment.status).in_(SPENT))
        .group_by(Payment.line_id)
    ).all()
    return {line: Decimal(total) for line, total in rows}


def _allocated(session: Session, lines: list[ProjectLine]) -> dict[str, Decimal]:
    """What each line received: its balance plus what left it (sent or paid payments)."""
    held = accounts.balances(session, [line.account_id for line in lines])
    spent = _spent_by_line(session, [line.id for line in lines])
    return {line.id: held[line.account_id] + spent.get(line.id, ZERO) for line in lines}


def execution(session: Session, principal: Principal, *, year: int, region: str | None) -> ExecutionReport:
    """预算执行情况: per source, project and township, in the caller's scope."""
    budget_rows = list(
        session.exec(select(Budget).where(Budget.year == year, in_scope(Budget.region_code, principal, region)))
    )
    projects = list(
        session.exec(select(Project).where(Project.year == year, in_scope(Project.region_code, principal, region)))
    )
    lines = list(session.exec(select(ProjectLine).where(col(ProjectLine.project_id).in_([p.id for p in projects]))))
    allocated = _allocated(session, lines)
    spent = _spent_by_line(session, [line.id for line in lines])
    sources = {s.id: s for s in session.exec(select(FundSource))}
    by_source: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * 4)
    budget_source = {b.id: b.source_id for b in session.exec(select(Budget).where(Budget.year == year))}
    for b in budget_rows:
        row = by_source[b.source_id]
        row[0] += b.planned_amount
        row[1] += budgets.arrived(session, b.id)[0]
    for line in lines:
        row = by_source[budget_source.get(line.budget_id, "")]
        row[2] += allocated[line.id]
        row[3] += spent.get(line.id, ZERO)
    by_project: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * 4)
    by_region: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * 4)
    project_of = {p.id: p for p in projects}
    for line in lines:
        project = project_of[line.project_id]
        for row in (by_project[project.id], by_region[project.region_code[:9]]):
            row[0] += line.planned_amount
            row[2] += allocated[line.id]
            row[3] += spent.get(line.id, ZERO)

    def rows(table: dict[str, list[Decimal]], name: dict[str, str]) -> list[ExecutionRow]:
        return [
            ExecutionRow(key=k, name=name.get(k, k), planned=v[0], arrived=v[1], allocated=v[2], spent=v[3])
            for k, v in sorted(table.items())
        ]

    return ExecutionReport(
        year=year,
        by_source=rows(by_source, {k: s.name for k, s in sources.items()}),
        by_project=rows(by_project, {p.id: p.name for p in projects}),
        by_region=rows(by_region, {}),
    )


def open_findings(session: Session, principal: Principal, *, region: str | None) -> list[FindingCount]:
    """Open findings by township and kind (疑点台账)."""
    township = func.substr(Finding.region_code, 1, 9)
    rows = session.exec(
        select(township, Finding.kind, func.count(), func.sum(Finding.amount))
        .where(Finding.status == "open", in_scope(Finding.region_code, principal, region))
        .group_by(township, Finding.kind)
        .order_by(township, Finding.kind)
    ).all()
    return [FindingCount(region_code=r, kind=k, open=n, amount=Decimal(a or 0)) for r, k, n, a in rows]
