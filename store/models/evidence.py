"""Safety evidence of reported calls: the last two minutes of each participant's media, sealed
with the data keys (``kernel.crypto``), written only when someone reports the call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class CallEvidence(Base):
    """One piece of a report's evidence: a participant's audio (``audio``: Ogg Opus, the packets
    as received) or one video keyframe (``keyframe``: JPEG).  ``sealed`` is AES-GCM under the
    data keys, bound to this row's id; kept until ``expires_at`` unless its report is open."""

    __tablename__ = "call_evidence"
    __table_args__ = (Index("ix_call_evidence_report_seq", "report_id", "subject_id", "seq"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(String(40), index=True)
    #: the participant whose media this is
    subject_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    #: audio | keyframe
    kind: Mapped[str] = mapped_column(String(8))
    #: order within the report and subject (keyframes by time; the audio is 0)
    seq: Mapped[int] = mapped_column(default=0)
    #: seconds before the moment the window was taken that this piece starts
    offset_ms: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int] = mapped_column(default=0)
    #: audio: Opus packets as received; keyframe: 1
    packets: Mapped[int] = mapped_column(default=0)
    size_bytes: Mapped[int] = mapped_column(default=0)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
