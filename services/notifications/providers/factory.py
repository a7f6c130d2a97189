"""The provider named in settings, built once per service."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.notifications.providers.base import Provider
from services.notifications.providers.cloud import (
    ALIYUN_ANSWER,
    ALIYUN_RECEIPTS,
    ALIYUN_REPLIES,
    TENCENT_ANSWER,
    TENCENT_RECEIPTS,
    TENCENT_REPLIES,
    AliyunShape,
    TencentShape,
)
from services.notifications.providers.http import CallbackMapping, GenericShape, HttpGateway
from services.notifications.providers.log import LogProvider
from services.notifications.settings import NotificationSettings


def build_provider(settings: NotificationSettings, now: Callable[[], datetime]) -> Provider:
    config: dict[str, Any] = dict(settings.gateway_config)
    timeout = float(config.pop("timeout_seconds", 5.0))
    if settings.provider == "log":
        return LogProvider()
    if settings.provider == "aliyun":
        return HttpGateway(
            "aliyun",
            AliyunShape(**_keep(config, AliyunShape)),
            receipts=ALIYUN_RECEIPTS,
            replies=ALIYUN_REPLIES,
            answer=ALIYUN_ANSWER,
            timeout=timeout,
            now=now,
        )
    if settings.provider == "tencent":
        return HttpGateway(
            "tencent",
            TencentShape(**_keep(config, TencentShape)),
            receipts=TENCENT_RECEIPTS,
            replies=TENCENT_REPLIES,
            answer=TENCENT_ANSWER,
            timeout=timeout,
            now=now,
        )
    response = config.get("response", {})
    generic = GenericShape(
        url=config["url"],
        method=config.get("method", "POST"),
        encoding=config.get("encoding", "json"),
        **({"body": config["body"]} if config.get("body") else {}),  # empty or absent: the shape's default body
        auth=config.get("auth", {}),
        id_path=response.get("id", "id"),
        ok_path=response.get("ok"),
        ok_values=tuple(response.get("ok_values", ())),
    )
    return HttpGateway(
        "http",
        generic,
        receipts=_mapping(config.get("receipts")),
        replies=_mapping(config.get("replies")),
        answer=config.get("answer"),
        timeout=timeout,
        now=now,
    )


def _keep(config: dict[str, Any], shape: type[AliyunShape] | type[TencentShape]) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(shape)}
    return {k: v for k, v in config.items() if k in fields and k != "nonce"}


def _mapping(raw: dict[str, Any] | None) -> CallbackMapping:
    if not raw:
        return CallbackMapping()
    if "delivered" in raw:
        raw = {**raw, "delivered": tuple(raw["delivered"])}
    return CallbackMapping(**raw)
