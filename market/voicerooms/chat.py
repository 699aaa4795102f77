"""A voice room's text chat as the room keeps it (``signaling.room_chat.RoomTranscript``):
who may write, the numbering, and what each person may read.

- Writing: the host and the seated members of an open room; nobody else (there are no
  listeners).  A message is numbered from the room's ``chat_seq`` under the room's row lock, the
  lock every change of the room takes first, so numbers are gap-free and ordered across
  processes, and a member removed at the same moment is either in before the message or refused.
- Reading: the host, the whole chat while the room is open; a seated member, what was said
  after the seat was taken (``chat_from_seq``, recorded under the same lock when they joined)
  and only while they sit — after leaving, or once the room closes, nothing; admins, all of it,
  read-only.  Messages of people blocked either way with the reader are left out.
- Bounds: ``MAX_MESSAGES_PER_ROOM`` messages a room (then ``room_chat_full``), a page of at most
  100.

Each message names its sender (id, nickname, host or member) to people who shared the room with
them: only what the room's member list showed them already.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Select, not_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.roles import Role
from kernel.clock import Clock
from kernel.http.api import Principal
from market.voicerooms.errors import NotMember, RoomChatFull, RoomClosed, RoomNotFound
from moderation.blocks import blocked_between
from signaling.protocol import RoomChatPageAck
from signaling.room_chat import Appended, Seat
from store import Database
from store.models import User
from store.models.voicerooms import VoiceRoom, VoiceRoomMember, VoiceRoomMessage
from store.sweep import delete_in_batches

log = structlog.get_logger(__name__)

#: a room's chat holds at most this many messages (a room is bounded like everything else)
MAX_MESSAGES_PER_ROOM = 10_000
MAX_PAGE = 100


def _view(m: VoiceRoomMessage, nickname: str | None, host_id: str) -> dict[str, Any]:
    return {
        "room_id": m.room_id,
        "seq": m.seq,
        "sender": {
            "user_id": m.sender_id,
            "nickname": nickname or "",
            "role": "host" if m.sender_id == host_id else "member",
        },
        "client_id": m.client_id,
        "text": m.body,
        "moderation": m.action,
        "sent_ms": int(m.created_at.timestamp() * 1000),
    }


def _with_nicknames(q: Select[Any]) -> Select[VoiceRoomMessage, str | None]:
    """``q`` (messages) with each sender's nickname (none: the account is gone)."""
    joined: Select[VoiceRoomMessage, str | None] = q.join(
        User, User.id == VoiceRoomMessage.sender_id, isouter=True
    ).add_columns(User.nickname)
    return joined


