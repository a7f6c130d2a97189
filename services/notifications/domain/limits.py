"""Rate limits (频率限制): per number (e.g. 1 a minute, 5 an hour, 10 a day) and for the whole service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    """At most ``count`` messages in any ``window``."""

    count: int
    window: timedelta


PER_NUMBER = (Limit(1, timedelta(minutes=1)), Limit(5, timedelta(hours=1)), Limit(10, timedelta(days=1)))
GLOBAL = (Limit(600, timedelta(minutes=1)),)


def next_allowed(*, sent: Sequence[datetime], limits: Sequence[Limit], now: datetime) -> datetime:
    """The earliest moment one more message keeps every limit: ``now`` when it may go at once.

    ``sent`` are the times earlier messages went out (any order); only those inside a window count.
    """
    earliest = now
    ordered = sorted(sent)
    for limit in limits:
        inside = [t for t in ordered if t > now - limit.window]
        if limit.count <= 0:
            return now + limit.window
        if len(inside) >= limit.count:
            # The message that must age out of the window before another fits.
            blocking = inside[len(inside) - limit.count]
            earliest = max(earliest, blocking + limit.window)
    return earliest


def longest(limits: Sequence[Limit]) -> timedelta:
    return max((limit.window for limit in limits), default=timedelta(0))
