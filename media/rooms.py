"""The media rooms of this process, by call: made on a participant's first offer, closed when the
call ends.  A monitor watches each room's media: when it flows both ways the call is billed
(``on_flow(call_id, True)``); when a participant's RTP stops for ``silence_s`` billing pauses
(``on_flow(call_id, False)``); when it has not flowed for ``lost_s`` the call ends
(``on_lost``).  Media liveness is decided from RTP itself, not ICE consent (~30 s)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from aiortc import RTCConfiguration

from media.room import Room

log = structlog.get_logger(__name__)

MAX_ROOMS = 5_000
FlowSink = Callable[[str, bool], Awaitable[None]]
LostSink = Callable[[str], Awaitable[None]]


async def _nothing(*args: object) -> None:
    return None


class Rooms:
    def __init__(
        self,
        ice: RTCConfiguration | None = None,
        *,
        on_flow: FlowSink = _nothing,
        on_lost: LostSink = _nothing,
        silence_s: float = 10.0,
        lost_s: float = 60.0,
        check_s: float = 0.5,
    ) -> None:
        self._ice = ice or RTCConfiguration(iceServers=[])
        self._rooms: dict[str, Room] = {}
        self._monitors: dict[str, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()
        self.on_flow = on_flow
        self.on_lost = on_lost
        self._silence_s = silence_s
        self._lost_s = lost_s
        self._check_s = check_s

    def get(self, call_id: str) -> Room | None:
        return self._rooms.get(call_id)

    async def answer(self, call_id: str, mode: str, user_id: str, offer_sdp: str) -> str:
        async with self._lock:
            room = self._rooms.get(call_id)
            if room is None:
                if len(self._rooms) >= MAX_ROOMS:
                    raise RuntimeError("this process holds as many media rooms as it can")
                kinds = ("audio", "video") if mode == "video" else ("audio",)
                room = self._rooms[call_id] = Room(call_id, kinds, self._ice)
                self._monitors[call_id] = asyncio.create_task(
                    self._monitor(room), name=f"media-monitor-{call_id}"
                )
        return await room.answer(user_id, offer_sdp)

    async def _monitor(self, room: Room) -> None:
        loop = asyncio.get_running_loop()
        flowing = False
        since = loop.time()  # when the current state began
        while True:
            await asyncio.sleep(self._check_s)
            now = loop.time()
            state = room.flowing(now, self._silence_s)
            try:
                if state != flowing:
                    flowing, since = state, now
                    await self.on_flow(room.call_id, flowing)
                elif not flowing and now - since >= self._lost_s:
                    await self.on_lost(room.call_id)
                    return
            except Exception:
                log.exception("media_monitor_failed", call_id=room.call_id)

    async def billing_notice(self, call_id: str, kind: str) -> None:
        """Metering paused the call for lack of money: stop forwarding both ways; resumed:
        forward again (the clients were told by ``session:notice``)."""
        room = self._rooms.get(call_id)
        if room is not None and kind in ("paused", "resumed"):
            room.paused = kind == "paused"

    async def close(self, call_id: str) -> None:
        room = self._rooms.pop(call_id, None)
        monitor = self._monitors.pop(call_id, None)
        if monitor is not None and monitor is not asyncio.current_task():
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        if room is not None:
            await room.close()

    async def close_all(self) -> None:
        for call_id in list(self._rooms):
            await self.close(call_id)

    def __len__(self) -> int:
        return len(self._rooms)
