"""The registry service's app factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.registry.api import router
from services.registry.events import SUBSCRIPTIONS
from services.registry.models import RegistryTable
from shared.clock import Clock
from shared.service import ServiceSpec, build_app
from shared.settings import StackSettings

SPEC = ServiceSpec(
    name="registry",
    title="Fupin registry (建档立卡)",
    metadata=RegistryTable.metadata,
    routers=[router],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
)


def create_app(stack: StackSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return build_app(SPEC, stack=stack, clock=clock)
