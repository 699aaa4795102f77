"""Bookings: the bookings package's tables (a companion's weekly calendar, booked slots)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class BookingCalendar(Base):
    """A companion's weekly availability: ``ranges`` is a list of ``[weekday, start_min,
    end_min]`` (Mon=0; minutes from local midnight in Asia/Shanghai, on the half hour).  The row
    is also the lock that serializes bookings of one companion."""

    __tablename__ = "booking_calendars"

    companion_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    ranges: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Booking(Base):
    """A customer's booked slot with a companion, from request to its end.

    Money: ``hold_fen`` moved from the customer's wallet to ``booking_hold:{id}`` when booked;
    ``fee_fen`` of it paid to the companion (late cancellation, no-show), the rest released.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        # The customer's idempotency key: a resent booking finds this row.
        UniqueConstraint("customer_id", "request_id"),
        Index("ix_bookings_status_starts_at", "status", "starts_at"),
        Index("ix_bookings_companion_starts_at", "companion_id", "starts_at"),
        Index("ix_bookings_customer_starts_at", "customer_id", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    companion_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    duration_min: Mapped[int]
    #: fixed when booked from the companion's price for the mode; the slot's call bills it
    rate_fen_per_min: Mapped[int]
    #: the companion's commission when booked (a fee is split with it, as a session would be)
    commission_bp: Mapped[int]
    hold_fen: Mapped[int]
    #: the month (China time) the hold counts against the budget cap; null: nothing committed
    budget_month: Mapped[str | None] = mapped_column(String(7), default=None)
    #: requested | confirmed | starting | in_call | completed | declined | expired | cancelled
    #: | no_show_companion | no_show_customer | failed
    status: Mapped[str] = mapped_column(String(20))
    #: customer | companion | system (a block), for ``cancelled``
    cancelled_by: Mapped[str | None] = mapped_column(String(12), default=None)
    #: the decline or cancel reason a person gave
    reason: Mapped[str] = mapped_column(String(200), default="")
    #: why it ended as it did, machine-readable (free, late, offline, busy, timed_out, …)
    outcome: Mapped[str] = mapped_column(String(32), default="")
    fee_fen: Mapped[int] = mapped_column(default=0)
    released_fen: Mapped[int] = mapped_column(default=0)
    fee_settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    #: the call placed at the slot (its id is also its metered session's)
    call_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    #: when a process took it to act at the slot (a stale claim is taken over)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    #: when the hold went back to the wallet at the slot
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
