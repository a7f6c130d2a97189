"""The cloud request shapes, checked against the examples in Aliyun's and Tencent Cloud's documentation."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from services.notifications.domain.retry import Verdict
from services.notifications.providers.base import OutboundSms
from services.notifications.providers.cloud import (
    ALIYUN_RECEIPTS,
    AliyunShape,
    TencentShape,
    aliyun_signature,
    tc3_authorization,
    tc3_canonical_request,
    tc3_signature,
)
from services.notifications.providers.http import HttpGateway
from tests.notifications.gateway import Gateway

SMS = OutboundSms(
    message_id="msg-1",
    phone="13800000001",
    text="【扶贫办】王五您好",
    template_code="household_recognised",
    parameters=("helper", "household"),
    params={"helper": "王五", "household": "张三户"},
    provider_template="SMS_71390007",
)


class TestAliyun:
    # help.aliyun.com/document_detail/101343 (短信服务 签名机制): the documented SendSms example and signature.
    DOC = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }

    def test_signature_matches_the_documented_example(self) -> None:
        assert aliyun_signature(self.DOC, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="

    def test_send_request_has_the_documented_parameters(self) -> None:
        shape = AliyunShape(
            "testId", "testSecret", "阿里云短信测试专用", nonce=lambda: "45e25e9b-0a6f-4070-8c85-2956eda1b466"
        )
        params = shape.params(SMS, datetime(2017, 7, 12, 2, 42, 19, tzinfo=UTC))
        assert sorted(params) == sorted(self.DOC)
        assert params["OutId"] == "msg-1"  # our id, so a timeout can be checked against the delivery report
        assert json.loads(params["TemplateParam"]) == {"helper": "王五", "household": "张三户"}
        assert params["Timestamp"] == "2017-07-12T02:42:19Z"
        doc_like = params | {
            "Format": "XML",
            "OutId": "123",
            "PhoneNumbers": "15300000001",
            "TemplateParam": '{"customer":"test"}',
        }
        assert aliyun_signature(doc_like, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="

    def test_posted_form_verifies_and_the_answer_reads(self) -> None:
        gateway = Gateway()
        gateway.script.append((200, {"Code": "OK", "BizId": "9006197469364984^0", "Message": "OK", "RequestId": "r"}))
        gateway.start()
        try:
            shape = AliyunShape("testId", "testSecret", "扶贫办", url=f"{gateway.url}/")
            now = datetime(2025, 6, 16, 2, 0, tzinfo=UTC)
            provider = HttpGateway("aliyun", shape, receipts=ALIYUN_RECEIPTS, now=lambda: now)
            result = asyncio.run(provider.send(SMS))
        finally:
            gateway.stop()
        assert (result.verdict, result.provider_message_id) == (Verdict.accepted, "9006197469364984^0")
        form = dict(parse_qsl(gateway.requests[0].raw.decode()))
        signature = form.pop("Signature")
        assert aliyun_signature(form, "testSecret", method="POST") == signature
        assert form["PhoneNumbers"] == "13800000001" and form["TemplateCode"] == "SMS_71390007"

    def test_a_business_refusal_is_not_retried(self) -> None:
        shape = AliyunShape("id", "secret", "扶贫办")
        assert shape.outcome({"Code": "isv.MOBILE_NUMBER_ILLEGAL"}).verdict is Verdict.rejected
        assert shape.outcome({"Code": "isp.SYSTEM_ERROR"}).verdict is Verdict.retry

    def test_delivery_report_shape(self) -> None:
        provider = HttpGateway(
            "aliyun", AliyunShape("i", "s", "n"), receipts=ALIYUN_RECEIPTS, now=lambda: datetime.now(UTC)
        )
        report = [
            {"phone_number": "13800000001", "success": True, "err_code": "DELIVERED", "biz_id": "b1", "out_id": "msg-1"}
        ]
        (parsed,) = provider.receipts(report)
        assert (parsed.provider_message_id, parsed.delivered, parsed.message_id) == ("b1", True, "msg-1")


class TestTencent:
    # tencentcloud.com/document/product/1021/34193 (Signature v3): the documented CVM example.
    PAYLOAD = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'

    def test_canonical_request_and_signature_match_the_documented_example(self) -> None:
        canonical = tc3_canonical_request(host="cvm.tencentcloudapi.com", payload=self.PAYLOAD)
        assert canonical.endswith("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
        signature = tc3_signature(
            secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service="cvm",
            timestamp=1551113065,
            canonical_request=canonical,
        )
        assert signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"

    def test_authorization_header_matches_the_documented_example(self) -> None:
        header = tc3_authorization(
            secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service="cvm",
            host="cvm.tencentcloudapi.com",
            timestamp=1551113065,
            payload=self.PAYLOAD,
        )
        assert header == (
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
            "SignedHeaders=content-type;host, "
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        )

    def test_send_sms_request_shape(self) -> None:
        shape = TencentShape("AKID", "key", "1400006666", "扶贫办")
        parts = shape.build(SMS, datetime(2019, 2, 25, 16, 44, 25, tzinfo=UTC))
        body = json.loads(parts.content or b"")
        assert body == {
            "PhoneNumberSet": ["+8613800000001"],
            "SmsSdkAppId": "1400006666",
            "SignName": "扶贫办",
            "TemplateId": "SMS_71390007",
            "TemplateParamSet": ["王五", "张三户"],  # in the template's parameter order
            "SessionContext": "msg-1",
        }
        assert parts.headers["X-TC-Action"] == "SendSms" and parts.headers["X-TC-Version"] == "2021-01-11"
        assert parts.headers["X-TC-Timestamp"] == "1551113065"
        assert parts.headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID/2019-02-25/sms/tc3_request")

    @pytest.mark.parametrize(
        ("body", "verdict"),
        [
            ({"Response": {"SendStatusSet": [{"SerialNo": "s1", "Code": "Ok"}], "RequestId": "r"}}, Verdict.accepted),
            ({"Response": {"SendStatusSet": [{"Code": "FailedOperation.PhoneNumberInBlacklist"}]}}, Verdict.rejected),
            ({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "x"}}}, Verdict.rejected),
            ({"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "x"}}}, Verdict.retry),
        ],
        ids=["Ok", "blacklisted", "bad signature", "internal timeout"],
    )
    def test_answers(self, body: dict, verdict: Verdict) -> None:  # type: ignore[type-arg]
        assert TencentShape("a", "b", "c", "d").outcome(body).verdict is verdict
