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
            ("110105194912310021", "第18位校验码不符"),
            ("11010519491331002" + check_digit("11010519491331002"), "第7–14位出生日期不存在"),
            ("1101051949123100", "应为18位"),
            ("11010519491231002Y", "应为18位"),
            ("522323262010150016", "出生日期晚于今天"),
            (resident_id(region="522323", born=date(1850, 1, 1)), "早于1890年"),
            (resident_id(region="992323", born=date(1980, 1, 1)), "前2位不是省级"),
        ],
        ids=[
            "校验码错误 wrong check digit",
            "impossible month",
            "too short",
            "letter other than X",
            "born 2620 (future)",
            "born 1850 (too early)",
            "no such province",
        ],
    )
    def test_rejects_naming_the_part_that_is_wrong(self, number, reason) -> None:
        with pytest.raises(InvalidIdentifier, match=reason):
            parse_resident_id(number, today=date(2026, 12, 2))

    def test_the_future_is_the_clocks(self) -> None:
        born_2026 = resident_id(region="522323", born=date(2026, 6, 1))
        assert parse_resident_id(born_2026, today=date(2026, 6, 1)).birth_date == date(2026, 6, 1)
        with pytest.raises(InvalidIdentifier, match="晚于今天"):
            parse_resident_id(born_2026, today=date(2026, 5, 31))

    @pytest.mark.parametrize(
        "number",
        [
            "522301197003155525",
            resident_id(region="520102", born=date(1975, 3, 1)),
            resident_id(region="520281", born=date(2010, 8, 8)),
            resident_id(region="110103", born=date(2015, 1, 1)),
        ],
        ids=["兴义市 born 1970", "520102 born 1975", "520281 born 2010", "崇文区 (abolished 2010) born 2015"],
    )
    def test_genuine_ids_with_renamed_or_anachronistic_area_codes_are_accepted_with_a_warning(self, number) -> None:
        rid = parse_resident_id(number)
        assert rid.number == number
        assert rid.warning == f"地址码{number[:6]}在{number[6:10]}年的行政区划中未见（可能已撤并或更名），请核对"

    def test_an_area_code_known_for_the_year_has_no_warning(self) -> None:
        assert parse_resident_id("11010519491231002X").warning is None

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


def _oracle(value: str) -> tuple[object, ...]:
    """An independent reading: python-stdnum's check digit and birth date, our province list, no area lookup."""
    from stdnum import exceptions
    from stdnum.cn import ric

    from shared.identity import PROVINCES

    number = value.strip().upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return ("error", "shape")
    if ric.calc_check_digit(number) != number[17]:
        return ("error", "check")
    if number[:2] not in PROVINCES:
        return ("error", "province")
    try:
        birth = ric.get_birth_date(number)
    except exceptions.ValidationError:
        return ("error", "date")
    if birth.year < 1890:
        return ("error", "date")
    if birth > TODAY:
        return ("error", "future")
    return (number, birth, "male" if int(number[16]) % 2 else "female", number[:6])


KIND = {"应为18位": "shape", "校验码": "check", "省级": "province", "不存在": "date", "早于": "date", "晚于": "future"}
TODAY = date(2026, 12, 2)


def _ours(value: str) -> tuple[object, ...]:
    try:
        rid = parse_resident_id(value, today=TODAY)
    except InvalidIdentifier as exc:
        return ("error", next(kind for word, kind in KIND.items() if word in str(exc)))
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


class TestAgainstAnIndependentReading:
    """parse_resident_id computes the check digit and birth date itself (bulk imports call it 300,000 times);
    its verdict must be the oracle's, number for number; an unknown area code is never a refusal."""

    @settings(max_examples=500)
    @given(near_resident_ids())
    def test_well_formed_numbers(self, number: str) -> None:
        assert _ours(number) == _oracle(number)

    @given(st.text(alphabet=st.sampled_from(list("0123456789Xx ١٢３\n-")), min_size=15, max_size=20))
    def test_anything_else(self, value: str) -> None:
        assert _ours(value) == _oracle(value)

    @given(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)), st.sampled_from(REGIONS))
    def test_every_county_and_year(self, born: date, region: str) -> None:
        number = resident_id(region=region, born=born, sex="female")
        assert _ours(number) == _oracle(number)
        assert _ours(number.lower()) == _oracle(number.lower())

    def test_a_county_code_listed_without_a_county_is_a_warning_not_a_crash(self) -> None:
        rid = parse_resident_id(resident_id(region="522399", born=date(1980, 1, 1)))
        assert rid.warning is not None
