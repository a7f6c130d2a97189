"""Money is Decimal yuan to the fen, half-up (四舍五入), never float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from shared.money import Money, yuan


class Payment(BaseModel):
    amount: Money


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.675", "2.68"),
        ("-1.005", "-1.01"),
        ("50000", "50000.00"),
        (Decimal("1.115"), "1.12"),
        (3, "3.00"),
    ],
    ids=[
        "half fen rounds up",
        "below half down",
        "2.675 not binary-rounded",
        "negative half away from zero",
        "whole yuan",
        "decimal input",
        "int input",
    ],
)
def test_rounds_half_up_to_the_fen(given_value, expected) -> None:
    assert yuan(given_value) == Decimal(expected)


@pytest.mark.parametrize("bad", [1.5, True, "abc", "NaN", "Infinity", "1e30", "-1000000000000"])
def test_refuses_floats_and_non_amounts(bad) -> None:
    with pytest.raises((TypeError, ValueError)):
        yuan(bad)


def test_pydantic_field_parses_json_numbers_and_serialises_strings() -> None:
    assert Payment.model_validate_json('{"amount": 2.675}').amount == Decimal("2.68")
    assert Payment(amount="12.5").model_dump(mode="json") == {"amount": "12.50"}


@given(st.lists(st.decimals(min_value=-(10**6), max_value=10**6, places=2), max_size=50))
def test_sums_of_fen_amounts_stay_exact(amounts) -> None:
    assert yuan(sum(amounts, Decimal(0))) == sum((yuan(a) for a in amounts), Decimal(0))
