"""Voice rooms: a companion hosts, customers join and leave, each billed per minute on a metered
session of their own at the room's rate (the host's earnings split as in 1:1 sessions).

Who does what:
- ``open`` (HTTP, the host): the room's ``owner`` is this process — it holds the media room
  (``media.rooms``) and runs the members' billing clocks; the host is claimed in presence while
  the room is open, so no 1:1 call rings them (and a host in a call cannot open one).
- ``join`` / ``leave`` (Socket.IO, any process): a join reserves the member's first minute
  (``MeteringService.open_session`` with the room's rate) before it is written; a refusal
  leaves nothing held.  The join's ``request_id`` makes a resend return the same membership.
- ``close`` (the host, an admin — logged in the audit log —, or the sweep): every member's
  session ends and is settled, the media room closes, the host is released.
- Billing edges (media flowing, holds for lack of money, removals when money, media or
  devices are gone) are kept in step on the owner by ``voicerooms.billing.RoomBilling``.

The steps live beside this facade: ``opening`` (open), ``joining`` (join), ``liveness`` (away,
back, a lost process); leaving, closing and settling are here.  What a change does to a room —
seats, leaving, closing, away and back, billing — is decided by the pure ``lifecycle.step``;
``state`` loads the room for it under lock and saves its result.

Each change is one transaction under the room's (or member's) row lock; what it asks for
(end sessions, close media, tell people) happens after the commit, and the sweep reconciles
what a crash left half done (a left member whose session still runs is settled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select

from accounts.roles import Role
from audit.log import AuditLog
from kernel.clock import Clock
from kernel.errors import DomainError
from kernel.http.api import Principal
from market.voicerooms import lifecycle, liveness, state, views
from market.voicerooms.billing import RoomBilling
from market.voicerooms.errors import NotMember, NotRoomHost, RoomClosed, RoomNotFound
from market.voicerooms.joining import Joining
from market.voicerooms.opening import open_room
from market.voicerooms.rules import CloseReason, LeaveReason
from market.voicerooms.views import RoomView
from media.rooms import Rooms
from metering.errors import SessionEnded, SessionNotFound
from metering.runner import MeteringRunner
from metering.service import MeteringService, Update, to_ms
from moderation.blocks import blocked_between
from signaling.calls import Emitter
from signaling.media_route import MediaRoute
from signaling.presence import Presence
from store import Database
from store.models.voicerooms import VoiceRoom, VoiceRoomMember

log = structlog.get_logger(__name__)

#: rooms whose facts this process remembers (host, owner): they never change
_CACHED = 50_000


@dataclass(frozen=True, slots=True)
class RoomPolicy:
    away_timeout_s: float = 120.0
    media_lost_s: float = 60.0
    heartbeat_timeout_s: float = 120.0
    sweep_interval_s: float = 1.0
    refresh_interval_s: float = 30.0


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """Who a member session belongs to (never changes)."""

    session_id: str
    room_id: str
    user_id: str
    host_id: str
    owner: str


class VoiceRoomService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        metering: MeteringService,
        runner: MeteringRunner,
        presence: Presence,
        emitter: Emitter,
        audit: AuditLog,
        rooms: Rooms | None = None,
        media: MediaRoute | None = None,
        *,
        owner: str = "local",
        policy: RoomPolicy | None = None,
        draining: Callable[[], bool] = lambda: False,
    ) -> None:
        self.db = db
        self.clock = clock
        self.metering = metering
        self.runner = runner
        self.presence = presence
        self.emitter = emitter
        self._audit = audit
        self.rooms = rooms
        self._media = media
        self.owner = owner
        self.policy = policy or RoomPolicy()
        #: this process is shutting down: it opens and joins no rooms
        self.draining = draining
        self._joining = Joining(self)
        self._members: dict[str, MemberInfo] = {}
        self.billing = RoomBilling(self)

    # -- ids ------------------------------------------------------------------------------------

    async def member(self, session_id: str) -> MemberInfo | None:
        """Who a member session belongs to (remembered, bounded)."""
        hit = self._members.get(session_id)
        if hit is not None:
            return hit
        async with self.db.reading() as s:
            row = (
                await s.execute(
                    select(
                        VoiceRoomMember.room_id,
                        VoiceRoomMember.user_id,
                        VoiceRoom.host_id,
                        VoiceRoom.owner,
                    )
                    .join(VoiceRoom, VoiceRoom.id == VoiceRoomMember.room_id)
                    .where(VoiceRoomMember.id == session_id)
                )
            ).first()
        if row is None:
            return None
        info = MemberInfo(session_id, str(row[0]), str(row[1]), str(row[2]), str(row[3]))
        if len(self._members) >= _CACHED:
            self._members.pop(next(iter(self._members)))
        self._members[session_id] = info
        return info

    # -- HTTP -----------------------------------------------------------------------------------

    async def open(
        self, who: Principal, title: str, rate_fen_per_min: int, capacity: int
    ) -> RoomView:
        """Open a room hosted by ``who`` (a companion with rates, in no 1:1 call, hosting no
        other open room); the host is claimed in presence until it closes (``opening``)."""
        return await open_room(self, who, title, rate_fen_per_min, capacity)

    async def view(self, room_id: str) -> RoomView:
        async with self.db.reading() as s:
            found = await views.load(s, room_id)
        if found is None:
            raise RoomNotFound()
        return found

    async def page(
        self, viewer: str | None, limit: int, after: tuple[datetime, str] | None
    ) -> tuple[list[RoomView], bool]:
        async with self.db.reading() as s:
            return await views.page(s, viewer, limit, after)

    async def visible(self, viewer: Principal | None, room_id: str) -> RoomView:
        """The room as ``viewer`` may see it: open rooms to anyone not blocked either way with
        the host; closed ones to their host, past members and admins.  Else ``room_not_found``
        (its existence does not leak)."""
        found = await self.view(room_id)
        if viewer is None:
            if found.status != "open":
                raise RoomNotFound()
            return found
        if viewer.role == Role.ADMIN or viewer.user_id == found.host.user_id:
            return found
        async with self.db.reading() as s:
            blocked = await s.scalar(select(blocked_between(viewer.user_id, found.host.user_id)))
            was_member = await s.scalar(
                select(VoiceRoomMember.id).where(
                    VoiceRoomMember.room_id == room_id,
                    VoiceRoomMember.user_id == viewer.user_id,
                )
            )
        if blocked or (found.status != "open" and was_member is None):
            raise RoomNotFound()
        return found

    async def earnings(self, room_id: str, host_id: str) -> tuple[int, int]:
        async with self.db.reading() as s:
            return await views.earnings(s, room_id, host_id)

    async def close_by(self, who: Principal, room_id: str) -> RoomView:
        """The host or an admin closes the room (idempotent); anyone else who can see it is
        refused ``not_room_host``."""
        found = await self.visible(who, room_id)
        if who.user_id == found.host.user_id:
            await self.close_room(room_id, CloseReason.HOST)
        elif who.role == Role.ADMIN:
            await self.close_room(room_id, CloseReason.ADMIN, admin_id=who.user_id)
        else:
            raise NotRoomHost()
        return await self.view(room_id)

    # -- Socket.IO ------------------------------------------------------------------------------

    async def join(self, who: Principal, room_id: str, request_key: str) -> dict[str, Any]:
        """Join ``room_id`` as a member: the first minute at the room's rate is reserved, or
        nothing is written.  A resend (same ``request_key``) returns the same membership
        (``joining``)."""
        return await self._joining.join(who, room_id, request_key)

    async def leave(self, who: Principal, room_id: str) -> dict[str, Any]:
        """A member leaves (their session ends and is settled); the host leaving closes the
        room.  Leaving again is a no-op."""
        found = await self.visible(who, room_id)
        if who.user_id == found.host.user_id:
            await self.close_room(room_id, CloseReason.HOST)
        else:
            async with self.db.reading() as s:
                mine = (
                    await s.scalars(
                        select(VoiceRoomMember).where(
                            VoiceRoomMember.room_id == room_id,
                            VoiceRoomMember.user_id == who.user_id,
                        )
                    )
                ).all()
            if not mine:
                raise NotMember()
            for m in mine:
                if m.status == "joined":
                    await self.remove(m.id, LeaveReason.LEFT)
        # Whoever left is not in it any more: they see it as the public does (views.py).
        left = await self.view(room_id)
        return {"room": left.payload(members=left.sees_members(who.user_id, who.role))}

    async def current(self, user_id: str) -> dict[str, Any] | None:
        """The open room ``user_id`` hosts or is in, if any (a reconnecting client resumes)."""
        async with self.db.reading() as s:
            room_id = await s.scalar(
                select(VoiceRoom.id).where(VoiceRoom.host_id == user_id, VoiceRoom.status == "open")
            ) or await s.scalar(
                select(VoiceRoomMember.room_id).where(
                    VoiceRoomMember.user_id == user_id, VoiceRoomMember.status == "joined"
                )
            )
        return (await self.view(room_id)).payload() if room_id else None

    async def participants(self, room_id: str) -> list[str]:
        """The host and the joined members of a room."""
        found = await self.view(room_id)
        return [found.host.user_id, *(m.user_id for m in found.members)]

    async def media_home(self, who: Principal, room_id: str) -> str:
        """The process holding the media of an open room ``who`` is in (its host or a joined
        member); else a refusal."""
        async with self.db.reading() as s:
            room = await s.get(VoiceRoom, room_id)
            member = await s.scalar(
                select(VoiceRoomMember.id).where(
                    VoiceRoomMember.room_id == room_id,
                    VoiceRoomMember.user_id == who.user_id,
                    VoiceRoomMember.status == "joined",
                )
            )
        if room is None:
            raise RoomNotFound()
        if who.user_id != room.host_id and member is None:
            raise NotMember()
        if room.status != "open":
            raise RoomClosed()
        return room.owner

    # -- presence and blocks --------------------------------------------------------------------

    async def away(self, user_id: str, at_ms: int | None = None) -> None:
        """Every device of ``user_id`` is gone: their billing (or, for a host, every member's)
        pauses, from ``at_ms`` (default now; the last heartbeat of the process that held their
        sockets, if it died); past the away time-out they are removed (the room closes)."""
        await liveness.mark_away(self, user_id, away=True, at_ms=at_ms)

    async def back(self, user_id: str) -> None:
        await liveness.mark_away(self, user_id, away=False)

    async def settle_lost_owner(self, owner: str, at_ms: int) -> list[str]:
        """The process ``owner`` died, its last heartbeat at ``at_ms``: its open rooms close
        (``server_lost``), every member's session settled as of that moment."""
        return await liveness.settle_lost_owner(self, owner, at_ms)

    async def on_block(self, blocker_id: str, blocked_id: str) -> None:
        """A block between a host and a member of their open room removes the member."""
        async with self.db.reading() as s:
            rows = (
                await s.scalars(
                    select(VoiceRoomMember.id)
                    .join(VoiceRoom, VoiceRoom.id == VoiceRoomMember.room_id)
                    .where(
                        VoiceRoom.status == "open",
                        VoiceRoomMember.status == "joined",
                        (
                            (VoiceRoom.host_id == blocker_id)
                            & (VoiceRoomMember.user_id == blocked_id)
                        )
                        | (
                            (VoiceRoom.host_id == blocked_id)
                            & (VoiceRoomMember.user_id == blocker_id)
                        ),
                    )
                )
            ).all()
        for session_id in rows:
            await self.remove(session_id, LeaveReason.BLOCKED)

    async def on_sanctioned(self, user_id: str) -> None:
        """A suspended or banned user is out of every room at once: the room they host closes,
        their seat in another ends (each settled to this moment)."""
        async with self.db.reading() as s:
            hosted = (
                await s.scalars(
                    select(VoiceRoom.id).where(
                        VoiceRoom.host_id == user_id, VoiceRoom.status == "open"
                    )
                )
            ).all()
            seats = (
                await s.scalars(
                    select(VoiceRoomMember.id).where(
                        VoiceRoomMember.user_id == user_id, VoiceRoomMember.status == "joined"
                    )
                )
            ).all()
        for room_id in hosted:
            await self.close_room(room_id, CloseReason.SANCTIONED)
        for session_id in seats:
            await self.remove(session_id, LeaveReason.SANCTIONED)

    # -- the two ways out -----------------------------------------------------------------------

    async def remove(
        self, session_id: str, reason: LeaveReason, *, session_ended: bool = False
    ) -> bool:
        """One member goes: their session ends and is settled (unless metering ended it
        already: ``session_ended``), their media leaves the room, they are told
        (``room:left``) and the others see the room change.  False if they had gone already."""
        now = self.clock.now()
        async with self.db.writing() as s:
            room_id = await s.scalar(
                select(VoiceRoomMember.room_id).where(VoiceRoomMember.id == session_id)
            )
            if room_id is None:
                return False
            loaded = await state.load(s, room_id)
            assert loaded is not None
            event = lifecycle.Leave(session_id, reason, session_ended)
            after, effects = lifecycle.step(loaded.room, event, to_ms(now))
            if not effects:
                return False
            state.save(loaded, after, now)
            owner = loaded.row.owner
        log.info("voice_room_left", room_id=room_id, session_id=session_id, reason=reason.value)
        await self.carry_out(room_id, owner, effects)
        return True

    async def close_room(
        self, room_id: str, reason: CloseReason, *, admin_id: str | None = None
    ) -> bool:
        """Close an open room: every member's session ends and is settled, the media room
        closes, the host is released.  An admin's close is audit-logged in the same
        transaction.  False if it was closed already."""
        now = self.clock.now()
        async with self.db.writing() as s:
            loaded = await state.load(s, room_id)
            if loaded is None:
                return False
            before = loaded.room
            after, effects = lifecycle.step(before, lifecycle.Close(reason), to_ms(now))
            if not effects:
                return False
            state.save(loaded, after, now)
            if admin_id is not None:
                room = loaded.row
                await self._audit.record(
                    key=f"voiceroom.close:{room_id}",
                    admin_id=admin_id,
                    action="voiceroom.close",
                    subject_type="voice_room",
                    subject_id=room_id,
                    detail={
                        "host_id": room.host_id,
                        "title": room.title,
                        "members": len(before.seats),
                    },
                    s=s,
                )
            owner = loaded.row.owner
        log.info(
            "voice_room_closed", room_id=room_id, reason=reason.value, members=len(before.seats)
        )
        await self.carry_out(room_id, owner, effects)
        return True

    async def carry_out(
        self, room_id: str, owner: str, effects: Sequence[lifecycle.Effect]
    ) -> None:
        """What a room's change asks for, after its commit, in order."""
        for effect in effects:
            match effect:
                case lifecycle.EndSession(session_id, reason):
                    await self.end_session(session_id, reason, owner)
                case lifecycle.DropMember(session_id, user_id):
                    await self.billing.gone(room_id, user_id, session_id)
                case lifecycle.TellLeft(user_id, reason):
                    await self.emitter.to_user(
                        user_id, "room:left", {"room_id": room_id, "reason": reason}
                    )
                case lifecycle.TellRoom():
                    await self.tell_room(room_id)
                case lifecycle.CloseMedia():
                    await self.close_media(room_id, owner)
                case lifecycle.ForgetRoom(session_ids):
                    await self.billing.closed(room_id, list(session_ids))
                case lifecycle.ReleaseHost(host_id):
                    await self.presence.release(host_id, room_id)
                    status = (await self.presence.statuses([host_id]))[host_id]
                    await self.emitter.presence_changed(host_id, status)
                case lifecycle.TellHost(host_id):
                    payload = (await self.view(room_id)).payload()
                    await self.emitter.to_user(host_id, "room:update", payload)
                case lifecycle.Rebill():
                    await self.billing.changed(room_id)
                case _:
                    raise TypeError(f"not an effect of a room's change: {effect!r}")

    async def end_session(self, session_id: str, reason: str, owner: str) -> None:
        try:
            update = await self.metering.end(session_id, reason)
        except SessionEnded:
            self.runner.untrack(session_id)
            return
        except SessionNotFound:
            return
        await self.deliver(session_id, update, owner)

    async def deliver(self, session_id: str, update: Update, owner: str) -> None:
        """The room's owner runs the session's billing clock; another process only tells."""
        if owner == self.owner:
            await self.runner.deliver(session_id, update)
        else:
            self.runner.untrack(session_id)
            await self.runner.announce(session_id, update)

    async def close_media(self, room_id: str, owner: str) -> None:
        if self._media is None:
            return
        try:
            await self._media.call(owner, "close", call_id=room_id)
        except DomainError as exc:
            log.warning("voice_room_media_close_failed", room_id=room_id, code=exc.code)

    async def tell_room(self, room_id: str) -> None:
        """``room:update`` to the host and every member."""
        found = await self.view(room_id)
        payload = found.payload()
        for user_id in [found.host.user_id, *(m.user_id for m in found.members)]:
            await self.emitter.to_user(user_id, "room:update", payload)

    # -- housekeeping ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.billing.start()

    async def stop(self) -> None:
        """Shutting down: the background work stops, and this process's open rooms close
        (every session settled) rather than wait to be found orphaned."""
        await self.billing.stop()
        try:
            async with self.db.reading() as s:
                mine = (
                    await s.scalars(
                        select(VoiceRoom.id).where(
                            VoiceRoom.owner == self.owner, VoiceRoom.status == "open"
                        )
                    )
                ).all()
        except Exception:
            # The database is gone: another process's sweep closes these rooms (their owner
            # stops heartbeating) and metering settles their sessions.
            log.exception("voice_room_drain_failed")
            return
        for room_id in mine:
            try:
                await self.close_room(room_id, CloseReason.DRAIN)
            except Exception:
                log.exception("voice_room_drain_failed", room_id=room_id)
