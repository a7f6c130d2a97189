"""Risk sharing (风险分担): leverage room of a pool and the compensation claim on a defaulted loan."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.refusals import Refusal

FEN = Decimal("0.01")
HUNDRED = Decimal(100)


def leverage_room(*, balance: Decimal, multiple: Decimal, outstanding: Decimal) -> Decimal:
    """How much more principal the pool may back: balance × multiple − outstanding (never below zero)."""
    return max(balance * multiple - outstanding, Decimal(0)).quantize(FEN)


def check_leverage(*, amount: Decimal, balance: Decimal, multiple: Decimal, outstanding: Decimal) -> list[Refusal]:
    """Outstanding principal on a pool may not exceed its balance × leverage multiple."""
    room = leverage_room(balance=balance, multiple=multiple, outstanding=outstanding)
    if amount > room:
        return [
            Refusal(
                "over_leverage",
                f"the pool can back {room} more (balance {balance} × {multiple} − outstanding {outstanding})",
                "amount",
            )
        ]
    return []


@dataclass(frozen=True)
class ClaimAmount:
    principal_loss: Decimal
    interest_loss: Decimal
    amount: Decimal
    bounded_by_pool: bool


def claim_amount(
    *,
    principal_loss: Decimal,
    interest_loss: Decimal,
    government_share: Decimal,
    covers_interest: bool,
    pool_available: Decimal,
) -> ClaimAmount:
    """The government's share of the loss (principal, and interest where the policy says), at most the pool."""
    loss = principal_loss + (interest_loss if covers_interest else Decimal(0))
    share = (loss * government_share / HUNDRED).quantize(FEN, rounding=ROUND_HALF_UP)
    amount = min(share, max(pool_available, Decimal(0)))
    return ClaimAmount(principal_loss, interest_loss if covers_interest else Decimal(0), amount, amount < share)


def recovery_to_pool(*, recovered: Decimal, government_share: Decimal) -> Decimal:
    """A later recovery flows back to the pool in the same ratio as the loss was shared."""
    return (recovered * government_share / HUNDRED).quantize(FEN, rounding=ROUND_HALF_UP)
