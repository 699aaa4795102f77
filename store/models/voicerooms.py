"""Voicerooms: group voice rooms a companion hosts, and who joined them.

A member's row id is also the id of their metered session (``vrs_…``): each member is billed on
a session of their own at the room's rate, fixed when the room opened.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
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
