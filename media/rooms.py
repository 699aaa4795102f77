"""The media rooms of this process, by call: made on a participant's first offer, closed when the
call ends.  A monitor watches each room's media: when it flows both ways the call is billed
(``on_flow(call_id, True)``); when a participant's RTP stops for ``silence_s`` billing pauses
(``on_flow(call_id, False)``); when it has not flowed for ``lost_s`` the call ends
(``on_lost``).  Media liveness is decided from RTP itself, not ICE consent (~30 s).

Group rooms (``is_group(room_id)``: a voice room of a host and its members) are watched per
participant instead: ``on_participant(room_id, user_id, alive)`` on each change of one
participant's liveness, and ``on_participant_lost(room_id, user_id)`` once when one has not been
alive for ``lost_s``.  Who is billed and who must go is the voice rooms' rule, not the relay's;
``hold`` and ``leave`` act on one participant without touching the others.

Safety windows (``media.evidence``): each 1:1 call's room keeps its participants' windows while
it runs; when it closes they stay in memory ``after_call_s`` (10 minutes: a report may come that
late) and are then dropped.  ``snapshot(call_id)`` is what a report seals.

A 1:1 call's room counts who spoke when (``media.talk``); when it closes, ``on_talk(call_id,
{user: (origin_ms, voiced share per second)})`` hands that over (``signaling.fair_service``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from kernel.clock import Clock, SystemClock
from media.evidence import WINDOW_S, ParticipantWindow, Snapshot
from media.ice import IcePolicy
from media.room import Room, SlotSink
from media.talk import TalkLog

log = structlog.get_logger(__name__)

MAX_ROOMS = 5_000
FlowSink = Callable[[str, bool], Awaitable[None]]
LostSink = Callable[[str], Awaitable[None]]
ParticipantSink = Callable[[str, str, bool], Awaitable[None]]
ParticipantLostSink = Callable[[str, str], Awaitable[None]]
TalkSink = Callable[[str, dict[str, tuple[int, bytes]]], Awaitable[None]]


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
        evidence_window_s: float = WINDOW_S,
        after_call_s: float = 600.0,
        clock: Clock | None = None,
        on_talk: TalkSink = _nothing,
        voiced_dbov: int = 50,
    ) -> None:
        self.ice = ice or IcePolicy()
        self._clock = clock or SystemClock()
        self.on_talk = on_talk
        self._voiced_dbov = voiced_dbov
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
        self._evidence_window_s = evidence_window_s
        self._after_call_s = after_call_s
        #: windows of ended calls: call → (when they go, when the call ended, windows), in
        #: monotonic seconds; oldest first
        self._ended: dict[str, tuple[float, float, list[ParticipantWindow]]] = {}

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
                group = self.is_group(call_id)
                talk = (
                    None
                    if group
                    else TalkLog(
                        self._clock.monotonic,
                        int(self._clock.now().timestamp() * 1000),
                        self._voiced_dbov,
                    )
                )
                room = self._rooms[call_id] = Room(
                    call_id,
                    kinds,
                    self.ice,
                    on_slots=self._slot_sink(call_id),
                    evidence_window_s=None if group else self._evidence_window_s,
                    talk=talk,
                )
                watch = self._monitor_group if group else self._monitor
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
            self._keep_ended(call_id, list(room.windows.values()))
            if room.talk is not None:
                try:
                    await self.on_talk(call_id, room.talk.traces())
                except Exception:
                    log.exception("media_talk_sink_failed", call_id=call_id)

    # -- safety windows ------------------------------------------------------------------------

    def _keep_ended(self, call_id: str, windows: list[ParticipantWindow]) -> None:
        loop = asyncio.get_running_loop()
        self._drop_ended(loop.time())
        if not windows:
            return
        self._ended.pop(call_id, None)
        while len(self._ended) >= MAX_ROOMS:
            self._ended.pop(next(iter(self._ended)))
        now = loop.time()
        self._ended[call_id] = (now + self._after_call_s, now, windows)
        loop.call_later(self._after_call_s, self._drop_ended_now)

    def _drop_ended_now(self) -> None:
        self._drop_ended(asyncio.get_running_loop().time())

    def _drop_ended(self, now: float) -> None:
        for call_id, (until, _, _) in list(self._ended.items()):
            if until <= now:
                del self._ended[call_id]

    def snapshot(self, call_id: str) -> list[Snapshot] | None:
        """The safety windows of ``call_id``: running, or ended less than ``after_call_s`` ago
        (None: this process keeps nothing of it)."""
        room = self._rooms.get(call_id)
        if room is not None and room.windows:
            return room.snapshot()
        now = asyncio.get_running_loop().time()
        self._drop_ended(now)
        ended = self._ended.get(call_id)
        if ended is None:
            return None
        _, ended_s, windows = ended
        return [w.snapshot(ended_s) for w in windows]  # the last 2 minutes of the call

    def evidence_bytes(self) -> int:
        """What the safety windows hold now, running calls and ended ones together."""
        live = sum(w.held_bytes() for r in self._rooms.values() for w in r.windows.values())
        return live + sum(w.held_bytes() for _, _, ws in self._ended.values() for w in ws)

    async def close_all(self) -> None:
        for call_id in list(self._rooms):
            await self.close(call_id)

    def __len__(self) -> int:
        return len(self._rooms)
