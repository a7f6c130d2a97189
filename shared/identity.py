"""Chinese identifiers: resident ID (居民身份证号), unified social credit code, mobile phone."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

MOBILE = re.compile(r"^1[3-9]\d{9}$")
Sex = Literal["male", "female"]
# GB 11643 check digit (ISO 7064 MOD 11-2): with n the first 17 digits read in base 13, (1 - 2n) mod 11 equals
# (12 - Σ(aᵢ·Wᵢ)) mod 11 for the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 (2·13^k ≡ -Wₖ mod 11), and
# indexes this string; python-stdnum computes it the same way. One C-level int() instead of 17 products.
CHECK_CHARS = "0123456789X"
ODD = frozenset("13579")


EARLIEST_BIRTH_YEAR = 1890  # no one registered today was born before this
# The province-level codes (GB/T 2260) a resident ID's first two digits may carry: 91 is the code issued abroad.
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "91",
    ]
)
WRONG_SHAPE = "身份证号应为18位：前17位为数字，第18位为数字或X"
WRONG_CHECK = "身份证号第18位校验码不符"
NO_SUCH_DATE = "身份证号第7–14位出生日期不存在"
FUTURE_DATE = "身份证号第7–14位出生日期晚于今天"
TOO_EARLY = f"身份证号第7–14位出生日期早于{EARLIEST_BIRTH_YEAR}年"
NO_PROVINCE = "身份证号前2位不是省级行政区划代码"


class InvalidIdentifier(ValueError):
    """An identifier that fails its format or checksum; the message (in Chinese) names the part that is wrong."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: Sex
    region_code: str
    warning: str | None = None  # an area code unknown for the birth year: recorded, never a refusal


def parse_resident_id(value: str, *, today: date | None = None) -> ResidentId:
    """Validate an 18-digit resident ID (GB 11643) and read its birth date, sex and region.

    Refused: the wrong shape, a wrong check digit, a birth date that does not exist, lies after ``today`` or
    before ``EARLIEST_BIRTH_YEAR``, a first two digits that are no province. The six-digit area code is where
    the number was first issued, and codes are renamed and merged: one unknown for the birth year is a warning.
    """
    number = value.strip().upper()
    birth, sex = resident_id_facts(number, today=today)
    return ResidentId(number=number, birth_date=birth, sex=sex, region_code=number[:6], warning=area_warning(number))


def resident_id_facts(number: str, *, today: date | None = None) -> tuple[date, Sex]:
    """Birth date and sex of an upper-case resident ID, checked as ``parse_resident_id`` checks it (the fast
    path for bulk work: one C-level ``int()`` for the check digit, cached dates)."""
    if len(number) != 18 or not number.isascii() or not number[:17].isdigit() or number[17] not in CHECK_CHARS:
        raise InvalidIdentifier(WRONG_SHAPE)
    if number[17] != CHECK_CHARS[(1 - 2 * int(number[:17], 13)) % 11]:
        raise InvalidIdentifier(WRONG_CHECK)
    if number[:2] not in PROVINCES:
        raise InvalidIdentifier(NO_PROVINCE)
    birth = _BIRTH_DATES.get(number[6:14]) or _birth_date(number[6:14])
    if birth > (today or date.today()):
        raise InvalidIdentifier(FUTURE_DATE)
    return birth, ("male" if number[16] in ODD else "female")


# Caches of the fast path, bounded: a file of nonsense cannot grow them without end.
_BIRTH_DATES: dict[str, date] = {}
_PLACES: dict[str, str | None] = {}
_CACHE_SIZE = 1 << 17


def _birth_date(digits: str) -> date:
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidIdentifier(NO_SUCH_DATE) from None
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise InvalidIdentifier(TOO_EARLY)
    if len(_BIRTH_DATES) >= _CACHE_SIZE:
        _BIRTH_DATES.clear()
    _BIRTH_DATES[digits] = birth
    return birth


def area_warning(number: str) -> str | None:
    """A note when python-stdnum's division database does not list the ID's area code for its birth year."""
    place = number[:10]  # area code and birth year
    if place not in _PLACES:
        if len(_PLACES) >= _CACHE_SIZE:
            _PLACES.clear()
        _PLACES[place] = (
            None
            if _known_place(place)
            else (f"地址码{number[:6]}在{number[6:10]}年的行政区划中未见（可能已撤并或更名），请核对")
        )
    return _PLACES[place]


# python-stdnum parses its division database (~50 ms) on the first look-up and keeps it; without a lock, every
# request that arrives before that first parse ends parses it too (8 concurrent registrations: 8 parses, the GIL
# shared among them), which profiled as ~9% of the first seconds of POSTs.
_PLACE_DB = threading.Lock()


def _known_place(place: str) -> bool:
    with _PLACE_DB:
        try:
            ric.get_birth_place(f"{place}01010000")
        except (stdnum_errors.ValidationError, LookupError):
            return False
    return True


def check_consistent(resident_id: ResidentId, *, birth_date: date | None, sex: Sex | None) -> None:
    """A member's stated birth date and sex must agree with what the ID number encodes."""
    if birth_date is not None and birth_date != resident_id.birth_date:
        raise InvalidIdentifier(f"birth date {birth_date} does not match the resident ID ({resident_id.birth_date})")
    if sex is not None and sex != resident_id.sex:
        raise InvalidIdentifier(f"sex {sex} does not match the resident ID ({resident_id.sex})")


def validate_credit_code(value: str) -> str:
    """Validate an 18-character unified social credit code (统一社会信用代码)."""
    try:
        return uscc.validate(value.strip().upper())
    except stdnum_errors.ValidationError as exc:
        raise InvalidIdentifier(f"not a valid unified social credit code: {exc}") from exc


def validate_mobile(value: str) -> str:
    number = re.sub(r"[\s-]", "", value)
    number = number.removeprefix("+86")
    if not MOBILE.match(number):
        raise InvalidIdentifier("not a mainland mobile number (11 digits starting 13–19)")
    return number
