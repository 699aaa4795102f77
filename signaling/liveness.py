"""Process liveness: this process's heartbeat, and the watch on every other's.

Every ``interval_s`` a process heartbeats itself in the presence store (Redis: a sorted set of
process → last heartbeat, in ms of the app's clock) and looks for processes silent for longer
than ``lapse_s``.  For each it finds, one live process wins the reap (an atomic script: the
dead process's devices go, and with them the users it left with no device) and then:

- every such user is away *as of the dead process's last heartbeat* (``on_user_lost``): their
  call pauses billing from that moment, and ends if they are not back through another process
  within the grace; a voice room seat pauses the same way;
- every session the dead process owned is settled by this one as of that moment
  (``on_process_lost``): calls end ``server_lost``, rooms close.

So no minute that starts after a death is billed, and a companion held by a dead process's call
is free within lapse + interval + grace.  With one process (no Redis) nothing ever lapses.

A process that was only slow (a blocked loop, a slow Redis) and finds on its next heartbeat
that it may have been reaped registers its devices again (``on_revived``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from signaling.presence import Presence

log = structlog.get_logger(__name__)

#: lapsed processes one check looks at (the rest wait for the next check)
REAP_LIMIT = 16


class ProcessWatch:
    def __init__(
        self,
        presence: Presence,
        now_ms: Callable[[], int],
        *,
        interval_s: float,
        lapse_s: float,
        on_user_lost: Callable[[str, int], Awaitable[None]],
        on_process_lost: Callable[[str, int], Awaitable[None]],
        on_revived: Callable[[], Awaitable[None]],
    ) -> None:
        self._presence = presence
        self._now_ms = now_ms
        self.interval_s = interval_s
        self._lapse_ms = int(lapse_s * 1000)
        self._on_user_lost = on_user_lost
        self._on_process_lost = on_process_lost
        self._on_revived = on_revived
        self._beaten = False

    async def beat(self) -> None:
        """Heartbeat; if this process may have been reaped meanwhile, register again."""
        revived = await self._presence.heartbeat(self._now_ms(), self._lapse_ms)
        if revived and self._beaten:  # the very first heartbeat registers nothing: no sockets
            log.warning("process_revived")
            await self._on_revived()
        self._beaten = True

    async def check(self) -> list[str]:
        """Reap the processes that lapsed; the ones this process reaped."""
        before_ms = self._now_ms() - self._lapse_ms
        reaped: list[str] = []
        for process, last_ms in await self._presence.lapsed(before_ms, REAP_LIMIT):
            users = await self._presence.reap(process, before_ms)
            if users is None:
                continue  # another process reaped it, or it was only late
            reaped.append(process)
            log.warning(
                "process_lost", process=process, last_heartbeat_ms=last_ms, users=len(users)
            )
            # Sessions first: a call the dead process billed is settled as of its heartbeat
            # before its users' absences are recorded against it.
            try:
                await self._on_process_lost(process, last_ms)
            except Exception:
                log.exception("process_lost_settle_failed", process=process)
            for user_id in users:
                try:
                    await self._on_user_lost(user_id, last_ms)
                except Exception:
                    log.exception("process_lost_away_failed", process=process, user_id=user_id)
        return reaped

    async def run(self) -> None:
        while True:
            try:
                await self.beat()
                await self.check()
            except Exception:
                log.exception("process_watch_failed")
            await asyncio.sleep(self.interval_s)
