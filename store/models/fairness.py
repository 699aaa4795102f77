"""Fair service: what the server observed of each ended 1:1 call and what it decided
(``signaling.fair_service``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class SessionFairness(Base):
    """One row per call: the relay's talk traces (voice/video), then — once, when the call has
    ended and its figures are in — the judgement and the automatic refund it posted."""

    __tablename__ = "session_fairness"
    __table_args__ = (Index("ix_session_fairness_companion", "companion_id", "decided_at"),)

    #: the call's id (= its metered session's)
    session_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), index=True)
    companion_id: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(8))
    #: voice/video: {user_id: {"origin_ms", "voiced": base64 of a byte per second}} (media.talk)
    talk: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    billed_minutes: Mapped[int] = mapped_column(default=0)
    #: the minutes (1-based) judged silent (voice/video) or unresponsive (text)
    flagged: Mapped[list[int]] = mapped_column(JSON, default=list)
    companion_voiced_ms: Mapped[int | None] = mapped_column(default=None)
    customer_voiced_ms: Mapped[int | None] = mapped_column(default=None)
    reply_count: Mapped[int] = mapped_column(default=0)
    reply_median_ms: Mapped[int | None] = mapped_column(default=None)
    reply_p90_ms: Mapped[int | None] = mapped_column(default=None)
    #: what the automatic refund gave back (fen; 0: none)
    refund_fen: Mapped[int] = mapped_column(default=0)
    #: the rule's thresholds the judgement used
    rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
