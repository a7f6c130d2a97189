"""Household income (收入): the per-capita net income (年人均纯收入) rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.money import yuan
from shared.refusals import Refusal, Refused

LINE_NAMES = ("wages", "production_gross", "production_costs", "property", "transfers", "policy_payments")


@dataclass(frozen=True)
class IncomeLines:
    """One year's income of a household by category, in yuan."""

    wages: Decimal
    production_gross: Decimal
    production_costs: Decimal
    property: Decimal
    transfers: Decimal
    policy_payments: Decimal


def net_income(*, lines: IncomeLines) -> Decimal:
    """Household net income: wages + (production and business − their costs) + property + transfers."""
    production_net = lines.production_gross - lines.production_costs
    return yuan(lines.wages + production_net + lines.property + lines.transfers + lines.policy_payments)


def per_capita_net_income(*, lines: IncomeLines, household_size: int) -> Decimal:
    """年人均纯收入: household net income divided by the members counted that year, half-up to the fen."""
    if household_size < 1:
        raise Refused(Refusal("no_members", "a household with no members has no per-capita income", "household_size"))
    for name in LINE_NAMES:
        if getattr(lines, name) < 0:
            raise Refused(
                Refusal("negative_line", "income lines are not negative; record losses as production costs", name)
            )
    return yuan(net_income(lines=lines) / household_size)


def declarable(*, year: int, today: date) -> list[Refusal]:
    """A year's income is declared from that year on, never ahead of it."""
    if year > today.year:
        return [Refusal("future_year", f"income for {year} cannot be declared before that year", "year")]
    return []


def counted_on(*, year: int, today: date) -> date:
    """The day whose members a year's income is divided by: 31 December, or today for the current year."""
    return min(date(year, 12, 31), today)
