"""Appeals: the appeals package's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class Appeal(Base):
    """A customer's dispute about one ended, charged session.  One per session (the UNIQUE
    ``session_id``); the companion answers once; an admin decides once, refunding through the
    ledger (transfer ``refund:<session>:appeal-<id>``).

    ``status``: ``open`` → ``deciding`` (a decision claimed, its refund under way) → ``decided``;
    a refused refund puts a ``deciding`` appeal back to ``open``.  While ``deciding`` the
    ``outcome``/``refund_fen``/``decision_reason``/``decided_by`` columns hold the claimed
    decision, so a resend of it can finish the work after a crash."""

    __tablename__ = "appeals"
    __table_args__ = (
        Index("ix_appeals_status_created", "status", "created_at"),
        Index("ix_appeals_customer_status", "customer_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("metered_sessions.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    companion_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    #: the customer's idempotency key: a resend with it returns this appeal
    request_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="open")
    response_text: Mapped[str] = mapped_column(String(1000), default="")
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    #: full | partial | reject (claimed while ``deciding``, final once ``decided``)
    outcome: Mapped[str | None] = mapped_column(String(8), default=None)
    refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
