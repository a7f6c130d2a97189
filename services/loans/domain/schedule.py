"""The repayment schedule (还款计划): one pure function from loan terms to installments, in exact Decimal money.

Conventions are named as Apache Fineract names them (``amortizationType``, ``interestType``,
``interestCalculationPeriodType``, ``daysInYearType``, ``graceOnPrincipalPayment`` …), so a schedule can be checked
against one Fineract publishes for the same terms. The Chinese repayment methods are presets over them:

- 等额本息 equal installments; 等额本金 equal principal;
- 阶段性等额本息 interest only for ``grace_on_principal_payment`` periods, then equal installments;
- 按月/按季付息、到期还本 periodic interest, principal at maturity (principal grace on all but the last period);
- 利随本清 bullet: interest with principal at maturity (principal and interest-payment grace on all but the last).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Any

from services.loans.domain.calendar import (
    DaysInMonthType,
    DaysInYearType,
    RepaymentFrequencyType,
    days_between,
    step,
    year_fraction,
)
from shared.refusals import Refusal, refuse_if

HUNDRED = Decimal(100)
MAX_REPAYMENTS = 600


class AmortizationType(StrEnum):
    """Fineract ``amortizationType``: equal installments (等额本息) or equal principal (等额本金)."""

    equal_installments = "equal_installments"
    equal_principal = "equal_principal"


class InterestType(StrEnum):
    """Fineract ``interestType``: on the declining balance, or flat on the original principal."""

    declining_balance = "declining_balance"
    flat = "flat"


class InterestCalculationPeriodType(StrEnum):
    """Fineract ``interestCalculationPeriodType``: per repayment period (年利率 ÷ periods a year) or from days."""

    same_as_repayment_period = "same_as_repayment_period"
    daily = "daily"


class RoundingMode(StrEnum):
    """How amounts are rounded to ``digits_after_decimal`` (Chinese banks round half-up, 四舍五入)."""

    half_up = "half_up"
    half_even = "half_even"


class RepaymentMethod(StrEnum):
    """The repayment methods rural banks name (还款方式), each a preset of the conventions above."""

    equal_installments = "equal_installments"  # 等额本息
    equal_principal = "equal_principal"  # 等额本金
    interest_only_then_amortization = "interest_only_then_amortization"  # 阶段性等额本息
    periodic_interest_principal_at_maturity = "periodic_interest_principal_at_maturity"  # 按期付息、到期还本
    bullet = "bullet"  # 利随本清


class InterestRateFrequencyType(StrEnum):
    """Fineract ``interestRateFrequencyType``: the period ``interest_rate_per_period`` is quoted for."""

    per_month = "per_month"
    per_year = "per_year"


ROUNDING = {RoundingMode.half_up: ROUND_HALF_UP, RoundingMode.half_even: ROUND_HALF_EVEN}


@dataclass(frozen=True)
class LoanTerms:
    """Everything a schedule depends on; nothing is guessed."""

    principal: Decimal
    interest_rate_per_period: Decimal  # percent, e.g. 7.35
    number_of_repayments: int
    expected_disbursement_date: date
    repayment_every: int = 1
    repayment_frequency_type: RepaymentFrequencyType = RepaymentFrequencyType.months
    interest_rate_frequency_type: InterestRateFrequencyType = InterestRateFrequencyType.per_year
    repayment_method: RepaymentMethod | None = None
    amortization_type: AmortizationType = AmortizationType.equal_installments
    interest_type: InterestType = InterestType.declining_balance
    interest_calculation_period_type: InterestCalculationPeriodType = (
        InterestCalculationPeriodType.same_as_repayment_period
    )
    allow_partial_period_interest_calculation: bool = True
    days_in_year_type: DaysInYearType = DaysInYearType.days_360
    days_in_month_type: DaysInMonthType = DaysInMonthType.actual
    repayments_starting_from_date: date | None = None
    grace_on_principal_payment: int = 0
    grace_on_interest_payment: int = 0
    grace_on_interest_charged: int = 0
    rounding_mode: RoundingMode = RoundingMode.half_up
    digits_after_decimal: int = 2
    installment_amount_in_multiples_of: Decimal | None = None
    last_installment_absorbs_remainder: bool = True

    @property
    def annual_rate(self) -> Decimal:
        """The nominal annual rate as a fraction (7.35 % → 0.0735)."""
        rate = self.interest_rate_per_period / HUNDRED
        return rate * 12 if self.interest_rate_frequency_type is InterestRateFrequencyType.per_month else rate


@dataclass(frozen=True)
class Installment:
    """One period of the schedule (Fineract ``periods[]``)."""

    period: int
    from_date: date
    due_date: date
    days_in_period: int
    principal_due: Decimal
    interest_due: Decimal
    total_due: Decimal
    principal_loan_balance_outstanding: Decimal


@dataclass(frozen=True)
class Schedule:
    terms: LoanTerms
    periods: tuple[Installment, ...]

    @property
    def total_principal_expected(self) -> Decimal:
        return sum((p.principal_due for p in self.periods), Decimal(0))

    @property
    def total_interest_charged(self) -> Decimal:
        return sum((p.interest_due for p in self.periods), Decimal(0))

    @property
    def total_repayment_expected(self) -> Decimal:
        return self.total_principal_expected + self.total_interest_charged

    @property
    def maturity_date(self) -> date:
        return self.periods[-1].due_date


def apply_method(terms: LoanTerms) -> LoanTerms:
    """Terms with the repayment method's preset filled in; a preset contradicted by an explicit value is refused."""
    method, n = terms.repayment_method, terms.number_of_repayments
    if method is None:
        return terms
    wanted: dict[str, Any] = {}  # field name to its preset value, of that field's type
    if method is RepaymentMethod.equal_principal:
        wanted = {"amortization_type": AmortizationType.equal_principal}
    elif method is RepaymentMethod.equal_installments:
        wanted = {"amortization_type": AmortizationType.equal_installments}
    elif method is RepaymentMethod.interest_only_then_amortization:
        wanted = {"amortization_type": AmortizationType.equal_installments}
        if not 0 < terms.grace_on_principal_payment < n:
            refuse_if(
                [
                    _refusal(
                        "interest_only_periods",
                        "grace_on_principal_payment",
                        "阶段性等额本息 needs 1 to number_of_repayments − 1 interest-only periods",
                    )
                ]
            )
    elif method is RepaymentMethod.periodic_interest_principal_at_maturity:
        wanted = {"grace_on_principal_payment": n - 1}
    elif method is RepaymentMethod.bullet:
        wanted = {"grace_on_principal_payment": n - 1, "grace_on_interest_payment": n - 1}
    clashes = [
        _refusal("contradicts_repayment_method", name, f"{method.value} sets {name} to {value}")
        for name, value in wanted.items()
        if getattr(terms, name) not in (value, LoanTerms.__dataclass_fields__[name].default)
    ]
    refuse_if(clashes)
    return replace(terms, **wanted)


