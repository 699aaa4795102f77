"""Keeping a voice room's billing and media in step with the facts, on its owner.

The owner (the process where the host opened the room) holds the media room, learns each
participant's liveness from the relay's monitor (``Rooms.on_participant``), and runs the
members' billing clocks.  ``reconcile`` makes every member's session match the rule of
``voicerooms.rules.connected`` (billed while the member and the host are both here, as
decided by ``lifecycle.step`` on a ``Reconcile``) with
``media_up``/``media_down``, holds back a member whose session metering paused for lack of
money (the others go on), drops from the media room whoever is no longer in it, and removes a
member whose session metering ended (``funds``) or who never brought media (``media_lost``);
the host's media lost closes the room.  It runs when something changes here, and on every
sweep, which also catches what changed on other processes (a leave, an away, a top-up).

Every process sweeps: members and hosts away past the time-out, left members whose session
still runs (a crash between the two), and rooms whose owner stopped heartbeating.  The owner
refreshes its rooms: keeps the host's claim, heartbeats, and marks away those whose devices
vanished without a disconnect reaching anyone.

Metering's notices and updates of ``vrs_`` sessions come here (a kind in metering's registry of
session kinds): each member sees their own spend (``room:meter``, ``room:notice``), the host
what the room has earned them so far.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select, update

from market.voicerooms import lifecycle, rules, state
from market.voicerooms.rules import CloseReason, LeaveReason, MediaWait
from metering.errors import SessionEnded, SessionNotFound
from metering.service import Notice, Update, to_ms
from store.models import MeteredSession
from store.models.voicerooms import VoiceRoom, VoiceRoomMember

if TYPE_CHECKING:
    from market.voicerooms.service import VoiceRoomService

log = structlog.get_logger(__name__)

#: rows one sweep looks at per kind (the rest wait for the next sweep)
SWEEP_LIMIT = 200
#: a member who left this long ago with their session still running was left so by a crash
#: (a leave ends the session right after its commit): the sweep settles it
UNSETTLED_AFTER_S = 30


@dataclass(frozen=True, slots=True)
class _Room:
    """An open room of this process as the lifecycle sees it, with its members' sessions."""

    room_id: str
    state: lifecycle.Room
    sessions: dict[str, lifecycle.SessionState]


