"""A real HTTP SMS gateway stand-in: records every request, answers as the test says, posts delivery reports."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any = None


@dataclass
class Gateway:
    """``script`` holds the next answers (status, body); when empty it accepts with a fresh id (or 503 if down)."""

    requests: list[Seen] = field(default_factory=list)
    script: deque[tuple[int, Any]] = field(default_factory=deque)
    down: bool = False
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body = gateway.answer(self.command, self.path, dict(self.headers), raw)
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        content_type = headers.get("Content-Type", "")
        body: Any = dict(parse_qsl(raw.decode())) if "form" in content_type else json.loads(raw or b"null")
        with self._lock:
            self.requests.append(Seen(method, path, headers, raw, body))
            if self.script:
                return self.script.popleft()
            if self.down:
                return 503, {"error": "maintenance"}
            return 200, {"code": "OK", "id": f"gw-{len(self.requests)}"}

    def sent(self) -> list[Any]:
        """Bodies of the send requests the gateway accepted or refused, in order."""
        with self._lock:
            return [r.body for r in self.requests]

    def report(
        self, callback: str, *, provider_id: str, phone: str, status: str = "DELIVRD", ref: str = ""
    ) -> httpx.Response:
        """Post a delivery report to the service's callback, as a gateway does."""
        return httpx.post(
            callback, json=[{"id": provider_id, "phone": phone, "status": status, "ref": ref}], timeout=10
        )
