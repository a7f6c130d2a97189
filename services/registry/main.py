"""The registry service's app factory."""

from __future__ import annotations

from pathlib import Path

from services.registry import regions_api
from services.registry.api import helper_router, router
from services.registry.events import SUBSCRIPTIONS
from services.registry.exports import api as exports_api
from services.registry.imports import api as imports_api
from services.registry.models import RegistryTable
from shared.service import ServiceSpec, app_factory

SPEC = ServiceSpec(
    name="registry",
    title="Fupin registry (建档立卡)",
    metadata=RegistryTable.metadata,
    routers=[router, helper_router, regions_api.router, imports_api.router, exports_api.router],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
)
create_app = app_factory(SPEC)
