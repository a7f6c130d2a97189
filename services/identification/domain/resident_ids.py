"""Resident ID numbers (居民身份证号码) as department files write them, made comparable.

A department's file may hold a legacy 15-digit number, a lower-case check character, spaces, or full-width
digits typed on a Chinese keyboard. ``normalise`` makes one 18-digit form of all of them; ``problem`` says why a
normalised number is not a valid one (its line is then reported, never silently dropped). The matching does the
same in SQL (``comparison.matching``); a property test holds the two equal.
"""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric

FULL_WIDTH = "０１２３４５６７８９Ｘｘ"
HALF_WIDTH = "0123456789XX"
# The blanks a typed or pasted number carries: ASCII whitespace, the ideographic space, no-break space, BOM.
BLANKS = " \t\n\r\f\v\u3000\u00a0\ufeff"
_TABLE = str.maketrans(FULL_WIDTH, HALF_WIDTH, BLANKS)


def _check_char(body: str) -> str:
    # stdnum computes it over a whole 18-character number, ignoring the last one
    return str(ric.calc_check_digit(body + "0"))


def clean(raw: str | None) -> str:
    """Blanks removed, full-width digits made ASCII, the check character upper-cased."""
    return (raw or "").translate(_TABLE).upper()


def upgrade(legacy: str) -> str:
    """A 15-digit number (1999 and before) in its 18-digit form: century ``19`` inserted, check character added."""
    body = legacy[:6] + "19" + legacy[6:]
    return body + _check_char(body)


def normalise(raw: str | None) -> str:
    """The number as matching compares it: cleaned, and a 15-digit one upgraded to 18 digits."""
    number = clean(raw)
    if len(number) == 15 and number.isdigit():
        return upgrade(number)
    return number


def problem(number: str) -> str | None:
    """Why a normalised number is not a resident ID (empty, format, birth_date, checksum); None if it is."""
    if not number:
        return "empty"
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "format"
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "birth_date"
    if _check_char(number[:17]) != number[17]:
        return "checksum"
    return None


PROBLEM_TEXT = {
    "empty": "身份证号为空 (no resident ID)",
    "format": "身份证号格式不对：应为18位（或15位旧号） (not 18 digits, or 15 for a legacy number)",
    "birth_date": "身份证号中的出生日期不存在 (the birth date in the number does not exist)",
    "checksum": "身份证号校验码不符 (the check character does not match)",
}
