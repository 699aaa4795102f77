"""The audit log of admin actions (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class AdminAction(Base):
    """One thing an admin did: approve an application, decide an appeal, a withdrawal, a report,
    refund a session, answer a ticket.  Never updated or deleted."""

    __tablename__ = "admin_actions"
    __table_args__ = (Index("ix_admin_actions_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    #: the action's idempotency key: a retried action is logged once
    key: Mapped[str] = mapped_column(String(160), unique=True)
    admin_id: Mapped[str] = mapped_column(String(32), index=True)
    #: ``<domain>.<verb>``: application.approve, appeal.decide, withdrawal.decide, …
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
