"""Resident IDs (GB 11643), credit codes and phones."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.identity import (
    InvalidIdentifier,
    check_consistent,
    parse_resident_id,
    validate_credit_code,
    validate_mobile,
)
from tests.support.builders import check_digit, resident_id


class TestResidentId:
    def test_reads_birth_date_sex_and_region(self) -> None:
        rid = parse_resident_id("11010519491231002x")
        assert (rid.number, rid.birth_date, rid.sex, rid.region_code) == (
            "11010519491231002X",
            date(1949, 12, 31),
            "female",
            "110105",
        )

    @pytest.mark.parametrize(
        ("number", "reason"),
        [
            ("110105194912310021", "check digit"),
            ("11010519491331002X", "birth date"),
            ("1101051949123100", "valid"),
            ("11010519491231002Y", "valid"),
        ],
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

    @given(
        st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
        st.sampled_from(["male", "female"]),
        st.integers(0, 499),
    )
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


def _by_stdnum(value: str) -> tuple[object, ...]:
    """What python-stdnum alone makes of a resident ID: the reading parse_resident_id must agree with."""
    from stdnum import exceptions
    from stdnum.cn import ric

    number = value.strip().upper()
    if not re.match(r"^\d{17}[\dX]$", number):
        return ("error", "not a valid 18-digit resident ID (17 digits and a digit or X)")
    try:
        birth = ric.get_birth_date(number)
    except exceptions.ValidationError:
        return ("error", "resident ID has an impossible birth date")
    try:
        ric.validate(number)
    except exceptions.InvalidChecksum:
        return ("error", "resident ID check digit does not match (校验码错误)")
    except exceptions.ValidationError as exc:
        return ("error", f"not a valid resident ID: {exc}")
    except KeyError:  # python-stdnum's own crash on a county code listed without a county: refused, not a 500
        return ("error", f"not a valid resident ID: {exceptions.InvalidComponent()}")
    return (number, birth, "male" if int(number[16]) % 2 else "female", number[:6])


def _ours(value: str) -> tuple[object, ...]:
    try:
        rid = parse_resident_id(value)
    except InvalidIdentifier as exc:
        return ("error", str(exc))
    return (rid.number, rid.birth_date, rid.sex, rid.region_code)


# County codes: current ones, abolished ones (崇文区 110103 until 2010), and ones that never existed.
REGIONS = ["110105", "110103", "522323", "522301", "360426", "000000", "999999", "522399"]


@st.composite
def near_resident_ids(draw: st.DrawFn) -> str:
    """Mostly well-formed IDs: any county code, dates from valid to impossible, a right or wrong check digit."""
    first17 = (
        draw(st.sampled_from(REGIONS))
        + f"{draw(st.integers(1850, 2030)):04d}{draw(st.integers(0, 13)):02d}{draw(st.integers(0, 32)):02d}"
        + f"{draw(st.integers(0, 999)):03d}"
    )
    right = check_digit(first17)
    return first17 + draw(st.sampled_from([right, right, right, *"0123456789X"]))


class TestFastPathAgreesWithStdnum:
    """parse_resident_id computes the check digit and birth date itself (bulk imports call it 300,000 times);
    it must say exactly what python-stdnum says, number for number and message for message."""

    @settings(max_examples=500)
    @given(near_resident_ids())
    def test_well_formed_numbers(self, number: str) -> None:
        assert _ours(number) == _by_stdnum(number)

    @given(st.text(alphabet=st.sampled_from(list("0123456789Xx ١٢３\n-")), min_size=15, max_size=20))
    def test_anything_else(self, value: str) -> None:
        assert _ours(value) == _by_stdnum(value)

    @given(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)), st.sampled_from(REGIONS))
    def test_every_county_and_year(self, born: date, region: str) -> None:
        number = resident_id(region=region, born=born, sex="female")
        assert _ours(number) == _by_stdnum(number)
        assert _ours(number.lower()) == _by_stdnum(number.lower())

    def test_a_county_code_listed_without_a_county_is_refused_not_a_crash(self) -> None:
        with pytest.raises(InvalidIdentifier, match="not a valid resident ID"):
            parse_resident_id(resident_id(region="522399", born=date(1980, 1, 1)))
