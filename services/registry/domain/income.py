"""Household income (收入): the per-capita net income (年人均纯收入) rule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared.errors import ValidationFailed
from shared.money import yuan


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
        raise ValidationFailed("a household with no members has no per-capita income", field="household_size")
    for name in ("wages", "production_gross", "production_costs", "property", "transfers", "policy_payments"):
        if getattr(lines, name) < 0:
            raise ValidationFailed("income lines are not negative; record losses as production costs", field=name)
    return yuan(net_income(lines=lines) / household_size)
