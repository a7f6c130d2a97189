"""The embedded default: nothing leaves the machine, the outbound log is the record."""

from __future__ import annotations

import logging
from typing import Any

from services.notifications.domain.retry import Verdict
from services.notifications.providers.base import DeliveryReport, InboundReply, OutboundSms, SendResult
from shared.masking import mask_phone

log = logging.getLogger("fupin.sms")


class LogProvider:
    name = "log"

    async def send(self, sms: OutboundSms) -> SendResult:
        log.info("sms to %s: %s", mask_phone(sms.phone), sms.template_code)
        return SendResult(Verdict.accepted, provider_message_id=f"log-{sms.message_id}")

    def receipts(self, body: Any) -> list[DeliveryReport]:
        return []

    def replies(self, body: Any) -> list[InboundReply]:
        return []

    def callback_answer(self) -> dict[str, Any]:
        return {"ok": True}
