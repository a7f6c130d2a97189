"""Crash points for the recovery tests: ``FUPIN_FAULTS=relay.after_publish`` kills the process there.

Only the crash tests set the variable; in production the check is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def fault_point(name: str) -> None:
    if name in os.environ.get("FUPIN_FAULTS", "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)
