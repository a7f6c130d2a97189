"""Interest subsidy (贴息): the government's part of each installment's interest, and when it is owed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

FEN = Decimal("0.01")


class Coverage(StrEnum):
    """How much of the interest the government pays: all, half, up to the benchmark rate (按基础利率), none."""

    full = "full"
    half = "half"
    benchmark_capped = "benchmark_capped"
    none = "none"


class SubsidyMode(StrEnum):
    """直接贴息 each period or at settlement (the borrower is billed only the rest), or 先收后贴."""

    direct_periodic = "direct_periodic"
    direct_at_settlement = "direct_at_settlement"
    collect_then_reimburse = "collect_then_reimburse"


def subsidised_interest(interest: Decimal, *, coverage: Coverage, rate: Decimal, benchmark: Decimal) -> Decimal:
    """The government's part of ``interest`` charged at ``rate`` (penalty interest is never passed here)."""
    if coverage is Coverage.full:
        share = Decimal(1)
    elif coverage is Coverage.half:
        share = Decimal("0.5")
    elif coverage is Coverage.benchmark_capped:
        share = min(benchmark, rate) / rate if rate > 0 else Decimal(0)
    else:
        share = Decimal(0)
    return (interest * share).quantize(FEN, rounding=ROUND_HALF_UP)


def borrower_bills_net(mode: SubsidyMode) -> bool:
    """In direct modes the borrower is billed only the unsubsidised interest."""
    return mode is not SubsidyMode.collect_then_reimburse


def paid_on_time(*, due_date: date, paid_on: date | None, grace_days: int) -> bool:
    """Subsidy is only for interest paid on time (逾期贷款不享受贴息): by the due date plus the grace days."""
    return paid_on is not None and paid_on <= due_date + timedelta(days=grace_days)


def earned_share(subsidy_due: Decimal, *, interest_due: Decimal, interest_waived: Decimal) -> Decimal:
    """An installment's subsidy for the interest actually charged: all of it unless interest was waived."""
    if interest_due == 0:
        return Decimal("0.00")
    return (subsidy_due * (interest_due - interest_waived) / interest_due).quantize(FEN)


def period_containing(day: date, *, months: int) -> tuple[date, date]:
    """The subsidy period (calendar quarters for 3 months) holding ``day``: (first day, last day)."""
    index = (day.month - 1) // months * months
    start = date(day.year, index + 1, 1)
    end_month = index + months
    end = date(day.year + end_month // 12, end_month % 12 + 1, 1) - timedelta(days=1)
    return start, end


def previous_period(day: date, *, months: int) -> tuple[date, date]:
    """The last subsidy period that ended before ``day``."""
    start, _ = period_containing(day, months=months)
    return period_containing(start - timedelta(days=1), months=months)
