"""Opening a voice room (``VoiceRoomService.open``): a companion with rates, in no 1:1 call and
hosting no other open room, opens one at a rate within their voice bounds; this process becomes
its owner, and the host is claimed in presence until it closes (so no 1:1 call rings them)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts.roles import Role
from kernel.http.api import Principal
from market.voicerooms import lifecycle, rules
from market.voicerooms.errors import (
    HostInCall,
    NotCompanion,
    RoomAlreadyOpen,
    TooManyRooms,
    refused,
)
from market.voicerooms.ids import new_room_id
from market.voicerooms.rules import RoomRuleError
from market.voicerooms.views import RoomView
from metering.errors import RatesNotSet
from metering.tariff import Level, Mode, bounds_for
from signaling.errors import Draining
from store.models import Call, CompanionRate
from store.models.voicerooms import VoiceRoom

if TYPE_CHECKING:
    from market.voicerooms.service import VoiceRoomService

log = structlog.get_logger(__name__)

#: a 1:1 call's statuses while it holds its people
OPEN_CALL = ("ringing", "active")


async def open_room(
    svc: VoiceRoomService, who: Principal, title: str, rate_fen_per_min: int, capacity: int
) -> RoomView:
    """Open a room hosted by ``who``; the refusals in a fixed order (role, draining, title and
    capacity, rates, rate bounds, an open room, a call, the day's bound)."""
    if who.role != Role.COMPANION:
        raise NotCompanion()
    if svc.draining():
        raise Draining()
    try:
        clean = rules.clean_title(title)
        rules.check_capacity(capacity)
    except RoomRuleError as exc:
        raise refused(exc.code, str(exc), exc.details) from None
    host_id = who.user_id
    async with svc.db.reading() as s:
        rates = await s.get(CompanionRate, host_id)
        mine = await s.scalar(
            select(VoiceRoom.id).where(VoiceRoom.host_id == host_id, VoiceRoom.status == "open")
        )
        in_call = await s.scalar(_open_call_of_companion(host_id))
        today = await s.scalar(
            select(func.count())
            .select_from(VoiceRoom)
            .where(
                VoiceRoom.host_id == host_id,
                VoiceRoom.created_at > svc.clock.now() - timedelta(days=1),
            )
        )
    if rates is None:
        raise RatesNotSet()
    try:
        rules.check_rate(
            rate_fen_per_min, bounds_for(Mode.VOICE, Level(rates.level), rates.specialist)
        )
    except RoomRuleError as exc:
        raise refused(exc.code, str(exc), exc.details) from None
    if mine is not None:
        raise RoomAlreadyOpen(room_id=mine)
    if in_call is not None:
        raise HostInCall()
    if (today or 0) >= rules.MAX_ROOMS_PER_HOST_PER_DAY:
        raise TooManyRooms()
    room_id = new_room_id()
    holder = await svc.presence.claim(host_id, room_id)
    if holder != room_id:
        # A call holds them (ringing, or just accepted), or their other room, opened
        # at the same moment.
        raise RoomAlreadyOpen() if holder.startswith("vr_") else HostInCall()
    await _store_room(svc, room_id, host_id, clean, rate_fen_per_min, capacity)
    log.info("voice_room_opened", room_id=room_id, user_id=host_id, capacity=capacity)
    await svc.emitter.presence_changed(host_id, "busy")
    return await svc.view(room_id)


async def _store_room(
    svc: VoiceRoomService,
    room_id: str,
    host_id: str,
    title: str,
    rate_fen_per_min: int,
    capacity: int,
) -> None:
    """Write the room (a call that reached the host since is checked again); if it is not
    written, the host's claim is released."""
    now = svc.clock.now()
    room = lifecycle.opened(host_id, capacity)
    try:
        async with svc.db.writing() as s:
            if await s.scalar(_open_call_of_companion(host_id)) is not None:
                raise HostInCall()
            s.add(
                VoiceRoom(
                    id=room_id,
                    host_id=room.host_id,
                    title=title,
                    rate_fen_per_min=rate_fen_per_min,
                    capacity=room.capacity,
                    status=room.status.value,
                    owner=svc.owner,
                    joins=room.joins,
                    heartbeat_at=now,
                    created_at=now,
                )
            )
            await s.flush()
    except IntegrityError:
        await svc.presence.release(host_id, room_id)
        raise RoomAlreadyOpen() from None
    except BaseException:
        await svc.presence.release(host_id, room_id)
        raise


def _open_call_of_companion(user_id: str) -> Any:
    return select(Call.id).where(Call.companion_id == user_id, Call.status.in_(OPEN_CALL))
