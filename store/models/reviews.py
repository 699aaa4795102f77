"""Reviews, and the per-companion figures discovery sorts by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class Review(Base):
    """A customer's review of one paid session (one per session), with the companion's one
    reply.  ``text`` is stored as moderation let it through (masked where it had to be); a
    hidden review (an admin's decision) is listed nowhere and counts in no rating."""

    __tablename__ = "reviews"
    __table_args__ = (
        # A companion's reviews, newest first (keyset pages on (created_at, id)).
        Index("ix_reviews_companion_created", "companion_id", "created_at", "id"),
        Index("ix_reviews_customer_created", "customer_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: the metered session (= call) reviewed; unique: one review per session
    session_id: Mapped[str] = mapped_column(ForeignKey("metered_sessions.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    companion_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int]
    #: from reviews.rules.REVIEW_TAGS
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(String(500), default="")
    #: the moderation verdict the text was stored under: allow | mask | review
    moderation: Mapped[str] = mapped_column(String(8), default="allow")
    #: shown as 匿名 instead of the customer's nickname
    anonymous: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reply_text: Mapped[str] = mapped_column(String(300), default="")
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    hidden_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    hidden_by: Mapped[str | None] = mapped_column(String(32), default=None)
    hidden_reason: Mapped[str] = mapped_column(String(200), default="")


class CompanionStats(Base):
    """Running figures of a companion, recomputed from their source rows (reviews, metered
    sessions) whenever one changes, so a lost update is repaired by the next one."""

    __tablename__ = "companion_stats"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    rating_count: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    #: the Bayesian average × 100 (e.g. 487 = 4.87 stars), what "sort by rating" orders by
    rating_x100: Mapped[int] = mapped_column(default=0, index=True)
    #: completed paid sessions
    orders: Mapped[int] = mapped_column(default=0, index=True)
    #: billed minutes over all completed sessions
    minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
