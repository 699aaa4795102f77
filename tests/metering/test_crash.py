"""kill -9 a process in the middle of a metered session, then let another process recover it:
the customer is billed the connected minutes ± 1, no hold stays open, the ledger check passes.

The processes share a clock sped up 20× so that minutes pass in seconds."""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from kernel.clock import ScaledClock
from metering.check import check_ledger
from metering.wallet import Wallets
from store import Database
from store.models import ActiveMeter
from tests.conftest import DbTarget

pytestmark = pytest.mark.timeout(120)
SPEED = 20.0
ROOT = Path(__file__).resolve().parents[2]


def worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.metering.crash_worker", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def test_kill_9_mid_session_bills_connected_minutes_within_one(
    db: Database, db_target: DbTarget
) -> None:
    anchor = time.time()
    proc = worker("run", db_target.url, str(anchor), str(SPEED))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else "worker died"
    connected_at = json.loads(line)["connected_at"]
    await asyncio.sleep(4.6)  # about 92 s on the worker's clock: inside minute 2
    clock = ScaledClock(anchor, SPEED)
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = clock.now().timestamp()
    proc.wait(timeout=10)
    connected_minutes = math.ceil((killed_at - connected_at) / 60)

    # Another process finds the session once its heartbeat is 2 minutes old (6 s real).
    deadline = time.monotonic() + 30
    while True:
        rec = worker("recover", db_target.url, str(anchor), str(SPEED))
        out, err = rec.communicate(timeout=30)
        result = json.loads(out.strip().splitlines()[-1])
        if result["ended"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert result["ended"] == ["crash"], (result, err)
    assert result["status"] == "ended" and result["end_reason"] == "server_lost"
    assert abs(result["billed_minutes"] - connected_minutes) <= 1, (result, connected_minutes)
    assert result["charged_fen"] == result["billed_minutes"] * 300
    balance = await Wallets(db, clock, None).balance("u_cust")  # type: ignore[arg-type]
    assert balance.held_fen == 0
    assert balance.wallet_fen == 100_000 - result["charged_fen"]
    # The settling process freed the customer's meter: they may open another session.
    async with db.reading() as s:
        meter = await s.scalar(select(ActiveMeter).where(ActiveMeter.customer_id == "u_cust"))
    assert meter is None
    report = await check_ledger(db)
    assert report.ok, report.to_json()
