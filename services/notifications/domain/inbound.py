"""Replies from phones (上行短信): opt-out words stop messages; configured keywords become events."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

OPT_OUT_WORDS = frozenset({"TD", "T", "R", "N", "退订", "取消", "拒收"})
DEFAULT_KEYWORDS: Mapping[str, str] = {"异议": "objection", "YY": "objection", "投诉": "complaint", "TS": "complaint"}


@dataclass(frozen=True)
class Reply:
    kind: str  # opt_out, opt_in, keyword, other
    keyword: str | None = None
    topic: str | None = None
    rest: str = ""


def classify_reply(text: str, *, keywords: Mapping[str, str] = DEFAULT_KEYWORDS) -> Reply:
    """What a reply means: 回复TD退订 and the like stop messages; a leading keyword names a topic."""
    folded = unicodedata.normalize("NFKC", text).strip()
    upper = folded.upper()
    if upper in OPT_OUT_WORDS:
        return Reply(kind="opt_out", keyword=upper)
    if upper in {"订阅", "恢复", "KT"}:
        return Reply(kind="opt_in", keyword=upper)
    for word, topic in keywords.items():
        if upper.startswith(word.upper()):
            return Reply(kind="keyword", keyword=word, topic=topic, rest=folded[len(word) :].strip(" :：，,"))
    return Reply(kind="other", rest=folded)
