"""Withdrawals: only available earnings, review above the limit, rejection returns the money,
failed payouts return it too, and account numbers are encrypted at rest."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from accounts.keys import ACCOUNTS
from accounts.roles import Role
from accounts.sms import DevOutbox
from metering import accounts
from metering.errors import InvalidAmount, WithdrawalRefused
from metering.ledger import balances
from metering.payouts import ManualPayouts, Payouts, SandboxPayouts, Sealer
from metering.tariff import Mode
from tests.harness import bearer, login_cli
from tests.metering.conftest import Money

pytestmark = pytest.mark.timeout(60)
CARD = "6222020200112233445"


async def earning_companion(money: Money, fen_minutes: int = 10) -> str:
    """A companion with available earnings: a session, then the hold period passes."""
    cust, comp = await money.user(), await money.companion(voice=500)
    await money.fund(cust, 100_000)
    await money.metering.open_session("pay1", cust, comp, Mode.VOICE)
    await money.metering.media_up("pay1")
    for _ in range(fen_minutes):
        money.clock.advance(60)
        await money.metering.tick("pay1")
    await money.metering.end("pay1", "hangup")
    money.clock.advance(72 * 3600)
    await money.metering.settle_earnings()
    return comp


def payouts(money: Money, provider: object = None, review_above: int = 1000) -> Payouts:
    return Payouts(
        money.db,
        money.clock,
        money.metering.ledger,
        provider or SandboxPayouts(),
        Sealer("s" * 40),
        review_above_fen=review_above,
    )


async def available(money: Money, user: str) -> int:
    async with money.db.reading() as s:
        return (await balances(s, [accounts.earn_available(user)]))[accounts.earn_available(user)]


async def test_small_withdrawals_pay_at_once_and_never_exceed_earnings(money: Money) -> None:
    comp = await earning_companion(money)  # 10 min × 350 = 3500 available
    p = payouts(money)
    with pytest.raises(WithdrawalRefused) as no_account:
        await p.request(comp, 500)
    assert no_account.value.code == "no_payout_account"
    await p.bind_account(comp, "bank", CARD)
    assert (await p.request(comp, 800)).status == "paid"
    assert await available(money, comp) == 2700
    with pytest.raises(WithdrawalRefused) as too_much:
        await p.request(comp, 2701)
    assert too_much.value.code == "insufficient_earnings"
    with pytest.raises(InvalidAmount):
        await p.request(comp, 99)
    await money.check()


async def test_large_withdrawals_wait_for_review_and_rejection_returns_the_money(
    money: Money,
) -> None:
    comp = await earning_companion(money)
    p = payouts(money)
    await p.bind_account(comp, "alipay", "someone@example.com")
    w = await p.request(comp, 2000)
    assert w.status == "pending_review"
    assert await available(money, comp) == 1500  # set aside while under review
    rejected = await p.decide(w.id, "admin", approve=False, reason="account name mismatch")
    assert rejected.status == "rejected" and await available(money, comp) == 3500
    with pytest.raises(WithdrawalRefused):
        await p.decide(w.id, "admin", approve=True, reason="again")
    w2 = await p.request(comp, 2000)
    assert (await p.decide(w2.id, "admin", approve=True, reason="ok")).status == "paid"
    assert await available(money, comp) == 1500
    await money.check()


async def test_a_failed_payout_returns_the_money(money: Money) -> None:
    comp = await earning_companion(money)
    provider = SandboxPayouts()
    p = payouts(money, provider)
    await p.bind_account(comp, "wechat", "wxid_abcdef")
    provider.fail_next = True
    assert (await p.request(comp, 500)).status == "failed"
    assert await available(money, comp) == 3500
    await money.check()


async def test_manual_payouts_review_everything(money: Money) -> None:
    comp = await earning_companion(money)
    p = payouts(money, ManualPayouts(), review_above=10**9)
    await p.bind_account(comp, "bank", CARD)
    assert (await p.request(comp, 100)).status == "pending_review"


async def test_payout_accounts_are_encrypted_at_rest(money: Money) -> None:
    comp = await money.companion()
    row = await payouts(money).bind_account(comp, "bank", CARD)
    assert row.account_masked == "****3445"
    async with money.db.reading() as s:
        raw = " ".join(
            str(v) for v in (await s.execute(text("SELECT * FROM payout_accounts"))).one()
        )
    assert CARD not in raw and "3445" in raw


async def test_withdrawal_routes_are_for_companions_and_admins(
    client: TestClient, outbox: DevOutbox
) -> None:
    cust = await login_cli(client, outbox, "13800000601")
    resp = await client.post("/api/me/withdrawals", json={"amount_fen": 500}, headers=bearer(cust))
    assert resp.status == 403
    assert (await client.get("/api/admin/withdrawals", headers=bearer(cust))).status == 403
    accounts_ = client.app[ACCOUNTS]
    await accounts_.ensure_user("13900000601", Role.COMPANION)
    comp = await login_cli(client, outbox, "13900000601")
    resp = await client.put(
        "/api/me/payout-account", json={"method": "bank", "account": CARD}, headers=bearer(comp)
    )
    assert resp.status == 200 and (await resp.json())["account_masked"] == "****3445"
    resp = await client.post("/api/me/withdrawals", json={"amount_fen": 500}, headers=bearer(comp))
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "insufficient_earnings"


def test_the_payout_provider_setting_is_honoured() -> None:
    """Regression: PEILIAO_PAYOUT_PROVIDER=manual was read and validated but not wired."""
    from kernel.settings import Settings
    from peiliao.providers import build_payouts

    assert isinstance(build_payouts(Settings(payout_provider="manual")), ManualPayouts)
    assert isinstance(build_payouts(Settings()), SandboxPayouts)
