"""A voice room's rows as the pure lifecycle sees them (``lifecycle.Room``) and back.

``load`` locks the room's row and then its seated members' (the one lock order of every
writer), ``save`` writes what a step changed — only that, so times it did not touch keep their
full precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.voicerooms.lifecycle import Room, Seat, Status
from market.voicerooms.rules import CloseReason
from metering.service import from_ms, to_ms
from store.models.voicerooms import VoiceRoom, VoiceRoomMember


@dataclass(frozen=True, slots=True)
class Loaded:
    row: VoiceRoom
    members: Sequence[VoiceRoomMember]
    room: Room


def ms(at: datetime | None) -> int | None:
    return to_ms(at) if at is not None else None


def room_of(row: VoiceRoom, members: Sequence[VoiceRoomMember]) -> Room:
    """The room as the lifecycle sees it (``members``: its seated ones)."""
    return Room(
        host_id=row.host_id,
        capacity=row.capacity,
        status=Status(row.status),
        joins=row.joins,
        host_away_ms=ms(row.host_away_at),
        seats=tuple(Seat(m.id, m.user_id, ms(m.away_at)) for m in members),
        closed_ms=ms(row.closed_at),
        close_reason=CloseReason(row.close_reason) if row.close_reason else None,
    )


def seated(room_id: str) -> Select[VoiceRoomMember]:
    """The room's seated members, in the order they joined."""
    return (
        select(VoiceRoomMember)
        .where(VoiceRoomMember.room_id == room_id, VoiceRoomMember.status == "joined")
        .order_by(VoiceRoomMember.joined_at, VoiceRoomMember.id)
    )


async def load(s: AsyncSession, room_id: str) -> Loaded | None:
    """The room and its seated members, locked (room first), read afresh."""
    row = await s.get(VoiceRoom, room_id, with_for_update=True, populate_existing=True)
    if row is None:
        return None
    members = (
        await s.scalars(seated(room_id).with_for_update().execution_options(populate_existing=True))
    ).all()
    return Loaded(row, members, room_of(row, members))


def save(loaded: Loaded, after: Room, now: datetime) -> None:
    """Write what the step changed (new seats are the caller's to add: their rows carry more)."""
    now_ms = to_ms(now)

    def at(t: int) -> datetime:
        return now if t == now_ms else from_ms(t)

    row = loaded.row
    row.status = after.status.value
    row.joins = after.joins
    if after.host_away_ms != ms(row.host_away_at):
        row.host_away_at = None if after.host_away_ms is None else at(after.host_away_ms)
    if after.closed_ms is not None and row.closed_at is None:
        row.closed_at = at(after.closed_ms)
        row.close_reason = after.close_reason.value if after.close_reason else None
    left = {x.session_id: x for x in after.left}
    for m in loaded.members:
        seat = after.seat_of(m.id)
        if seat is not None:
            if seat.away_ms != ms(m.away_at):
                m.away_at = None if seat.away_ms is None else at(seat.away_ms)
            continue
        gone = left.get(m.id)
        if gone is not None:
            m.status = "left"
            m.left_at = at(gone.at_ms)
            m.leave_reason = gone.reason.value
            m.away_at = None