class RoomBilling:
    def __init__(self, service: VoiceRoomService) -> None:
        self._svc = service
        #: room → user → media alive (the relay's last report), on the owner
        self._alive: dict[str, dict[str, bool]] = {}
        #: member session → connected as last applied to its billing clock
        self._connected: dict[str, bool] = {}
        #: room → people expected in its media room who have not offered yet
        self._waits: dict[str, MediaWait] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # -- what the relay reports (owner) ---------------------------------------------------------

    async def participant_alive(self, room_id: str, user_id: str, alive: bool) -> None:
        self._alive.setdefault(room_id, {})[user_id] = alive
        await self.reconcile([room_id])

    async def participant_lost(self, room_id: str, user_id: str) -> None:
        """No media from ``user_id`` for the lost time-out: a member goes, the host's room
        closes."""
        svc = self._svc
        async with svc.db.reading() as s:
            room = await s.get(VoiceRoom, room_id)
            session_id = await s.scalar(
                select(VoiceRoomMember.id).where(
                    VoiceRoomMember.room_id == room_id,
                    VoiceRoomMember.user_id == user_id,
                    VoiceRoomMember.status == "joined",
                )
            )
        if room is None:
            return
        if user_id == room.host_id:
            await svc.close_room(room_id, CloseReason.MEDIA_LOST)
        elif session_id is not None:
            await svc.remove(session_id, LeaveReason.MEDIA_LOST)

    # -- what metering says (any process) ------------------------------------------------------

    async def on_notice(self, session_id: str, notice: Notice) -> None:
        info = await self._svc.member(session_id)
        if info is None:
            return
        if notice.kind in ("paused", "resumed", "low_balance"):
            await self._svc.emitter.to_user(
                info.user_id,
                "room:notice",
                {"room_id": info.room_id, "kind": notice.kind, "reason": notice.reason},
            )
            if notice.kind != "low_balance" and self._svc.rooms is not None:
                # Hold back (or forward again) this member only; on another process than the
                # owner nothing is here, and the owner's next sweep does it from the session.
                await self._svc.rooms.hold(info.room_id, info.user_id, notice.kind == "paused")
        elif notice.kind == "ended":
            reason = rules.left_reason_for(notice.reason)
            await self._svc.remove(session_id, reason, session_ended=True)

    async def on_update(self, session_id: str, u: Update) -> None:
        """Live spend: the member their own session; the host what the room earned so far."""
        info = await self._svc.member(session_id)
        if info is None:
            return
        v = u.view
        await self._svc.emitter.to_user(
            info.user_id,
            "room:meter",
            {"room_id": info.room_id, **v.for_customer()},
        )
        earned_fen, minutes = await self._svc.earnings(info.room_id, info.host_id)
        await self._svc.emitter.to_user(
            info.host_id,
            "room:meter",
            {"room_id": info.room_id, "earned_fen": earned_fen, "billed_minutes": minutes},
        )

    # -- the service's changes ------------------------------------------------------------------

    async def changed(self, room_id: str) -> None:
        """Something about the room changed: on its owner, bring it in step now."""
        await self.reconcile([room_id])

    async def gone(self, room_id: str, user_id: str, session_id: str) -> None:
        """A member left: their media leaves the room (on the owner)."""
        self._connected.pop(session_id, None)
        self._alive.get(room_id, {}).pop(user_id, None)
        if self._svc.rooms is not None:
            await self._svc.rooms.leave(room_id, user_id)

    async def closed(self, room_id: str, session_ids: list[str]) -> None:
        for session_id in session_ids:
            self._connected.pop(session_id, None)
        self._forget(room_id)

    def _forget(self, room_id: str) -> None:
        self._alive.pop(room_id, None)
        self._waits.pop(room_id, None)
        self._locks.pop(room_id, None)

    # -- reconciliation (owner) -----------------------------------------------------------------

    async def reconcile(self, only: list[str] | None = None) -> None:
        rooms = await self._snapshot(only)
        if only is None:
            # Every open room of ours: forget what is left of closed ones (closed elsewhere;
            # their media room closed here with them — one opened since is not forgotten).
            known = set(self._locks) | set(self._alive) | set(self._waits)
            for gone in known - {r.room_id for r in rooms}:
                if self._svc.rooms is None or self._svc.rooms.get(gone) is None:
                    self._forget(gone)
            # Members who left through another process: their billing state goes too.
            seated = {x.session_id for r in rooms for x in r.state.seats}
            for session_id in set(self._connected) - seated:
                del self._connected[session_id]
        for room in rooms:
            lock = self._locks.setdefault(room.room_id, asyncio.Lock())
            async with lock:
                try:
                    await self._settle(room)
                except Exception:
                    log.exception("voice_room_reconcile_failed", room_id=room.room_id)

    async def _snapshot(self, only: list[str] | None) -> list[_Room]:
        """This process's open rooms (or those of ``only``) with their joined members."""
        svc = self._svc
        q = select(VoiceRoom).where(VoiceRoom.owner == svc.owner, VoiceRoom.status == "open")
        if only is not None:
            q = q.where(VoiceRoom.id.in_(only))
        async with svc.db.reading() as s:
            rooms = (await s.scalars(q)).all()
            ids = [r.id for r in rooms]
            members = (
                (
                    await s.execute(
                        select(VoiceRoomMember, MeteredSession.status, MeteredSession.end_reason)
                        .join(MeteredSession, MeteredSession.id == VoiceRoomMember.id)
                        .where(VoiceRoomMember.room_id.in_(ids), VoiceRoomMember.status == "joined")
                        .order_by(VoiceRoomMember.joined_at, VoiceRoomMember.id)
                    )
                ).all()
                if ids
                else []
            )
        by_room: dict[str, list[VoiceRoomMember]] = {i: [] for i in ids}
        sessions: dict[str, dict[str, lifecycle.SessionState]] = {i: {} for i in ids}
        for member, status, end_reason in members:
            by_room[member.room_id].append(member)
            sessions[member.room_id][member.id] = lifecycle.SessionState(status, end_reason)
        return [_Room(r.id, state.room_of(r, by_room[r.id]), sessions[r.id]) for r in rooms]

    async def _settle(self, room: _Room) -> None:
        """Bring the room in step (``lifecycle.Reconcile``) and carry out what that asks for."""
        svc = self._svc
        media = svc.rooms.get(room.room_id) if svc.rooms is not None else None
        present = set(media.participants) if media is not None else set()
        alive = self._alive.setdefault(room.room_id, {})
        for user_id in set(alive) - present:
            del alive[user_id]
        wait = self._waits.setdefault(room.room_id, MediaWait(svc.policy.media_lost_s))
        expected = {room.state.host_id, *(x.user_id for x in room.state.seats)}
        late = wait.overdue(expected, present, asyncio.get_running_loop().time())
        event = lifecycle.Reconcile(
            media=frozenset(u for u, up in alive.items() if up),
            present=frozenset(present),
            late=frozenset(late),
            sessions=room.sessions,
            tracked=frozenset(svc.runner.sessions),
        )
        # each seat's billing as this process last applied it (read under the room's lock)
        seats = tuple(
            replace(x, billed=self._connected.get(x.session_id, False)) for x in room.state.seats
        )
        _, effects = lifecycle.step(replace(room.state, seats=seats), event, to_ms(svc.clock.now()))
        failed: set[str] = set()  # members whose session ended under us: nothing more for them
        for effect in effects:
            match effect:
                case lifecycle.CloseRoom(reason):
                    await svc.close_room(room.room_id, reason)
                    return
                case lifecycle.Remove(session_id, reason, session_ended):
                    await svc.remove(session_id, reason, session_ended=session_ended)
                case lifecycle.StartBilling() | lifecycle.StopBilling():
                    if not await self._bill(room.room_id, effect):
                        failed.add(effect.user_id)
                case lifecycle.Track(session_id):
                    # Joined on another process: its billing clock runs here all the same.
                    with contextlib.suppress(SessionEnded, SessionNotFound):
                        view = await svc.metering.view(session_id)
                        next_at = await svc.metering.next_tick_at(session_id)
                        svc.runner.track(session_id, Update(view, (), next_at))
                case lifecycle.Hold(user_id, held):
                    if media is not None and user_id not in failed:
                        await media.set_held(user_id, held)
                case lifecycle.DropMedia(user_id):
                    if media is not None:
                        await media.leave(user_id)  # left (on another process), or never in
                case _:
                    raise TypeError(f"not an effect of reconciling: {effect!r}")

    async def _bill(
        self, room_id: str, change: lifecycle.StartBilling | lifecycle.StopBilling
    ) -> bool:
        """Start or stop a member's connected time; False if metering ended the session."""
        svc = self._svc
        want = isinstance(change, lifecycle.StartBilling)
        try:
            if isinstance(change, lifecycle.StartBilling):
                u = await svc.metering.media_up(change.session_id)
            else:
                u = await svc.metering.media_down(change.session_id, change.since_ms)
        except (SessionEnded, SessionNotFound):
            return False
        self._connected[change.session_id] = want
        await svc.runner.deliver(change.session_id, u)
        await svc.emitter.to_user(
            change.user_id, "media:state", {"call_id": room_id, "flowing": want}
        )
        return True

    # -- background (every process) -------------------------------------------------------------

    async def sweep(self) -> None:
        """Away time-outs, unsettled sessions of left members, rooms of a stopped owner; then
        this process's rooms are reconciled."""
        svc = self._svc
        now = svc.clock.now()
        cutoff = now - timedelta(seconds=svc.policy.away_timeout_s)
        stale = now - timedelta(seconds=svc.policy.heartbeat_timeout_s)
        settled_by = now - timedelta(seconds=UNSETTLED_AFTER_S)
        async with svc.db.reading() as s:
            away_members = (
                await s.scalars(
                    select(VoiceRoomMember.id)
                    .where(VoiceRoomMember.status == "joined", VoiceRoomMember.away_at <= cutoff)
                    .limit(SWEEP_LIMIT)
                )
            ).all()
            away_hosts = (
                await s.scalars(
                    select(VoiceRoom.id)
                    .where(VoiceRoom.status == "open", VoiceRoom.host_away_at <= cutoff)
                    .limit(SWEEP_LIMIT)
                )
            ).all()
            unsettled = (
                await s.execute(
                    select(VoiceRoomMember.id, VoiceRoomMember.leave_reason, VoiceRoom.owner)
                    .join(VoiceRoom, VoiceRoom.id == VoiceRoomMember.room_id)
                    .join(MeteredSession, MeteredSession.id == VoiceRoomMember.id)
                    .where(
                        VoiceRoomMember.status == "left",
                        VoiceRoomMember.left_at < settled_by,
                        MeteredSession.status != "ended",
                    )
                    .limit(SWEEP_LIMIT)
                )
            ).all()
            orphaned = (
                await s.scalars(
                    select(VoiceRoom.id)
                    .where(
                        VoiceRoom.status == "open",
                        VoiceRoom.owner != svc.owner,
                        VoiceRoom.heartbeat_at < stale,
                    )
                    .limit(SWEEP_LIMIT)
                )
            ).all()
        # One room's failure must not stop the others (nor the next sweep).
        for session_id in away_members:
            with _logged("voice_room_away_failed", session_id=session_id):
                await svc.remove(session_id, LeaveReason.AWAY)
        for room_id in away_hosts:
            with _logged("voice_room_away_failed", room_id=room_id):
                await svc.close_room(room_id, CloseReason.AWAY)
        for session_id, reason, owner in unsettled:
            with _logged("voice_room_settle_failed", session_id=session_id):
                await svc.end_session(session_id, reason or LeaveReason.CLOSED.value, owner)
        for room_id in orphaned:
            with _logged("voice_room_orphan_failed", room_id=room_id):
                await svc.close_room(room_id, CloseReason.SERVER_LOST)
        await self.reconcile()

    async def refresh(self) -> None:
        """This process's open rooms: keep each host claimed (claims expire in Redis), heartbeat
        the rooms, and mark away whoever's devices all vanished unseen."""
        svc = self._svc
        async with svc.db.writing() as s:
            await s.execute(
                update(VoiceRoom)
                .where(VoiceRoom.owner == svc.owner, VoiceRoom.status == "open")
                .values(heartbeat_at=svc.clock.now())
            )
        for room in await self._snapshot(None):
            host_id = room.state.host_id
            if not await svc.presence.keep(host_id, room.room_id):
                holder = await svc.presence.claim(host_id, room.room_id)
                if holder != room.room_id:
                    log.warning("voice_room_claim_lost", room_id=room.room_id, holder=holder)
            people = [(host_id, room.state.host_away_ms is not None)] + [
                (x.user_id, x.away_ms is not None) for x in room.state.seats
            ]
            for user_id, away in people:
                if not away and await svc.presence.devices(user_id) == 0:
                    log.warning("devices_vanished", room_id=room.room_id, user_id=user_id)
                    await svc.away(user_id)

    async def _every(self, interval_s: float, work: str) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await (self.sweep() if work == "sweep" else self.refresh())
            except Exception:
                log.exception("voice_room_background_failed", work=work)

    async def start(self) -> None:
        policy = self._svc.policy
        self._tasks = [
            asyncio.create_task(self._every(policy.sweep_interval_s, "sweep"), name="room-sweep"),
            asyncio.create_task(
                self._every(policy.refresh_interval_s, "refresh"), name="room-refresh"
            ),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


@contextlib.contextmanager
def _logged(event: str, **fields: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception(event, **fields)
