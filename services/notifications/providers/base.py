"""The provider interface: send one SMS, read delivery reports and replies the gateway posts back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.notifications.domain.retry import Verdict


@dataclass(frozen=True)
class OutboundSms:
    """What a gateway needs: our message id (passed as the gateway's out-id), number, text, template."""

    message_id: str
    phone: str
    text: str
    template_code: str
    parameters: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    provider_template: str | None = None
    signature: str = ""


@dataclass(frozen=True)
class SendResult:
    verdict: Verdict
    provider_message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class DeliveryReport:
    provider_message_id: str
    phone: str
    delivered: bool
    code: str = ""
    message_id: str | None = None  # our id, when the gateway echoes it


@dataclass(frozen=True)
class InboundReply:
    ref: str
    phone: str
    text: str


class Provider(Protocol):
    name: str

    async def send(self, sms: OutboundSms) -> SendResult: ...

    def receipts(self, body: Any) -> list[DeliveryReport]: ...

    def replies(self, body: Any) -> list[InboundReply]: ...

    def callback_answer(self) -> dict[str, Any]: ...


def dig(data: Any, path: str | None) -> Any:
    """``a.b.0.c`` into nested JSON; None when any step is missing."""
    if not path:
        return data
    for step in path.split("."):
        if isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        elif isinstance(data, dict) and step in data:
            data = data[step]
        else:
            return None
    return data


def items(body: Any, path: str | None) -> list[dict[str, Any]]:
    """The records of a callback body: a list, one object, or a list under ``path``."""
    found = dig(body, path)
    if isinstance(found, dict):
        return [found]
    return [x for x in found if isinstance(x, dict)] if isinstance(found, list) else []
