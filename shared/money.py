"""Money: Decimal yuan with 2 places (fen), rounded half-up (四舍五入). Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # what a NUMERIC(14, 2) column holds


def yuan(value: Any) -> Decimal:
    """A Decimal yuan amount rounded half-up to the fen; refuses floats, which cannot hold fen exactly."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a string or Decimal")
    if isinstance(value, bool):
        raise TypeError("money must be a number")
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"amount {value!r} is beyond {MAX_AMOUNT} yuan")
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def _parse(value: Any) -> Decimal:
    if isinstance(value, float):
        # JSON numbers arrive as floats; go through their shortest repr, which is what the sender wrote.
        value = repr(value)
    return yuan(value)


Money = Annotated[Decimal, BeforeValidator(_parse), PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]
"""A pydantic field type: accepts "12.345" or 12.345, stores Decimal("12.35"), serialises "12.35"."""
