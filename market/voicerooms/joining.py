"""Joining a voice room (``VoiceRoomService.join``): a customer takes a seat, their first
minute at the room's rate reserved on a metered session of their own, or nothing is written.

The steps, one customer at a time on this process: read the facts; a resend (same
``request_key``) or a join of the room they are in already returns that membership; the
friendly refusals, in a fixed order; the first minute reserved (metering's one meter per
customer is the guarantee when a call or another join races this one); the member seated under
the room's lock by ``lifecycle.step`` (its refusals checked again there); on any failure the
minute released; then the room told and its billing brought in step.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts.roles import Role
from kernel.http.api import Principal
from market.voicerooms import lifecycle, rules, state
from market.voicerooms.errors import (
    AlreadyInRoom,
    NotCustomer,
    RequestReused,
    RoomClosed,
    RoomNotFound,
    TooManyJoins,
)
from market.voicerooms.ids import new_session_id
from market.voicerooms.opening import OPEN_CALL
from metering.errors import MeterBusy, SessionEnded, SessionNotFound
from metering.meters import MeterKind
from metering.service import SessionView, Update, to_ms
from metering.tariff import Mode
from moderation.blocks import blocked_between
from signaling.errors import AlreadyInCall, Draining
from store.models import Call
from store.models.voicerooms import VoiceRoom, VoiceRoomMember

if TYPE_CHECKING:
    from market.voicerooms.service import VoiceRoomService

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a join is decided on, read in one transaction."""

    #: the membership this ``request_key`` made already (a resend)
    again: VoiceRoomMember | None
    room: VoiceRoom | None
    #: the customer and the host blocked one another (either way)
    blocked: bool
    #: the customer's current membership, of any room
    current: VoiceRoomMember | None
    #: a 1:1 call of the customer, ringing or active
    in_call: str | None
    #: the room as its lifecycle sees it (its seated members)
    state: lifecycle.Room | None
    #: joins of the customer in the last hour
    recent_joins: int


