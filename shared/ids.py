"""The one id scheme: UUIDv7 strings (RFC 9562), time-ordered so new rows land at the end of an index."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def new_id() -> str:
    """A fresh UUIDv7: 48 bits of Unix milliseconds, a 12-bit counter within the millisecond, 62 random bits.

    Ids made in one process sort in the order they were made, even within one millisecond.
    """
    global _last_ms, _seq
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _seq += 1
            if _seq > 0xFFF:  # 4,096 ids in one millisecond: borrow the next one
                ms += 1
                _seq = 0
        else:
            _seq = int.from_bytes(os.urandom(2), "big") & 0x3FF  # leave room to count up
        _last_ms = ms
        seq = _seq
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def id_time_ms(value: str) -> int:
    """The Unix milliseconds a UUIDv7 was made at."""
    return uuid.UUID(value).int >> 80


def many_ids(n: int) -> list[str]:
    """``n`` fresh ids in the one id scheme (``shared.ids``, UUIDv7) at a fraction of ``new_id``'s cost each: one
    ``new_id``, counted up in its random low 32 bits. They sort after every id made before and before every id
    made after; the random bits above the count keep two processes' ids in one millisecond apart."""
    base = new_id()
    prefix, low = base[:24], int(base[24:], 16) & ~0xFFFFFFFF
    return [f"{prefix}{low + i:012x}" for i in range(n)]