def check_terms(terms: LoanTerms) -> list[Refusal]:
    """Every rule the terms break, each naming its field."""
    n = terms.number_of_repayments
    found: list[Refusal] = []
    if terms.principal <= 0:
        found.append(_refusal("not_positive", "principal", "principal must be more than zero"))
    if terms.principal != terms.principal.quantize(_unit(terms.digits_after_decimal)):
        found.append(_refusal("too_precise", "principal", "principal has more decimals than digits_after_decimal"))
    if terms.interest_rate_per_period < 0 or terms.interest_rate_per_period > HUNDRED:
        found.append(_refusal("out_of_range", "interest_rate_per_period", "the rate is a percent from 0 to 100"))
    if not 1 <= n <= MAX_REPAYMENTS:
        found.append(_refusal("out_of_range", "number_of_repayments", f"1 to {MAX_REPAYMENTS} repayments"))
    if not 1 <= terms.repayment_every <= 120:
        found.append(_refusal("out_of_range", "repayment_every", "repayment_every is 1 to 120"))
    for name in ("grace_on_principal_payment", "grace_on_interest_payment", "grace_on_interest_charged"):
        if not 0 <= getattr(terms, name) < max(n, 1):
            found.append(_refusal("grace_too_long", name, "grace must leave at least the last period"))
    if not 0 <= terms.digits_after_decimal <= 6:
        found.append(_refusal("out_of_range", "digits_after_decimal", "0 to 6 digits after the decimal point"))
    multiple = terms.installment_amount_in_multiples_of
    if multiple is not None and multiple <= 0:
        found.append(_refusal("not_positive", "installment_amount_in_multiples_of", "the multiple must be positive"))
    start = terms.repayments_starting_from_date
    if start is not None and start <= terms.expected_disbursement_date:
        found.append(
            _refusal(
                "before_disbursement",
                "repayments_starting_from_date",
                "the first repayment falls after the disbursement",
            )
        )
    if not terms.last_installment_absorbs_remainder and (
        terms.amortization_type is AmortizationType.equal_installments
        and terms.interest_type is InterestType.declining_balance
    ):
        found.append(
            _refusal(
                "remainder_must_be_last",
                "last_installment_absorbs_remainder",
                "declining equal installments always settle the remainder in the last installment",
            )
        )
    return found


