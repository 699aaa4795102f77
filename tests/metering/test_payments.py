"""Payment providers' signatures (Alipay RSA2, WeChat Pay v3) and the top-up flow over HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accounts.sms import DevOutbox
from metering.errors import PaymentRejected
from metering.payments import AlipayStyle, WechatPayV3, rsa_sign
from tests.harness import bearer, login_cli

pytestmark = pytest.mark.timeout(60)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def alipay(provider_key: rsa.RSAPrivateKey = KEY) -> AlipayStyle:
    return AlipayStyle(
        name="alipay",
        app_id="2021001",
        gateway="https://gw.example/gateway.do",
        private_key=KEY,
        provider_public_key=provider_key.public_key(),
    )


def test_alipay_notification_signed_by_alipay_is_accepted() -> None:
    a = alipay()
    body = a.signed_notification(KEY, "T1", 12345, "2026112522001")
    notice = a.verify({}, body)
    assert notice is not None and (notice.order_id, notice.amount_fen) == ("T1", 12345)


def test_alipay_rejects_forged_or_tampered_notifications() -> None:
    a = alipay()
    with pytest.raises(PaymentRejected):
        a.verify({}, a.signed_notification(OTHER, "T1", 100, "x"))  # someone else's key
    body = a.signed_notification(KEY, "T1", 100, "x").replace(
        b"total_amount=1.00", b"total_amount=1000.00"
    )
    with pytest.raises(PaymentRejected):
        a.verify({}, body)
    with pytest.raises(PaymentRejected):
        a.verify({}, b"\xff\xfe not a form")


def test_alipay_non_success_status_credits_nothing() -> None:
    a = alipay()
    assert a.verify({}, a.signed_notification(KEY, "T1", 100, "x", status="WAIT_BUYER_PAY")) is None


async def test_alipay_pay_url_is_signed() -> None:
    url = (await alipay().instruct("T9", 4500, "充值", "https://peiliao.example/notify")).pay_url
    assert url is not None and "sign=" in url and "alipay.trade.page.pay" in url


APIV3 = "0123456789abcdef0123456789abcdef"


def wechat_notice(
    order: str,
    total: int,
    *,
    key: rsa.RSAPrivateKey = KEY,
    ts: int | None = None,
    state: str = "SUCCESS",
    mchid: str = "1900000001",
) -> tuple[dict[str, str], bytes]:
    tx = {
        "mchid": mchid,
        "out_trade_no": order,
        "transaction_id": "4200001",
        "trade_state": state,
        "amount": {"total": total, "payer_total": total},
    }
    nonce = "n0nce1234567"
    ct = AESGCM(APIV3.encode()).encrypt(nonce.encode(), json.dumps(tx).encode(), b"transaction")
    body = json.dumps(
        {
            "id": "e1",
            "event_type": "TRANSACTION.SUCCESS",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ct).decode(),
                "nonce": nonce,
                "associated_data": "transaction",
                "original_type": "transaction",
            },
        }
    )
    stamp = str(ts if ts is not None else int(time.time()))
    headers = {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": "abc",
        "Wechatpay-Signature": rsa_sign(key, f"{stamp}\nabc\n{body}\n"),
        "Wechatpay-Serial": "SERIAL",
    }
    return headers, body.encode()


def wechat() -> WechatPayV3:
    return WechatPayV3(
        mchid="1900000001", appid="wx1", apiv3_key=APIV3, platform_public_key=KEY.public_key()
    )


def test_wechat_v3_notification_is_verified_and_decrypted() -> None:
    notice = wechat().verify(*wechat_notice("T2", 999))
    assert notice is not None and (notice.order_id, notice.amount_fen) == ("T2", 999)


@pytest.mark.parametrize("bad", ["key", "stale", "merchant", "tamper"])
def test_wechat_v3_rejects_what_wechat_did_not_send(bad: str) -> None:
    if bad == "key":
        headers, body = wechat_notice("T2", 999, key=OTHER)
    elif bad == "stale":
        headers, body = wechat_notice("T2", 999, ts=int(time.time()) - 3600)
    elif bad == "merchant":
        headers, body = wechat_notice("T2", 999, mchid="1900000002")
    else:
        headers, body = wechat_notice("T2", 999)
        body = body.replace(b'"e1"', b'"e2"')
    with pytest.raises(PaymentRejected):
        wechat().verify(headers, body)


# -- over HTTP, with the sandbox ---------------------------------------------------------------


async def test_sandbox_top_up_credits_the_wallet_once(
    client: TestClient, outbox: DevOutbox
) -> None:
    token = await login_cli(client, outbox, "13800000501")
    made = await client.post("/api/wallet/topups", json={"amount_fen": 5000}, headers=bearer(token))
    assert made.status == 201
    order = await made.json()
    assert order["provider"] == "sandbox" and order["status"] == "created"
    paid = await asyncio.gather(
        *(
            client.post(f"/api/payments/sandbox/pay/{order['order_id']}", headers=bearer(token))
            for _ in range(5)
        )
    )
    assert all(p.status == 200 for p in paid)
    wallet = await (await client.get("/api/wallet", headers=bearer(token))).json()
    assert wallet["wallet_fen"] == 5000
    status = await client.get(f"/api/wallet/topups/{order['order_id']}", headers=bearer(token))
    assert (await status.json())["status"] == "paid"
    csv_text = await (
        await client.get("/api/wallet/statement?format=csv", headers=bearer(token))
    ).text()
    assert csv_text.splitlines()[0].startswith("at,kind,account,amount_fen")
    assert ",topup,wallet,5000," in csv_text


async def test_forged_notifications_are_refused_and_credit_nothing(
    client: TestClient, outbox: DevOutbox
) -> None:
    token = await login_cli(client, outbox, "13800000502")
    order = await (
        await client.post("/api/wallet/topups", json={"amount_fen": 5000}, headers=bearer(token))
    ).json()
    forger = alipay(OTHER)
    forged = forger.signed_notification(OTHER, order["order_id"], 5000, "x")
    resp = await client.post(
        "/api/payments/sandbox/notify",
        data=forged,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "payment_rejected"
    assert (await (await client.get("/api/wallet", headers=bearer(token))).json())[
        "wallet_fen"
    ] == 0


async def test_orders_and_sessions_of_others_are_invisible(
    client: TestClient, outbox: DevOutbox
) -> None:
    a = await login_cli(client, outbox, "13800000503")
    b = await login_cli(client, outbox, "13800000504")
    order = await (
        await client.post("/api/wallet/topups", json={"amount_fen": 100}, headers=bearer(a))
    ).json()
    assert (
        await client.get(f"/api/wallet/topups/{order['order_id']}", headers=bearer(b))
    ).status == 404
    assert (
        await client.post(f"/api/payments/sandbox/pay/{order['order_id']}", headers=bearer(b))
    ).status == 404
    assert (await client.get("/api/sessions/nope/meter", headers=bearer(b))).status == 404


@pytest.mark.parametrize(
    "body",
    [
        {"amount_fen": 0},
        {"amount_fen": -5},
        {"amount_fen": 99},
        {"amount_fen": "100"},
        {"amount_fen": 1.5},
        {},
    ],
)
async def test_bad_top_up_amounts(client: TestClient, outbox: DevOutbox, body: dict) -> None:  # type: ignore[type-arg]
    token = await login_cli(client, outbox, "13800000505")
    resp = await client.post("/api/wallet/topups", json=body, headers=bearer(token))
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] in ("invalid_input", "invalid_amount")


async def test_rates_budget_packages_and_admin_refunds_need_the_right_role(
    client: TestClient, outbox: DevOutbox
) -> None:
    cust = await login_cli(client, outbox, "13800000506")
    resp = await client.put(
        "/api/me/rates",
        json={"text_fen_per_min": 100, "voice_fen_per_min": 200, "video_fen_per_min": 300},
        headers=bearer(cust),
    )
    assert resp.status == 403
    resp = await client.post(
        "/api/admin/sessions/s1/refunds", json={"amount_fen": 100, "key": "k"}, headers=bearer(cust)
    )
    assert resp.status == 403
    assert (
        await client.put("/api/wallet/budget", json={"monthly_cap_fen": 5000}, headers=bearer(cust))
    ).status == 200
    wallet = await (await client.get("/api/wallet", headers=bearer(cust))).json()
    assert wallet["monthly_cap_fen"] == 5000
    catalog = await (await client.get("/api/packages")).json()
    assert {p["code"] for p in catalog["packages"]} >= {"voice-60"}
    resp = await client.post("/api/packages", json={"code": "voice-60"}, headers=bearer(cust))
    assert resp.status == 402 and (await resp.json())["error"]["code"] == "insufficient_funds"
    resp = await client.post("/api/coupons/trial", json={"kind": "minutes"}, headers=bearer(cust))
    assert resp.status == 200
    resp = await client.post("/api/coupons/trial", json={"kind": "amount"}, headers=bearer(cust))
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "coupon_already_used"
    grants = await (await client.get("/api/me/packages", headers=bearer(cust))).json()
    assert [g["minutes_total"] for g in grants["grants"]] == [3]


# -- order queries against loopback stand-ins for the providers' APIs ---------------------------

from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from metering.payments import alipay_sign_content, rsa_verify  # noqa: E402

MERCHANT = rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def test_alipay_trade_query_is_signed_both_ways() -> None:
    seen: list[dict[str, str]] = []

    async def gateway(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        seen.append(form)
        assert rsa_verify(MERCHANT.public_key(), alipay_sign_content(form), form["sign"])
        order = json.loads(form["biz_content"])["out_trade_no"]
        node = json.dumps(
            {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": order,
                "trade_no": "2026T",
                "trade_status": "TRADE_SUCCESS",
                "total_amount": "45.00",
            },
            separators=(",", ":"),
        )
        sig = rsa_sign(KEY, node)  # Alipay's key signs the response node's exact text
        return web.Response(
            text='{"alipay_trade_query_response":' + node + f',"sign":"{sig}"}}',
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_post("/gateway.do", gateway)
    async with TestServer(app, host="127.0.0.1") as server:
        a = AlipayStyle(
            name="alipay",
            app_id="2021001",
            gateway=str(server.make_url("/gateway.do")),
            private_key=MERCHANT,
            provider_public_key=KEY.public_key(),
        )
        notice = await a.query("T77")
        assert notice is not None and (notice.order_id, notice.amount_fen) == ("T77", 4500)
        assert seen[0]["method"] == "alipay.trade.query"
        forged = AlipayStyle(
            name="alipay",
            app_id="2021001",
            gateway=str(server.make_url("/gateway.do")),
            private_key=MERCHANT,
            provider_public_key=OTHER.public_key(),
        )
        with pytest.raises(PaymentRejected):
            await forged.query("T77")


async def test_wechat_native_order_and_query_are_signed_both_ways() -> None:
    async def api(request: web.Request) -> web.Response:
        auth = request.headers["Authorization"]
        fields = dict(p.split("=", 1) for p in auth.split(" ", 1)[1].split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        path = request.path_qs
        msg = f"GET\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n\n"
        if not rsa_verify(MERCHANT.public_key(), msg, fields["signature"]):
            return web.Response(status=401)
        body = json.dumps(
            {
                "mchid": "1900000001",
                "out_trade_no": request.match_info["id"],
                "transaction_id": "4200009",
                "trade_state": "SUCCESS",
                "amount": {"total": 1234},
            }
        )
        ts = str(int(time.time()))
        return web.Response(
            text=body,
            content_type="application/json",
            headers={
                "Wechatpay-Timestamp": ts,
                "Wechatpay-Nonce": "xyz",
                "Wechatpay-Signature": rsa_sign(KEY, f"{ts}\nxyz\n{body}\n"),
            },
        )

    async def native(request: web.Request) -> web.Response:
        fields = dict(
            p.split("=", 1) for p in request.headers["Authorization"].split(" ", 1)[1].split(",")
        )
        fields = {k: v.strip('"') for k, v in fields.items()}
        body = await request.text()
        msg = f"POST\n{request.path_qs}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
        if not rsa_verify(MERCHANT.public_key(), msg, fields["signature"]):
            return web.Response(status=401)
        assert json.loads(body)["amount"] == {"total": 4500, "currency": "CNY"}
        answer = json.dumps({"code_url": "weixin://wxpay/bizpayurl?pr=abc"})
        ts = str(int(time.time()))
        return web.Response(
            text=answer,
            content_type="application/json",
            headers={
                "Wechatpay-Timestamp": ts,
                "Wechatpay-Nonce": "n",
                "Wechatpay-Signature": rsa_sign(KEY, f"{ts}\nn\n{answer}\n"),
            },
        )

    app = web.Application()
    app.router.add_get("/v3/pay/transactions/out-trade-no/{id}", api)
    app.router.add_post("/v3/pay/transactions/native", native)
    async with TestServer(app, host="127.0.0.1") as server:
        w = WechatPayV3(
            mchid="1900000001",
            appid="wx1",
            apiv3_key=APIV3,
            platform_public_key=KEY.public_key(),
            merchant_key=MERCHANT,
            merchant_serial="S1",
            api_base=str(server.make_url("")),
        )
        notice = await w.query("T88")
        assert notice is not None and (notice.order_id, notice.amount_fen) == ("T88", 1234)
        pay = await w.instruct("T88", 4500, "充值", "https://peiliao.example/notify")
        assert pay.qr_code == "weixin://wxpay/bizpayurl?pr=abc"
        bad = WechatPayV3(
            mchid="1900000001",
            appid="wx1",
            apiv3_key=APIV3,
            platform_public_key=OTHER.public_key(),
            merchant_key=MERCHANT,
            api_base=str(server.make_url("")),
        )
        with pytest.raises(PaymentRejected):
            await bad.query("T88")


async def test_refresh_reconciles_a_paid_order_whose_notice_was_lost(
    client: TestClient, outbox: DevOutbox
) -> None:
    from metering.keys import PROVIDER

    token = await login_cli(client, outbox, "13800000507")
    order = await (
        await client.post("/api/wallet/topups", json={"amount_fen": 700}, headers=bearer(token))
    ).json()
    refreshed = await client.post(
        f"/api/wallet/topups/{order['order_id']}/refresh", headers=bearer(token)
    )
    assert (await refreshed.json()).get("status") == "created", await refreshed.text()
    client.app[PROVIDER].paid[order["order_id"]] = 700  # paid at the gateway; notice lost
    refreshed = await client.post(
        f"/api/wallet/topups/{order['order_id']}/refresh", headers=bearer(token)
    )
    assert (await refreshed.json())["status"] == "paid"
    assert (await (await client.get("/api/wallet", headers=bearer(token))).json())[
        "wallet_fen"
    ] == 700


def test_providers_are_built_from_key_files(tmp_path: object) -> None:
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization

    from kernel.settings import Settings
    from peiliao.providers import build_payments

    d = Path(str(tmp_path))
    priv = d / "private.pem"
    pub = d / "public.pem"
    priv.write_bytes(
        MERCHANT.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pub.write_bytes(
        KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    base = Settings(secret_key="s" * 40)
    a = build_payments(
        base.replace(
            payment_provider="alipay",
            alipay_app_id="2021001",
            alipay_private_key_file=str(priv),
            alipay_public_key_file=str(pub),
        )
    )
    assert isinstance(a, AlipayStyle) and a.name == "alipay"
    w = build_payments(
        base.replace(
            payment_provider="wechat",
            wechat_mchid="1900000001",
            wechat_apiv3_key=APIV3,
            wechat_platform_public_key_file=str(pub),
            wechat_merchant_private_key_file=str(priv),
            wechat_merchant_serial="S1",
        )
    )
    assert isinstance(w, WechatPayV3)
    # The built provider verifies what the platform key signs.
    assert w.verify(*wechat_notice("T5", 100, mchid="1900000001")) is not None
