"""Text from people: normalised (NFC, trimmed) and refused when it carries what no name or address should:
control characters (NUL, ANSI escapes), invisible format characters (zero-width, bidi overrides, BOM),
surrogates and private-use code points. CJK extension characters (𠀀 …) are ordinary letters and pass."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})  # control, format, surrogate, private use
ALLOWED_IN_TEXT = frozenset("\n\t")  # free text (a reason, minutes) may have lines


def _clean(value: str, allowed: frozenset[str]) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise ValueError("不能为空白 (must not be blank)")
    if text.isprintable():  # every refused category is unprintable: one pass in C for the usual name
        return text
    for char in text:
        if char not in allowed and unicodedata.category(char) in REFUSED_CATEGORIES:
            raise ValueError(f"含有不可见或控制字符 U+{ord(char):04X} (a control or invisible character)")
    return text


def clean_name(value: str) -> str:
    """A name, an address, a code typed by a person: one line of visible text."""
    return _clean(value, frozenset())


def clean_text(value: str) -> str:
    """Free text: like a name, but it may run over several lines."""
    return _clean(value, ALLOWED_IN_TEXT)


Name = Annotated[str, AfterValidator(clean_name)]
Text = Annotated[str, AfterValidator(clean_text)]
