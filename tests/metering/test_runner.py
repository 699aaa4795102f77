"""The runner ticks each session at its minute boundaries and delivers pauses and ends."""

from __future__ import annotations

import asyncio
import time

import pytest

from kernel.clock import ScaledClock
from metering.runner import MeteringRunner
from metering.service import MeteringService, Notice
from metering.tariff import Mode
from metering.wallet import Wallets
from store import Database
from tests.metering.conftest import Money

pytestmark = pytest.mark.timeout(60)


async def test_runner_bills_each_minute_as_it_begins_and_ends_a_dry_session(
    money: Money, db: Database
) -> None:
    clock = ScaledClock(time.time(), 60.0)  # a minute a second
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
        await asyncio.sleep(1.5)  # 90 s connected
        view = await metering.view("run1")
        assert view.billed_minutes == 2 and view.status == "running"
        await asyncio.sleep(3.5)  # funds for 3 minutes: pause at 180 s, end 60 s later
        view = await metering.view("run1")
    finally:
        await runner.stop()
    assert view.status == "ended" and view.end_reason == "insufficient_funds"
    assert view.billed_minutes == 3 and view.charged_fen == 900
    assert "low_balance" in seen and "paused" in seen and "ended" in seen
    assert runner.sessions == []
