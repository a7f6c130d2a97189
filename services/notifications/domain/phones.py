"""Mainland mobile numbers as people write them: +86, 0086, spaces, dashes, full-width digits (全角数字)."""

from __future__ import annotations

import re
import unicodedata

from shared.refusals import Refusal

MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()（）.·]")
_COUNTRY = ("+86", "0086", "86")


def normalise_phone(raw: str) -> str:
    """The 11-digit form of a number: NFKC folds full-width digits and plus signs, separators go, +86 goes."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in _COUNTRY:
        if text.startswith(prefix) and len(text) - len(prefix) == 11:
            return text[len(prefix) :]
    return text


def phone_refusals(raw: str, *, field: str = "phone") -> list[Refusal]:
    """Refuse what is not a mainland mobile number once normalised."""
    if MOBILE.match(normalise_phone(raw)):
        return []
    return [Refusal("not_a_mobile", "not a mainland mobile number (11 digits starting 13–19)", field)]


def e164(phone: str) -> str:
    """+86 form, as Tencent Cloud wants it."""
    return f"+86{phone}"
