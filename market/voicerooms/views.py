"""What people see of a voice room, read from the database: the room with its host and members,
the open rooms page by page, and the host's earnings from a room.

Who sees whom (``RoomView.sees_members``): the members of a room are named (id, nickname) only
to those in it now, the host and admins.  Anyone else (the public browsing rooms, a member who
left) sees the host and how many listen: who pays to sit in a companion's room is not public.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from metering import accounts
from moderation.blocks import blocked_between
from store.models import Entry, MeteredSession, Transfer, User
from store.models.voicerooms import VoiceRoom, VoiceRoomMember

MAX_PAGE = 50


@dataclass(frozen=True, slots=True)
class Person:
    user_id: str
    nickname: str
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class RoomView:
    room_id: str
    title: str
    rate_fen_per_min: int
    capacity: int
    status: str
    host: Person
    #: joined members in join order (the host not among them)
    members: tuple[Person, ...]
    created_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    owner: str

    @property
    def listeners(self) -> int:
        return len(self.members)

    def sees_members(self, user_id: str | None, role: str | None) -> bool:
        """Whether this viewer (None: anonymous) may see who the members are."""
        return (
            role == "admin"
            or user_id == self.host.user_id
            or any(m.user_id == user_id for m in self.members)
        )

    def payload(self, *, members: bool = True) -> dict[str, Any]:
        """The room in Socket.IO events and acks (no phone numbers, no money); ``members``:
        False for a viewer who may not see them (``sees_members``), who gets the host only."""
        shown = self.members if members else ()
        return {
            "room_id": self.room_id,
            "status": self.status,
            "title": self.title,
            "rate_fen_per_min": self.rate_fen_per_min,
            "capacity": self.capacity,
            "host": {"user_id": self.host.user_id, "nickname": self.host.nickname},
            "members": [
                {"user_id": p.user_id, "nickname": p.nickname, "role": role}
                for p, role in [(self.host, "host")] + [(m, "member") for m in shown]
            ],
            "close_reason": self.close_reason,
        }


def avatar_url(user: User) -> str | None:
    return f"/api/users/{user.id}/avatar?v={user.avatar_version}" if user.avatar_version else None


def person(user: User) -> Person:
    return Person(user.id, user.nickname, avatar_url(user))


def _view(row: VoiceRoom, host: User, members: list[User]) -> RoomView:
    return RoomView(
        room_id=row.id,
        title=row.title,
        rate_fen_per_min=row.rate_fen_per_min,
        capacity=row.capacity,
        status=row.status,
        host=person(host),
        members=tuple(person(m) for m in members),
        created_at=row.created_at,
        closed_at=row.closed_at,
        close_reason=row.close_reason,
        owner=row.owner,
    )


async def load(s: AsyncSession, room_id: str) -> RoomView | None:
    row = await s.get(VoiceRoom, room_id)
    if row is None:
        return None
    host = await s.get(User, row.host_id)
    assert host is not None  # a foreign key
    members = (
        await s.scalars(
            select(User)
            .join(VoiceRoomMember, VoiceRoomMember.user_id == User.id)
            .where(VoiceRoomMember.room_id == room_id, VoiceRoomMember.status == "joined")
            .order_by(VoiceRoomMember.joined_at, VoiceRoomMember.id)
        )
    ).all()
    return _view(row, host, list(members))


async def page(
    s: AsyncSession, viewer: str | None, limit: int, after: tuple[datetime, str] | None
) -> tuple[list[RoomView], bool]:
    """Open rooms, newest first, none whose host and ``viewer`` blocked either way, after the
    (created_at, room id) position ``after``; and whether more follow."""
    limit = max(1, min(limit, MAX_PAGE))
    q = (
        select(VoiceRoom, User)
        .join(User, User.id == VoiceRoom.host_id)
        .where(VoiceRoom.status == "open")
        .order_by(VoiceRoom.created_at.desc(), VoiceRoom.id.desc())
        .limit(limit + 1)
    )
    if viewer is not None:
        q = q.where(~blocked_between(viewer, VoiceRoom.host_id))
    if after is not None:
        when, last_id = after
        q = q.where(
            (VoiceRoom.created_at < when)
            | ((VoiceRoom.created_at == when) & (VoiceRoom.id < last_id))
        )
    rows = (await s.execute(q)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [room.id for room, _ in rows]
    by_room: dict[str, list[User]] = {i: [] for i in ids}
    if ids:
        joined = await s.execute(
            select(VoiceRoomMember.room_id, User)
            .join(User, User.id == VoiceRoomMember.user_id)
            .where(VoiceRoomMember.room_id.in_(ids), VoiceRoomMember.status == "joined")
            .order_by(VoiceRoomMember.joined_at, VoiceRoomMember.id)
        )
        for room_id, user in joined.all():
            by_room[room_id].append(user)
    views = [_view(room, host, by_room[room.id]) for room, host in rows]
    return views, more


async def earnings(s: AsyncSession, room_id: str, host_id: str) -> tuple[int, int]:
    """(the host's share of every session of the room so far, after commission and refunds;
    the minutes billed to all members together)."""
    earned = await s.scalar(
        select(func.coalesce(func.sum(Entry.amount_fen), 0))
        .join(Transfer, Transfer.id == Entry.transfer_id)
        .join(VoiceRoomMember, VoiceRoomMember.id == Transfer.session_id)
        .where(
            VoiceRoomMember.room_id == room_id,
            Entry.account_id.in_(
                [accounts.earn_pending(host_id), accounts.earn_available(host_id)]
            ),
        )
    )
    minutes = await s.scalar(
        select(func.coalesce(func.sum(MeteredSession.billed_minutes), 0))
        .join(VoiceRoomMember, VoiceRoomMember.id == MeteredSession.id)
        .where(VoiceRoomMember.room_id == room_id)
    )
    return int(earned or 0), int(minutes or 0)
