"""SMS length in segments (短信条数): GSM-7 text 160 / 153 per part, anything else UCS-2 70 / 67 per part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

# The GSM 03.38 default alphabet, and the extension table whose characters take two septets (ESC + char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
LIMITS: dict[Encoding, tuple[int, int]] = {"gsm7": (160, 153), "ucs2": (70, 67)}
MAX_CHARACTERS = 500  # Chinese cloud gateways refuse longer messages, signature included


@dataclass(frozen=True)
class SegmentCount:
    """How a text goes over the air: its encoding, its length in that encoding's units, and the parts."""

    encoding: Encoding
    units: int
    segments: int
    per_segment: int


def encoding_of(text: str) -> Encoding:
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        return "gsm7"
    return "ucs2"


def units_of(text: str, encoding: Encoding) -> int:
    """Septets for GSM-7 (extension characters count two); UTF-16 code units for UCS-2 (an emoji counts two)."""
    if encoding == "gsm7":
        return sum(2 if c in GSM7_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def count_segments(text: str) -> SegmentCount:
    """The number of SMS a text takes: one up to 70 (160), then parts of 67 (153) each."""
    encoding = encoding_of(text)
    units = units_of(text, encoding)
    single, part = LIMITS[encoding]
    if units <= single:
        return SegmentCount(encoding=encoding, units=units, segments=1 if units else 0, per_segment=single)
    return SegmentCount(encoding=encoding, units=units, segments=-(-units // part), per_segment=part)
