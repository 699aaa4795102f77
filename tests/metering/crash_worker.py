"""A stand-in server process for the crash test: runs one metered voice session with the real
runner (ticks, heartbeats) on a sped-up clock, until it is killed; or, with ``recover``, plays
the process that finds the orphan and settles it.

    python -m tests.metering.crash_worker run|recover DB_URL ANCHOR SPEED
"""

from __future__ import annotations

import asyncio
import json
import sys

from kernel.clock import ScaledClock
from kernel.logs import configure_logging
from metering.runner import MeteringRunner
from metering.service import MeteringPolicy, MeteringService
from metering.tariff import Mode, Rates
from metering.wallet import Wallets
from store import Database
from store.models import User


async def run(db: Database, clock: ScaledClock) -> None:
    metering = MeteringService(db, clock, MeteringPolicy(), owner="worker-1")
    wallets = Wallets(db, clock, metering.ledger)
    now = clock.now()
    async with db.writing() as s:
        s.add_all(
            [
                User(
                    id="u_cust",
                    phone="13800000777",
                    role="customer",
                    nickname="c",
                    tags=[],
                    avatar_version=0,
                    created_at=now,
                    updated_at=now,
                ),
                User(
                    id="u_comp",
                    phone="13900000777",
                    role="companion",
                    nickname="p",
                    tags=[],
                    avatar_version=0,
                    created_at=now,
                    updated_at=now,
                ),
            ]
        )
    await metering.set_rates("u_comp", Rates(100, 300, 600))
    await wallets.create_order("o1", "u_cust", "sandbox", 100_000)
    await wallets.credit_paid_order("o1", provider="sandbox", amount_fen=100_000, trade_no="t")
    runner = MeteringRunner(metering, clock, heartbeat_interval_s=30)
    await runner.start()
    await metering.open_session("crash", "u_cust", "u_comp", Mode.VOICE)
    update = await metering.media_up("crash")
    await runner.deliver("crash", update)
    print(json.dumps({"connected_at": clock.now().timestamp()}), flush=True)
    await asyncio.Event().wait()  # run until killed


async def recover(db: Database, clock: ScaledClock) -> None:
    metering = MeteringService(db, clock, MeteringPolicy(), owner="worker-2")
    ended = await metering.settle_orphans()
    view = await metering.view("crash")
    print(
        json.dumps(
            {
                "ended": ended,
                "billed_minutes": view.billed_minutes,
                "charged_fen": view.charged_fen,
                "status": view.status,
                "end_reason": view.end_reason,
            }
        ),
        flush=True,
    )


async def main(mode: str, url: str, anchor: float, speed: float) -> None:
    configure_logging(level="WARNING")  # logs to stderr; stdout carries the JSON
    db = Database(url)
    try:
        await (run if mode == "run" else recover)(db, ScaledClock(anchor, speed))
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
