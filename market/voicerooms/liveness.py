"""Who is still there, for voice rooms: a person whose every device is gone is marked away (their
billing, or for a host every member's, pauses; the sweep in ``billing`` removes them past the
away time-out) and back again when a device returns; a process that died takes its open rooms
with it, every member's session settled as of its last heartbeat."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from market.voicerooms import lifecycle, state
from market.voicerooms.rules import CloseReason
from metering.errors import SessionEnded, SessionNotFound
from metering.service import to_ms
from store.models.voicerooms import VoiceRoom, VoiceRoomMember

if TYPE_CHECKING:
    from market.voicerooms.service import VoiceRoomService

log = structlog.get_logger(__name__)


async def mark_away(
    svc: VoiceRoomService, user_id: str, *, away: bool, at_ms: int | None = None
) -> None:
    """Mark the open room ``user_id`` hosts, and their membership, away (from ``at_ms`` if
    earlier than now) or back; the rooms that changed have their billing brought in step."""
    async with svc.db.reading() as s:
        hosted = await s.scalar(
            select(VoiceRoom.id).where(VoiceRoom.host_id == user_id, VoiceRoom.status == "open")
        )
        joined = await s.scalar(
            select(VoiceRoomMember.room_id).where(
                VoiceRoomMember.user_id == user_id, VoiceRoomMember.status == "joined"
            )
        )
    rooms = list(dict.fromkeys(r for r in (hosted, joined) if r is not None))
    if not rooms:
        return
    now = svc.clock.now()
    event = lifecycle.Away(user_id, at_ms) if away else lifecycle.Back(user_id)
    changed: list[tuple[str, str, list[lifecycle.Effect]]] = []
    async with svc.db.writing() as s:
        for room_id in rooms:
            loaded = await state.load(s, room_id)
            if loaded is None:
                continue
            after, effects = lifecycle.step(loaded.room, event, to_ms(now))
            if effects:
                state.save(loaded, after, now)
                changed.append((room_id, loaded.row.owner, effects))
    for room_id, owner, effects in changed:
        log.info("voice_room_presence", room_id=room_id, user_id=user_id, away=away)
        await svc.carry_out(room_id, owner, effects)


async def settle_lost_owner(svc: VoiceRoomService, owner: str, at_ms: int) -> list[str]:
    """The process ``owner`` died, its last heartbeat at ``at_ms``: its open rooms close
    (``server_lost``), every member's session settled as of that moment."""
    async with svc.db.reading() as s:
        rooms = (
            await s.scalars(
                select(VoiceRoom.id).where(VoiceRoom.owner == owner, VoiceRoom.status == "open")
            )
        ).all()
        seats = (
            await s.scalars(
                select(VoiceRoomMember.id).where(
                    VoiceRoomMember.room_id.in_(rooms), VoiceRoomMember.status == "joined"
                )
            )
        ).all()
    for session_id in seats:
        with contextlib.suppress(SessionEnded, SessionNotFound):
            await svc.metering.end(session_id, CloseReason.SERVER_LOST.value, at_ms)
    for room_id in rooms:
        try:
            await svc.close_room(room_id, CloseReason.SERVER_LOST)
        except Exception:
            log.exception("voice_room_lost_owner_failed", room_id=room_id)
    return list(rooms)
