"""Companion vetting: a companion's public profile (written when an application is approved),
plus the applications, voice samples and certificates of the vetting package."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class CompanionProfile(Base):
    """What customers see about a companion beyond the user row: written by vetting when an
    application is approved (and again on each approved reapplication), read by discovery."""

    __tablename__ = "companion_profiles"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: female | male | "" (not said)
    gender: Mapped[str] = mapped_column(String(8), default="")
    intro: Mapped[str] = mapped_column(String(500), default="")
    #: specialties approved for this companion (情感倾诉, 游戏陪玩, …)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the specialist categories a certificate was accepted for
    certified: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: bumped when a new voice sample is approved (0: none); the URL carries it for caching
    voice_sample_version: Mapped[int] = mapped_column(default=0)
    #: first approval: "new companion" exposure counts from here
    approved_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CompanionApplication(Base):
    """An application to become a companion, or a companion's reapplication (new specialties,
    intro, certificates): a draft the applicant edits, then pending (frozen) until an admin
    approves or rejects it.  A rejection is final for the row: editing again starts a new
    draft (the files move to it), so every decision keeps what was decided on."""

    __tablename__ = "companion_applications"
    __table_args__ = (Index("ix_companion_applications_status", "status", "submitted_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: draft | pending | approved | rejected
    status: Mapped[str] = mapped_column(String(12))
    #: the user while the application is open (draft or pending), else NULL: UNIQUE, so one
    #: open application per user even when two requests race
    open_for: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    #: set at submission: the applicant was a companion already
    reapplication: Mapped[bool] = mapped_column(default=False)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    gender: Mapped[str] = mapped_column(String(8), default="")
    intro: Mapped[str] = mapped_column(String(500), default="")
    #: the requested prices, fen per minute
    text_fen_per_min: Mapped[int]
    voice_fen_per_min: Mapped[int]
    video_fen_per_min: Mapped[int]
    #: a rejection's reason (shown to the applicant) or an approval's note
    reason: Mapped[str] = mapped_column(String(200), default="")
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class ApplicationFile(Base):
    """An upload of an application: its voice sample (one) or a certificate (a few), stored as
    sent after the magic-byte check; only admins and the applicant read them."""

    __tablename__ = "application_files"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("companion_applications.id", ondelete="CASCADE"), index=True
    )
    #: voice_sample | certificate
    kind: Mapped[str] = mapped_column(String(16))
    #: a certificate's specialty ("" for the voice sample)
    category: Mapped[str] = mapped_column(String(16), default="")
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CompanionVoiceSample(Base):
    """A companion's public voice sample: a copy of the one their approved application carried
    (``CompanionProfile.voice_sample_version`` names the version)."""

    __tablename__ = "companion_voice_samples"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
