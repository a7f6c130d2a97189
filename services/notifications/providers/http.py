"""A generic HTTP SMS gateway: URL, auth, request and response mapping, and callbacks, all from settings.

The Aliyun and Tencent Cloud adapters are this gateway with their own request shape and signing
(``providers/cloud.py``); the sending, timeouts and verdicts are the same for all three.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from services.notifications.domain.phones import normalise_phone
from services.notifications.domain.retry import Verdict, verdict_for_status
from services.notifications.providers.base import (
    DeliveryReport,
    InboundReply,
    OutboundSms,
    SendResult,
    dig,
    items,
)


@dataclass(frozen=True)
class RequestParts:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None
    content: bytes | None = None


class Shape(Protocol):
    """How one gateway's send request looks and how its answer reads."""

    def build(self, sms: OutboundSms, now: datetime) -> RequestParts: ...

    def outcome(self, body: Any) -> SendResult: ...


def fill(value: Any, fields: dict[str, str]) -> Any:
    """Put the message's fields into a mapping template: ``"{phone}"`` → the number, recursively."""
    if isinstance(value, str):
        return value.format_map(fields)
    if isinstance(value, dict):
        return {k: fill(v, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, fields) for v in value]
    return value


def message_fields(sms: OutboundSms) -> dict[str, str]:
    return {
        "phone": sms.phone,
        "phone_e164": f"+86{sms.phone}",
        "text": sms.text,
        "message_id": sms.message_id,
        "template_code": sms.provider_template or sms.template_code,
        "params_json": json.dumps(dict(sms.params), ensure_ascii=False, separators=(",", ":")),
        "signature": sms.signature,
    }


@dataclass(frozen=True)
class GenericShape:
    """Request and response of a gateway described in settings (see docs/notifications.md)."""

    url: str
    method: str = "POST"
    encoding: str = "json"
    body: dict[str, Any] = field(default_factory=lambda: {"phone": "{phone}", "text": "{text}", "ref": "{message_id}"})
    auth: dict[str, str] = field(default_factory=dict)
    id_path: str = "id"
    ok_path: str | None = None
    ok_values: tuple[Any, ...] = ()

    def build(self, sms: OutboundSms, now: datetime) -> RequestParts:
        payload = fill(self.body, message_fields(sms))
        headers = self._auth_headers()
        if self.method == "GET":
            return RequestParts("GET", self.url, headers, params={k: str(v) for k, v in payload.items()})
        if self.encoding == "form":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return RequestParts(self.method, self.url, headers, content=httpx.QueryParams(payload).__str__().encode())
        headers["Content-Type"] = "application/json; charset=utf-8"
        return RequestParts(self.method, self.url, headers, content=json.dumps(payload, ensure_ascii=False).encode())

    def _auth_headers(self) -> dict[str, str]:
        kind = self.auth.get("type", "none")
        if kind == "bearer":
            return {"Authorization": f"Bearer {self.auth['token']}"}
        if kind == "basic":
            pair = f"{self.auth['username']}:{self.auth['password']}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
        if kind == "header":
            return {self.auth["name"]: self.auth["value"]}
        return {}

    def outcome(self, body: Any) -> SendResult:
        if self.ok_path is not None and dig(body, self.ok_path) not in self.ok_values:
            return SendResult(Verdict.rejected, error=f"gateway refused: {json.dumps(body, ensure_ascii=False)[:300]}")
        found = dig(body, self.id_path)
        return SendResult(Verdict.accepted, provider_message_id=str(found) if found is not None else None)


@dataclass(frozen=True)
class CallbackMapping:
    """Where the fields of a delivery report or a reply sit in what the gateway posts."""

    items: str | None = None
    id: str = "id"
    phone: str = "phone"
    status: str = "status"
    delivered: tuple[Any, ...] = ("DELIVERED", "DELIVRD", "SUCCESS", True)
    ref: str | None = "ref"
    text: str = "text"


class HttpGateway:
    """Sends through any HTTP gateway; a timeout or a refused connection is a retry, as is a 5xx."""

    def __init__(
        self,
        name: str,
        shape: Shape,
        *,
        receipts: CallbackMapping | None = None,
        replies: CallbackMapping | None = None,
        answer: dict[str, Any] | None = None,
        timeout: float = 5.0,
        now: Callable[[], datetime],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.shape = shape
        self.receipt_map = receipts or CallbackMapping()
        self.reply_map = replies or CallbackMapping()
        self.answer = answer or {"ok": True}
        self.timeout = timeout
        self.now = now
        self.transport = transport

    async def send(self, sms: OutboundSms) -> SendResult:
        parts = self.shape.build(sms, self.now())
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
                response = await client.request(
                    parts.method, parts.url, headers=parts.headers, params=parts.params, content=parts.content
                )
        except httpx.TimeoutException as exc:
            return SendResult(Verdict.retry, error=f"timeout: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return SendResult(Verdict.retry, error=f"gateway unreachable: {type(exc).__name__}")
        verdict = verdict_for_status(response.status_code)
        if verdict is not Verdict.accepted:
            return SendResult(verdict, error=f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return self.shape.outcome(body)

    def receipts(self, body: Any) -> list[DeliveryReport]:
        m = self.receipt_map
        reports = []
        for record in items(body, m.items):
            provider_id, phone = dig(record, m.id), dig(record, m.phone)
            if provider_id is None or phone is None:
                continue
            status = dig(record, m.status)
            reports.append(
                DeliveryReport(
                    provider_message_id=str(provider_id),
                    phone=normalise_phone(str(phone)),
                    delivered=status in m.delivered,
                    code=str(status),
                    message_id=str(dig(record, m.ref)) if m.ref and dig(record, m.ref) else None,
                )
            )
        return reports

    def replies(self, body: Any) -> list[InboundReply]:
        m = self.reply_map
        found = []
        for record in items(body, m.items):
            phone, text = dig(record, m.phone), dig(record, m.text)
            if phone is None or text is None:
                continue
            number = normalise_phone(str(phone))
            ref = dig(record, m.id)
            found.append(InboundReply(ref=f"{number}:{ref if ref is not None else text}", phone=number, text=str(text)))
        return found

    def callback_answer(self) -> dict[str, Any]:
        return self.answer