class RoomTranscript:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def purge(self, older_than_days: int, batch: int = 5_000) -> int:
        """Retention, as for 1:1 chat (``ChatService.purge``): delete the messages of closed
        rooms older than ``older_than_days`` (a report keeps its own copy of the context), in
        batches; how many were deleted."""
        cutoff = self._clock.now() - timedelta(days=older_than_days)
        ids = (
            select(VoiceRoomMessage.id)
            .join(VoiceRoom, VoiceRoom.id == VoiceRoomMessage.room_id)
            .where(VoiceRoomMessage.created_at < cutoff, VoiceRoom.status != "open")
        )
        total = await delete_in_batches(self._db, ids, VoiceRoomMessage.id, batch)
        if total:
            log.info("room_chat_retention_purged", messages=total, days=older_than_days)
        return total

    async def _writer_of(
        self, s: AsyncSession, who: Principal, room_id: str, *, lock: bool
    ) -> tuple[VoiceRoom, tuple[str, ...]]:
        """The open room ``who`` may write in (its host or a seated member) and who is in it
        (host first, then members in join order); else the room's refusal."""
        room = await s.get(VoiceRoom, room_id, with_for_update=lock, populate_existing=lock)
        if room is None:
            raise RoomNotFound()
        seated = tuple(
            (
                await s.scalars(
                    select(VoiceRoomMember.user_id)
                    .where(VoiceRoomMember.room_id == room_id, VoiceRoomMember.status == "joined")
                    .order_by(VoiceRoomMember.joined_at, VoiceRoomMember.id)
                )
            ).all()
        )
        if who.user_id != room.host_id and who.user_id not in seated:
            if await s.scalar(select(blocked_between(who.user_id, room.host_id))):
                raise RoomNotFound()  # its existence does not leak to a blocked pair
            raise NotMember()
        if room.status != "open":
            raise RoomClosed()
        return room, (room.host_id, *seated)

    async def _stored(
        self, s: AsyncSession, room: VoiceRoom, sender_id: str, client_id: str
    ) -> dict[str, Any] | None:
        row = (
            await s.execute(
                _with_nicknames(
                    select(VoiceRoomMessage).where(
                        VoiceRoomMessage.room_id == room.id,
                        VoiceRoomMessage.sender_id == sender_id,
                        VoiceRoomMessage.client_id == client_id,
                    )
                )
            )
        ).first()
        return None if row is None else _view(row[0], row[1], room.host_id)

    async def seat(self, who: Principal, room_id: str, client_id: str) -> Seat:
        async with self._db.reading() as s:
            room, audience = await self._writer_of(s, who, room_id, lock=False)
            return Seat(audience, await self._stored(s, room, who.user_id, client_id))

    async def append(
        self, who: Principal, room_id: str, client_id: str, text: str, action: str
    ) -> Appended:
        try:
            async with self._db.writing() as s:
                room, audience = await self._writer_of(s, who, room_id, lock=True)
                again = await self._stored(s, room, who.user_id, client_id)
                if again is not None:
                    return Appended(again, audience)
                if room.chat_seq >= MAX_MESSAGES_PER_ROOM:
                    raise RoomChatFull()
                room.chat_seq += 1
                message = VoiceRoomMessage(
                    room_id=room_id,
                    seq=room.chat_seq,
                    sender_id=who.user_id,
                    client_id=client_id,
                    body=text,
                    action=action,
                    created_at=self._clock.now(),
                )
                s.add(message)
                nickname = await s.scalar(select(User.nickname).where(User.id == who.user_id))
                await s.flush()
                return Appended(_view(message, nickname, room.host_id), audience)
        except IntegrityError:
            # The same message sent twice at once (on two processes): the first one stands.
            async with self._db.reading() as s:
                room, audience = await self._writer_of(s, who, room_id, lock=False)
                again = await self._stored(s, room, who.user_id, client_id)
            if again is None:
                raise
            return Appended(again, audience)

    async def page(
        self,
        who: Principal,
        room_id: str,
        *,
        after_seq: int | None,
        before_seq: int | None,
        limit: int,
    ) -> RoomChatPageAck:
        """A page of what ``who`` may read, oldest first: after ``after_seq`` (catching up),
        before ``before_seq`` (scrolling back), or the latest ``limit``."""
        limit = max(1, min(limit, MAX_PAGE))
        async with self._db.reading() as s:
            room = await s.get(VoiceRoom, room_id)
            if room is None:
                raise RoomNotFound()
            admin = who.role == Role.ADMIN
            if admin:
                from_seq = 0
            else:
                if who.user_id == room.host_id:
                    from_seq = 0
                else:
                    seat = await s.scalar(
                        select(VoiceRoomMember.chat_from_seq).where(
                            VoiceRoomMember.room_id == room_id,
                            VoiceRoomMember.user_id == who.user_id,
                            VoiceRoomMember.status == "joined",
                        )
                    )
                    if seat is None:
                        if await s.scalar(select(blocked_between(who.user_id, room.host_id))):
                            raise RoomNotFound()
                        raise NotMember()
                    from_seq = seat
                if room.status != "open":
                    raise RoomClosed()
            q = select(VoiceRoomMessage).where(
                VoiceRoomMessage.room_id == room_id, VoiceRoomMessage.seq > from_seq
            )
            if not admin:
                q = q.where(not_(blocked_between(who.user_id, VoiceRoomMessage.sender_id)))
            if after_seq is not None:
                q = q.where(VoiceRoomMessage.seq > after_seq).order_by(VoiceRoomMessage.seq)
                rows = (await s.execute(_with_nicknames(q.limit(limit)))).all()
            else:
                if before_seq is not None:
                    q = q.where(VoiceRoomMessage.seq < before_seq)
                q = q.order_by(VoiceRoomMessage.seq.desc()).limit(limit)
                rows = list(reversed((await s.execute(_with_nicknames(q))).all()))
            return {
                "room_id": room_id,
                "messages": [_view(m, nick, room.host_id) for m, nick in rows],
                "last_seq": room.chat_seq,
                "from_seq": from_seq,
            }
