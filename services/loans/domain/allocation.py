"""Repayment allocation (还款顺序): a payment covers the oldest installment first, parts in a configurable order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shared.refusals import Refusal


class Part(StrEnum):
    penalty = "penalty"
    interest = "interest"
    principal = "principal"


DEFAULT_ORDER = (Part.penalty, Part.interest, Part.principal)


@dataclass(frozen=True)
class Owed:
    """What one installment still owes, by part."""

    number: int
    penalty: Decimal
    interest: Decimal
    principal: Decimal

    def part(self, part: Part) -> Decimal:
        return getattr(self, part.value)


@dataclass(frozen=True)
class Allocation:
    number: int
    penalty: Decimal
    interest: Decimal
    principal: Decimal

    @property
    def total(self) -> Decimal:
        return self.penalty + self.interest + self.principal

    def negated(self) -> Allocation:
        return Allocation(self.number, -self.penalty, -self.interest, -self.principal)


def check_order(order: list[str]) -> list[Refusal]:
    """An allocation order names penalty, interest and principal once each."""
    if sorted(order) != sorted(p.value for p in Part):
        return [Refusal("bad_allocation_order", "penalty, interest and principal, each once", "allocation_order")]
    return []


def allocate(
    amount: Decimal, owed: list[Owed], order: tuple[Part, ...] = DEFAULT_ORDER
) -> tuple[list[Allocation], Decimal]:
    """Split ``amount`` over installments (oldest first), each part in ``order``; returns the allocations and
    what is left over when everything owed is covered."""
    left = amount
    out: list[Allocation] = []
    for item in owed:
        taken = {part: Decimal(0) for part in Part}
        for part in order:
            take = min(left, item.part(part))
            taken[part] = take
            left -= take
        if any(taken.values()):
            out.append(Allocation(item.number, taken[Part.penalty], taken[Part.interest], taken[Part.principal]))
        if left == 0:
            break
    return out, left
