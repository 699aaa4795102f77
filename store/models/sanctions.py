"""Sanctions: what a moderator (or the escalation rule) imposed on a user after a confirmed
report: a warning, a chat mute, a suspension or a permanent ban.  Append-only in spirit: a
sanction is never deleted; lifting it records who lifted it, when and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class Sanction(Base):
    __tablename__ = "sanctions"
    __table_args__ = (Index("ix_sanctions_user_starts", "user_id", "starts_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    #: warn | mute | suspend | ban (``accounts.sanction_rules.Kind``)
    kind: Mapped[str] = mapped_column(String(8))
    #: what the moderator asked for, when the escalation rule chose a heavier kind
    requested_kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(String(500))
    #: the case (report) it follows, if any
    case_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: null: a warning (no duration) or a permanent ban
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    decided_by: Mapped[str] = mapped_column(String(32))
    #: pending earnings may not be withdrawn while the sanction is in force
    freeze_earnings: Mapped[bool] = mapped_column(default=False)
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    lifted_by: Mapped[str | None] = mapped_column(String(32), default=None)
    lift_note: Mapped[str] = mapped_column(String(500), default="")
    appealed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    appeal_text: Mapped[str] = mapped_column(String(1000), default="")
