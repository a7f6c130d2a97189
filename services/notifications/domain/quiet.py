"""Quiet hours (免打扰时段): no message between 21:00 and 08:00 Asia/Shanghai unless its kind is urgent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from shared.clock import SHANGHAI


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def release_time(*, now: datetime, quiet: QuietHours, urgent: bool) -> datetime:
    """When a message may go: now, or the end of the quiet hours it falls in (the next morning)."""
    local = now.astimezone(SHANGHAI)
    if urgent or not quiet.contains(local.time()):
        return now
    morning = datetime.combine(local.date(), quiet.end, tzinfo=SHANGHAI)
    if morning <= local:
        morning += timedelta(days=1)
    return morning
