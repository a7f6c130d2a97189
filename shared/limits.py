"""Request bodies bounded before they are read: a JSON body past ``max_body_bytes`` or an upload past
``max_upload_bytes`` is refused with 413 problem+json as soon as its size is known (its Content-Length) or
reached (a chunked body is counted as it arrives), so refusing costs no more memory than the limit."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PROBLEM_JSON


class BodyLimit:
    """Pure ASGI middleware: counts the body it hands to the app and answers 413 once it is too large."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = multipart = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"content-type":
                multipart = value.startswith(b"multipart/")
        if declared is None and not chunked:  # HTTP/1.1: no length and no chunks is no body at all
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_bytes if multipart else self.max_body_bytes
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(scope, send, limit)
            return
        state = {"received": 0, "over": False, "answered": False}

        async def counted() -> Message:
            if state["over"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["over"] = True
                    return {"type": "http.disconnect"}  # the app stops reading; what it answers is replaced
            return message

        async def guarded(message: Message) -> None:
            if not state["over"]:
                await send(message)
            elif not state["answered"] and message["type"] == "http.response.start":
                state["answered"] = True
                await _refuse(scope, send, limit)

        await self.app(scope, counted, guarded)
        if state["over"] and not state["answered"]:
            await _refuse(scope, send, limit)


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    field = (
        "file"
        if limit and any(k == b"content-type" and v.startswith(b"multipart/") for k, v in scope["headers"])
        else "body"
    )
    detail = f"the request body is larger than this service accepts ({limit:,} bytes)"
    body: dict[str, Any] = {
        "type": "https://fupin.example/problems/too_large",
        "title": "Request too large",
        "status": 413,
        "detail": detail,
        "code": "too_large",
        "instance": scope.get("path", ""),
        "errors": [{"field": field, "message": detail}],
    }
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
