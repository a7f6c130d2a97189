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
        duplicate_window=120,  # the server's default, said so that a stream already right is seen to be
        num_replicas=settings.stream_replicas,
    )
    return [events, dead_letters]


COMPARED = ("retention", "storage", "max_age", "duplicate_window", "num_replicas", "discard")


def outdated(current: StreamConfig, wanted: StreamConfig) -> bool:
    """Whether a stream's configuration differs from ours in what we set (the server fills in the rest)."""
    if sorted(current.subjects or []) != sorted(wanted.subjects or []):
        return True
    return any(getattr(wanted, key) is not None and getattr(current, key) != getattr(wanted, key) for key in COMPARED)


async def ensure_streams(js: JetStreamContext, settings: StackSettings) -> None:
    """Create the streams, or bring their configuration up to date. A stream already as we want it is left
    alone: every service and every test publisher calls this at start, and an update is a write the server
    makes durable (fsync) before it answers."""
    for config in stream_configs(settings):
        try:
            info = await js.stream_info(config.name or "")
        except NotFoundError:
            await js.add_stream(config)
        else:
            if outdated(info.config, config):
                await js.update_stream(config)
