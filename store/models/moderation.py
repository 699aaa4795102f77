"""Moderation: who blocked whom, and reports for the admin queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class Block(Base):
    """``blocker_id`` blocked ``blocked_id``: neither can call the other."""

    __tablename__ = "blocks"

    blocker_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blocked_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Report(Base):
    """A user's report about another user, optionally about one session or one message of it.
    ``evidence`` is what the server saw (the call, the reported message and the messages around
    it), attached when the report is made, not anything the reporter sent."""

    __tablename__ = "reports"
    __table_args__ = (
        # One report per reporter, target, session and message: a resend returns the first.
        UniqueConstraint("reporter_id", "target_id", "call_key", "message_seq"),
        Index("ix_reports_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: null: queued by automatic moderation, not by a user
    reporter_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    target_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    #: the call id, or "" for a report about the user alone (unique constraints ignore NULLs)
    call_key: Mapped[str] = mapped_column(String(40), default="")
    message_seq: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(String(24))
    details: Mapped[str] = mapped_column(String(500), default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    #: how soon an admin should look: high | normal | low (the queue is in this order)
    priority: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")
    #: the case it is part of (``moderation.casebook``); null only for reports made before cases
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), default=None, index=True)


class Case(Base):
    """What an admin decides: the reports and automatic flags about one target in one
    conversation (or about the user alone, ``call_key`` "") in one category.

    ``open_key`` is the grouping key while the case is open and null once decided: the UNIQUE
    constraint (NULLs never collide) makes "one open case per key" hold between processes.
    ``version`` rises with every decision and undo: a decision is an UPDATE guarded by the
    version it read, so of two admins deciding at once exactly one wins."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_severity_opened", "status", "severity", "opened_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    open_key: Mapped[str | None] = mapped_column(String(160), unique=True, default=None)
    call_key: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    #: 0 most urgent (minors, sexual content) .. 3 least; the queue's first order
    severity: Mapped[int]
    #: open | confirmed | dismissed
    status: Mapped[str] = mapped_column(String(12), default="open")
    #: when its oldest item was made: the queue's second order, and the wait
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    items: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=0)
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    #: the sanction the confirmation imposed (lifted again by an undo)
    sanction_id: Mapped[str | None] = mapped_column(String(40), default=None)
