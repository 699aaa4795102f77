"""Money flows and races on the real database (SQLite and PostgreSQL): packages, coupons, the
budget cap, shared wallets, duplicate notifications, refunds, settlement, orphaned sessions."""

from __future__ import annotations

import asyncio

import pytest

from metering import accounts
from metering.errors import (
    BudgetExceeded,
    CouponUsed,
    InsufficientFunds,
    InvalidAmount,
    MeterBusy,
    PaymentRejected,
    RefundTooLarge,
    RefundUncovered,
    SessionNotEnded,
)
from metering.ledger import balances
from metering.tariff import Mode
from tests.metering.conftest import Money

pytestmark = pytest.mark.timeout(90)


async def talk(money: Money, sid: str, seconds: int) -> None:
    await money.metering.media_up(sid)
    for _ in range(seconds // 10):
        money.clock.advance(10)
        await money.metering.tick(sid)


async def bal(money: Money, *ids: str) -> dict[str, int]:
    async with money.db.reading() as s:
        return await balances(s, ids)


async def test_package_minutes_are_used_before_wallet_money(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    grant = await money.wallets.buy_package(cust, "voice-60", "g1")
    assert (await money.wallets.balance(cust)).wallet_fen == 10_000 - 4500
    await money.metering.open_session("p1", cust, comp, Mode.VOICE)
    await talk(money, "p1", 180)
    view = (await money.metering.end("p1", "hangup")).view
    assert view.billed_minutes == 3 and view.charged_fen == 0
    assert (await money.wallets.balance(cust)).wallet_fen == 5500
    (g,) = [x for x in await money.wallets.grants(cust) if x.id == grant.id]
    assert (g.minutes_used, g.minutes_held) == (3, 0)
    b = await bal(money, accounts.earn_pending(comp), accounts.package("g1"))
    assert b[accounts.earn_pending(comp)] == 3 * 210  # as if paid 300 at 30 %
    assert b[accounts.package("g1")] == 4500 - 3 * 75
    await money.check()


async def test_a_package_is_worth_exactly_its_price_when_used_up(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(video=600)
    await money.fund(cust, 10_000)
    await money.wallets.buy_package(cust, "video-30", "g2")  # 4500 fen / 30 min
    await money.metering.open_session("p2", cust, comp, Mode.VIDEO)
    await talk(money, "p2", 30 * 60)
    await money.metering.end("p2", "hangup")
    assert (await bal(money, accounts.package("g2")))[accounts.package("g2")] == 0
    await money.check()


async def test_trial_coupon_is_once_per_user_even_concurrently(money: Money) -> None:
    cust = await money.user()
    results = await asyncio.gather(
        *(money.wallets.redeem_trial(cust, k) for k in ("minutes", "amount") * 4),
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, str)) == 1
    assert all(isinstance(r, CouponUsed) for r in results if not isinstance(r, str))
    await money.check()


async def test_coupon_minutes_pay_the_companion_as_if_the_customer_had(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=400)
    await money.wallets.redeem_trial(cust, "minutes")
    await money.metering.open_session("c1", cust, comp, Mode.VOICE)  # no money at all
    await talk(money, "c1", 150)
    view = (await money.metering.end("c1", "hangup")).view
    assert view.billed_minutes == 3 and view.charged_fen == 0
    b = await bal(money, accounts.earn_pending(comp), accounts.PROMO_EXPENSE)
    assert b[accounts.earn_pending(comp)] == 3 * 280
    assert b[accounts.PROMO_EXPENSE] == -3 * 280
    await money.check()


async def test_amount_coupon_is_spent_before_the_wallet(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 1000)
    await money.wallets.redeem_trial(cust, "amount")  # 1000 fen promo
    await money.metering.open_session("c2", cust, comp, Mode.VOICE)
    await talk(money, "c2", 240)
    await money.metering.end("c2", "hangup")
    balance = await money.wallets.balance(cust)
    assert (balance.promo_fen, balance.wallet_fen) == (0, 1000 - 200)
    await money.check()


async def test_budget_cap_holds_across_racing_opens_and_sessions(money: Money) -> None:
    """Four sessions opened at once: one meter (the customer's one open session), the others
    refused before anything is held; the cap then holds across that session and the next."""
    cust = await money.user()
    comps = [await money.companion(voice=300) for _ in range(4)]
    await money.fund(cust, 100_000)
    await money.metering.set_monthly_cap(cust, 2000)
    opened = await asyncio.gather(
        *(money.metering.open_session(f"b{i}", cust, c, Mode.VOICE) for i, c in enumerate(comps)),
        return_exceptions=True,
    )
    live = [f"b{i}" for i, r in enumerate(opened) if not isinstance(r, Exception)]
    assert len(live) == 1
    assert all(isinstance(r, MeterBusy) for r in opened if isinstance(r, Exception))
    assert (await money.wallets.balance(cust)).held_fen == 300

    async def run(sid: str) -> None:
        await money.metering.media_up(sid)
        for _ in range(80):
            money.clock.advance(10)
            if (await money.metering.tick(sid)).view.status == "ended":
                return  # ran out of budget and the grace passed

    await run(live[0])
    await money.metering.end(live[0], "hangup")
    spent = 100_000 - (await money.wallets.balance(cust)).wallet_fen
    assert spent == 6 * 300  # 2000 // 300 minutes, never more
    with pytest.raises(BudgetExceeded):
        await money.metering.open_session("b9", cust, comps[0], Mode.VOICE)
    await money.check()


async def test_a_session_and_a_purchase_on_one_wallet_never_overdraw_it(money: Money) -> None:
    """The session's holds and a package bought meanwhile draw on one wallet at once (a
    customer has one session at a time, but buys and books beside it)."""
    cust = await money.user()
    comp = await money.companion(voice=300)
    await money.fund(cust, 5100)  # the package (4500) and two minutes, or more minutes
    await money.metering.open_session("w1", cust, comp, Mode.VOICE)

    async def run() -> None:
        await money.metering.media_up("w1")
        for _ in range(80):
            money.clock.advance(5)
            if (await money.metering.tick("w1")).view.status == "ended":
                return

    async def buy() -> bool:
        await asyncio.sleep(0)
        try:
            await money.wallets.buy_package(cust, "video-30", "g_w1")
        except InsufficientFunds:
            return False
        return True

    _, bought = await asyncio.gather(run(), buy())
    await money.metering.end("w1", "hangup")
    charged = (await money.metering.view("w1")).charged_fen
    left = (await money.wallets.balance(cust)).wallet_fen
    assert left >= 0 and charged + 4500 * bought + left == 5100
    await money.check()


async def test_concurrent_duplicate_ticks_capture_each_minute_once(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("d1", cust, comp, Mode.VOICE)
    await money.metering.media_up("d1")
    money.clock.advance(130)
    await asyncio.gather(*(money.metering.tick("d1") for _ in range(10)))
    view = await money.metering.view("d1")
    assert view.billed_minutes == 3 and view.charged_fen == 900
    await money.check()


async def test_five_duplicate_notifications_credit_once(money: Money) -> None:
    cust = await money.user()
    await money.wallets.create_order("o1", cust, "sandbox", 5000)
    results = await asyncio.gather(
        *(
            money.wallets.credit_paid_order(
                "o1", provider="sandbox", amount_fen=5000, trade_no="T1"
            )
            for _ in range(5)
        )
    )
    assert sum(1 for _, credited in results if credited) == 1
    assert (await money.wallets.balance(cust)).wallet_fen == 5000
    await money.check()


async def test_a_mismatched_notification_credits_nothing(money: Money) -> None:
    cust = await money.user()
    await money.wallets.create_order("o2", cust, "sandbox", 5000)
    for provider, amount in (("sandbox", 50_000), ("alipay", 5000), ("sandbox", 4999)):
        with pytest.raises(PaymentRejected):
            await money.wallets.credit_paid_order(
                "o2", provider=provider, amount_fen=amount, trade_no="T"
            )
    assert (await money.wallets.balance(cust)).wallet_fen == 0
    assert (await money.wallets.order("o2")).status == "created"


@pytest.mark.parametrize("amount", [0, -100, 99, 5_000_001])
async def test_top_up_amounts_out_of_range_are_refused(money: Money, amount: int) -> None:
    with pytest.raises(InvalidAmount):
        await money.wallets.create_order("o3", await money.user(), "sandbox", amount)


async def test_refunds_reverse_in_proportion_and_never_exceed_the_charge(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("r1", cust, comp, Mode.VOICE)
    await talk(money, "r1", 180)
    with pytest.raises(SessionNotEnded):
        await money.metering.refund_session("r1", 100, key="a0")
    await money.metering.end("r1", "hangup")
    before = await bal(money, accounts.earn_pending(comp), accounts.PLATFORM_REVENUE)
    await money.metering.refund_session("r1", 300, key="appeal-1")
    await money.metering.refund_session("r1", 300, key="appeal-1")  # idempotent
    after = await bal(money, accounts.earn_pending(comp), accounts.PLATFORM_REVENUE)
    assert before[accounts.earn_pending(comp)] - after[accounts.earn_pending(comp)] == 210
    assert before[accounts.PLATFORM_REVENUE] - after[accounts.PLATFORM_REVENUE] == 90
    assert (await money.wallets.balance(cust)).wallet_fen == 10_000 - 900 + 300
    with pytest.raises(RefundTooLarge):
        await money.metering.refund_session("r1", 601, key="appeal-2")
    await money.metering.refund_session("r1", 600, key="appeal-2")
    assert (await money.metering.view("r1")).refunded_fen == 900
    await money.check()


async def test_earnings_become_available_after_the_hold_period(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("e1", cust, comp, Mode.VOICE)
    await talk(money, "e1", 60)
    await money.metering.end("e1", "hangup")
    money.clock.advance(72 * 3600 - 1)
    assert await money.metering.settle_earnings() == 0
    money.clock.advance(1)
    assert await money.metering.settle_earnings() == 1
    b = await bal(money, accounts.earn_pending(comp), accounts.earn_available(comp))
    assert (b[accounts.earn_pending(comp)], b[accounts.earn_available(comp)]) == (0, 210)
    await money.metering.refund_session("e1", 300, key="late")  # from available now
    assert (await bal(money, accounts.earn_available(comp)))[accounts.earn_available(comp)] == 0
    with pytest.raises((RefundTooLarge, RefundUncovered)):
        await money.metering.refund_session("e1", 1, key="more")
    await money.check()


async def test_sessions_of_a_dead_process_are_settled(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("o1", cust, comp, Mode.VOICE)
    await talk(money, "o1", 90)  # last heartbeat with the tick at 90 s
    money.clock.advance(119)
    assert await money.metering.settle_orphans() == []
    money.clock.advance(2)
    assert await money.metering.settle_orphans() == ["o1"]
    view = await money.metering.view("o1")
    assert view.status == "ended" and view.end_reason == "server_lost"
    assert view.billed_minutes == 2 and view.charged_fen == 600
    assert (await money.wallets.balance(cust)).held_fen == 0
    await money.check()


async def test_insufficient_funds_for_a_package_writes_nothing(money: Money) -> None:
    cust = await money.user()
    await money.fund(cust, 1000)
    with pytest.raises(InsufficientFunds):
        await money.wallets.buy_package(cust, "voice-60", "g9")
    assert await money.wallets.grants(cust) == []
    await money.check()


async def test_an_account_created_by_a_rolled_back_transfer_still_works(money: Money) -> None:
    """Regression: the ledger's known-accounts cache must not outlive a rollback."""
    cust = await money.user()
    with pytest.raises(InsufficientFunds):
        await money.wallets.buy_package(cust, "voice-60", "g_rb")  # creates, then rolls back
    await money.fund(cust, 100)
    assert (await money.wallets.balance(cust)).wallet_fen == 100
    await money.check()


async def test_first_top_ups_racing_to_create_the_clearing_account_all_succeed(
    money: Money,
) -> None:
    """Concurrent first top-ups through one process's shared account cache all succeed.

    bench/metering once hit the PostgreSQL interleaving where a transaction's UPDATE missed an
    account another had just created but not committed, and was then reported as an overdraft;
    this test exercises the path, though it does not force that exact interleaving."""
    users = [await money.user() for _ in range(16)]
    for i, u in enumerate(users):
        await money.wallets.create_order(f"race{i}", u, "sandbox", 500)
    for _ in range(3):
        money.metering.ledger.forget()
        async with money.db.writing() as s:  # start from no clearing account at all
            from sqlalchemy import text

            await s.execute(text("DELETE FROM entries"))
            await s.execute(text("DELETE FROM transfers"))
            await s.execute(text("DELETE FROM ledger_accounts"))
        await asyncio.gather(
            *(
                money.wallets.credit_paid_order(
                    f"race{i}", provider="sandbox", amount_fen=500, trade_no="t"
                )
                for i in range(len(users))
            )
        )
        for u in users:
            assert (await money.wallets.balance(u)).wallet_fen == 500
        await money.check()


async def test_companion_packages_are_for_seniors_priced_in_bounds_and_used_with_them_only(
    money: Money,
) -> None:
    from metering.errors import OfferRefused
    from metering.tariff import Level

    newbie = await money.companion(voice=300)
    senior = await money.companion(text=100, voice=400, video=800, level=Level.SENIOR)
    other = await money.companion(voice=400)
    with pytest.raises(OfferRefused) as low:
        await money.wallets.create_offer(
            newbie, kind="weekly", mode=Mode.VOICE, minutes=60, price_fen=9000
        )
    assert low.value.code == "level_too_low"
    for price in (60 * 400 + 1, 60 * 50 - 1):
        with pytest.raises(OfferRefused):
            await money.wallets.create_offer(
                senior, kind="weekly", mode=Mode.VOICE, minutes=60, price_fen=price
            )
    offer = await money.wallets.create_offer(
        senior, kind="monthly", mode=Mode.VOICE, minutes=60, price_fen=18_000
    )
    cust = await money.user()
    await money.fund(cust, 20_000)
    grant = await money.wallets.buy_offer(cust, offer.id, "gc1")
    assert grant.companion_id == senior and grant.minutes_total == 60
    # With another companion the package does not apply: the wallet pays.
    await money.metering.open_session("cp0", cust, other, Mode.VOICE)
    await talk(money, "cp0", 60)
    assert (await money.metering.end("cp0", "hangup")).view.charged_fen == 400
    # With the seller it does: 2 minutes of 18000/60 = 300 each, split at senior's 25 %.
    await money.metering.open_session("cp1", cust, senior, Mode.VOICE)
    await talk(money, "cp1", 120)
    assert (await money.metering.end("cp1", "hangup")).view.charged_fen == 0
    b = await bal(money, accounts.earn_pending(senior), accounts.package("gc1"))
    assert b[accounts.earn_pending(senior)] == 2 * 225
    assert b[accounts.package("gc1")] == 18_000 - 600
    await money.check()
