"""How long the event loop stalls: a timer due every ``INTERVAL_S`` measures how late it runs.
Everything a process serves waits behind a stall (a chat message, a media packet, a billing
tick), so the tail of every latency is bounded below by it.  Recorded as a histogram and the
longest stall since start (``/metrics``), and a stall over ``WARN_S`` is logged (at most one line
a minute, with how many there were) so an operator sees it and the benchmarks report it beside
their tails."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from kernel.http.middleware import TELEMETRY
from kernel.telemetry import LOOP_LAG, LOOP_STALL_MAX, Telemetry

log = structlog.get_logger(__name__)

INTERVAL_S = 0.05
WARN_S = 0.25
LOG_EVERY_S = 60.0


class LoopWatch:
    def __init__(self, telemetry: Telemetry | None = None) -> None:
        self._telemetry = telemetry
        self.max_s = 0.0
        self._unlogged = 0
        self._logged_at = -LOG_EVERY_S

    def record(self, lag_s: float, now: float) -> None:
        if self._telemetry is not None:
            self._telemetry.observe(LOOP_LAG, lag_s)
        if lag_s > self.max_s:
            self.max_s = lag_s
            if self._telemetry is not None:
                self._telemetry.set(LOOP_STALL_MAX, lag_s)
        if lag_s > WARN_S:
            self._unlogged += 1
            if now - self._logged_at >= LOG_EVERY_S:
                log.warning(
                    "event_loop_stalled", stall_ms=round(lag_s * 1000), count=self._unlogged
                )
                self._logged_at, self._unlogged = now, 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + INTERVAL_S
            await asyncio.sleep(INTERVAL_S)
            now = loop.time()
            self.record(max(0.0, now - due), now)


async def loop_watch_ctx(app: web.Application) -> AsyncIterator[None]:
    watch = LoopWatch(app[TELEMETRY])
    task = asyncio.create_task(watch.run(), name="loop-watch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
