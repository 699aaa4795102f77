"""Payment providers: Alipay and WeChat Pay adapters shaped like their real APIs, and a sandbox.

Each provider turns an order into something to pay (a URL, or a QR payload) and verifies the
provider's signed asynchronous notification, returning what it says was paid.  Crediting is
not theirs to do: ``Wallets.credit_paid_order`` checks the amount against the order and credits
once per merchant order number, whatever the provider.

- Alipay (open platform, RSA2): requests and notifications are signed with SHA256withRSA over the
  parameters sorted by name as ``k=v&…`` (``sign`` and ``sign_type`` left out, empty values
  skipped).  A notification is a form POST; the merchant answers ``success``.
- WeChat Pay API v3: a notification is JSON signed with RSA-SHA256 over
  ``"{Wechatpay-Timestamp}\\n{Wechatpay-Nonce}\\n{body}\\n"``; its ``resource`` is encrypted with
  AEAD_AES_256_GCM under the merchant's APIv3 key.  Amounts are integer fen.
- Sandbox: Alipay's scheme exactly, with a key pair of its own kept under ``./var``; its pay page
  plays the gateway and posts the signed notification back.  ``prod`` refuses to start with it.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, urlencode

import aiohttp
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from metering.errors import PaymentRejected

MAX_NOTIFY_AGE_S = 300


@dataclass(frozen=True, slots=True)
class PayInstruction:
    pay_url: str | None = None
    qr_code: str | None = None


@dataclass(frozen=True, slots=True)
class PaidNotice:
    order_id: str
    amount_fen: int
    trade_no: str


class PaymentProvider(Protocol):
    name: str

    async def instruct(
        self, order_id: str, amount_fen: int, subject: str, notify_url: str
    ) -> PayInstruction: ...

    def verify(self, headers: dict[str, str], body: bytes) -> PaidNotice | None:
        """What a notification says was paid; ``None`` for a valid non-payment notice; raise
        :class:`PaymentRejected` for anything not signed by the provider."""
        ...

    def acknowledge(self) -> tuple[int, str, str]:
        """(status, content type, body) the provider expects back once a notice is handled."""
        ...

    async def query(self, order_id: str) -> PaidNotice | None:
        """Ask the provider about an order: what was paid, or ``None`` if not (yet) paid."""
        ...


def fen_to_yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise PaymentRejected("malformed amount") from exc
    fen = value * 100
    if fen != fen.to_integral_value() or fen <= 0:
        raise PaymentRejected("malformed amount")
    return int(fen)


@functools.lru_cache(maxsize=16)
def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """Parsed once per key (45 ms each: every app of a process would parse it again)."""
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(
        key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()


def rsa_verify(key: rsa.RSAPublicKey, message: str, signature_b64: str) -> bool:
    try:
        key.verify(
            base64.b64decode(signature_b64, validate=True),
            message.encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def alipay_sign_content(params: dict[str, str]) -> str:
    return "&".join(
        f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type") and v != ""
    )


class AlipayStyle:
    """Alipay's open-platform page pay (``alipay.trade.page.pay``) and its notifications."""

    def __init__(
        self,
        *,
        name: str,
        app_id: str,
        gateway: str,
        private_key: rsa.RSAPrivateKey,
        provider_public_key: rsa.RSAPublicKey,
        timeout_s: float = 10.0,
    ) -> None:
        self.name = name
        self._timeout_s = timeout_s
        self._app_id = app_id
        self._gateway = gateway
        self._key = private_key
        self._provider_key = provider_public_key

    async def instruct(
        self, order_id: str, amount_fen: int, subject: str, notify_url: str
    ) -> PayInstruction:
        params = {
            "app_id": self._app_id,
            "method": "alipay.trade.page.pay",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "notify_url": notify_url,
            "biz_content": json.dumps(
                {
                    "out_trade_no": order_id,
                    "total_amount": fen_to_yuan(amount_fen),
                    "subject": subject,
                    "product_code": "FAST_INSTANT_TRADE_PAY",
                },
                ensure_ascii=False,
                separators=(",", ":"),
            ),
        }
        params["sign"] = rsa_sign(self._key, alipay_sign_content(params))
        return PayInstruction(pay_url=f"{self._gateway}?{urlencode(params)}")

    def verify(self, headers: dict[str, str], body: bytes) -> PaidNotice | None:
        try:
            params = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError) as exc:
            raise PaymentRejected("malformed notification") from exc
        signature = params.get("sign", "")
        if params.get("sign_type") not in (None, "RSA2") or not rsa_verify(
            self._provider_key, alipay_sign_content(params), signature
        ):
            raise PaymentRejected("bad signature")
        if params.get("app_id") != self._app_id:
            raise PaymentRejected("notification for another app")
        if params.get("trade_status") not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return None
        return PaidNotice(
            order_id=params.get("out_trade_no", ""),
            amount_fen=yuan_to_fen(params.get("total_amount", "")),
            trade_no=params.get("trade_no", ""),
        )

    def acknowledge(self) -> tuple[int, str, str]:
        return 200, "text/plain", "success"

    async def query(self, order_id: str) -> PaidNotice | None:
        """``alipay.trade.query``; the response node is verified against its ``sign``."""
        params = {
            "app_id": self._app_id,
            "method": "alipay.trade.query",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "biz_content": json.dumps({"out_trade_no": order_id}, separators=(",", ":")),
        }
        params["sign"] = rsa_sign(self._key, alipay_sign_content(params))
        text = await _http("POST", self._gateway, self._timeout_s, data=params)
        node = _raw_json_member(text, "alipay_trade_query_response")
        try:
            signature = json.loads(text)["sign"]
            reply = json.loads(node)
        except (KeyError, TypeError, ValueError) as exc:
            raise PaymentRejected("malformed query response") from exc
        if not rsa_verify(self._provider_key, node, signature):
            raise PaymentRejected("bad signature on the query response")
        if reply.get("code") != "10000" or reply.get("out_trade_no") != order_id:
            return None
        if reply.get("trade_status") not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return None
        return PaidNotice(
            order_id,
            yuan_to_fen(str(reply.get("total_amount", ""))),
            str(reply.get("trade_no", "")),
        )

    # The gateway side, for the sandbox and for tests: what Alipay would post to us.
    def signed_notification(
        self,
        signer: rsa.RSAPrivateKey,
        order_id: str,
        amount_fen: int,
        trade_no: str,
        status: str = "TRADE_SUCCESS",
    ) -> bytes:
        params = {
            "app_id": self._app_id,
            "notify_time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "out_trade_no": order_id,
            "trade_no": trade_no,
            "trade_status": status,
            "total_amount": fen_to_yuan(amount_fen),
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
        }
        params["sign"] = rsa_sign(signer, alipay_sign_content(params))
        return urlencode(params).encode()


