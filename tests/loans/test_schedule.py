"""The schedule engine (还款计划) against hand-checked schedules, and its properties for any terms."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.loans.domain.calendar import DaysInMonthType, DaysInYearType, RepaymentFrequencyType, add_months
from services.loans.domain.schedule import (
    AmortizationType,
    InterestCalculationPeriodType,
    InterestType,
    LoanTerms,
    RepaymentMethod,
    RoundingMode,
    generate_schedule,
)
from shared.refusals import Refused

D = Decimal


def terms(**kw: object) -> LoanTerms:
    base: dict[str, object] = {
        "principal": D("10000"),
        "interest_rate_per_period": D("12"),
        "number_of_repayments": 12,
        "expected_disbursement_date": date(2024, 1, 15),
    }
    base.update(kw)
    return LoanTerms(**base)  # type: ignore[arg-type]


def column(schedule, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(getattr(p, name)) for p in schedule.periods]


class TestTianmenWorkedExample:
    """DOMAIN §4.4: 10万, 1 year, 7.35 %, 阶段性等额本息 — 8 months interest only, then 4 amortised payments."""

    def schedule(self):  # type: ignore[no-untyped-def]
        return generate_schedule(
            terms(
                principal=D("100000"),
                interest_rate_per_period=D("7.35"),
                expected_disbursement_date=date(2017, 6, 7),
                repayment_method=RepaymentMethod.interest_only_then_amortization,
                grace_on_principal_payment=8,
            )
        )

    def test_interest_only_months_then_four_equal_payments(self) -> None:
        s = self.schedule()
        assert column(s, "total_due")[:8] == ["612.50"] * 8
        assert sum(p.total_due for p in s.periods[:8]) == D("4900.00")
        assert column(s, "total_due")[8:] == ["25383.98"] * 4
        assert column(s, "principal_due")[8:] == ["24771.48", "24923.21", "25075.86", "25229.45"]
        assert sum(p.interest_due for p in s.periods[8:]) == D("1535.92")
        assert s.total_interest_charged == D("6435.92")
        assert s.periods[0].due_date == date(2017, 7, 7) and s.maturity_date == date(2018, 6, 7)


CASES = [
    pytest.param(
        terms(),
        ["888.49"] * 11 + ["888.47"],
        ["100.00", "92.12", "84.15"],
        id="等额本息 equal installments 10000 @12% x12",
    ),
    pytest.param(
        terms(principal=D("12000"), amortization_type=AmortizationType.equal_principal),
        [str(D(1000) + D(120 - 10 * k)) + ".00" for k in range(12)],
        ["120.00", "110.00", "100.00"],
        id="等额本金 equal principal 12000 @12% x12",
    ),
    pytest.param(
        terms(
            principal=D("50000"),
            interest_rate_per_period=D("4.35"),
            repayment_every=3,
            repayment_method=RepaymentMethod.periodic_interest_principal_at_maturity,
        ),
        ["543.75"] * 11 + ["50543.75"],
        ["543.75"] * 3,
        id="按季付息到期还本 quarterly interest, principal at maturity, 3 years",
    ),
    pytest.param(
        terms(
            principal=D("50000"),
            interest_rate_per_period=D("4.35"),
            number_of_repayments=1,
            repayment_every=12,
            repayment_method=RepaymentMethod.bullet,
        ),
        ["52175.00"],
        ["2175.00"],
        id="利随本清 bullet, one year",
    ),
    pytest.param(
        terms(principal=D("50000"), interest_rate_per_period=D("4.35"), repayment_method=RepaymentMethod.bullet),
        ["0.00"] * 11 + ["52175.00"],
        ["0.00"] * 3,
        id="利随本清 bullet over monthly periods: interest deferred, not compounded",
    ),
    pytest.param(
        terms(principal=D("12000"), interest_type=InterestType.flat),
        ["1120.00"] * 12,
        ["120.00"] * 3,
        id="flat interest 12000 @12%",
    ),
    pytest.param(
        terms(principal=D("12000"), amortization_type=AmortizationType.equal_principal, grace_on_interest_charged=2),
        ["1000.00", "1000.00", "1100.00"] + [str(D(1000) + D(90 - 10 * k)) + ".00" for k in range(9)],
        ["0.00", "0.00", "100.00"],
        id="grace on interest charged (forgiven) 2 periods",
    ),
    pytest.param(
        terms(principal=D("12000"), amortization_type=AmortizationType.equal_principal, grace_on_interest_payment=2),
        ["1000.00", "1000.00", "1330.00"] + [str(D(1000) + D(90 - 10 * k)) + ".00" for k in range(9)],
        ["0.00", "0.00", "330.00"],
        id="grace on interest payment (deferred) 2 periods",
    ),
    pytest.param(
        terms(installment_amount_in_multiples_of=D("10")),
        ["890.00"] * 11 + ["870.81"],
        ["100.00", "92.10", "84.12"],
        id="installment in multiples of 10 yuan, last absorbs",
    ),
    pytest.param(
        terms(
            principal=D("100000"),
            interest_rate_per_period=D("7.35"),
            number_of_repayments=1,
            repayment_every=12,
            expected_disbursement_date=date(2017, 6, 7),
            interest_calculation_period_type=InterestCalculationPeriodType.daily,
        ),
        ["107452.08"],
        ["7452.08"],
        id="daily interest actual/360, 365 days",
    ),
    pytest.param(
        terms(
            principal=D("100000"),
            interest_rate_per_period=D("7.35"),
            number_of_repayments=1,
            repayment_every=12,
            expected_disbursement_date=date(2017, 6, 7),
            days_in_year_type=DaysInYearType.days_365,
            interest_calculation_period_type=InterestCalculationPeriodType.daily,
        ),
        ["107350.00"],
        ["7350.00"],
        id="daily interest actual/365",
    ),
    pytest.param(
        terms(
            principal=D("36500"),
            interest_rate_per_period=D("10"),
            number_of_repayments=1,
            repayment_every=12,
            expected_disbursement_date=date(2023, 7, 1),
            days_in_year_type=DaysInYearType.actual,
            interest_calculation_period_type=InterestCalculationPeriodType.daily,
        ),
        ["40155.03"],
        ["3655.03"],
        id="daily interest actual/actual across a leap-year boundary (184/365 + 182/366)",
    ),
    pytest.param(
        terms(
            principal=D("36000"),
            interest_rate_per_period=D("12"),
            number_of_repayments=2,
            expected_disbursement_date=date(2024, 1, 31),
            amortization_type=AmortizationType.equal_principal,
            interest_calculation_period_type=InterestCalculationPeriodType.daily,
            days_in_month_type=DaysInMonthType.days_30,
        ),
        ["18360.00", "18180.00"],
        ["360.00", "180.00"],
        id="daily interest 30/360: 31 Jan to 29 Feb is one 30-day month",
    ),
    pytest.param(
        terms(principal=D("1000.50"), number_of_repayments=1),
        ["1010.51"],
        ["10.01"],
        id="四舍五入 half-up: 10.005 -> 10.01",
    ),
    pytest.param(
        terms(principal=D("1000.50"), number_of_repayments=1, rounding_mode=RoundingMode.half_even),
        ["1010.50"],
        ["10.00"],
        id="half-even: 10.005 -> 10.00",
    ),
    pytest.param(
        terms(principal=D("10000"), digits_after_decimal=0),
        ["888"] * 11 + ["895"],
        ["100", "92", "84"],
        id="whole yuan (0 decimal places)",
    ),
    pytest.param(
        terms(principal=D("10000"), interest_rate_per_period=D("0"), number_of_repayments=3),
        ["3333.33", "3333.33", "3333.34"],
        ["0.00"] * 3,
        id="interest-free: the last installment absorbs the remainder",
    ),
    pytest.param(
        terms(
            principal=D("10000"),
            interest_rate_per_period=D("0"),
            number_of_repayments=3,
            interest_type=InterestType.flat,
            last_installment_absorbs_remainder=False,
        ),
        ["3333.34", "3333.33", "3333.33"],
        ["0.00"] * 3,
        id="remainder in the first installment when asked",
    ),
]


@pytest.mark.parametrize(("loan", "totals", "first_interest"), CASES)
def test_hand_checked_schedules(loan: LoanTerms, totals: list[str], first_interest: list[str]) -> None:
    s = generate_schedule(loan)
    assert column(s, "total_due") == totals
    assert column(s, "interest_due")[: len(first_interest)] == first_interest
    assert s.total_principal_expected == loan.principal


def test_irregular_first_period_counts_its_days() -> None:
    s = generate_schedule(
        terms(
            expected_disbursement_date=date(2024, 1, 10),
            repayments_starting_from_date=date(2024, 2, 25),
            number_of_repayments=4,
            amortization_type=AmortizationType.equal_principal,
        )
    )
    assert [p.due_date for p in s.periods] == [
        date(2024, 2, 25),
        date(2024, 3, 25),
        date(2024, 4, 25),
        date(2024, 5, 25),
    ]
    assert s.periods[0].days_in_period == 46
    assert s.periods[0].interest_due == D("148.39")  # 100 × 46/31
    assert column(s, "interest_due")[1:] == ["75.00", "50.00", "25.00"]


def test_without_partial_period_interest_the_first_period_is_a_full_one() -> None:
    s = generate_schedule(
        terms(
            expected_disbursement_date=date(2024, 1, 10),
            repayments_starting_from_date=date(2024, 2, 25),
            allow_partial_period_interest_calculation=False,
        )
    )
    assert s.periods[0].interest_due == D("100.00")


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        pytest.param(date(2024, 1, 31), ["2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"], id="31st, leap year"),
        pytest.param(date(2023, 1, 31), ["2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31"], id="31st"),
        pytest.param(date(2024, 1, 30), ["2024-02-29", "2024-03-30", "2024-04-30", "2024-05-30"], id="30th"),
    ],
)
def test_month_end_due_dates_roll_and_come_back(anchor: date, expected: list[str]) -> None:
    s = generate_schedule(terms(expected_disbursement_date=anchor, number_of_repayments=4))
    assert [str(p.due_date) for p in s.periods] == expected
    first = generate_schedule(
        terms(
            expected_disbursement_date=date.fromordinal(anchor.toordinal() - 20),
            repayments_starting_from_date=anchor,
            number_of_repayments=5,
        )
    )
    assert [str(p.due_date) for p in first.periods][1:] == expected


def test_weekly_and_daily_frequencies() -> None:
    weekly = generate_schedule(
        terms(repayment_frequency_type=RepaymentFrequencyType.weeks, repayment_every=2, number_of_repayments=3)
    )
    assert [p.due_date for p in weekly.periods] == [date(2024, 1, 29), date(2024, 2, 12), date(2024, 2, 26)]
    daily = generate_schedule(
        terms(repayment_frequency_type=RepaymentFrequencyType.days, repayment_every=30, number_of_repayments=1)
    )
    assert daily.periods[0].interest_due == D("100.00")  # 12 % × 30/360


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"principal": D("0")}, "principal", id="no principal"),
        pytest.param({"principal": D("10.001")}, "principal", id="more decimals than the currency"),
        pytest.param({"number_of_repayments": 0}, "number_of_repayments", id="no repayments"),
        pytest.param({"grace_on_principal_payment": 12}, "grace_on_principal_payment", id="grace covers all"),
        pytest.param({"interest_rate_per_period": D("-1")}, "interest_rate_per_period", id="negative rate"),
        pytest.param(
            {"repayments_starting_from_date": date(2024, 1, 1)},
            "repayments_starting_from_date",
            id="first repayment before disbursement",
        ),
        pytest.param(
            {"repayment_method": RepaymentMethod.interest_only_then_amortization},
            "grace_on_principal_payment",
            id="阶段性等额本息 without interest-only periods",
        ),
        pytest.param(
            {
                "repayment_method": RepaymentMethod.periodic_interest_principal_at_maturity,
                "grace_on_principal_payment": 3,
            },
            "grace_on_principal_payment",
            id="preset contradicted",
        ),
        pytest.param(
            {"last_installment_absorbs_remainder": False},
            "last_installment_absorbs_remainder",
            id="declining EMI remainder must be last",
        ),
    ],
)
def test_refusals_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(Refused) as caught:
        generate_schedule(terms(**change))
    assert field in [r.field for r in caught.value.refusals]


# ---- properties over any terms ---------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("100"), max_value=D("500000"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("24"), places=2)


@st.composite
def any_terms(draw: st.DrawFn) -> LoanTerms:
    n = draw(st.integers(1, 60))
    grace = st.integers(0, n - 1)
    disbursed = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)))
    first = draw(st.none() | st.integers(1, 80).map(lambda d: disbursed.fromordinal(disbursed.toordinal() + d)))
    return LoanTerms(
        principal=draw(amounts),
        interest_rate_per_period=draw(rates),
        number_of_repayments=n,
        expected_disbursement_date=disbursed,
        repayments_starting_from_date=first,
        repayment_every=draw(st.integers(1, 4)),
        repayment_frequency_type=draw(st.sampled_from(RepaymentFrequencyType)),
        amortization_type=draw(st.sampled_from(AmortizationType)),
        interest_type=draw(st.sampled_from(InterestType)),
        interest_calculation_period_type=draw(st.sampled_from(InterestCalculationPeriodType)),
        days_in_year_type=draw(st.sampled_from(DaysInYearType)),
        days_in_month_type=draw(st.sampled_from(DaysInMonthType)),
        grace_on_principal_payment=draw(grace),
        grace_on_interest_payment=draw(grace),
        grace_on_interest_charged=draw(grace),
        rounding_mode=draw(st.sampled_from(RoundingMode)),
        installment_amount_in_multiples_of=draw(st.sampled_from([None, D("1"), D("10"), D("100")])),
    )


@settings(max_examples=300, deadline=None)
@given(any_terms())
def test_principal_sums_exactly_and_no_balance_goes_negative(loan: LoanTerms) -> None:
    s = generate_schedule(loan)
    assert s.total_principal_expected == loan.principal
    balances = [p.principal_loan_balance_outstanding for p in s.periods]
    assert all(b >= 0 for b in balances) and balances[-1] == 0
    assert balances == sorted(balances, reverse=True)
    assert all(p.principal_due >= 0 and p.interest_due >= 0 for p in s.periods)
    assert all(p.total_due == p.principal_due + p.interest_due for p in s.periods)
    assert all(a.due_date < b.due_date and a.due_date == b.from_date for a, b in pairwise(s.periods))


@settings(max_examples=200, deadline=None)
@given(amounts, rates.filter(lambda r: r > 0), st.integers(2, 48), st.sampled_from(AmortizationType), st.integers(0, 6))
def test_interest_falls_on_a_declining_balance(
    principal: Decimal, rate: Decimal, n: int, amortization: AmortizationType, grace: int
) -> None:
    grace = min(grace, n - 1)
    s = generate_schedule(
        terms(
            principal=principal,
            interest_rate_per_period=rate,
            number_of_repayments=n,
            amortization_type=amortization,
            grace_on_principal_payment=grace,
        )
    )
    interest = [p.interest_due for p in s.periods]
    assert interest == sorted(interest, reverse=True)
    for period in s.periods:
        opening = period.principal_loan_balance_outstanding + period.principal_due
        expected = (opening * rate / 1200).quantize(D("0.01"))
        assert abs(period.interest_due - expected) <= D("0.01")


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)), st.integers(1, 36))
def test_monthly_due_dates_keep_the_anchor_day_or_the_month_end(anchor: date, n: int) -> None:
    s = generate_schedule(terms(expected_disbursement_date=anchor, number_of_repayments=n))
    for k, period in enumerate(s.periods, start=1):
        due = period.due_date
        assert (due.year * 12 + due.month) - (anchor.year * 12 + anchor.month) == k
        assert due.day == min(anchor.day, calendar.monthrange(due.year, due.month)[1])
        assert due == add_months(anchor, k)
