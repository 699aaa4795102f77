"""Support: the support package's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class Ticket(Base):
    """A user's customer-service ticket: ``open`` (waiting for staff), ``answered`` (waiting
    for the user), ``closed``.  Optionally about one session or one booking of the user."""

    __tablename__ = "tickets"
    __table_args__ = (
        # A resent creation (same request id) finds the first ticket.
        UniqueConstraint("user_id", "request_key"),
        Index("ix_tickets_status_waiting", "status", "waiting_since"),
        Index("ix_tickets_user_status", "user_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    request_key: Mapped[str] = mapped_column(String(64))
    #: account | payment | session | booking | safety | other
    category: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str] = mapped_column(String(80))
    session_id: Mapped[str | None] = mapped_column(String(40), default=None)
    booking_id: Mapped[str | None] = mapped_column(String(40), default=None)
    status: Mapped[str] = mapped_column(String(12), default="open")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    #: since when the user waits for staff (the first unanswered message); null unless open
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    #: "user" or "staff" (which admin: the audit log's ``ticket.close``)
    closed_by: Mapped[str | None] = mapped_column(String(32), default=None)


class TicketMessage(Base):
    """One message of a ticket's thread, in order (``seq`` from 1).  Staff messages keep the
    admin's id here; users see them as from 客服."""

    __tablename__ = "ticket_messages"
    __table_args__ = (UniqueConstraint("ticket_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"))
    seq: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[str] = mapped_column(String(32))
    staff: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
