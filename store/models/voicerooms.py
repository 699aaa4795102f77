"""Voicerooms: group voice rooms a companion hosts, and who joined them.

A member's row id is also the id of their metered session (``vrs_…``): each member is billed on
a session of their own at the room's rate, fixed when the room opened.

A room's text chat (``VoiceRoomMessage``) is numbered by the room's ``chat_seq``, moved under the
room's row lock, so it is gap-free and ordered whichever process stored a message; a member's
``chat_from_seq`` is where the chat stood when they took their seat (what they may read).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime

_ROOM_OPEN = text("status = 'open'")
_MEMBER_JOINED = text("status = 'joined'")


class VoiceRoom(Base):
    """A companion's group voice room, from open to closed.  Its media room and its members'
    billing clocks live on ``owner``, the process where the host opened it."""

    __tablename__ = "voice_rooms"
    __table_args__ = (
        # One open room per host, whatever the processes do.
        Index(
            "uq_voice_rooms_open_host",
            "host_id",
            unique=True,
            sqlite_where=_ROOM_OPEN,
            postgresql_where=_ROOM_OPEN,
        ),
        Index("ix_voice_rooms_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(30))
    #: fixed when the room opens: every member's session bills it
    rate_fen_per_min: Mapped[int]
    #: people at most, the host included
    capacity: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))
    #: the process that holds the media room and runs the members' billing clocks
    owner: Mapped[str] = mapped_column(String(64))
    #: members who ever joined (joins are capped per room)
    joins: Mapped[int] = mapped_column(default=0)
    #: since when every device of the host is gone (null: connected)
    host_away_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    #: the owner refreshes it; a room whose owner stopped is closed by another process
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    close_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    #: the seq of the room's last chat message (0: none yet)
    chat_seq: Mapped[int] = mapped_column(default=0, server_default="0")


class VoiceRoomMember(Base):
    """One join of a customer to a room, until they leave or are removed."""

    __tablename__ = "voice_room_members"
    __table_args__ = (
        # A resent join (same request key) finds this row.
        UniqueConstraint("user_id", "request_key"),
        # One room at a time per customer.
        Index(
            "uq_voice_room_members_joined_user",
            "user_id",
            unique=True,
            sqlite_where=_MEMBER_JOINED,
            postgresql_where=_MEMBER_JOINED,
        ),
        Index("ix_voice_room_members_room_status", "room_id", "status"),
    )

    #: also the id of the member's metered session
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("voice_rooms.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    request_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    #: since when every device of the member is gone (null: connected)
    away_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    leave_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    #: the room's ``chat_seq`` when they took this seat: they read the messages after it
    chat_from_seq: Mapped[int] = mapped_column(default=0, server_default="0")


class VoiceRoomMessage(Base):
    """A message of a room's text chat as delivered (after moderation), ordered by ``seq``."""

    __tablename__ = "voice_room_messages"
    __table_args__ = (
        UniqueConstraint("room_id", "seq"),
        # A resent message (same client id) is stored once.
        UniqueConstraint("room_id", "sender_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("voice_rooms.id"))
    seq: Mapped[int]
    #: not a foreign key: a deleted account's messages are deleted with it (privacy)
    sender_id: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    #: the moderation verdict it was delivered under: allow | mask | review
    action: Mapped[str] = mapped_column(String(8), default="allow")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
