"""Metered sessions end to end against the real database: holds, captures, pauses, the end."""

from __future__ import annotations

import pytest

from metering.errors import InsufficientFunds, InvalidAmount, RatesNotSet, SessionEnded
from metering.tariff import Mode
from tests.metering.conftest import Money

pytestmark = pytest.mark.timeout(60)


async def run_connected(money: Money, sid: str, seconds: int, step_s: int = 1) -> list[str]:
    """Media flows for ``seconds``, ticking every ``step_s``; returns the notices seen."""
    seen = [n.kind for n in (await money.metering.media_up(sid)).notices]
    for _ in range(seconds // step_s):
        money.clock.advance(step_s)
        seen += [n.kind for n in (await money.metering.tick(sid)).notices]
    return seen


@pytest.mark.parametrize(
    ("seconds", "minutes"), [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (119, 2), (120, 2)]
)
async def test_billed_minutes_round_up(money: Money, seconds: int, minutes: int) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("s1", cust, comp, Mode.VOICE)
    await run_connected(money, "s1", seconds)
    update = await money.metering.end("s1", "hangup")
    assert update.view.billed_minutes == minutes
    assert update.view.charged_fen == minutes * 300
    assert (await money.wallets.balance(cust)).wallet_fen == 10_000 - minutes * 300
    await money.check()


async def test_a_call_splits_every_minute_exactly(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=333)  # newcomer: 30 %
    await money.fund(cust, 5_000)
    await money.metering.open_session("s2", cust, comp, Mode.VOICE)
    await run_connected(money, "s2", 150, step_s=5)
    await money.metering.end("s2", "hangup")
    from metering import accounts
    from metering.ledger import balances

    async with money.db.reading() as s:
        b = await balances(
            s, [accounts.earn_pending(comp), accounts.PLATFORM_REVENUE, accounts.held(cust)]
        )
    assert b[accounts.PLATFORM_REVENUE] == 3 * 99  # floor(333 × 0.30)
    assert b[accounts.earn_pending(comp)] == 3 * 234
    assert b[accounts.held(cust)] == 0
    await money.check()


async def test_a_rate_fixed_earlier_by_the_server_is_billed_with_the_level_commission(
    money: Money,
) -> None:
    """A booking or a group room fixes its price before the session: the session bills that
    price, not the companion's current one, and the commission is still the level's."""
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("s9", cust, comp, Mode.VOICE, rate_fen_per_min=250)
    await run_connected(money, "s9", 61)
    update = await money.metering.end("s9", "hangup")
    assert (update.view.rate_fen_per_min, update.view.charged_fen) == (250, 500)
    assert update.view.earned_fen == 2 * (250 - 75)  # newcomer: 30 % of 250
    with pytest.raises(InvalidAmount):
        await money.metering.open_session("s10", cust, comp, Mode.VOICE, rate_fen_per_min=0)
    await money.check()


async def test_only_connected_time_is_billed(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("s3", cust, comp, Mode.VOICE)
    await run_connected(money, "s3", 50)
    await money.metering.media_down("s3")
    money.clock.advance(300)  # five minutes of silence cost nothing
    await money.metering.tick("s3")
    await run_connected(money, "s3", 20)  # 70 s connected in all
    update = await money.metering.end("s3", "hangup")
    assert update.view.billed_minutes == 2
    await money.check()


async def test_no_reservation_no_session(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 299 + 100)  # top-ups are at least 100 fen; 399 < 2 minutes
    with pytest.raises(RatesNotSet):
        await money.metering.open_session("s4", cust, await money.user("companion"), Mode.VOICE)
    poor = await money.user()
    with pytest.raises(InsufficientFunds):
        await money.metering.open_session("s4", poor, comp, Mode.VOICE)
    view = await money.metering.open_session("s4", cust, comp, Mode.VOICE)
    assert view.low_balance and view.minutes_left == 1
    await money.check()


async def test_running_out_pauses_then_a_top_up_resumes(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 600)  # two minutes
    await money.metering.open_session("s5", cust, comp, Mode.VOICE)
    seen = await run_connected(money, "s5", 125)
    assert "low_balance" in seen and "paused" in seen
    view = await money.metering.view("s5")
    assert view.status == "paused" and view.billed_minutes == 2 and view.charged_fen == 600
    money.clock.advance(30)
    await money.fund(cust, 1000)
    update = await money.metering.funds_added("s5")
    assert [n.kind for n in update.notices] == ["resumed"]
    await run_connected(money, "s5", 30)
    update = await money.metering.end("s5", "hangup")
    # 120 s before the pause + 30 s after it: 150 s connected → 3 minutes.
    assert update.view.billed_minutes == 3 and update.view.charged_fen == 900
    await money.check()


async def test_no_top_up_within_60_s_ends_the_session(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 300)
    await money.metering.open_session("s6", cust, comp, Mode.VOICE)
    seen = await run_connected(money, "s6", 61)  # paused at exactly 60 s connected
    assert "paused" in seen
    money.clock.advance(58)
    assert (await money.metering.tick("s6")).view.status == "paused"
    money.clock.advance(1)
    update = await money.metering.tick("s6")
    assert update.view.status == "ended" and update.view.end_reason == "insufficient_funds"
    assert update.view.billed_minutes == 1
    await money.check()


async def test_duplicate_and_late_events_change_nothing(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("s7", cust, comp, Mode.VOICE)
    from metering.billing_clock import MediaUp, Tick
    from metering.service import to_ms

    t0 = to_ms(money.clock.now())
    await money.metering.apply("s7", MediaUp(t0))
    money.clock.advance(90)
    for _ in range(3):
        await money.metering.apply("s7", Tick(to_ms(money.clock.now())))
        await money.metering.apply("s7", MediaUp(t0))  # duplicated, late
    view = await money.metering.view("s7")
    assert view.billed_minutes == 2 and view.charged_fen == 600
    await money.check()


async def test_a_tick_after_the_end_is_refused_and_writes_nothing(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 10_000)
    await money.metering.open_session("s8", cust, comp, Mode.VOICE)
    await run_connected(money, "s8", 30)
    await money.metering.end("s8", "hangup")
    before = await money.wallets.balance(cust)
    money.clock.advance(60)
    with pytest.raises(SessionEnded):
        await money.metering.tick("s8")
    await money.metering.end("s8", "hangup")  # a duplicate end is a no-op
    assert await money.wallets.balance(cust) == before
    await money.check()


async def test_unserved_holds_are_released(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 1_000)
    await money.metering.open_session("s9", cust, comp, Mode.VOICE)
    assert (await money.wallets.balance(cust)).held_fen == 300
    update = await money.metering.end("s9", "cancelled")  # never connected
    assert update.view.billed_minutes == 0
    assert await money.wallets.balance(cust) == type(await money.wallets.balance(cust))(1_000, 0, 0)
    await money.check()
