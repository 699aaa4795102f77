"""The runner ticks each session at its minute boundaries and delivers pauses and ends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from kernel.clock import ScaledClock
from metering.runner import MeteringRunner
from metering.service import MeteringService, Notice, SessionView
from metering.tariff import Mode
from metering.wallet import Wallets
from store import Database
from tests.metering.conftest import Money

pytestmark = pytest.mark.timeout(60)


async def test_runner_bills_each_minute_as_it_begins_and_ends_a_dry_session(
    money: Money, db: Database
) -> None:
    clock = ScaledClock(time.time(), 30.0)  # a minute in 2 s: a loaded machine's lag stays small
    metering = MeteringService(db, clock)
    wallets = Wallets(db, clock, metering.ledger)
    cust, comp = await money.user(), await money.companion(voice=300)
    await wallets.create_order("rr1", cust, "sandbox", 900)  # three minutes
    await wallets.credit_paid_order("rr1", provider="sandbox", amount_fen=900, trade_no="t")
    seen: list[str] = []

    async def notify(session_id: str, notice: Notice) -> None:
        seen.append(notice.kind)

    runner = MeteringRunner(metering, clock, heartbeat_interval_s=30, notify=notify)
    await runner.start()
    try:
        await metering.open_session("run1", cust, comp, Mode.VOICE)
        await runner.deliver("run1", await metering.media_up("run1"))
        # The second minute is billed as it begins (60 s connected), not before: seen while
        # the second minute runs (it ends at 120 s, 2 s from the first 60 s).
        view = await _first(metering, lambda v: v.billed_minutes >= 2, within_s=3.0)
        assert view.billed_minutes == 2 and view.status == "running"
        # funds for 3 minutes: pause at 180 s, end 60 s later (8 s in all)
        view = await _first(metering, lambda v: v.status == "ended", within_s=10.0)
    finally:
        await runner.stop()
    assert view.status == "ended" and view.end_reason == "insufficient_funds"
    assert view.billed_minutes == 3 and view.charged_fen == 900
    assert "low_balance" in seen and "paused" in seen and "ended" in seen
    assert runner.sessions == []


async def _first(
    metering: MeteringService, pred: Callable[[SessionView], bool], *, within_s: float
) -> SessionView:
    """The session's first view satisfying ``pred``, polled every 50 ms (fails after
    ``within_s``)."""
    async with asyncio.timeout(within_s):
        while not pred(view := await metering.view("run1")):  # noqa: ASYNC110 (polls the database)
            await asyncio.sleep(0.05)
    return view
