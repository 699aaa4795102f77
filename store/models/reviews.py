"""Reviews, and the per-companion figures discovery sorts by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


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
