"""Batched ticks bill exactly as per-session ticks do, fall back where they must, and interleave
safely with per-session ticks on the same sessions."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from metering.batch import TickBatcher, tick_batch
from metering.errors import SessionEnded, SessionNotFound
from metering.tariff import Mode
from tests.metering.conftest import Money

pytestmark = pytest.mark.timeout(90)


async def world(money: Money, tag: str) -> dict[str, str]:
    """Sessions of every kind: cash, promo + cash, package, nearly dry, budget-capped."""
    comp = await money.companion(voice=300)
    kinds: dict[str, str] = {}
    for kind in ("cash", "promo", "package", "dry", "capped"):
        cust = await money.user()
        await money.fund(cust, 600 if kind == "dry" else 10_000)
        if kind == "promo":
            await money.wallets.redeem_trial(cust, "amount")
        if kind == "package":
            await money.wallets.buy_package(cust, "voice-60", f"g_{tag}")
        if kind == "capped":
            await money.metering.set_monthly_cap(cust, 1200)
        sid = f"{tag}-{kind}"
        await money.metering.open_session(sid, cust, comp, Mode.VOICE)
        await money.metering.media_up(sid)
        kinds[kind] = sid
    return kinds


async def test_batched_ticks_bill_exactly_like_single_ticks(money: Money) -> None:
    single = await world(money, "a")
    batched = await world(money, "b")
    fast = 0
    for _ in range(40):  # 400 s: the dry and capped sessions run out, pause and end
        money.clock.advance(10)
        for sid in single.values():
            with contextlib.suppress(SessionEnded):
                await money.metering.tick(sid)
        outcome = await tick_batch(money.metering, list(batched.values()))
        fast += outcome.fast
    assert fast >= 10  # the cash and promo sessions' minutes went the set-based way
    for kind in single:
        a = await money.metering.view(single[kind])
        b = await money.metering.view(batched[kind])
        assert (a.status, a.billed_minutes, a.charged_fen, a.end_reason) == (
            b.status,
            b.billed_minutes,
            b.charged_fen,
            b.end_reason,
        ), kind
    assert (await money.metering.view(batched["dry"])).end_reason == "insufficient_funds"
    await money.check()


async def test_batch_reports_unknown_and_ended_sessions(money: Money) -> None:
    sids = await world(money, "c")
    await money.metering.end(sids["cash"], "hangup")
    money.clock.advance(61)
    results = (await tick_batch(money.metering, [sids["cash"], "nope", sids["promo"]])).results
    assert isinstance(results[sids["cash"]], SessionEnded)
    assert isinstance(results["nope"], SessionNotFound)
    assert results[sids["promo"]].view.billed_minutes == 2
    await money.check()


async def test_batched_and_single_ticks_on_the_same_sessions_charge_each_minute_once(
    money: Money,
) -> None:
    sids = list((await world(money, "d")).values())
    batcher = TickBatcher(money.metering, max_batch=3)
    await batcher.start()
    try:
        for _ in range(12):
            money.clock.advance(20)
            jobs = [batcher.tick(s) for s in sids * 2] + [money.metering.tick(s) for s in sids]
            for r in await asyncio.gather(*jobs, return_exceptions=True):
                assert not isinstance(r, Exception) or isinstance(r, SessionEnded), r
    finally:
        await batcher.stop()
    cash = await money.metering.view(sids[0])
    assert cash.billed_minutes == 4 and cash.charged_fen == 1200  # 240 s connected
    await money.check()


async def test_a_batched_tick_tells_the_companion_what_the_session_has_earned(
    money: Money,
) -> None:
    """The companion's call screen and call bar show ``earned_fen`` from each tick's view: the
    set-based path must fill it in as the single path does (it once said ¥0.00 all call long)."""
    sid = (await world(money, "e"))["cash"]
    fast = 0
    for _ in range(3):
        money.clock.advance(61)
        outcome = await tick_batch(money.metering, [sid])
        fast += outcome.fast
        update = outcome.results[sid]
        assert update.view.earned_fen == (await money.metering.view(sid)).earned_fen
    assert fast >= 2 and update.view.earned_fen > 0
    await money.check()
