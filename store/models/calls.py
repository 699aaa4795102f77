"""Calls (the signaling lifecycle of a session) and their chat messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime

_OPEN = text("status != 'ended'")


class Call(Base):
    """One request from a customer to a companion, from ringing to ended.  Its id is also the
    id of its metered session.  ``state`` is the pure lifecycle's ``Call`` as JSON; the columns
    beside it are copies for queries and constraints."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("customer_id", "request_key"),
        # One open call per companion and per customer, whatever the processes do.
        Index(
            "uq_calls_open_companion",
            "companion_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(
            "uq_calls_open_customer",
            "customer_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index("ix_calls_status_check", "status", "check_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    companion_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    #: the customer's idempotency key for the request: a resent request finds this call
    request_key: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    #: fixed when the call is requested (a copy of its metered session's rate)
    rate_fen_per_min: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: when the sweep must look at it (ring or away time-out); null when nothing is pending
    check_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    #: the process that runs its billing clock and timers
    owner: Mapped[str] = mapped_column(String(64), default="")
    last_seq: Mapped[int] = mapped_column(default=0)
    customer_delivered_seq: Mapped[int] = mapped_column(default=0)
    customer_read_seq: Mapped[int] = mapped_column(default=0)
    companion_delivered_seq: Mapped[int] = mapped_column(default=0)
    companion_read_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    end_reason: Mapped[str | None] = mapped_column(String(16), default=None)


class Message(Base):
    """A chat message as delivered (after moderation), ordered in its call by ``seq``."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("call_id", "seq"),
        # A resent message (same client id) is stored once.
        UniqueConstraint("call_id", "sender_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"))
    seq: Mapped[int]
    sender_id: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    #: the moderation verdict it was delivered under: allow | mask | review
    action: Mapped[str] = mapped_column(String(8), default="allow")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
