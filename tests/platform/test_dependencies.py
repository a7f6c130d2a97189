"""No route pays a thread-pool trip for a dependency that does no I/O.

FastAPI runs a plain ``def`` dependency in the thread pool: for a pure one (a principal, a page's parameters, a
clock, the disclosure) that is a hop to another thread and back on every request, with the GIL handed over twice;
it once cost a household read a third of its rate. A dependency is a plain function only when it does blocking
I/O, and then it is a generator that opens and closes what it holds (a database session, a client of another
service): those are listed here by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from shared.cli.services import SERVICES, load_spec
from shared.service import build_app
from shared.settings import StackSettings

BLOCKING = {  # generators around blocking I/O: they run in the pool as the sync routes that use them do
    "shared.deps.read_session",
    "shared.deps.write_session",
    "shared.calls.client_of.<locals>.dependency",
}


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router, matched lazily
            yield from api_routes(route.original_router.routes)


def dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from dependencies(sub)


def name_of(call: Callable[..., Any]) -> str:
    return f"{call.__module__}.{call.__qualname__}"


def runs_in_the_pool(call: Callable[..., Any]) -> bool:
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    return not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target))


@pytest.mark.parametrize("name", SERVICES)
def test_every_dependency_without_io_is_async(name: str, tmp_path: Path) -> None:
    stack = StackSettings(data_dir=tmp_path, jwt_secret="x" * 40)
    app = build_app(load_spec(name), stack=stack)
    routes = list(api_routes(app.routes))
    assert routes
    pooled = {
        f"{name_of(call)} ({route.path})"
        for route in routes
        for call in dependencies(route.dependant)
        if runs_in_the_pool(call) and name_of(call) not in BLOCKING
    }
    assert not pooled, "plain-def dependencies doing no I/O (make them async): " + ", ".join(sorted(pooled))
    for call in {c for route in routes for c in dependencies(route.dependant) if name_of(c) in BLOCKING}:
        assert inspect.isgeneratorfunction(call), name_of(call)
