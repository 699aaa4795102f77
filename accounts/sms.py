"""SMS providers: the interface, the dev outbox, and an Aliyun (Dysms ``SendSms``) adapter.

The dev provider delivers nothing: it keeps sent messages in a bounded in-memory outbox that the
dev-only endpoint ``GET /api/dev/sms-outbox`` returns, so the headless caller and the tests log in
exactly as a person would.  ``prod`` refuses to start with it (see ``Settings.validate``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote

import aiohttp
import structlog

from accounts.errors import SmsUnavailable

log = structlog.get_logger(__name__)


class SmsSender(Protocol):
    async def send_code(self, phone: str, code: str) -> None:
        """Deliver a login code or raise :class:`SmsUnavailable`."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    phone: str
    code: str
    text: str
    sent_at: datetime


class DevOutbox:
    """The dev provider.  Bounded: the oldest messages fall out first."""

    def __init__(self, size: int = 1000) -> None:
        self._messages: deque[OutboxMessage] = deque(maxlen=size)

    async def send_code(self, phone: str, code: str) -> None:
        text = f"【陪聊】您的验证码是{code}，5分钟内有效。请勿泄露给他人。"
        self._messages.append(OutboxMessage(phone, code, text, datetime.now(UTC)))

    def messages(self, phone: str | None = None, limit: int = 50) -> list[OutboxMessage]:
        found = [m for m in self._messages if phone is None or m.phone == phone]
        return found[-limit:][::-1]


def _percent(value: str) -> str:
    # Aliyun's POP signature uses RFC 3986 encoding: only A-Z a-z 0-9 - _ . ~ stay as they are.
    return quote(value, safe="-_.~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Signature of Aliyun's RPC-style API (HMAC-SHA1 over the canonical query string)."""
    canonical = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{_percent('/')}&{_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """Sends through Aliyun Dysms ``SendSms`` (API version 2017-05-25)."""

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        timeout_s: float,
    ) -> None:
        self._endpoint = endpoint
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._sign_name = sign_name
        self._template = template_code
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def request_params(self, phone: str, code: str, now: datetime) -> dict[str, str]:
        params = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": "cn-hangzhou",
            "SignName": self._sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self._template,
            "TemplateParam": json.dumps({"code": code}),
            "Timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, self._secret)
        return params

    async def send_code(self, phone: str, code: str) -> None:
        params = self.request_params(phone, code, datetime.now(UTC))
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.post(self._endpoint, data=params) as resp,
            ):
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("sms_send_failed", provider="aliyun", error=type(exc).__name__)
            raise SmsUnavailable() from exc
        if not isinstance(body, dict) or body.get("Code") != "OK":
            code_ = body.get("Code") if isinstance(body, dict) else None
            log.warning("sms_send_refused", provider="aliyun", provider_code=code_)
            raise SmsUnavailable()
