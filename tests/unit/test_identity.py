"""Resident IDs (GB 11643), credit codes and phones."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.identity import (
    InvalidIdentifier,
    check_consistent,
    parse_resident_id,
    validate_credit_code,
    validate_mobile,
)
from tests.support.builders import resident_id


class TestResidentId:
    def test_reads_birth_date_sex_and_region(self) -> None:
        rid = parse_resident_id("11010519491231002x")
        assert (rid.number, rid.birth_date, rid.sex, rid.region_code) == (
            "11010519491231002X", date(1949, 12, 31), "female", "110105")

    @pytest.mark.parametrize(
        ("number", "reason"),
        [("110105194912310021", "check digit"), ("11010519491331002X", "birth date"), ("1101051949123100", "valid"),
         ("11010519491231002Y", "valid")],
        ids=["校验码错误 wrong check digit", "impossible month", "too short", "letter other than X"],
    )
    def test_rejects_with_a_clear_reason(self, number, reason) -> None:
        with pytest.raises(InvalidIdentifier, match=reason):
            parse_resident_id(number)

    def test_stated_birth_date_and_sex_must_match_the_number(self) -> None:
        rid = parse_resident_id(resident_id(born=date(1980, 5, 6), sex="male"))
        check_consistent(rid, birth_date=date(1980, 5, 6), sex="male")
        with pytest.raises(InvalidIdentifier, match="birth date"):
            check_consistent(rid, birth_date=date(1980, 5, 7), sex=None)
        with pytest.raises(InvalidIdentifier, match="sex"):
            check_consistent(rid, birth_date=None, sex="female")

    @given(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)), st.sampled_from(["male", "female"]),
           st.integers(0, 499))
    def test_every_generated_id_round_trips(self, born, sex, serial) -> None:
        rid = parse_resident_id(resident_id(born=born, sex=sex, serial=serial))
        assert (rid.birth_date, rid.sex) == (born, sex)


def test_credit_code() -> None:
    assert validate_credit_code("91110108551385082Q") == "91110108551385082Q"
    with pytest.raises(InvalidIdentifier):
        validate_credit_code("91110108551385082A")


@pytest.mark.parametrize(("raw", "clean"), [("138 0013 8000", "13800138000"), ("+8613800138000", "13800138000")])
def test_mobile_normalised(raw, clean) -> None:
    assert validate_mobile(raw) == clean


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "0851-1234567"])
def test_mobile_rejected(raw) -> None:
    with pytest.raises(InvalidIdentifier):
        validate_mobile(raw)
