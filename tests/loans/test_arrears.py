"""Arrears rules (逾期): the day count shared with the schedule engine, penalty interest, accrual, buckets, and an
installment's subsidy share: table-driven, and their properties for any dates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.loans.domain.arrears import (
    OpenInstallment,
    PenaltyRule,
    accrued_interest,
    bucket,
    penalty_increment,
    penalty_interest,
)
from services.loans.domain.calendar import DaysInMonthType, DaysInYearType, year_fraction, year_parts
from services.loans.domain.subsidy import earned_share

D = Decimal
Y360, Y365, ACTUAL = DaysInYearType.days_360, DaysInYearType.days_365, DaysInYearType.actual
RULE = dict(annual_rate=D("4.35"), uplift=D("50"))  # 4.35 % a year, +50 % for penalty interest


@pytest.mark.parametrize(
    ("start", "end", "year", "month", "parts"),
    [
        (date(2025, 3, 1), date(2025, 3, 19), Y360, DaysInMonthType.actual, [(18, 360)]),
        (date(2025, 3, 1), date(2025, 3, 19), Y365, DaysInMonthType.actual, [(18, 365)]),
        (date(2025, 3, 1), date(2025, 3, 19), ACTUAL, DaysInMonthType.actual, [(18, 365)]),
        (date(2024, 3, 1), date(2024, 3, 19), ACTUAL, DaysInMonthType.actual, [(18, 366)]),  # leap year
        (date(2024, 2, 1), date(2024, 3, 1), ACTUAL, DaysInMonthType.actual, [(29, 366)]),  # over 29 February
        (date(2023, 12, 20), date(2024, 1, 10), ACTUAL, DaysInMonthType.actual, [(12, 365), (9, 366)]),
        (date(2024, 12, 20), date(2025, 1, 10), ACTUAL, DaysInMonthType.actual, [(12, 366), (9, 365)]),
        (date(2023, 12, 31), date(2025, 1, 2), ACTUAL, DaysInMonthType.actual, [(1, 365), (366, 366), (1, 365)]),
        (date(2024, 1, 15), date(2024, 2, 15), ACTUAL, DaysInMonthType.days_30, [(30, 366)]),
        (date(2024, 1, 15), date(2024, 2, 15), Y360, DaysInMonthType.days_30, [(30, 360)]),
        (date(2025, 3, 1), date(2025, 3, 1), ACTUAL, DaysInMonthType.actual, []),
    ],
)
def test_the_day_count(
    start: date, end: date, year: DaysInYearType, month: DaysInMonthType, parts: list[tuple[int, int]]
) -> None:
    assert year_parts(start, end, days_in_year=year, days_in_month=month) == parts


def _penalty(principal: str, year: DaysInYearType, start: date, end: date) -> Decimal:
    return penalty_interest(principal=D(principal), parts=year_parts(start, end, days_in_year=year), **RULE)


DAILY = D("0.0435") * D("1.5")  # the penalty rate a year


@pytest.mark.parametrize(
    ("principal", "year", "start", "end", "expected"),
    [
        # 18 days overdue on 1,000.00: principal × 4.35 % × 1.5 ÷ days a year × days
        ("1000.00", Y360, date(2025, 2, 16), date(2025, 3, 6), D(1000) * DAILY / 360 * 18),
        ("1000.00", Y365, date(2025, 2, 16), date(2025, 3, 6), D(1000) * DAILY / 365 * 18),
        ("1000.00", ACTUAL, date(2025, 2, 16), date(2025, 3, 6), D(1000) * DAILY / 365 * 18),  # was ÷ 360
        ("1000.00", ACTUAL, date(2024, 2, 16), date(2024, 3, 6), D(1000) * DAILY / 366 * 19),  # 29 Feb
        (
            "1000.00",
            ACTUAL,
            date(2023, 12, 20),
            date(2024, 1, 10),
            D(1000) * DAILY / 365 * 12 + D(1000) * DAILY / 366 * 9,
        ),
        ("1000.00", ACTUAL, date(2025, 3, 6), date(2025, 3, 6), D(0)),
        ("0.00", ACTUAL, date(2024, 2, 16), date(2024, 3, 6), D(0)),
    ],
)
def test_penalty_interest_counts_days_as_the_schedule_does(
    principal: str, year: DaysInYearType, start: date, end: date, expected: Decimal
) -> None:
    assert _penalty(principal, year, start, end) == expected.quantize(D("0.000001"))


@pytest.mark.parametrize(
    ("through", "day", "added", "new_through"),
    [
        (None, date(2024, 3, 1), D(0), None),  # 3 days late: inside the grace days
        (None, date(2024, 3, 6), "from_due", date(2024, 3, 6)),
        (date(2024, 3, 6), date(2024, 3, 6), D(0), date(2024, 3, 6)),  # the same day again: nothing
        (date(2024, 3, 6), date(2024, 3, 1), D(0), date(2024, 3, 6)),  # an earlier day: nothing
        (date(2024, 3, 6), date(2024, 3, 9), "three_days", date(2024, 3, 9)),
    ],
)
def test_penalty_counts_from_the_last_day_accrued(
    through: date | None, day: date, added: Decimal | str, new_through: date | None
) -> None:
    due = date(2024, 2, 27)
    rule = PenaltyRule(RULE["annual_rate"], RULE["uplift"], 3, ACTUAL)
    expected = {
        "from_due": _penalty("1000.00", ACTUAL, due, day),
        "three_days": _penalty("1000.00", ACTUAL, date(2024, 3, 6), day),
    }.get(str(added), added)
    got = penalty_increment(rule, unpaid_principal=D("1000.00"), due_date=due, through=through, day=day)
    assert got == (expected, new_through)


@pytest.mark.parametrize(
    ("dpd", "grace", "name"),
    [
        (0, 0, "current"),
        (3, 3, "current"),
        (4, 3, "1-30"),
        (30, 0, "1-30"),
        (31, 0, "31-60"),
        (60, 0, "31-60"),
        (61, 0, "61-90"),
        (90, 0, "61-90"),
        (91, 0, "90+"),
        (400, 5, "90+"),
    ],
)
def test_buckets(dpd: int, grace: int, name: str) -> None:
    assert bucket(dpd, grace_days=grace) == name


@pytest.mark.parametrize(
    ("subsidy", "interest", "waived", "share"),
    [
        ("43.50", "43.50", "0.00", "43.50"),  # nothing waived: the whole subsidy
        ("30.45", "43.50", "0.00", "30.45"),
        ("43.50", "43.50", "21.75", "21.75"),  # half the interest waived: half the subsidy
        ("30.45", "43.50", "10.00", "23.45"),
        ("0.00", "0.00", "0.00", "0.00"),
        ("10.00", "30.00", "20.00", "3.33"),  # 3.333… rounds to the fen
    ],
)
def test_an_installments_subsidy_share(subsidy: str, interest: str, waived: str, share: str) -> None:
    assert earned_share(D(subsidy), interest_due=D(interest), interest_waived=D(waived)) == D(share)


days = st.dates(min_value=date(1999, 1, 1), max_value=date(2060, 12, 31))


@given(days, st.integers(0, 2000), st.sampled_from(DaysInYearType))
def test_the_parts_add_up_to_the_days_and_to_the_schedules_fraction(
    start: date, length: int, year: DaysInYearType
) -> None:
    end = start + timedelta(days=length)
    parts = year_parts(start, end, days_in_year=year)
    assert sum(d for d, _ in parts) == length
    assert all(y in (360, 365, 366) for _, y in parts)
    days_, fraction = year_fraction(start, end, days_in_year=year, days_in_month=DaysInMonthType.actual)
    assert (days_, fraction) == (length, sum((D(d) / y for d, y in parts), D(0)))


@given(days, st.integers(0, 800), st.integers(0, 800), st.sampled_from(DaysInYearType))
def test_penalty_night_by_night_is_penalty_at_once(start: date, first: int, second: int, year: DaysInYearType) -> None:
    """Accruing through a middle day then on to the end is the whole span at once, to the rounding of one step."""
    middle, end = start + timedelta(days=first), start + timedelta(days=first + second)
    split = _penalty("50000.00", year, start, middle) + _penalty("50000.00", year, middle, end)
    assert abs(split - _penalty("50000.00", year, start, end)) <= D("0.000001")


amounts = st.decimals(min_value=0, max_value=5000, places=2)


@given(days, st.lists(st.tuples(st.integers(1, 95), amounts), min_size=1, max_size=40), st.integers(0, 4000))
def test_interest_summed_before_is_the_same_as_read_row_by_row(
    start: date, periods: list[tuple[int, Decimal]], offset: int
) -> None:
    """The nightly job sums past periods' interest in SQL and reads only the later ones: the same accrual."""
    installments, cursor = [], start
    for length, interest in periods:
        installments.append(OpenInstallment(cursor, cursor + timedelta(days=length), interest, D(0)))
        cursor += timedelta(days=length)
    day = start + timedelta(days=offset)
    past = sum((i.interest_due for i in installments if i.due_date <= day), D(0))
    later = [i for i in installments if i.due_date > day]
    assert accrued_interest(day, later, earlier=past) == accrued_interest(day, installments)
