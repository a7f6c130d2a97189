"""Work a request must finish before its response starts: registered by a dependency, run by the service's
middleware (``shared.service.Observe``) as the status line is about to go out, so that nothing is sent until it
is done and a failure is still a 500 (the audit of a whole value handed out, ``shared.disclosure``).

Cheaper than a generator dependency for work that only some requests have: a request that registers nothing pays
one dict lookup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

_KEY = "fupin.before_response"


def before_response(scope: MutableMapping[str, Any], hook: Callable[[], Awaitable[None]]) -> None:
    scope.setdefault(_KEY, []).append(hook)


async def run_before_response(scope: MutableMapping[str, Any]) -> None:
    """Each hook registered, once, in order; the first to raise stops the rest (the response becomes a 500)."""
    for hook in scope.pop(_KEY, ()):
        await hook()
