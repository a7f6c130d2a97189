"""The registry service's app factory."""

from __future__ import annotations

from pathlib import Path

from services.registry.api import ROUTERS
from services.registry.handlers import SUBSCRIPTIONS
from services.registry.models import RegistryTable
from shared.service import ServiceSpec, app_factory

SPEC = ServiceSpec(
    name="registry",
    title="Fupin registry (建档立卡)",
    metadata=RegistryTable.metadata,
    routers=ROUTERS,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
)
create_app = app_factory(SPEC)
