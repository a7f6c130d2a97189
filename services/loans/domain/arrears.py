"""Arrears (逾期): days past due, the ageing bucket, accrued interest and penalty interest (罚息) for a day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.loans.domain.calendar import DaysInYearType, year_parts

BUCKETS = ((30, "1-30"), (60, "31-60"), (90, "61-90"))
CURRENT = "current"
OVER_90 = "90+"
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class OpenInstallment:
    """The part of an installment the nightly job reads."""

    from_date: date
    due_date: date
    interest_due: Decimal
    unpaid: Decimal


def days_past_due(day: date, installments: list[OpenInstallment]) -> int:
    """Days since the oldest due date still unpaid on ``day`` (0 when nothing is past due)."""
    overdue = [i.due_date for i in installments if i.unpaid > 0 and i.due_date < day]
    return (day - min(overdue)).days if overdue else 0


def bucket(dpd: int, *, grace_days: int) -> str:
    """The ageing bucket (1–30, 31–60, 61–90, 90+ days past due); within the grace days a loan is current."""
    if dpd <= grace_days or dpd == 0:
        return CURRENT
    for limit, name in BUCKETS:
        if dpd <= limit:
            return name
    return OVER_90


def accrued_interest(day: date, installments: list[OpenInstallment], *, earlier: Decimal = Decimal(0)) -> Decimal:
    """Scheduled interest earned by the end of ``day``: whole past periods plus the running one pro rata.

    ``earlier`` is interest of past periods the caller summed already (and left out of ``installments``).
    """
    total = earlier
    for i in installments:
        if i.due_date <= day:
            total += i.interest_due
        elif i.from_date < day:
            total += i.interest_due * (day - i.from_date).days / (i.due_date - i.from_date).days
    return total.quantize(Decimal("0.01"))


def penalty_interest(
    *, principal: Decimal, annual_rate: Decimal, uplift: Decimal, parts: Sequence[tuple[int, int]]
) -> Decimal:
    """Penalty interest on overdue principal: principal × daily rate × (1 + uplift) × days (never subsidised).

    ``parts`` is the day count (``calendar.year_parts``): days with the days of the year they count against.
    """
    if principal <= 0:
        return Decimal(0)
    total = Decimal(0)
    for days, year in parts:
        if days > 0:
            total += principal * (annual_rate / HUNDRED * (1 + uplift / HUNDRED) / year) * days
    return total.quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class PenaltyRule:
    """The product's penalty terms: contract rate, uplift (e.g. +50 %), penalty-free grace days, days a year."""

    annual_rate: Decimal
    uplift: Decimal
    grace_days: int
    days_in_year: DaysInYearType = DaysInYearType.days_360


def penalty_increment(
    rule: PenaltyRule, *, unpaid_principal: Decimal, due_date: date, through: date | None, day: date
) -> tuple[Decimal, date | None]:
    """Penalty to add for the days after ``through`` up to ``day``, and the new ``through``.

    Counting from the last day already accrued makes a second run for the same (or an earlier) day add nothing.
    """
    start = max(through or due_date, due_date)
    if day <= start or unpaid_principal <= 0 or (day - due_date).days <= rule.grace_days:
        return Decimal(0), through
    amount = penalty_interest(
        principal=unpaid_principal,
        annual_rate=rule.annual_rate,
        uplift=rule.uplift,
        parts=year_parts(start, day, days_in_year=rule.days_in_year),
    )
    return amount, day
