"""What a gateway answer means for a message: accepted, try again later (5xx, timeout), or refused (4xx)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Verdict(StrEnum):
    accepted = "accepted"
    retry = "retry"
    rejected = "rejected"


def verdict_for_status(status: int) -> Verdict:
    """2xx accepted; 429 and 5xx are the gateway's trouble and worth another try; other 4xx never will be."""
    if 200 <= status < 300:
        return Verdict.accepted
    if status == 429 or status >= 500:
        return Verdict.retry
    return Verdict.rejected


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(minutes=30)

    def delay(self, attempts: int) -> timedelta:
        """Wait after the ``attempts``-th failed try: doubling from ``base``, never over ``cap``."""
        return min(self.base * 2 ** max(attempts - 1, 0), self.cap)

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
