"""Due dates and day counts (计息天数): month ends roll, 30-day months and 360/365/actual years are explicit."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum


class RepaymentFrequencyType(StrEnum):
    """Fineract ``repaymentFrequencyType``: the unit a repayment period is counted in."""

    days = "days"
    weeks = "weeks"
    months = "months"
    years = "years"


class DaysInYearType(StrEnum):
    """Fineract ``daysInYearType``: the denominator of the daily rate (日利率 = 年利率 ÷ 360 at most Chinese banks)."""

    days_360 = "days_360"
    days_365 = "days_365"
    actual = "actual"


class DaysInMonthType(StrEnum):
    """Fineract ``daysInMonthType``: count calendar days, or every whole month as 30 days."""

    days_30 = "days_30"
    actual = "actual"


def add_months(anchor: date, months: int) -> date:
    """``anchor`` moved by whole months, keeping its day or the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = anchor.month - 1 + months
    year, month = anchor.year + index // 12, index % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def step(anchor: date, *, periods: int, every: int, frequency: RepaymentFrequencyType) -> date:
    """The date ``periods`` repayment periods after ``anchor``, always counted from the anchor so month ends roll."""
    count = periods * every
    if frequency is RepaymentFrequencyType.days:
        return anchor + timedelta(days=count)
    if frequency is RepaymentFrequencyType.weeks:
        return anchor + timedelta(weeks=count)
    if frequency is RepaymentFrequencyType.months:
        return add_months(anchor, count)
    return add_months(anchor, 12 * count)


def whole_months(start: date, end: date) -> tuple[int, int]:
    """(whole months, days left over) from ``start`` to ``end``.

    A start on a month end may count to any later month end (29 Feb → 31 Mar is one month), since a schedule
    anchored on the 31st passes through shorter months' ends.
    """
    month_end = start.day == calendar.monthrange(start.year, start.month)[1]
    counts = [_count(start, end, sticky=sticky) for sticky in ((False, True) if month_end else (False,))]
    return max(counts, key=lambda c: (c[0], -c[1]))


def _count(start: date, end: date, *, sticky: bool) -> tuple[int, int]:
    months = (end.year - start.year) * 12 + end.month - start.month
    while months > 0 and _shift(start, months, sticky=sticky) > end:
        months -= 1
    months = max(months, 0)
    return months, (end - _shift(start, months, sticky=sticky)).days


def _shift(start: date, months: int, *, sticky: bool) -> date:
    if not sticky or months == 0:
        return add_months(start, months)
    moved = add_months(start.replace(day=1), months)
    return moved.replace(day=calendar.monthrange(moved.year, moved.month)[1])


def days_between(start: date, end: date, *, days_in_month: DaysInMonthType) -> int:
    """Interest days from ``start`` (inclusive) to ``end`` (exclusive); with 30-day months a whole month is 30."""
    if days_in_month is DaysInMonthType.actual:
        return (end - start).days
    months, rest = whole_months(start, end)
    return 30 * months + min(rest, 30)


def year_parts(
    start: date, end: date, *, days_in_year: DaysInYearType, days_in_month: DaysInMonthType = DaysInMonthType.actual
) -> list[tuple[int, int]]:
    """The day count (计息天数) of ``start``..``end`` as (days, days in the year they count against) parts.

    360 and 365 give one part. Actual/actual splits the period at each 1 January so days in a leap year count
    1/366, the rest 1/365; with 30-day months the start's year gives the denominator. Scheduled interest
    (``year_fraction``) and penalty interest both count days with this function.
    """
    days = days_between(start, end, days_in_month=days_in_month)
    if days_in_year is DaysInYearType.days_360:
        return [(days, 360)]
    if days_in_year is DaysInYearType.days_365:
        return [(days, 365)]
    if days_in_month is DaysInMonthType.days_30:
        return [(days, _year_length(start.year))]
    parts = []
    cursor = start
    while cursor < end:
        boundary = min(date(cursor.year + 1, 1, 1), end)
        parts.append(((boundary - cursor).days, _year_length(cursor.year)))
        cursor = boundary
    return parts


def year_fraction(
    start: date, end: date, *, days_in_year: DaysInYearType, days_in_month: DaysInMonthType
) -> tuple[int, Decimal]:
    """(days, fraction of a year) for the interest of ``start``..``end`` (the parts of ``year_parts``)."""
    days = days_between(start, end, days_in_month=days_in_month)
    parts = year_parts(start, end, days_in_year=days_in_year, days_in_month=days_in_month)
    return days, sum((Decimal(d) / year for d, year in parts), Decimal(0))


def _year_length(year: int) -> int:
    return 366 if calendar.isleap(year) else 365
