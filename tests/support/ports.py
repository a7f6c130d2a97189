"""Free TCP ports on the loopback interface."""

from __future__ import annotations

import random
import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_block(size: int, *, low: int = 20_000, high: int = 32_000) -> int:
    """The first of ``size`` consecutive free ports, below the kernel's ephemeral range (32768 and up), where
    ``free_port`` and every client socket take theirs: another test cannot take one of the block meanwhile."""
    for _ in range(200):
        base = random.randrange(low, high - size)
        if all(_bindable(base + i) for i in range(size)):
            return base
    raise RuntimeError(f"no {size} consecutive free ports between {low} and {high}")
