"""The NATS connection and the JetStream streams: domain events and dead letters."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.settings import StackSettings

log = logging.getLogger(__name__)


async def connect(settings: StackSettings, *, name: str) -> Client:
    """Connect and keep reconnecting for ever: a broker outage must not end a service."""

    client: Client | None = None

    async def _disconnected() -> None:
        if client is None or not client.is_closed:
            log.warning("nats disconnected")

    async def _reconnected() -> None:
        log.info("nats reconnected")

    async def _error(exc: Exception) -> None:
        log.debug("nats error: %s", exc)

    client = await nats.connect(
        settings.nats_url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
        connect_timeout=2,
        disconnected_cb=_disconnected,
        reconnected_cb=_reconnected,
        error_cb=_error,
    )
    return client


def stream_configs(settings: StackSettings) -> list[StreamConfig]:
    events = StreamConfig(
        name=settings.stream_name,
        subjects=[f"{settings.subject_prefix}.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_age=365 * 24 * 3600,
        duplicate_window=120,
        num_replicas=settings.stream_replicas,
    )
    dead_letters = StreamConfig(
        name=settings.dlq_stream_name,
        subjects=[f"dlq.{settings.subject_prefix}.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.stream_replicas,
    )
    return [events, dead_letters]


async def ensure_streams(js: JetStreamContext, settings: StackSettings) -> None:
    """Create the streams, or bring their configuration up to date."""
    for config in stream_configs(settings):
        try:
            await js.stream_info(config.name or "")
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
