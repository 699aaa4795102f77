"""Accounts: users, avatars, SMS codes and their throttles, login sessions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="customer")
    nickname: Mapped[str] = mapped_column(String(40))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    avatar_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Avatar(Base):
    """The re-encoded avatar image; the upload itself is never stored."""

    __tablename__ = "avatars"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SmsCode(Base):
    """A login code: only its keyed hash is kept.  ``used_at`` makes it single use."""

    __tablename__ = "sms_codes"
    __table_args__ = (Index("ix_sms_codes_phone_created", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(11))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class SmsSend(Base):
    """One accepted send, kept for the per-phone and per-IP windows."""

    __tablename__ = "sms_sends"
    __table_args__ = (
        Index("ix_sms_sends_phone_sent", "phone", "sent_at"),
        Index("ix_sms_sends_ip_sent", "ip", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(11))
    ip: Mapped[str] = mapped_column(String(45))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PhoneGuard(Base):
    """Per-phone row that serializes sends and verifications and holds the lockout."""

    __tablename__ = "phone_guards"

    phone: Mapped[str] = mapped_column(String(11), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class IpGuard(Base):
    """Per-client-IP row that serializes the hourly send window."""

    __tablename__ = "ip_guards"

    ip: Mapped[str] = mapped_column(String(45), primary_key=True)


class AuthSession(Base):
    """A login: the bearer/cookie token is random and only its SHA-256 is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    client: Mapped[str] = mapped_column(String(16), default="cookie")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class RealName(Base):
    """A verified real name.  The name and ID number are stored only sealed (AES-GCM, see
    ``peiliao/crypto.py``) and masked for display; ``adult_from`` (the 18th birthday) is all
    that is kept of the birth date."""

    __tablename__ = "real_names"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name_sealed: Mapped[str] = mapped_column(String(200))
    id_number_sealed: Mapped[str] = mapped_column(String(200))
    #: a keyed hash of the ID number: one person, one account per role
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    name_masked: Mapped[str] = mapped_column(String(40))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    adult_from: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RealNameAttempt(Base):
    """A verification attempt (its outcome only: never the values tried), for the daily cap."""

    __tablename__ = "real_name_attempts"
    __table_args__ = (Index("ix_real_name_attempts_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ok: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UtcDateTime)
