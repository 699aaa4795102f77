"""The media rooms of this process, by call: made on a participant's first offer, closed when the
call ends."""

from __future__ import annotations

import asyncio

from aiortc import RTCConfiguration

from media.room import Room

MAX_ROOMS = 5_000


class Rooms:
    def __init__(self, ice: RTCConfiguration | None = None) -> None:
        self._ice = ice or RTCConfiguration(iceServers=[])
        self._rooms: dict[str, Room] = {}
        self._lock = asyncio.Lock()

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
        return await room.answer(user_id, offer_sdp)

    async def close(self, call_id: str) -> None:
        room = self._rooms.pop(call_id, None)
        if room is not None:
            await room.close()

    async def close_all(self) -> None:
        for call_id in list(self._rooms):
            await self.close(call_id)

    def __len__(self) -> int:
        return len(self._rooms)
