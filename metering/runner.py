"""The billing clock's driver inside a server process.

For every session this process runs, it sleeps until the instant the billing clock asked for
(``Update.next_tick_at_ms``: the start of the next minute, a pause boundary, the end of the
grace) and ticks it.  Every ``heartbeat_interval_s`` it heartbeats its sessions, so another
process knows they are alive, and settles sessions whose process stopped heartbeating (crash
recovery) and earnings whose hold period is over.  All tasks are owned here and cancelled on
``stop()``; nothing is fire-and-forget.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from kernel.clock import Clock
from metering.batch import TickBatcher
from metering.errors import SessionEnded, SessionNotFound
from metering.service import MeteringService, Notice, Update, to_ms

log = structlog.get_logger(__name__)

#: Called with (session_id, notice) for what both sides must be told (paused, ended, …).
NoticeSink = Callable[[str, Notice], Awaitable[None]]
#: Called with every update delivered (live spend for the clients).
UpdateSink = Callable[[str, Update], Awaitable[None]]


async def _ignore(session_id: str, notice: Notice) -> None:
    log.info("metering_notice", session_id=session_id, kind=notice.kind, reason=notice.reason)


class MeteringRunner:
    def __init__(
        self,
        service: MeteringService,
        clock: Clock,
        *,
        heartbeat_interval_s: float = 30.0,
        notify: NoticeSink = _ignore,
        observe: UpdateSink | None = None,
        max_sessions: int = 50_000,
        batcher: TickBatcher | None = None,
        idle_poll_s: float = 5.0,
    ) -> None:
        self._service = service
        # Ticks go through the batcher (group commit) when there is one.
        self._tick = batcher.tick if batcher is not None else service.tick
        self._clock = clock
        self._heartbeat_s = heartbeat_interval_s
        self._notify = notify
        self._observe = observe
        self._max = max_sessions
        self._idle_poll_s = idle_poll_s
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._background: asyncio.Task[None] | None = None
        # A clock may run faster than real time (tests); delays scale by its speed.
        self._speed = float(getattr(clock, "speed", 1.0))

    @property
    def sessions(self) -> list[str]:
        return list(self._timers)

    async def start(self) -> None:
        self._background = asyncio.create_task(self._housekeeping(), name="metering-housekeeping")

    async def stop(self) -> None:
        tasks = [*self._timers.values(), *([self._background] if self._background else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._timers.clear()

    async def deliver(self, session_id: str, update: Update) -> None:
        """Tell both sides what an update says, then schedule the session's next tick."""
        await self.announce(session_id, update)
        self.track(session_id, update)

    async def announce(self, session_id: str, update: Update) -> None:
        """Tell both sides what an update says, without running the session here (another
        process runs its billing clock)."""
        for notice in update.notices:
            try:
                await self._notify(session_id, notice)
            except Exception:
                log.exception("notice_failed", session_id=session_id, kind=notice.kind)
        if self._observe is not None:
            try:
                await self._observe(session_id, update)
            except Exception:
                log.exception("update_sink_failed", session_id=session_id)

    def track(self, session_id: str, update: Update) -> None:
        """Run this session: tick it when its billing clock next needs it."""
        current = self._timers.pop(session_id, None)
        if current is not None and current is not asyncio.current_task():
            current.cancel()
        if update.view.status == "ended":
            return
        if len(self._timers) >= self._max:
            log.error("metering_runner_full", sessions=len(self._timers))
            return
        self._timers[session_id] = asyncio.create_task(
            self._tick_at(session_id, update.next_tick_at_ms), name=f"tick-{session_id}"
        )

    def untrack(self, session_id: str) -> None:
        task = self._timers.pop(session_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _tick_at(self, session_id: str, at_ms: int | None) -> None:
        while at_ms is None:
            # Nothing to bill until an edge event (media up).  It may be applied by another
            # process (the other participant's), so look at the session now and then; the
            # task also marks the session as ours, for the heartbeat.
            await asyncio.sleep(self._idle_poll_s / self._speed)
            try:
                at_ms = await self._service.next_tick_at(session_id)
            except (SessionEnded, SessionNotFound):
                self._timers.pop(session_id, None)
                return
            except Exception:
                log.exception("idle_poll_failed", session_id=session_id)
        while (now_ms := to_ms(self._clock.now())) < at_ms:  # noqa: ASYNC110 (a deadline)
            # In slices: the clock may run faster than real time, and no sleep is very long.
            await asyncio.sleep(min((at_ms - now_ms) / 1000 / self._speed, self._heartbeat_s))
        try:
            update = await self._tick(session_id)
        except (SessionEnded, SessionNotFound):
            self._timers.pop(session_id, None)
            return
        except Exception:
            log.exception("tick_failed", session_id=session_id)
            await asyncio.sleep(1.0 / self._speed)
            self._timers.pop(session_id, None)
            self.track(session_id, await self._service_update(session_id))
            return
        self._timers.pop(session_id, None)
        await self.deliver(session_id, update)

    async def _service_update(self, session_id: str) -> Update:
        return Update(await self._service.view(session_id), (), to_ms(self._clock.now()) + 1000)

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s / self._speed)
            try:
                await self._service.heartbeat(self.sessions)
                for sid in await self._service.settle_orphans():
                    log.warning("session_recovered", session_id=sid)
                await self._service.settle_earnings()
            except Exception:
                log.exception("metering_housekeeping_failed")