class Joining:
    def __init__(self, service: VoiceRoomService) -> None:
        self._svc = service
        #: one join at a time per customer on this process
        self._locks: dict[str, asyncio.Lock] = {}

    async def join(self, who: Principal, room_id: str, request_key: str) -> dict[str, Any]:
        lock = self._locks.setdefault(who.user_id, asyncio.Lock())
        try:
            async with lock:
                return await self._join(who, room_id, request_key)
        finally:
            if not lock.locked() and not lock._waiters:
                self._locks.pop(who.user_id, None)

    async def _join(self, who: Principal, room_id: str, request_key: str) -> dict[str, Any]:
        facts = await self._facts(who, room_id, request_key)
        if facts.again is not None:
            if facts.again.room_id != room_id:
                raise RequestReused()
            return await self._joined(facts.again.id, room_id)
        room = self._check_room(who, facts)
        if facts.current is not None:
            if facts.current.room_id == room_id:
                return await self._joined(facts.current.id, room_id)
            raise AlreadyInRoom()
        self._check_limits(facts)
        session_id = new_session_id()
        opened = await self._reserve_first_minute(who, room, session_id)
        try:
            effects = await self._store_member(who.user_id, room_id, request_key, session_id)
        except BaseException as exc:
            # Whatever stopped the join being written, minute 1 must not stay held.
            await asyncio.shield(self._undo_join(session_id))
            if isinstance(exc, IntegrityError):
                return await self._join_raced(who, room_id, request_key)
            raise
        log.info("voice_room_joined", room_id=room_id, session_id=session_id, user_id=who.user_id)
        if room.owner == self._svc.owner:
            self._svc.runner.track(session_id, Update(opened))
        result = await self._joined(session_id, room_id)
        await self._svc.carry_out(room_id, room.owner, effects)
        return result

    async def _facts(self, who: Principal, room_id: str, request_key: str) -> _Facts:
        async with self._svc.db.reading() as s:
            again = await s.scalar(
                select(VoiceRoomMember).where(
                    VoiceRoomMember.user_id == who.user_id,
                    VoiceRoomMember.request_key == request_key,
                )
            )
            room = await s.get(VoiceRoom, room_id)
            blocked = room is not None and await s.scalar(
                select(blocked_between(who.user_id, room.host_id))
            )
            current = await s.scalar(
                select(VoiceRoomMember).where(
                    VoiceRoomMember.user_id == who.user_id, VoiceRoomMember.status == "joined"
                )
            )
            in_call = await s.scalar(
                select(Call.id).where(Call.customer_id == who.user_id, Call.status.in_(OPEN_CALL))
            )
            seated = (await s.scalars(state.seated(room_id))).all() if room is not None else []
            recent = await s.scalar(
                select(func.count())
                .select_from(VoiceRoomMember)
                .where(
                    VoiceRoomMember.user_id == who.user_id,
                    VoiceRoomMember.joined_at > self._svc.clock.now() - timedelta(hours=1),
                )
            )
        return _Facts(
            again=again,
            room=room,
            blocked=bool(blocked),
            current=current,
            in_call=in_call,
            state=state.room_of(room, seated) if room is not None else None,
            recent_joins=recent or 0,
        )

    @staticmethod
    def _check_room(who: Principal, facts: _Facts) -> VoiceRoom:
        """The room exists for ``who`` (not blocked either way), who is a customer, and it is
        open."""
        room = facts.room
        if room is None or facts.state is None or facts.blocked:
            raise RoomNotFound()
        if who.role != Role.CUSTOMER:
            raise NotCustomer()
        if facts.state.status is not lifecycle.Status.OPEN:
            raise RoomClosed()
        return room

    def _check_limits(self, facts: _Facts) -> None:
        """The customer is free (no call), this process takes joins, and neither they nor the
        room are past their bounds (the room's are checked again under its lock)."""
        if facts.in_call is not None:
            raise AlreadyInCall()
        if self._svc.draining():
            raise Draining()
        if facts.recent_joins >= rules.MAX_JOINS_PER_USER_PER_HOUR:
            raise TooManyJoins()
        assert facts.state is not None
        refusal = lifecycle.seat_refusal(facts.state)
        if refusal is not None:
            raise refusal

    async def _reserve_first_minute(
        self, who: Principal, room: VoiceRoom, session_id: str
    ) -> SessionView:
        """Reserve minute 1 first: no money, no join (refused with metering's own codes).  The
        checks before are the friendly refusals; metering's one-meter-per-customer row is the
        guarantee, when a call or another join of this customer races this one."""
        try:
            return await self._svc.metering.open_session(
                session_id,
                who.user_id,
                room.host_id,
                Mode.VOICE,
                rate_fen_per_min=room.rate_fen_per_min,
                kind=MeterKind.ROOM_SEAT,
            )
        except MeterBusy as exc:
            if exc.details.get("kind") == MeterKind.ROOM_SEAT:
                raise AlreadyInRoom() from None
            raise AlreadyInCall() from None

    async def _store_member(
        self, user_id: str, room_id: str, request_key: str, session_id: str
    ) -> list[lifecycle.Effect]:
        """Seat the member under the room's lock (``lifecycle.Join``: refused if the room closed
        or filled since); what it asks for, to carry out after the commit."""
        now = self._svc.clock.now()
        async with self._svc.db.writing() as s:
            loaded = await state.load(s, room_id)
            assert loaded is not None
            event = lifecycle.Join(session_id, user_id)
            after, effects = lifecycle.step(loaded.room, event, to_ms(now))
            state.save(loaded, after, now)
            s.add(
                VoiceRoomMember(
                    id=session_id,
                    room_id=room_id,
                    user_id=user_id,
                    request_key=request_key,
                    status="joined",
                    joined_at=now,
                    # under the room's lock, as every chat message is numbered: the member
                    # reads exactly the messages sent since they sat down
                    chat_from_seq=loaded.row.chat_seq,
                )
            )
            await s.flush()
        return effects

    async def _undo_join(self, session_id: str) -> None:
        """End a session whose member row was never written (if it was after all, the
        membership stands and its session with it)."""
        async with self._svc.db.reading() as s:
            written = await s.get(VoiceRoomMember, session_id)
        if written is None:
            with contextlib.suppress(SessionEnded, SessionNotFound):
                await self._svc.metering.end(session_id, "not_joined")

    async def _join_raced(self, who: Principal, room_id: str, request_key: str) -> dict[str, Any]:
        """The member row could not be written: the same join sent twice at once, or a join
        to another room that won."""
        async with self._svc.db.reading() as s:
            again = await s.scalar(
                select(VoiceRoomMember).where(
                    VoiceRoomMember.user_id == who.user_id,
                    VoiceRoomMember.request_key == request_key,
                )
            )
        if again is not None and again.room_id == room_id:
            return await self._joined(again.id, room_id)
        raise RequestReused() if again is not None else AlreadyInRoom()

    async def _joined(self, session_id: str, room_id: str) -> dict[str, Any]:
        return {"room": (await self._svc.view(room_id)).payload(), "session_id": session_id}