def generate_schedule(terms: LoanTerms) -> Schedule:
    """The schedule for ``terms``; refuses terms that break a rule (``Refused``, one refusal per field)."""
    terms = apply_method(terms)
    refuse_if(check_terms(terms))
    dates = due_dates(terms)
    with localcontext() as ctx:
        ctx.prec = 40
        build = _flat if terms.interest_type is InterestType.flat else _declining
        rows = build(terms, dates)
    return Schedule(terms=terms, periods=tuple(rows))


def due_dates(terms: LoanTerms) -> list[tuple[date, date]]:
    """(from, due) of each period; later dates count from the first due date, so the 31st rolls and comes back."""
    every, freq = terms.repayment_every, terms.repayment_frequency_type
    first = terms.repayments_starting_from_date
    if first is None:
        dues = [
            step(terms.expected_disbursement_date, periods=k, every=every, frequency=freq)
            for k in range(1, terms.number_of_repayments + 1)
        ]
    else:
        dues = [step(first, periods=k, every=every, frequency=freq) for k in range(terms.number_of_repayments)]
    starts = [terms.expected_disbursement_date, *dues[:-1]]
    return list(zip(starts, dues, strict=True))


def periodic_rate(terms: LoanTerms) -> Decimal:
    """The nominal rate of one regular repayment period (年利率 ÷ periods a year)."""
    every, freq, rate = terms.repayment_every, terms.repayment_frequency_type, terms.annual_rate
    if freq is RepaymentFrequencyType.months:
        return rate * every / 12
    if freq is RepaymentFrequencyType.weeks:
        return rate * every / 52
    if freq is RepaymentFrequencyType.years:
        return rate * every
    year = 360 if terms.days_in_year_type is DaysInYearType.days_360 else 365
    return rate * every / year


def period_interest(terms: LoanTerms, balance: Decimal, start: date, end: date, *, period: int) -> Decimal:
    """Unrounded interest on ``balance`` for ``start``..``end`` under the terms' interest calculation period."""
    if terms.interest_calculation_period_type is InterestCalculationPeriodType.daily:
        _, fraction = year_fraction(
            start, end, days_in_year=terms.days_in_year_type, days_in_month=terms.days_in_month_type
        )
        return balance * terms.annual_rate * fraction
    fraction = _first_period_fraction(terms, start, end) if period == 1 else Decimal(1)
    return balance * periodic_rate(terms) * fraction


def _first_period_fraction(terms: LoanTerms, start: date, end: date) -> Decimal:
    """1 for a regular first period; for an irregular one (a first repayment date given), its days over a
    regular period's days. Later periods are regular: they count from the first due date."""
    regular_end = step(start, periods=1, every=terms.repayment_every, frequency=terms.repayment_frequency_type)
    if end == regular_end or not terms.allow_partial_period_interest_calculation:
        return Decimal(1)
    month = terms.days_in_month_type
    days = days_between(start, end, days_in_month=month)
    return Decimal(days) / days_between(start, regular_end, days_in_month=month)


def _charged(terms: LoanTerms, balance: Decimal, start: date, due: date, period: int) -> Decimal:
    """The period's rounded interest; nothing in the periods of grace on interest charged (forgiven)."""
    if period <= terms.grace_on_interest_charged:
        return Decimal(0)
    return _round(terms, period_interest(terms, balance, start, due, period=period))


