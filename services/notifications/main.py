"""The notifications service's app factory, and the sender loop it runs beside the relay and consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI

from services.notifications import events, registry
from services.notifications.api import callbacks, router
from services.notifications.directory import DIRECTORY_JOBS
from services.notifications.duties import DUTY_JOBS
from services.notifications.models import NotificationsTable
from services.notifications.providers.base import Provider
from services.notifications.providers.factory import build_provider
from services.notifications.sending import Sender, SenderMetrics
from services.notifications.settings import NotificationSettings
from shared.service import ServiceSpec, app_factory


@dataclass
class NotificationsRuntime:
    settings: NotificationSettings
    provider: Provider
    sender: Sender


@contextlib.asynccontextmanager
async def sender_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Build the provider and the sender; run the sender loop unless ``RUN_SENDER`` is off (tests drive it)."""
    runtime = app.state.runtime
    settings = NotificationSettings()
    events.SETTINGS[:] = [settings]
    registry.STACKS[:] = [app.state.stack]
    provider = build_provider(settings, runtime.db.clock.now)
    sender = Sender(runtime.db, provider, settings, metrics=SenderMetrics(runtime.metrics.registry))
    app.state.notifications = NotificationsRuntime(settings, provider, sender)
    task = asyncio.create_task(sender.run(), name="notifications-sender") if settings.run_sender else None
    try:
        yield
    finally:
        sender.stop()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


worker = APIRouter(lifespan=sender_lifespan)

SPEC = ServiceSpec(
    name="notifications",
    title="Fupin notifications (短信提醒)",
    metadata=NotificationsTable.metadata,
    routers=[router, callbacks, worker],
    migrations=Path(__file__).parent / "migrations",
    subscriptions=events.SUBSCRIPTIONS,
    periodic=(*DIRECTORY_JOBS, *DUTY_JOBS),
)
create_app = app_factory(SPEC)
