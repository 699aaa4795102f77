"""The media rooms of this process, by call: made on a participant's first offer, closed when the
call ends.  A monitor watches each room's media: when it flows both ways the call is billed
(``on_flow(call_id, True)``); when a participant's RTP stops for ``silence_s`` billing pauses
(``on_flow(call_id, False)``); when it has not flowed for ``lost_s`` the call ends
(``on_lost``).  Media liveness is decided from RTP itself, not ICE consent (~30 s).

Group rooms (``is_group(room_id)``: a voice room of a host and its members) are watched per
participant instead: ``on_participant(room_id, user_id, alive)`` on each change of one
participant's liveness, and ``on_participant_lost(room_id, user_id)`` once when one has not been
alive for ``lost_s``.  Who is billed and who must go is the voice rooms' rule, not the relay's;
``hold`` and ``leave`` act on one participant without touching the others."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from media.ice import IcePolicy
from media.room import Room, SlotSink

log = structlog.get_logger(__name__)

MAX_ROOMS = 5_000
FlowSink = Callable[[str, bool], Awaitable[None]]
LostSink = Callable[[str], Awaitable[None]]
ParticipantSink = Callable[[str, str, bool], Awaitable[None]]
ParticipantLostSink = Callable[[str, str], Awaitable[None]]


async def _nothing(*args: object) -> None:
    return None


def _never(room_id: str) -> bool:
    return False


class Rooms:
    def __init__(
        self,
        ice: IcePolicy | None = None,
        *,
        on_flow: FlowSink = _nothing,
        on_lost: LostSink = _nothing,
        on_slots: Callable[[str, str, list[dict[str, str]]], Awaitable[None]] = _nothing,
        silence_s: float = 10.0,
        lost_s: float = 60.0,
        check_s: float = 0.5,
    ) -> None:
        self.ice = ice or IcePolicy()
        self.on_slots = on_slots
        self._rooms: dict[str, Room] = {}
        self._monitors: dict[str, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()
        self.on_flow = on_flow
        self.on_lost = on_lost
        #: which rooms are group rooms, watched per participant (``serve_groups``)
        self.is_group: Callable[[str], bool] = _never
        self.on_participant: ParticipantSink = _nothing
        self.on_participant_lost: ParticipantLostSink = _nothing
        self._silence_s = silence_s
        self._lost_s = lost_s
        self._check_s = check_s

    def serve_groups(
        self,
        is_group: Callable[[str], bool],
        on_participant: ParticipantSink,
        on_participant_lost: ParticipantLostSink,
    ) -> None:
        """Watch the rooms ``is_group`` names per participant (the voice rooms register)."""
        self.is_group = is_group
        self.on_participant = on_participant
        self.on_participant_lost = on_participant_lost

    def get(self, call_id: str) -> Room | None:
        return self._rooms.get(call_id)

    async def answer(self, call_id: str, mode: str, user_id: str, offer_sdp: str) -> str:
        room = await self._room(call_id, mode)
        return await room.answer(user_id, offer_sdp)

    async def _room(self, call_id: str, mode: str) -> Room:
        async with self._lock:
            room = self._rooms.get(call_id)
            if room is None:
                if len(self._rooms) >= MAX_ROOMS:
                    raise RuntimeError("this process holds as many media rooms as it can")
                kinds = ("audio", "video") if mode == "video" else ("audio",)
                room = self._rooms[call_id] = Room(
                    call_id, kinds, self.ice, on_slots=self._slot_sink(call_id)
                )
                watch = self._monitor_group if self.is_group(call_id) else self._monitor
                self._monitors[call_id] = asyncio.create_task(
                    watch(room), name=f"media-monitor-{call_id}"
                )
        return room

    def _slot_sink(self, call_id: str) -> SlotSink:
        async def sink(user_id: str, slots: list[dict[str, str]]) -> None:
            await self.on_slots(call_id, user_id, slots)

        return sink

    async def candidate(
        self,
        call_id: str,
        mode: str,
        user_id: str,
        candidate: str | None,
        sdp_mid: str | None,
        sdp_mline_index: int | None,
        ufrag: str | None,
    ) -> None:
        """A participant's trickled candidate (it may overtake its offer: it waits for it)."""
        room = await self._room(call_id, mode)
        await room.candidate(user_id, candidate, sdp_mid, sdp_mline_index, ufrag)

    def mute(self, call_id: str, user_id: str, audio: bool, video: bool) -> bool:
        room = self._rooms.get(call_id)
        return room is not None and room.mute(user_id, audio, video)

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
                    try:
                        await self.on_lost(room.call_id)
                    finally:
                        # The call ends (or has ended elsewhere): the room goes either way.
                        await self.close(room.call_id)
                    return
            except Exception:
                log.exception("media_monitor_failed", call_id=room.call_id)

    async def _monitor_group(self, room: Room) -> None:
        loop = asyncio.get_running_loop()
        state: dict[str, tuple[bool, float]] = {}  # user → (alive, since when)
        lost: set[str] = set()  # reported lost (once)
        while self._rooms.get(room.call_id) is room:
            await asyncio.sleep(self._check_s)
            now = loop.time()
            for gone in set(state) - set(room.participants):
                del state[gone]
                lost.discard(gone)
            for user_id, participant in list(room.participants.items()):
                alive = participant.alive(now, self._silence_s)
                was = state.get(user_id)
                try:
                    if was is None or was[0] != alive:
                        state[user_id] = (alive, now)
                        lost.discard(user_id)
                        if was is not None or alive:
                            await self.on_participant(room.call_id, user_id, alive)
                    elif not alive and now - was[1] >= self._lost_s and user_id not in lost:
                        lost.add(user_id)
                        await self.on_participant_lost(room.call_id, user_id)
                except Exception:
                    log.exception("media_monitor_failed", call_id=room.call_id, user_id=user_id)
                if self._rooms.get(room.call_id) is not room:
                    return  # closed by what we reported

    async def hold(self, call_id: str, user_id: str, held: bool) -> None:
        """A group room: stop (or resume) forwarding to and from one participant."""
        room = self._rooms.get(call_id)
        if room is not None:
            await room.set_held(user_id, held)

    async def leave(self, call_id: str, user_id: str) -> None:
        """A group room: one participant goes; the others stay."""
        room = self._rooms.get(call_id)
        if room is not None:
            await room.leave(user_id)

    async def billing_notice(self, call_id: str, kind: str) -> None:
        """Metering paused the call for lack of money: stop forwarding both ways; resumed:
        forward again (the clients were told by ``session:notice``)."""
        room = self._rooms.get(call_id)
        if room is not None and kind in ("paused", "resumed"):
            await room.set_paused(kind == "paused")
        elif kind == "ended":
            await self.close(call_id)

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