def _declining(terms: LoanTerms, dates: list[tuple[date, date]]) -> list[Installment]:
    n = len(dates)
    grace_p, grace_ip = terms.grace_on_principal_payment, terms.grace_on_interest_payment
    balance = terms.principal
    equal_principal = _equal_share(terms, terms.principal, n - grace_p)
    emi: Decimal | None = None
    deferred = Decimal(0)
    rows: list[Installment] = []
    for index, (start, due) in enumerate(dates, start=1):
        interest = _charged(terms, balance, start, due, index)
        if index <= grace_ip:
            deferred += interest
            interest_due = Decimal(0)
        else:
            interest_due, deferred = interest + deferred, Decimal(0)
        if index <= grace_p:
            principal = Decimal(0)
        elif index == n:
            principal = balance
        elif terms.amortization_type is AmortizationType.equal_principal:
            principal = min(equal_principal, balance)
        else:
            if emi is None:
                emi = _annuity(terms, balance, n - index + 1)
            principal = min(max(emi - interest, Decimal(0)), balance)
        balance -= principal
        rows.append(_row(terms, index, start, due, principal, interest_due, balance))
    return rows


def _flat(terms: LoanTerms, dates: list[tuple[date, date]]) -> list[Installment]:
    n, grace_p = len(dates), terms.grace_on_principal_payment
    principals = _flat_principals(terms, n, grace_p)
    balance = terms.principal
    deferred = Decimal(0)
    rows: list[Installment] = []
    for index, ((start, due), principal) in enumerate(zip(dates, principals, strict=True), start=1):
        interest = _charged(terms, terms.principal, start, due, index)
        if index <= terms.grace_on_interest_payment:
            deferred += interest
            interest_due = Decimal(0)
        else:
            interest_due, deferred = interest + deferred, Decimal(0)
        balance -= principal
        rows.append(_row(terms, index, start, due, principal, interest_due, balance))
    return rows


def _flat_principals(terms: LoanTerms, n: int, grace: int) -> list[Decimal]:
    """Equal principal shares; the remainder goes to the last installment (or the first amortising one)."""
    share, amortizing = _equal_share(terms, terms.principal, n - grace), n - grace
    first = terms.principal - share * (amortizing - 1)
    if not terms.last_installment_absorbs_remainder and first >= 0:
        return [Decimal(0)] * grace + [first] + [share] * (amortizing - 1)
    principals, left = [Decimal(0)] * grace, terms.principal
    for _ in range(amortizing - 1):
        principals.append(min(share, left))
        left -= principals[-1]
    return [*principals, left]


def _equal_share(terms: LoanTerms, amount: Decimal, periods: int) -> Decimal:
    """Principal per amortising period (等额本金), rounded to the installment multiple or the currency digits."""
    return _round(terms, amount / periods, multiple=terms.installment_amount_in_multiples_of)


def _annuity(terms: LoanTerms, balance: Decimal, periods: int) -> Decimal:
    """The equal installment (等额本息) that repays ``balance`` over ``periods`` at the periodic rate."""
    rate = periodic_rate(terms)
    raw = balance / periods if rate == 0 else balance * rate / (1 - (1 + rate) ** -periods)
    return _round(terms, raw, multiple=terms.installment_amount_in_multiples_of)


def _round(terms: LoanTerms, value: Decimal, *, multiple: Decimal | None = None) -> Decimal:
    unit = _unit(terms.digits_after_decimal)
    mode = ROUNDING[terms.rounding_mode]
    if multiple:
        value = (value / multiple).quantize(Decimal(1), rounding=mode) * multiple
    return value.quantize(unit, rounding=mode)


def _unit(digits: int) -> Decimal:
    return Decimal(1).scaleb(-digits)


def _row(
    terms: LoanTerms, index: int, start: date, due: date, principal: Decimal, interest: Decimal, balance: Decimal
) -> Installment:
    unit = _unit(terms.digits_after_decimal)
    principal, interest, balance = principal.quantize(unit), interest.quantize(unit), balance.quantize(unit)
    return Installment(
        period=index,
        from_date=start,
        due_date=due,
        days_in_period=days_between(start, due, days_in_month=terms.days_in_month_type),
        principal_due=principal,
        interest_due=interest,
        total_due=principal + interest,
        principal_loan_balance_outstanding=balance,
    )


def _refusal(code: str, field: str, message: str) -> Refusal:
    return Refusal(code=code, field=field, message=message)


def term_months(terms: LoanTerms) -> int:
    """The term in months (days and weeks counted up to whole 30-day months), for product limits."""
    count = terms.number_of_repayments * terms.repayment_every
    if terms.repayment_frequency_type is RepaymentFrequencyType.months:
        return count
    if terms.repayment_frequency_type is RepaymentFrequencyType.years:
        return 12 * count
    days = count * (7 if terms.repayment_frequency_type is RepaymentFrequencyType.weeks else 1)
    return -(-days // 30)