class WechatPayV3:
    """WeChat Pay API v3 Native pay: notifications signed by the platform key, resource in
    AES-256-GCM under the APIv3 key."""

    name = "wechat"

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        apiv3_key: str,
        platform_public_key: rsa.RSAPublicKey,
        clock_s: object = time.time,
        merchant_key: rsa.RSAPrivateKey | None = None,
        merchant_serial: str = "",
        api_base: str = "https://api.mch.weixin.qq.com",
        timeout_s: float = 10.0,
    ) -> None:
        if len(apiv3_key.encode()) != 32:
            raise ValueError("the WeChat APIv3 key is 32 bytes")
        self._merchant_key = merchant_key
        self._serial = merchant_serial
        self._api_base = api_base.rstrip("/")
        self._timeout_s = timeout_s
        self._mchid = mchid
        self._appid = appid
        self._aes = AESGCM(apiv3_key.encode())
        self._platform_key = platform_public_key
        self._now = clock_s

    async def instruct(
        self, order_id: str, amount_fen: int, subject: str, notify_url: str
    ) -> PayInstruction:
        """``POST /v3/pay/transactions/native``: the answer's ``code_url`` is shown as a QR code."""
        body = json.dumps(
            {
                "appid": self._appid,
                "mchid": self._mchid,
                "description": subject,
                "out_trade_no": order_id,
                "notify_url": notify_url,
                "amount": {"total": amount_fen, "currency": "CNY"},
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        _headers, text = await self._signed_call("POST", "/v3/pay/transactions/native", body)
        try:
            code_url = json.loads(text)["code_url"]
        except (KeyError, TypeError, ValueError) as exc:
            raise PaymentRejected("the provider did not create the order") from exc
        return PayInstruction(qr_code=str(code_url))

    async def _signed_call(
        self, method: str, path: str, body: str = ""
    ) -> tuple[dict[str, str], str]:
        """A merchant-signed API v3 request; the answer's platform signature is verified."""
        if self._merchant_key is None:
            raise PaymentRejected("no merchant key configured")
        ts, nonce = str(int(float(self._now()))), secrets.token_hex(16)  # type: ignore[operator]
        signature = rsa_sign(self._merchant_key, f"{method}\n{path}\n{ts}\n{nonce}\n{body}\n")
        auth = (
            f'WECHATPAY2-SHA256-RSA2048 mchid="{self._mchid}",nonce_str="{nonce}",'
            f'signature="{signature}",timestamp="{ts}",serial_no="{self._serial}"'
        )
        headers, text = await _http_with_headers(
            method,
            self._api_base + path,
            self._timeout_s,
            headers={
                "Authorization": auth,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            data=body.encode() if body else None,
        )
        self._check_signed(headers, text)
        return headers, text

    def verify(self, headers: dict[str, str], body: bytes) -> PaidNotice | None:
        h = {k.lower(): v for k, v in headers.items()}
        timestamp, nonce = h.get("wechatpay-timestamp", ""), h.get("wechatpay-nonce", "")
        signature = h.get("wechatpay-signature", "")
        try:
            text = body.decode()
            ts = int(timestamp)
        except (UnicodeDecodeError, ValueError) as exc:
            raise PaymentRejected("malformed notification") from exc
        now = float(self._now())  # type: ignore[operator]
        if abs(now - ts) > MAX_NOTIFY_AGE_S:
            raise PaymentRejected("stale notification (replay?)")
        if not rsa_verify(self._platform_key, f"{timestamp}\n{nonce}\n{text}\n", signature):
            raise PaymentRejected("bad signature")
        try:
            envelope = json.loads(text)
            res = envelope["resource"]
            if res.get("algorithm") != "AEAD_AES_256_GCM":
                raise PaymentRejected("unknown algorithm")
            plain = self._aes.decrypt(
                res["nonce"].encode(),
                base64.b64decode(res["ciphertext"]),
                res.get("associated_data", "").encode(),
            )
            tx = json.loads(plain)
        except (KeyError, TypeError, ValueError, InvalidTag) as exc:
            raise PaymentRejected("cannot read the notification") from exc
        if tx.get("mchid") != self._mchid:
            raise PaymentRejected("notification for another merchant")
        if tx.get("trade_state") != "SUCCESS":
            return None
        total = tx.get("amount", {}).get("total")
        if not isinstance(total, int) or total <= 0:
            raise PaymentRejected("malformed amount")
        return PaidNotice(str(tx.get("out_trade_no", "")), total, str(tx.get("transaction_id")))

    def acknowledge(self) -> tuple[int, str, str]:
        return 200, "application/json", '{"code":"SUCCESS","message":"成功"}'

    def _check_signed(self, headers: dict[str, str], text: str) -> None:
        h = {k.lower(): v for k, v in headers.items()}
        try:
            ts = int(h.get("wechatpay-timestamp", ""))
        except ValueError as exc:
            raise PaymentRejected("unsigned response") from exc
        if abs(float(self._now()) - ts) > MAX_NOTIFY_AGE_S:  # type: ignore[operator]
            raise PaymentRejected("stale response (replay?)")
        message = f"{ts}\n{h.get('wechatpay-nonce', '')}\n{text}\n"
        if not rsa_verify(self._platform_key, message, h.get("wechatpay-signature", "")):
            raise PaymentRejected("bad signature")

    async def query(self, order_id: str) -> PaidNotice | None:
        """``GET /v3/pay/transactions/out-trade-no/{id}``, signed by the merchant key; the
        answer's signature is checked with the platform key."""
        path = f"/v3/pay/transactions/out-trade-no/{order_id}?mchid={self._mchid}"
        _headers, text = await self._signed_call("GET", path)
        try:
            tx = json.loads(text)
        except ValueError as exc:
            raise PaymentRejected("malformed query response") from exc
        if tx.get("trade_state") != "SUCCESS" or tx.get("out_trade_no") != order_id:
            return None
        total = tx.get("amount", {}).get("total")
        if not isinstance(total, int) or total <= 0:
            raise PaymentRejected("malformed amount")
        return PaidNotice(order_id, total, str(tx.get("transaction_id")))


def sandbox_keys(var_dir: Path) -> rsa.RSAPrivateKey:
    """The sandbox gateway's key pair: made once, kept under ``var/`` so that every process of
    one deployment verifies the same signatures."""
    path = var_dir / "sandbox-payments-key.pem"
    if path.exists():
        return load_private_key(path.read_bytes())
    var_dir.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(pem)
    tmp.chmod(0o600)
    tmp.replace(path)  # atomic: two processes racing both end up with one key
    return load_private_key(path.read_bytes())


class Sandbox(AlipayStyle):
    """Alipay's scheme with a local key pair; the pay page (dev) plays the gateway."""

    def __init__(self, key: rsa.RSAPrivateKey, base_url: str) -> None:
        super().__init__(
            name="sandbox",
            app_id="sandbox",
            gateway=f"{base_url}/sandbox/pay",
            private_key=key,
            provider_public_key=key.public_key(),
        )
        self.gateway_key = key
        #: what this process's sandbox gateway has been paid (its "order query" answers)
        self.paid: dict[str, int] = {}

    async def instruct(
        self, order_id: str, amount_fen: int, subject: str, notify_url: str
    ) -> PayInstruction:
        return PayInstruction(pay_url=f"{self._gateway}/{order_id}")

    def notification_for(self, order_id: str, amount_fen: int) -> bytes:
        self.paid[order_id] = amount_fen
        return self.signed_notification(
            self.gateway_key, order_id, amount_fen, f"SB{secrets.token_hex(8)}"
        )

    async def query(self, order_id: str) -> PaidNotice | None:
        amount = self.paid.get(order_id)
        return None if amount is None else PaidNotice(order_id, amount, f"SBQ{order_id}")


def _raw_json_member(text: str, name: str) -> str:
    """The exact text of a top-level object member: Alipay signs those bytes, not a re-dump."""
    key = f'"{name}":'
    start = text.find(key)
    if start < 0:
        raise PaymentRejected("malformed query response")
    i = start + len(key)
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    if i >= len(text) or text[i] != "{":
        raise PaymentRejected("malformed query response")
    depth, in_str, escape = 0, False, False
    for j in range(i, len(text)):
        ch = text[j]
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[i : j + 1]
    raise PaymentRejected("malformed query response")


async def _http_with_headers(
    method: str, url: str, timeout_s: float, **kwargs: object
) -> tuple[dict[str, str], str]:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.request(method, url, **kwargs) as resp,  # type: ignore[arg-type]
        ):
            return dict(resp.headers), await resp.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise PaymentRejected("the payment provider did not answer") from exc


async def _http(method: str, url: str, timeout_s: float, **kwargs: object) -> str:
    return (await _http_with_headers(method, url, timeout_s, **kwargs))[1]
