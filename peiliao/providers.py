"""The outside services a deployment chooses by setting: SMS, payments, payouts."""

from __future__ import annotations

from pathlib import Path

from accounts.sms import AliyunSms, DevOutbox, SmsSender
from kernel.settings import Settings
from metering.payments import (
    AlipayStyle,
    PaymentProvider,
    Sandbox,
    WechatPayV3,
    load_private_key,
    load_public_key,
    sandbox_keys,
)
from metering.payouts import ManualPayouts, PayoutProvider, SandboxPayouts


def build_sms(s: Settings) -> SmsSender:
    if s.sms_provider == "aliyun":
        return AliyunSms(
            endpoint=s.aliyun_sms_endpoint,
            access_key_id=s.aliyun_sms_access_key_id,
            access_key_secret=s.aliyun_sms_access_key_secret,
            sign_name=s.aliyun_sms_sign_name,
            template_code=s.aliyun_sms_template_code,
            timeout_s=s.sms_timeout_s,
        )
    return DevOutbox(s.sms_outbox_size)


def build_payments(s: Settings) -> PaymentProvider:
    if s.payment_provider == "alipay":
        return AlipayStyle(
            name="alipay",
            app_id=s.alipay_app_id,
            gateway=s.alipay_gateway,
            private_key=load_private_key(Path(s.alipay_private_key_file).read_bytes()),
            provider_public_key=load_public_key(Path(s.alipay_public_key_file).read_bytes()),
        )
    if s.payment_provider == "wechat":
        return WechatPayV3(
            mchid=s.wechat_mchid,
            appid=s.wechat_appid,
            apiv3_key=s.wechat_apiv3_key,
            platform_public_key=load_public_key(
                Path(s.wechat_platform_public_key_file).read_bytes()
            ),
            merchant_key=load_private_key(Path(s.wechat_merchant_private_key_file).read_bytes()),
            merchant_serial=s.wechat_merchant_serial,
        )
    return Sandbox(sandbox_keys(Path(s.var_dir)), s.base_url)


def build_payouts(s: Settings) -> PayoutProvider:
    return ManualPayouts() if s.payout_provider == "manual" else SandboxPayouts()
