"""The circuit breaker (熔断) in front of a gateway: when it keeps failing, the queue waits instead of trying."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class BreakerState(StrEnum):
    closed = "closed"  # sending normally
    open = "open"  # the gateway is down: nothing is sent until the cool-down ends
    half_open = "half_open"  # one probe message may go; its outcome closes or reopens the breaker


STATE_VALUES = {BreakerState.closed: 0, BreakerState.half_open: 1, BreakerState.open: 2}


@dataclass(frozen=True)
class Breaker:
    threshold: int = 5
    cool_down: timedelta = timedelta(seconds=60)
    state: BreakerState = BreakerState.closed
    failures: int = 0
    opened_at: datetime | None = None

    def admit(self, now: datetime) -> tuple[Breaker, int]:
        """The breaker after looking at the clock, and how many messages may go now (0, 1 probe, or any)."""
        if self.state is BreakerState.open:
            assert self.opened_at is not None
            if now < self.opened_at + self.cool_down:
                return self, 0
            return replace(self, state=BreakerState.half_open), 1
        if self.state is BreakerState.half_open:
            return self, 1
        return self, -1

    def succeeded(self) -> Breaker:
        return replace(self, state=BreakerState.closed, failures=0, opened_at=None)

    def failed(self, now: datetime) -> Breaker:
        """A gateway failure (5xx, timeout, no connection); a refusal (4xx) is not the gateway being down."""
        failures = self.failures + 1
        if self.state is BreakerState.half_open or failures >= self.threshold:
            return replace(self, state=BreakerState.open, failures=failures, opened_at=now)
        return replace(self, failures=failures)
