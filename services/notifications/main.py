"""The notifications service's app factory."""

from __future__ import annotations

from pathlib import Path

from services.notifications.api import router
from services.notifications.events import SUBSCRIPTIONS
from services.notifications.models import NotificationsTable
from shared.service import ServiceSpec, app_factory

SPEC = ServiceSpec(
    name="notifications",
    title="Fupin notifications (短信提醒)",
    metadata=NotificationsTable.metadata,
    routers=[router],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
)
create_app = app_factory(SPEC)
