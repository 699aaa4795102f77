"""Companion vetting: a companion's public profile (written when an application is approved),
plus the applications, voice samples and certificates of the vetting package."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
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
