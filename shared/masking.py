"""Masking of personal data in list views, exports and logs."""

from __future__ import annotations

import re

_RESIDENT_ID = re.compile(r"(?<!\d)(\d{4})\d{10}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
# Both hold at least eleven digits in a row (a mobile: 11, a resident ID: 17 and a check character).
_LONG_NUMBER = re.compile(r"\d{11}")


def mask_resident_id(value: str | None) -> str | None:
    """5201**********1234: first four and last four characters shown."""
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """138****1234."""
    if not value:
        return value
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_account(value: str | None) -> str | None:
    """A bank card or account: only the last four digits."""
    if not value:
        return value
    return "*" * max(len(value) - 4, 0) + value[-4:]


def may_hold_personal(text: str) -> bool:
    """Whether ``mask_text`` could change ``text``: one search, where masking is two substitutions."""
    return _LONG_NUMBER.search(text) is not None


def mask_text(text: str) -> str:
    """Mask every resident ID and mobile number found in free text (log lines)."""
    text = _RESIDENT_ID.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
