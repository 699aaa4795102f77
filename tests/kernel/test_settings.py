"""Settings: parsing from PEILIAO_* variables and the refusals that protect prod."""

from __future__ import annotations

import pytest

from kernel.settings import DEFAULT_SECRET_KEY, Settings, SettingsError

PROD_OK = {
    "PEILIAO_ENV": "prod",
    "PEILIAO_SECRET_KEY": "a" * 48,
    "PEILIAO_SMS_PROVIDER": "aliyun",
    "PEILIAO_ALIYUN_SMS_ACCESS_KEY_ID": "LTAI-id",
    "PEILIAO_ALIYUN_SMS_ACCESS_KEY_SECRET": "secret",
    "PEILIAO_PAYMENT_PROVIDER": "alipay",
    "PEILIAO_ALIPAY_APP_ID": "2021000000000000",
    "PEILIAO_ALIPAY_PRIVATE_KEY_FILE": "/etc/peiliao/app-private.pem",
    "PEILIAO_ALIPAY_PUBLIC_KEY_FILE": "/etc/peiliao/alipay-public.pem",
    "PEILIAO_PAYOUT_PROVIDER": "manual",
    "PEILIAO_DATA_KEYS": "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
    "PEILIAO_METRICS_TOKEN": "m" * 40,
}


def test_defaults_are_the_embedded_dev_setup() -> None:
    s = Settings.from_env({})
    assert s.env == "dev" and s.port == 8080 and s.host == "127.0.0.1"
    assert s.database_url == "sqlite+aiosqlite:///./var/peiliao.db"
    assert s.redis_url == "" and s.sms_provider == "dev" and s.payment_provider == "sandbox"
    assert not s.secure_cookies and not s.json_logs


def test_values_are_parsed_by_type() -> None:
    s = Settings.from_env(
        {
            "PEILIAO_PORT": "9000",
            "PEILIAO_DB_TIMEOUT_S": "2.5",
            "PEILIAO_TRUST_FORWARDED_FOR": "yes",
            "PEILIAO_LOG_JSON": "1",
            "OTHER": "ignored",
        }
    )
    assert (s.port, s.db_timeout_s, s.trust_forwarded_for, s.json_logs) == (9000, 2.5, True, True)


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"PEILIAO_PORT": "eighty"}, "PEILIAO_PORT"),
        ({"PEILIAO_PORT": "70000"}, "PEILIAO_PORT"),
        ({"PEILIAO_DATABASE_URL": "mysql://x"}, "PEILIAO_DATABASE_URL"),
        ({"PEILIAO_REDIS_URL": "http://x"}, "PEILIAO_REDIS_URL"),
        ({"PEILIAO_SECRET_KEY": "short"}, "PEILIAO_SECRET_KEY"),
        ({"PEILIAO_ENV": "staging"}, "PEILIAO_ENV"),
        ({"PEILIAO_SMS_CODE_TTL_S": "0"}, "PEILIAO_SMS_CODE_TTL_S"),
        ({"PEILIAO_DATABSE_URL": "sqlite+aiosqlite:///x"}, "unknown setting PEILIAO_DATABSE_URL"),
        ({"PEILIAO_TRUST_FORWARDED_FOR": "maybe"}, "PEILIAO_TRUST_FORWARDED_FOR"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(env)


def test_prod_with_real_providers_starts() -> None:
    s = Settings.from_env(PROD_OK)
    assert s.secure_cookies and s.json_logs


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"PEILIAO_SECRET_KEY": DEFAULT_SECRET_KEY}, "SECRET_KEY is the dev default"),
        ({"PEILIAO_SMS_PROVIDER": "dev"}, "SMS_PROVIDER=dev"),
        ({"PEILIAO_PAYMENT_PROVIDER": "sandbox"}, "PAYMENT_PROVIDER=sandbox"),
        ({"PEILIAO_ALIYUN_SMS_ACCESS_KEY_SECRET": ""}, "ACCESS_KEY_ID/_SECRET"),
        ({"PEILIAO_ALIPAY_PUBLIC_KEY_FILE": ""}, "required for alipay"),
        ({"PEILIAO_PAYMENT_PROVIDER": "wechat"}, "required for wechat"),
        ({"PEILIAO_PAYOUT_PROVIDER": "sandbox"}, "PAYOUT_PROVIDER=sandbox"),
        ({"PEILIAO_METRICS_TOKEN": ""}, "PEILIAO_METRICS_TOKEN is empty"),
        ({"PEILIAO_METRICS_TOKEN": "short"}, "PEILIAO_METRICS_TOKEN must be at least 32"),
    ],
)
def test_prod_refuses_dev_defaults(change: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env({**PROD_OK, **change})


def test_prod_wechat_needs_the_merchant_key_and_serial() -> None:
    wechat = {
        **PROD_OK,
        "PEILIAO_PAYMENT_PROVIDER": "wechat",
        "PEILIAO_WECHAT_MCHID": "1900000001",
        "PEILIAO_WECHAT_APIV3_KEY": "k" * 32,
        "PEILIAO_WECHAT_PLATFORM_PUBLIC_KEY_FILE": "/etc/peiliao/wechat-platform.pem",
    }
    with pytest.raises(SettingsError, match="MERCHANT_PRIVATE_KEY_FILE"):
        Settings.from_env(wechat)
    Settings.from_env(
        {
            **wechat,
            "PEILIAO_WECHAT_MERCHANT_PRIVATE_KEY_FILE": "/etc/p/m.pem",
            "PEILIAO_WECHAT_MERCHANT_SERIAL": "5157F09EFDC096DE15EBE81A47057A72",
        }
    )


def test_secrets_do_not_print() -> None:
    s = Settings.from_env(PROD_OK)
    assert "a" * 48 not in repr(s) and "secret" not in repr(s).replace("secret_key", "")
    assert "m" * 40 not in repr(s)


def test_readme_documents_every_setting() -> None:
    from dataclasses import fields
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [f.name for f in fields(Settings) if f"`PEILIAO_{f.name.upper()}`" not in readme]
    assert not missing, f"README's configuration table lacks {missing}"
