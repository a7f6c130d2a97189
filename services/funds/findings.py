"""The anomaly job (疑点排查): detectors over the ledger and read models; each new finding emits funds.anomaly."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.funds import rules
from services.funds.disbursements import status_events
from services.funds.domain import anomalies as an
from services.funds.domain.eligibility import recognised_on
from services.funds.domain.payments import PaymentStatus
from services.funds.models import (
    Account,
    DeceasedMember,
    Entry,
    Finding,
    FlaggedHousehold,
    LedgerTransaction,
    Payment,
    Project,
    ProjectLine,
)
from services.funds.schemas import FindingDecision
from shared import audit
from shared.auth import Principal
from shared.clock import session_clock
from shared.errors import Conflict
from shared.events.outbox import emit
from shared.jobs import PeriodicJob
from shared.scope import get_in_scope

OUT_OF_PROJECT = [PaymentStatus.sent.value, PaymentStatus.paid.value]


def _payments(session: Session, day: date) -> list[tuple[an.PaymentFact, bool]]:
    rows = session.exec(
        select(Payment, Project.to_poor_only)
        .join(Project, col(Project.id) == Payment.project_id)
        .where(col(Payment.status).in_(OUT_OF_PROJECT), Payment.pay_date <= day)
    ).all()
    return [
        (
            an.PaymentFact(
                payment_id=p.id,
                project_id=p.project_id,
                region_code=p.region_code,
                payee_household_id=p.payee_household_id,
                payee_member_id=p.payee_member_id,
                account_hash=p.account_hash,
                amount=p.amount,
                purpose=p.purpose,
                pay_date=p.pay_date,
                to_poor_only=poor_only,
            ),
            poor_only,
        )
        for p, poor_only in rows
    ]


def _recognised(session: Session, payments: list[an.PaymentFact]) -> dict[str, bool]:
    out = {}
    for p in payments:
        if p.to_poor_only and p.payee_household_id:
            out[p.payment_id] = recognised_on(status_events(session, p.payee_household_id), p.pay_date)
    return out


def _spends(session: Session) -> list[an.ProjectSpend]:
    planned = dict(
        session.exec(
            select(ProjectLine.project_id, func.sum(ProjectLine.planned_amount)).group_by(ProjectLine.project_id)
        ).all()
    )
    paid = session.exec(
        select(Payment.project_id, Project.region_code, func.sum(Payment.amount))
        .join(Project, col(Project.id) == Payment.project_id)
        .where(col(Payment.status).in_(OUT_OF_PROJECT))
        .group_by(Payment.project_id, Project.region_code)
    ).all()
    return [an.ProjectSpend(pid, region, Decimal(planned.get(pid, 0)), Decimal(total)) for pid, region, total in paid]


def _idle_balances(session: Session, day: date) -> list[an.IdleBalance]:
    held = session.exec(
        select(Account.id, Account.region_code, func.sum(Entry.amount), func.min(LedgerTransaction.occurred_on))
        .join(Entry, col(Entry.account_id) == Account.id)
        .join(LedgerTransaction, col(LedgerTransaction.id) == Entry.transaction_id)
        .where(col(Account.kind).in_(["budget", "project"]), LedgerTransaction.occurred_on <= day)
        .group_by(Account.id, Account.region_code)
    ).all()
    outflows = dict(
        session.exec(
            select(Entry.account_id, func.max(LedgerTransaction.occurred_on))
            .join(LedgerTransaction, col(LedgerTransaction.id) == Entry.transaction_id)
            .where(Entry.amount < 0, LedgerTransaction.occurred_on <= day)
            .group_by(Entry.account_id)
        ).all()
    )
    return [
        an.IdleBalance(aid, region, Decimal(total), outflows.get(aid), first)
        for aid, region, total, first in held
        if Decimal(total) > 0
    ]


def detect(session: Session, day: date) -> list[an.Finding]:
    """Every finding the data shows on ``day``, new or not."""
    body = rules.rules_for(session, region_code="", year=day.year)
    facts = [f for f, _ in _payments(session, day)]
    deaths = dict(session.exec(select(col(DeceasedMember.member_id), col(DeceasedMember.died_on))).all())
    flagged = dict(session.exec(select(FlaggedHousehold.household_id, FlaggedHousehold.reason)).all())
    by_county: dict[str, list[an.PaymentFact]] = defaultdict(list)
    for f in facts:
        by_county[f.region_code[:6]].append(f)
    found: list[an.Finding] = []
    for county, group in by_county.items():
        local = rules.rules_for(session, region_code=county, year=day.year)
        found += an.duplicates(group, window_days=local.duplicate_window_days)
        found += an.splits(group, threshold=local.approval_threshold, window_days=local.duplicate_window_days)
    found += an.deceased(facts, deaths)
    found += an.ineligible(facts, _recognised(session, facts))
    found += an.shared_accounts(facts)
    found += an.cadre_households(facts, flagged)
    found += an.over_budget(_spends(session))
    found += an.idle(_idle_balances(session, day), today=day, days=body.idle_days)
    return found


def scan(session: Session, day: date) -> int:
    """Record the findings not seen before, each with a funds.anomaly event; a re-run adds nothing twice."""
    known = set(session.exec(select(Finding.key)).all())
    now = session_clock(session).now()
    new = 0
    for f in detect(session, day):
        if f.key in known:
            continue
        known.add(f.key)
        row = Finding(
            kind=f.kind.value,
            key=f.key[:400],
            region_code=f.region_code,
            amount=f.amount,
            evidence_ids=list(f.evidence_ids),
            summary=f.summary[:300],
            found_on=day,
            found_at=now,
        )
        session.add(row)
        session.flush()
        emit(
            session,
            "funds.anomaly",
            row.id,
            {
                "finding_id": row.id,
                "kind": row.kind,
                "region_code": row.region_code,
                "amount": f"{row.amount:.2f}",
                "evidence_ids": row.evidence_ids,
                "summary": row.summary,
            },
        )
        new += 1
    return new


def get_finding(session: Session, finding_id: str, principal: Principal) -> Finding:
    return get_in_scope(session, Finding, finding_id, principal, what="finding")


def decide(session: Session, finding: Finding, body: FindingDecision, principal: Principal) -> Finding:
    """Close a finding as explained (情况说明) or confirmed (属实), with who and why, into the audit log."""
    if finding.status != "open":
        raise Conflict(f"the finding is already {finding.status}", field="status")
    finding.status, finding.decision_reason = body.status, body.reason
    finding.decided_by, finding.decided_at = principal.subject, session_clock(session).now()
    session.add(finding)
    audit.record(
        session,
        actor=principal.subject,
        action=f"finding.{body.status}",
        resource=f"finding/{finding.id}",
        detail={"reason": body.reason, "kind": finding.kind},
    )
    return finding


ANOMALY_JOB = PeriodicJob(name="anomaly-scan", run=scan, description="疑点排查: anomaly findings over the ledger")
