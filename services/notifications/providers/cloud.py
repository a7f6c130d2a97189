"""Aliyun (阿里云短信 SendSms, RPC signature v1) and Tencent Cloud (腾讯云短信 SendSms, TC3-HMAC-SHA256).

Both are the generic HTTP gateway with their own request shape and signing; the signing functions are
checked against the examples in each cloud's documentation (tests/notifications/test_providers.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from services.notifications.domain.retry import Verdict
from services.notifications.providers.base import OutboundSms, SendResult, dig
from services.notifications.providers.http import CallbackMapping, RequestParts

# --- Aliyun -----------------------------------------------------------------------------------------------

ALIYUN_RETRY_CODES = frozenset(
    {"isp.SYSTEM_ERROR", "isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "ServiceUnavailable"}
)
ALIYUN_RECEIPTS = CallbackMapping(
    id="biz_id", phone="phone_number", status="success", delivered=(True, "true"), ref="out_id"
)
ALIYUN_REPLIES = CallbackMapping(id="sequence_id", phone="phone_number", text="content")
ALIYUN_ANSWER = {"code": 0, "msg": "成功"}


def percent_encode(value: str) -> str:
    """Aliyun's POP encoding: RFC 3986, space as %20, ``*`` as %2A, ``~`` kept."""
    return quote(value, safe="-_.~")


def aliyun_signature(params: dict[str, str], secret: str, *, method: str = "GET") -> str:
    """HMAC-SHA1 over ``METHOD&%2F&`` + the encoded, sorted query, keyed with the secret and ``&``."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class AliyunShape:
    access_key_id: str
    access_key_secret: str
    sign_name: str
    url: str = "https://dysmsapi.aliyuncs.com/"
    region: str = "cn-hangzhou"
    nonce: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))

    def params(self, sms: OutboundSms, now: datetime) -> dict[str, str]:
        return {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": sms.message_id,
            "PhoneNumbers": sms.phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self.nonce(),
            "SignatureVersion": "1.0",
            "TemplateCode": sms.provider_template or sms.template_code,
            "TemplateParam": json.dumps(dict(sms.params), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }

    def build(self, sms: OutboundSms, now: datetime) -> RequestParts:
        params = self.params(sms, now)
        params["Signature"] = aliyun_signature(params, self.access_key_secret, method="POST")
        body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return RequestParts("POST", self.url, headers, content=body.encode())

    def outcome(self, body: Any) -> SendResult:
        code = dig(body, "Code")
        if code == "OK":
            return SendResult(Verdict.accepted, provider_message_id=str(dig(body, "BizId")))
        verdict = Verdict.retry if code in ALIYUN_RETRY_CODES else Verdict.rejected
        return SendResult(verdict, error=f"aliyun {code}: {dig(body, 'Message')}")


# --- Tencent Cloud ----------------------------------------------------------------------------------------

TENCENT_RETRY_CODES = frozenset({"InternalError", "InternalError.Timeout", "LimitExceeded", "RequestLimitExceeded"})
TENCENT_RECEIPTS = CallbackMapping(id="sid", phone="mobile", status="report_status", delivered=("SUCCESS",), ref=None)
TENCENT_REPLIES = CallbackMapping(id="time", phone="mobile", text="text")
TENCENT_ANSWER = {"result": 0, "errmsg": "OK"}
TENCENT_JSON = "application/json; charset=utf-8"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3_canonical_request(*, host: str, payload: str, content_type: str = TENCENT_JSON) -> str:
    headers = f"content-type:{content_type}\nhost:{host}\n"
    return f"POST\n/\n\n{headers}\ncontent-type;host\n{_sha256(payload)}"


def tc3_signature(*, secret_key: str, service: str, timestamp: int, canonical_request: str) -> str:
    """TC3-HMAC-SHA256: a key derived from the UTC date and service signs the hashed canonical request."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical_request)}"
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), day), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(*, secret_id: str, secret_key: str, service: str, host: str, timestamp: int, payload: str) -> str:
    canonical = tc3_canonical_request(host=host, payload=payload)
    signature = tc3_signature(secret_key=secret_key, service=service, timestamp=timestamp, canonical_request=canonical)
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{day}/{service}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


@dataclass(frozen=True)
class TencentShape:
    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    url: str = "https://sms.tencentcloudapi.com/"
    host: str = "sms.tencentcloudapi.com"
    region: str = "ap-guangzhou"

    def payload(self, sms: OutboundSms) -> dict[str, Any]:
        return {
            "PhoneNumberSet": [f"+86{sms.phone}"],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": sms.provider_template or sms.template_code,
            "TemplateParamSet": [str(sms.params[name]) for name in sms.parameters],
            "SessionContext": sms.message_id,
        }

    def build(self, sms: OutboundSms, now: datetime) -> RequestParts:
        payload = json.dumps(self.payload(sms), ensure_ascii=False, separators=(",", ":"))
        timestamp = int(now.timestamp())
        headers = {
            "Authorization": tc3_authorization(
                secret_id=self.secret_id,
                secret_key=self.secret_key,
                service="sms",
                host=self.host,
                timestamp=timestamp,
                payload=payload,
            ),
            "Content-Type": TENCENT_JSON,
            "Host": self.host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": "2021-01-11",
            "X-TC-Region": self.region,
        }
        return RequestParts("POST", self.url, headers, content=payload.encode())

    def outcome(self, body: Any) -> SendResult:
        error = dig(body, "Response.Error.Code")
        if error:
            verdict = Verdict.retry if error in TENCENT_RETRY_CODES else Verdict.rejected
            return SendResult(verdict, error=f"tencent {error}: {dig(body, 'Response.Error.Message')}")
        status = dig(body, "Response.SendStatusSet.0")
        if isinstance(status, dict) and status.get("Code") == "Ok":
            return SendResult(Verdict.accepted, provider_message_id=str(status.get("SerialNo")))
        code = status.get("Code") if isinstance(status, dict) else "no status"
        return SendResult(Verdict.rejected, error=f"tencent {code}: {dig(status, 'Message')}")
