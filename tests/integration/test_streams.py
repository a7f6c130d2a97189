"""The streams every service makes at start: created once, left alone when already right, brought back when
someone changed them on the server (a real JetStream server, the test's own stream names)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from nats.js.api import DiscardPolicy, StreamConfig

from shared.events.bus import connect, ensure_streams, outdated, stream_configs
from shared.settings import StackSettings

pytestmark = pytest.mark.integration


def test_streams_are_made_once_and_left_alone_when_already_right(stack: StackSettings) -> None:
    async def go() -> tuple[list[str], int]:
        nc = await connect(stack, name="streams-test")
        try:
            js = nc.jetstream()
            updates: list[str] = []
            real_update = js.update_stream

            async def counted(config: StreamConfig, **kw: Any) -> Any:
                updates.append(config.name or "")
                return await real_update(config, **kw)

            js.update_stream = counted  # type: ignore[method-assign]
            await ensure_streams(js, stack)
            await ensure_streams(js, stack)  # a second service starting: nothing to change
            assert updates == []
            events = stream_configs(stack)[0]
            await real_update(dataclasses.replace(events, duplicate_window=30))  # someone changed it
            await ensure_streams(js, stack)
            info = await js.stream_info(events.name or "")
            return updates, int(info.config.duplicate_window or 0)
        finally:
            await nc.close()

    updates, window = asyncio.run(go())
    assert updates == [stack.stream_name] and window == 120


WANTED = StreamConfig(name="S", subjects=["a.>"], max_age=100, duplicate_window=120, discard=DiscardPolicy.OLD)


@pytest.mark.parametrize(
    ("current", "differs"),
    [
        (WANTED, False),
        (dataclasses.replace(WANTED, max_msgs=5), False),  # something we do not set: the server's or the operator's
        (dataclasses.replace(WANTED, subjects=["b.>"]), True),
        (dataclasses.replace(WANTED, max_age=99), True),
        (dataclasses.replace(WANTED, discard=DiscardPolicy.NEW), True),
        (dataclasses.replace(WANTED, num_replicas=3), False),  # we leave replicas to the server when unset
    ],
)
def test_a_stream_is_outdated_only_in_what_we_set(current: StreamConfig, differs: bool) -> None:
    assert outdated(current, WANTED) is differs
