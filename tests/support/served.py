"""An app served over real HTTP by uvicorn in a thread of the test process, for a service that calls another."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

import uvicorn

from tests.support.ports import free_port
from tests.support.procs import wait_until


class ServedApp:
    """``with ServedApp(create_registry(stack=stack)) as registry:`` then ``registry.url``."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServedApp:
        self.thread.start()
        wait_until(lambda: self.server.started, what="the served app to answer")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
