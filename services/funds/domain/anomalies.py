"""Anomaly findings (虚报冒领、截留私分、优亲厚友): pure detectors over payments and balances.

Each finding has a stable key (kind and sorted evidence), so a re-run over unchanged data finds nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

ZERO = Decimal("0.00")


class AnomalyKind(StrEnum):
    duplicate_payment = "duplicate_payment"  # 重复发放
    deceased_payee = "deceased_payee"  # 向已故人员发放 (虚报冒领)
    ineligible_payee = "ineligible_payee"  # 向非建档立卡户或已脱贫户发放
    shared_account = "shared_account"  # 多户共用一个账户 (截留私分)
    split_payment = "split_payment"  # 拆分支付规避审批
    cadre_household = "cadre_household"  # 向村干部、财政供养人员家庭发放 (优亲厚友)
    over_budget = "over_budget"  # 项目超预算支付
    idle_funds = "idle_funds"  # 资金闲置


@dataclass(frozen=True)
class PaymentFact:
    payment_id: str
    project_id: str
    region_code: str
    payee_household_id: str | None
    payee_member_id: str | None
    account_hash: str
    amount: Decimal
    purpose: str
    pay_date: date
    to_poor_only: bool


@dataclass(frozen=True)
class Finding:
    kind: AnomalyKind
    region_code: str
    amount: Decimal
    evidence_ids: tuple[str, ...]
    summary: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}:" + ",".join(sorted(self.evidence_ids))


def _finding(kind: AnomalyKind, payments: Sequence[PaymentFact], summary: str) -> Finding:
    ids = tuple(sorted(p.payment_id for p in payments))
    return Finding(kind, payments[0].region_code, sum((p.amount for p in payments), ZERO), ids, summary)


def duplicates(payments: Iterable[PaymentFact], *, window_days: int) -> list[Finding]:
    """The same payee paid the same amount for the same purpose twice within the window."""
    groups: dict[tuple[str, str, Decimal], list[PaymentFact]] = defaultdict(list)
    for p in payments:
        if p.payee_household_id:
            groups[(p.payee_household_id, p.purpose, p.amount)].append(p)
    found = []
    for (_, purpose, _), group in groups.items():
        group.sort(key=lambda p: p.pay_date)
        for a, b in pairwise(group):
            if (b.pay_date - a.pay_date).days <= window_days:
                found.append(_finding(AnomalyKind.duplicate_payment, [a, b], f"paid twice for {purpose}"))
    return found


def deceased(payments: Iterable[PaymentFact], deaths: dict[str, date]) -> list[Finding]:
    """A payment to a person on or after the day they died."""
    return [
        _finding(AnomalyKind.deceased_payee, [p], f"payee died on {deaths[p.payee_member_id]}")
        for p in payments
        if p.payee_member_id in deaths and deaths[p.payee_member_id] <= p.pay_date
    ]


def ineligible(payments: Iterable[PaymentFact], recognised: dict[str, bool]) -> list[Finding]:
    """A payment for poor households to a household that was not recognised (or had exited) that day.

    ``recognised`` is keyed by ``payment_id``: the caller evaluates each payee on its payment date.
    """
    return [
        _finding(AnomalyKind.ineligible_payee, [p], "payee not a recognised poor household on the payment date")
        for p in payments
        if p.to_poor_only and not recognised.get(p.payment_id, False)
    ]


def shared_accounts(payments: Iterable[PaymentFact]) -> list[Finding]:
    """One bank account receiving money for more than one household."""
    by_account: dict[str, list[PaymentFact]] = defaultdict(list)
    for p in payments:
        if p.payee_household_id and p.account_hash:
            by_account[p.account_hash].append(p)
    found = []
    for group in by_account.values():
        households = {p.payee_household_id for p in group}
        if len(households) > 1:
            summary = f"one account paid for {len(households)} households"
            found.append(_finding(AnomalyKind.shared_account, group, summary))
    return found


def splits(payments: Iterable[PaymentFact], *, threshold: Decimal | None, window_days: int) -> list[Finding]:
    """Payments to one payee on one project, each under the approval threshold, together at or above it."""
    if threshold is None:
        return []
    groups: dict[tuple[str, str], list[PaymentFact]] = defaultdict(list)
    for p in payments:
        if p.payee_household_id and p.amount < threshold:
            groups[(p.payee_household_id, p.project_id)].append(p)
    found = []
    for group in groups.values():
        group.sort(key=lambda p: p.pay_date)
        within = [p for p in group if (p.pay_date - group[0].pay_date).days <= window_days]
        if len(within) > 1 and sum((p.amount for p in within), ZERO) >= threshold:
            found.append(_finding(AnomalyKind.split_payment, within, f"{len(within)} payments under {threshold}"))
    return found


def cadre_households(payments: Iterable[PaymentFact], flagged: dict[str, str]) -> list[Finding]:
    """Payments to a household flagged as a village cadre's or public-payroll staff's (``flagged``: why)."""
    return [
        _finding(AnomalyKind.cadre_household, [p], f"payee household flagged: {flagged[p.payee_household_id]}")
        for p in payments
        if p.payee_household_id in flagged
    ]


@dataclass(frozen=True)
class ProjectSpend:
    project_id: str
    region_code: str
    budget: Decimal
    paid: Decimal


def over_budget(projects: Iterable[ProjectSpend]) -> list[Finding]:
    """A project that has paid out more than its budget lines plan."""
    return [
        Finding(
            AnomalyKind.over_budget,
            p.region_code,
            p.paid - p.budget,
            (p.project_id,),
            f"paid {p.paid} against a budget of {p.budget}",
        )
        for p in projects
        if p.paid > p.budget
    ]


@dataclass(frozen=True)
class IdleBalance:
    account_id: str
    region_code: str
    balance: Decimal
    last_outflow: date | None
    funded_on: date


def idle(balances: Iterable[IdleBalance], *, today: date, days: int) -> list[Finding]:
    """Money sitting unspent on an account for more than ``days`` since it last moved out (or came in)."""
    found = []
    for b in balances:
        since = b.last_outflow or b.funded_on
        if b.balance > 0 and (today - since).days > days:
            found.append(
                Finding(
                    AnomalyKind.idle_funds,
                    b.region_code,
                    b.balance,
                    (b.account_id, since.isoformat()),
                    f"{b.balance} unspent since {since}",
                )
            )
    return found
