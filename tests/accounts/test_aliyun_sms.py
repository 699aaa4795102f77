"""The Aliyun SMS adapter: the documented signature vector and a real loopback exchange."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from accounts.errors import SmsUnavailable
from accounts.sms import AliyunSms, aliyun_signature

pytestmark = pytest.mark.timeout(30)


def test_signature_matches_aliyuns_documented_example() -> None:
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert aliyun_signature(params, "testsecret", method="GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


class FakeDysms:
    """A loopback stand-in for dysmsapi: checks the signature as Aliyun would."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.reply: dict[str, Any] = {"Code": "OK", "Message": "OK", "BizId": "1"}
        self.delay_s = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.received.append(form)
        await asyncio.sleep(self.delay_s)
        signature = form.pop("Signature", "")
        if signature != aliyun_signature(form, "the-secret"):
            return web.json_response({"Code": "SignatureDoesNotMatch"}, status=400)
        return web.json_response(self.reply)


@pytest.fixture
async def dysms() -> AsyncIterator[tuple[FakeDysms, str]]:
    fake = FakeDysms()
    app = web.Application()
    app.router.add_post("/", fake.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        yield fake, str(server.make_url("/"))


def sender(url: str, secret: str = "the-secret", timeout_s: float = 2.0) -> AliyunSms:
    return AliyunSms(
        endpoint=url,
        access_key_id="LTAI-test",
        access_key_secret=secret,
        sign_name="陪聊",
        template_code="SMS_123",
        timeout_s=timeout_s,
    )


async def test_send_code_posts_a_signed_sendsms_request(dysms: tuple[FakeDysms, str]) -> None:
    fake, url = dysms
    await sender(url).send_code("13800000001", "123456")
    (form,) = fake.received
    assert form["Action"] == "SendSms" and form["PhoneNumbers"] == "13800000001"
    assert form["SignName"] == "陪聊" and json.loads(form["TemplateParam"]) == {"code": "123456"}


async def test_refusals_and_bad_signatures_raise_sms_unavailable(
    dysms: tuple[FakeDysms, str],
) -> None:
    fake, url = dysms
    with pytest.raises(SmsUnavailable):
        await sender(url, secret="wrong").send_code("13800000001", "123456")
    fake.reply = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limited"}
    with pytest.raises(SmsUnavailable):
        await sender(url).send_code("13800000001", "123456")


async def test_a_slow_provider_times_out(dysms: tuple[FakeDysms, str]) -> None:
    fake, url = dysms
    fake.delay_s = 2
    with pytest.raises(SmsUnavailable):
        await sender(url, timeout_s=0.3).send_code("13800000001", "123456")


async def test_an_unreachable_provider_raises_sms_unavailable() -> None:
    with pytest.raises(SmsUnavailable):
        await sender("http://127.0.0.1:9/").send_code("13800000001", "123456")
