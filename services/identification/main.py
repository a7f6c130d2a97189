"""The identification service's app factory."""

from __future__ import annotations

from pathlib import Path

from services.identification.api import router
from services.identification.events import SUBSCRIPTIONS
from services.identification.models import IdentificationTable
from shared.service import ServiceSpec, app_factory

SPEC = ServiceSpec(
    name="identification",
    title="Fupin identification (识别与退出)",
    metadata=IdentificationTable.metadata,
    routers=[router],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
)
create_app = app_factory(SPEC)
